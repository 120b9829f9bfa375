import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HTTP_BODY_MAX, matchBody, matchHeader, parseHeaderSpec, parseHttpResponse, parseStatusSpec, statusExpected, type HttpResponse } from '../../src/analysis/http-response.js';

// Real responses to the http check's own request (test/fixtures/http/capture-responses.sh) and
// the real proxies' 502/503 (test/fixtures/proxy/capture-real.sh), byte for byte.
const raw = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url));
const parsed = (path: string) => {
  const r = parseHttpResponse(raw(path));
  if ('error' in r) throw new Error(`${path}: ${r.error}`);
  return r;
};
const header = (r: HttpResponse, name: string) => r.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;

describe('parseHttpResponse on real responses', () => {
  it("python3's http.server: HTTP/1.0, a body of Content-Length", () => {
    const r = parsed('http/responses/python-200.http');
    expect(r).toMatchObject({ statusLine: 'HTTP/1.0 200 OK', version: '1.0', status: 200, reason: 'OK', headComplete: true, body: 'status: ok\ndb: connected\n', bodyCut: false, chunked: false });
    expect(header(r, 'server')).toBe('SimpleHTTP/0.6 Python/3.11.7');
  });

  it("python3's 301 for a directory without its slash, and its 404 page", () => {
    const moved = parsed('http/responses/python-301.http');
    expect(moved).toMatchObject({ status: 301, reason: 'Moved Permanently', body: '' });
    expect(header(moved, 'Location')).toBe('/static/');
    const missing = parsed('http/responses/python-404.http');
    expect(missing).toMatchObject({ status: 404, reason: 'File not found', bodyCut: false });
    expect(missing.body).toContain('<title>Error response</title>');
  });

  it("Node's chunked body, de-chunked", () => {
    const r = parsed('http/responses/node-chunked.http');
    expect(r).toMatchObject({ status: 200, chunked: true, body: 'status: ok\ndb: connected\n', bodyCut: false });
  });

  it("nginx: a 301 return with its Location, a 200, the head of a HEAD", () => {
    const moved = parsed('http/responses/nginx-301.http');
    expect(moved).toMatchObject({ statusLine: 'HTTP/1.1 301 Moved Permanently', status: 301 });
    expect(header(moved, 'location')).toBe('http://127.0.0.1:18083/health');
    expect(moved.body).toContain('<center>nginx/1.22.1</center>');
    expect(parsed('http/responses/nginx-200.http')).toMatchObject({ status: 200, body: 'status: ok\n' });
    // HEAD: a Content-Length with no body after it is no cut body to judge.
    expect(parsed('http/responses/nginx-200.head.http')).toMatchObject({ status: 200, body: '', headComplete: true });
  });

  it("the real proxies' 502 and 503 when the app behind them is down", () => {
    expect(parsed('proxy/real/nginx-502.get.http')).toMatchObject({ status: 502, reason: 'Bad Gateway' });
    expect(parsed('proxy/real/nginx-502.get.http').body).toContain('<title>502 Bad Gateway</title>');
    expect(parsed('proxy/real/haproxy-503.get.http')).toMatchObject({ status: 503 });
    expect(parsed('proxy/real/apache2-503.get.http')).toMatchObject({ status: 503, reason: 'Service Unavailable' });
  });

  it('reads no more than the bound of a body, and says it was cut; a response cut mid-body too', () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n';
    const big = parseHttpResponse(Buffer.concat([Buffer.from(head), Buffer.alloc(200_000, 'a')]));
    expect(big).toMatchObject({ bodyCut: true });
    expect((big as HttpResponse).body.length).toBe(HTTP_BODY_MAX);
    const full = raw('http/responses/nginx-301.http');
    const short = parseHttpResponse(full.subarray(0, full.length - 40)) as HttpResponse;
    expect(short).toMatchObject({ status: 301, bodyCut: true });
    const chunks = raw('http/responses/node-chunked.http');
    const half = parseHttpResponse(chunks.subarray(0, chunks.lastIndexOf('e\r\n'))) as HttpResponse;
    expect(half).toMatchObject({ body: 'status: ok\n', bodyCut: true });
  });

  it('nothing, or not HTTP: what was said instead, printable and bounded', () => {
    expect(parseHttpResponse(Buffer.alloc(0))).toEqual({ error: 'empty', said: '' });
    expect(parseHttpResponse(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'))).toEqual({ error: 'not-http', said: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3' });
    const noise = parseHttpResponse(Buffer.from(`\u0000\u0001${'x'.repeat(500)}`)) as { said: string };
    expect(noise.said.length).toBeLessThanOrEqual(201);
    expect(noise.said.startsWith('..x')).toBe(true);
  });
});

describe('what a playbook expects', () => {
  it('status: a code, a class, a list, or words; anything else says what it wants', () => {
    expect(parseStatusSpec(200)).toEqual({ codes: [200], classes: [], text: '200' });
    expect(parseStatusSpec('2xx')).toEqual({ codes: [], classes: [2], text: '2xx' });
    expect(parseStatusSpec(['200', 301])).toEqual({ codes: [200, 301], classes: [], text: '200 or 301' });
    expect(parseStatusSpec('2xx, 301')).toMatchObject({ codes: [301], classes: [2] });
    expect(parseStatusSpec('ok')).toEqual({ error: "'ok' is not a status: write a code (200), a class (2xx) or a list of them" });
    expect(parseStatusSpec('600')).toHaveProperty('error');
    const spec = parseStatusSpec('2xx, 301') as Exclude<ReturnType<typeof parseStatusSpec>, { error: string }>;
    expect([200, 204, 301, 302, 502].map((s) => statusExpected(spec, s))).toEqual([true, true, true, false, false]);
  });

  it('header: NAME: REGEX, matched on the field of that name (any case), the first that matches', () => {
    const spec = parseHeaderSpec('location: ^/static/$');
    expect(spec).toMatchObject({ name: 'location' });
    const r = parsed('http/responses/python-301.http');
    expect(matchHeader(r, spec as never)).toEqual({ found: { name: 'Location', value: '/static/' }, matches: true });
    expect(matchHeader(r, parseHeaderSpec('Location: ^/health') as never)).toEqual({ found: { name: 'Location', value: '/static/' }, matches: false });
    expect(matchHeader(r, parseHeaderSpec('X-Ready: yes') as never)).toEqual({ matches: false });
    expect(parseHeaderSpec('no colon here')).toHaveProperty('error');
    expect(parseHeaderSpec('X-A: (a+)+$')).toHaveProperty('error');
  });

  it('body: the line it matches, printable and bounded', () => {
    const body = parsed('http/responses/node-chunked.http').body;
    expect(matchBody(body, /^db: (connected|ready)$/m)).toBe('db: connected');
    expect(matchBody(body, /disconnected/m)).toBeUndefined();
    expect(matchBody(`${'y'.repeat(300)}needle\n`, /needle/m)).toHaveLength(201);
  });
});
