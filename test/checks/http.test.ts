import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideHttp, http, type HttpReadings } from '../../src/checks/http.js';
import { checkCatalog } from '../../src/checks/index.js';
import { PlaybookError, formatLintError } from '../../src/errors.js';
import type { TalkResult } from '../../src/host/tcp-talk.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { paramsOf, resolvedTo } from './replay.js';

// The http check's decision on plain objects: what Host.talk returned, its answers the real
// responses of test/fixtures/http/responses (capture-responses.sh) and test/fixtures/proxy/real,
// split in two reads as a network may split them.

const raw = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url));
const talked = (path: string, over: Partial<TalkResult> = {}): TalkResult => {
  const bytes = raw(path);
  const cut = Math.min(40, bytes.length);
  return { address: '127.0.0.1', port: 8080, outcome: 'connected', answers: [bytes.subarray(0, cut).toString('hex'), bytes.subarray(cut).toString('hex')], end: 'eof', endMs: 3, durationMs: 4, ...over };
};
const decide = (params: Record<string, unknown>, talk?: TalkResult, resolution = resolvedTo('127.0.0.1')) => {
  const p = paramsOf(http, params);
  const request = { host: '127.0.0.1', port: 8080, path: String(params.path ?? '/health'), url: `http://127.0.0.1:8080${String(params.path ?? '/health')}`, hostHeader: '127.0.0.1:8080' };
  const r: HttpReadings = { request, resolution, ...(talk ? { talk } : {}) };
  return decideHttp(r, p, { timeoutMs: 3000 });
};
const at = { host: '127.0.0.1', port: '8080', path: '/health' };

describe('the http check decides', () => {
  it('ok: the status is one expected (2xx or 3xx unless told), with the header and the body line matched', () => {
    const r = decide({ ...at, header: 'Content-Type: ^text/plain', body: '^db: connected$' }, talked('http/responses/node-chunked.http'));
    expect(r).toMatchObject({
      outcome: 'ok',
      status: 'pass',
      summary: 'GET http://127.0.0.1:8080/health → HTTP/1.1 200 OK; Content-Type: text/plain; body: db: connected',
      command: "curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/health",
      evidence: { url: 'http://127.0.0.1:8080/health', address: '127.0.0.1', status: 200, statusLine: 'HTTP/1.1 200 OK', expected: '2xx or 3xx', header: 'Content-Type: text/plain', bodyLine: 'db: connected', durationMs: 4 },
    });
    // A 301 is a success unless the playbook says which status it wants.
    expect(decide(at, talked('http/responses/nginx-301.http')).outcome).toBe('ok');
    expect(decide({ ...at, status: 200 }, talked('http/responses/nginx-301.http'))).toMatchObject({ outcome: 'status', summary: 'GET http://127.0.0.1:8080/health → HTTP/1.1 301 Moved Permanently (expected 200)', evidence: { status: 301, expected: '200' } });
  });

  it("status: the real nginx's 502 when the app behind it is down", () => {
    const r = decide({ ...at, status: '2xx' }, talked('proxy/real/nginx-502.get.http'));
    expect(r).toMatchObject({ outcome: 'status', status: 'fail', summary: 'GET http://127.0.0.1:8080/health → HTTP/1.1 502 Bad Gateway (expected 2xx)', evidence: { status: 502, statusLine: 'HTTP/1.1 502 Bad Gateway' } });
  });

  it('header: missing, or not matching (the field found is the evidence)', () => {
    expect(decide({ ...at, header: 'Location: ^/health$' }, talked('http/responses/python-301.http'))).toMatchObject({ outcome: 'header', summary: 'GET http://127.0.0.1:8080/health → HTTP/1.0 301 Moved Permanently, but "Location: /static/" does not match ^/health$', evidence: { header: 'Location: /static/' } });
    expect(decide({ ...at, header: 'X-Ready: yes' }, talked('http/responses/python-200.http'))).toMatchObject({ outcome: 'header', summary: 'GET http://127.0.0.1:8080/health → HTTP/1.0 200 OK, but no X-Ready header' });
  });

  it('body: no line matches in what was read', () => {
    const r = decide({ ...at, body: 'db: connected' }, talked('http/responses/python-404.http'), undefined);
    expect(r).toMatchObject({ outcome: 'status' });
    const b = decide({ ...at, status: 404, body: 'db: connected' }, talked('http/responses/python-404.http'));
    expect(b).toMatchObject({ outcome: 'body', summary: 'GET http://127.0.0.1:8080/health → HTTP/1.0 404 File not found, but its body (335 bytes) does not match db: connected' });
  });

  it('HEAD: curl -I; refused, timeout, silence, a close without an answer, not HTTP', () => {
    expect(decide({ ...at, method: 'HEAD' }, talked('http/responses/nginx-200.head.http')).command).toBe("curl -sS -I -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/health");
    const none = { address: '127.0.0.1', port: 8080, answers: [], durationMs: 1 };
    expect(decide(at, { ...none, outcome: 'refused', errno: 'ECONNREFUSED' })).toMatchObject({ outcome: 'refused', summary: '127.0.0.1:8080 refused the connection (nothing listens, or a firewall rejects it)', evidence: { error: 'ECONNREFUSED' } });
    expect(decide({ ...at, timeout: 500 }, { ...none, outcome: 'timeout', errno: 'ETIMEDOUT' })).toMatchObject({ outcome: 'timeout', summary: '127.0.0.1:8080 did not accept a connection within 500 ms' });
    expect(decide(at, { ...none, outcome: 'connected', answers: [''], end: 'silent' })).toMatchObject({ outcome: 'timeout', summary: '127.0.0.1:8080 accepted the connection but sent no answer to GET /health within 3000 ms' });
    expect(decide(at, { ...none, outcome: 'connected', answers: [''], end: 'reset' })).toMatchObject({ outcome: 'error', summary: '127.0.0.1:8080 closed the connection without an answer to GET /health (reset)' });
    const ssh = Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n').toString('hex');
    expect(decide(at, { ...none, outcome: 'connected', answers: [ssh], end: 'silent' })).toMatchObject({ outcome: 'error', summary: '127.0.0.1:8080 answered, but not in HTTP: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"' });
    expect(decide(at, undefined, { ok: false, error: 'no such name', code: 'ENOTFOUND', durationMs: 1 })).toMatchObject({ outcome: 'error', summary: '127.0.0.1 does not resolve: no such name' });
  });
});

describe("the validator's words for check: http", () => {
  const problems = (withText: string, after = '') => {
    const text = `version: 2\nname: t\nsteps:\n  web:\n    check: http\n    with: ${withText}\n    on: { ok: FINE, else: BROKEN }\n${after}diagnoses:\n  FINE: { title: fine, explanation: fine }\n  BROKEN: { title: broken, explanation: broken }\n`;
    try {
      parsePlaybook(text, 'web.yaml', checkCatalog());
      return [];
    } catch (e) {
      if (!(e instanceof PlaybookError)) throw e;
      return e.problems.map(formatLintError);
    }
  };

  it('a good one validates; a placeholder is left to the run', () => {
    expect(problems('{ url: "http://{{ target.host }}:{{ target.port }}/health", status: [200, 204], header: "Content-Type: ^application/json", body: "\\"status\\": *\\"ok\\"" }')).toEqual([]);
    expect(problems('{ host: "{{ target.host }}", port: "{{ target.port }}", path: /health, status: 2xx, method: HEAD, timeout: 2000 }')).toEqual([]);
  });

  it('says what is wrong with each parameter as written, where it is written', () => {
    expect(problems('{ url: "https://shop.example/health", status: ok, header: "no colon", body: "(a+)+$" }')).toEqual([
      "web.yaml:6:18: error: steps.web.with.url: 'https://shop.example/health': check 'http' speaks plain HTTP only (the protocol step checks TLS: --tls)",
      "web.yaml:6:57: error: steps.web.with.status: 'ok' is not a status: write a code (200), a class (2xx) or a list of them",
      "web.yaml:6:69: error: steps.web.with.header: 'no colon' is not NAME: REGEX (e.g. \"Content-Type: ^text/html\")",
      "web.yaml:6:87: error: steps.web.with.body: '(a+)+$' is not a regular expression whyport runs: it does not compile, or it could backtrack for ages (a repeated group that repeats inside, a back-reference)",
    ]);
    expect(problems('{ path: "/a b" }')).toEqual([
      "web.yaml:5:12: error: steps.web.check: check 'http' needs 'url' (http://HOST:PORT/PATH), or 'host' and 'port' — add 'with: { url: \"http://{{ target.host }}:{{ target.port }}/health\" }'",
      "web.yaml:6:19: error: steps.web.with.path: '/a b' is not a path a request can carry: it starts with / and has no spaces or control characters",
    ]);
    expect(problems('{ url: "http://a/", host: b, port: 80 }')).toEqual(["web.yaml:6:18: error: steps.web.with.url: give either 'url' or 'host', 'port' and 'path', not both"]);
    expect(problems('{ host: b }')).toEqual(["web.yaml:6:19: error: steps.web.with.host: give 'port' with 'host'"]);
    // A case's `with:` is judged with the step's: its own bad value is its own to report, the step's is not repeated.
    const twice = problems('{ url: "http://a/", status: ok }', '    after:\n      web.ok: { with: { status: teapot }, on: { ok: FINE } }\n').filter((p) => p.includes('status'));
    expect(twice).toEqual([
      "web.yaml:6:39: error: steps.web.with.status: 'ok' is not a status: write a code (200), a class (2xx) or a list of them",
      "web.yaml:9:33: error: steps.web.after.web.ok.with.status: 'teapot' is not a status: write a code (200), a class (2xx) or a list of them",
    ]);
  });
});
