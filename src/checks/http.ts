import { array, literal, number, optional, string, union } from 'zod/mini';
import type { output } from 'zod/v4/core';
import { port, positive, text, z } from './params.js';
import { defineCheck, type ParamProblem } from './check.js';
import { e, fields } from './evidence.js';
import type { Resolution } from '../system/facts.js';
import type { TalkResult } from '../host/tcp-talk.js';
import { httpRequestOf } from '../system/http-request.js';
import { DEFAULT_STATUS, HTTP_BODY_MAX, HTTP_HEAD_MAX, matchBody, matchHeader, parseHeaderSpec, parseHttpResponse, parseStatusSpec, safePattern, statusExpected } from '../analysis/http-response.js';
import { endpointText } from '../net/endpoint.js';
import { showCommand } from '../text/command.js';
import { asciiHostName } from '../net/host-name.js';

/**
 * An HTTP request where the protocol step's HEAD / says too little: a path of the app (a health
 * URL), the status it must answer, a header, a word of the body. Plain HTTP/1.1 only (https is
 * the TLS step's; a request over TLS on a server over ssh would need a TLS client there), from
 * wherever the step runs — over --ssh on the server, through Host.talk.
 */

const Params = z.object({
  url: z.optional(text()),
  host: z.optional(text()),
  port: z.optional(port()),
  path: z.optional(text()),
  method: z.optional(literal(['GET', 'HEAD'])),
  status: optional(union([string(), number(), array(union([string(), number()]))])),
  header: z.optional(text()),
  body: z.optional(text()),
  timeout: z.optional(positive()),
});
type HttpParams = output<typeof Params>;

/** Where the request goes, from `url` or `host`/`port`/`path`, or why it cannot go. */
interface Request {
  host: string;
  port: number;
  path: string;
  url: string;
  hostHeader: string;
}

/** A path a request line can carry: absolute, printable ASCII, no spaces. */
const PATH = /^\/[\x21-\x7e]*$/;

function requestOf(p: HttpParams): Request | { error: string } {
  let host = p.host;
  let portNo = p.port;
  let path = p.path ?? '/';
  if (p.url !== undefined) {
    let u: URL;
    try {
      u = new URL(p.url);
    } catch {
      return { error: `'${p.url}' is not a URL (write http://HOST:PORT/PATH)` };
    }
    if (u.protocol === 'https:') return { error: `'${p.url}': check 'http' speaks plain HTTP only (the protocol step checks TLS: --tls)` };
    if (u.protocol !== 'http:') return { error: `'${p.url}' is not an http:// URL` };
    if (u.username || u.password) return { error: `'${p.url}' carries a user or a password: whyport sends none` };
    host = u.hostname.replace(/^\[|\]$/g, '');
    portNo = u.port ? Number(u.port) : 80;
    path = `${u.pathname}${u.search}`;
  }
  if (!host) return { error: "give 'url' (http://HOST:PORT/PATH), or 'host' and 'port'" };
  if (!portNo) return { error: "give 'port' with 'host' (or a whole 'url')" };
  if (!PATH.test(path)) return { error: `'${path}' is not a path a request can carry: it starts with / and has no spaces or control characters` };
  const bare = host.replace(/^\[|\]$/g, '');
  const named = bare.includes(':') ? `[${bare}]` : asciiHostName(bare) || bare;
  const hostHeader = portNo === 80 ? named : `${named}:${portNo}`;
  return { host: bare, port: portNo, path, url: `http://${hostHeader}${path}`, hostHeader };
}

/** What the playbook wrote, checked before anything runs (placeholders are left to the run). */
function lintHttp(written: Readonly<Record<string, unknown>>, given: readonly string[]): ParamProblem[] {
  const out: ParamProblem[] = [];
  const has = (k: string) => given.includes(k);
  if (has('url') && (has('host') || has('port') || has('path'))) out.push({ param: 'url', message: "give either 'url' or 'host', 'port' and 'path', not both" });
  if (!has('url') && !has('host')) out.push({ message: "check 'http' needs 'url' (http://HOST:PORT/PATH), or 'host' and 'port'", hint: "add 'with: { url: \"http://{{ target.host }}:{{ target.port }}/health\" }'" });
  if (has('host') && !has('port')) out.push({ param: 'host', message: "give 'port' with 'host'" });
  if (typeof written.url === 'string' || typeof written.path === 'string') {
    const r = requestOf({ host: 'h', port: 80, ...(typeof written.url === 'string' ? { url: written.url } : {}), ...(typeof written.path === 'string' ? { path: written.path } : {}) });
    if ('error' in r) out.push({ param: typeof written.url === 'string' ? 'url' : 'path', message: r.error });
  }
  if (written.status !== undefined) {
    const s = parseStatusSpec(written.status as string);
    if ('error' in s) out.push({ param: 'status', message: s.error });
  }
  if (typeof written.header === 'string') {
    const h = parseHeaderSpec(written.header);
    if ('error' in h) out.push({ param: 'header', message: h.error });
  }
  if (typeof written.body === 'string' && !safePattern(written.body)) {
    out.push({ param: 'body', message: `'${written.body}' is not a regular expression whyport runs: it does not compile, or it could backtrack for ages (a repeated group that repeats inside, a back-reference)` });
  }
  return out;
}

export interface HttpReadings {
  request: Request | { error: string };
  resolution?: Resolution;
  talk?: TalkResult;
}

export const http = defineCheck({
  description: 'Send an HTTP/1.1 request (GET or HEAD) for a path and check the status, a header and the body',
  outcomes: ['ok', 'status', 'header', 'body', 'refused', 'timeout', 'error'],
  params: Params,
  lint: lintHttp,
  evidence: fields({
    url: e.str(),
    address: e.str(),
    status: e.num(),
    statusLine: e.str(),
    expected: e.str(),
    header: e.str(),
    bodyLine: e.str(),
    error: e.str(),
    durationMs: e.num(),
  }),
  describe: (p) => {
    const r = requestOf(p);
    return 'error' in r ? 'an HTTP request' : `${p.method ?? 'GET'} ${r.url}`;
  },
  async read(p, ctx): Promise<HttpReadings> {
    const request = requestOf(p);
    if ('error' in request) return { request };
    const resolution = await ctx.facts.resolve(request.host);
    if (!resolution.ok || !resolution.addresses.length) return { request, resolution };
    const timeoutMs = p.timeout ?? ctx.timeoutMs;
    const talk = await ctx.facts.read(httpRequestOf, {
      address: resolution.addresses[0]!.address,
      port: request.port,
      method: p.method ?? 'GET',
      path: request.path,
      hostHeader: request.hostHeader,
      timeoutMs,
      // The head, and the body only when an expression looks into it.
      maxBytes: HTTP_HEAD_MAX + (p.body !== undefined ? HTTP_BODY_MAX : 0),
    });
    return { request, resolution, talk };
  },
  decide: decideHttp,
});

/** The verdict on one request: the connect, then the status, the header, the body, in that order. */
export function decideHttp(r: HttpReadings, p: HttpParams, at: { timeoutMs: number }) {
  const method = p.method ?? 'GET';
  const url = 'error' in r.request ? (p.url ?? `http://${p.host ?? '?'}:${p.port ?? '?'}${p.path ?? '/'}`) : r.request.url;
  const command = showCommand(['curl', '-sS', ...(method === 'HEAD' ? ['-I'] : []), '-o', '/dev/null', '-w', '%{http_code}', url]);
  const durationMs = r.talk?.durationMs ?? 0;
  const fail = (outcome: 'refused' | 'timeout' | 'error', summary: string, extra: { error: string; address?: string }) => ({ outcome, summary, command, status: 'fail' as const, evidence: { url, durationMs, ...extra } });
  if ('error' in r.request) return fail('error', `${url}: ${r.request.error}`, { error: r.request.error });
  if (!r.resolution?.ok || !r.talk) {
    const why = r.resolution && !r.resolution.ok ? r.resolution.error : 'no address';
    return fail('error', `${r.request.host} does not resolve: ${why}`, { error: why });
  }
  const t = r.talk;
  const where = endpointText(t.address, t.port);
  const address = t.address;
  if (t.outcome === 'refused') return fail('refused', `${where} refused the connection (nothing listens, or a firewall rejects it)`, { error: t.errno ?? 'ECONNREFUSED', address });
  if (t.outcome === 'timeout') return fail('timeout', `${where} did not accept a connection within ${p.timeout ?? at.timeoutMs} ms`, { error: t.errno ?? 'ETIMEDOUT', address });
  if (t.outcome !== 'connected') return fail('error', `${where}: ${t.outcome}${t.errno ? ` (${t.errno})` : ''}`, { error: t.errno ?? t.outcome, address });
  const bytes = Buffer.from(t.answers.join(''), 'hex');
  const res = parseHttpResponse(bytes, HTTP_BODY_MAX);
  if ('error' in res) {
    if (res.error === 'empty' && t.end === 'silent') return fail('timeout', `${where} accepted the connection but sent no answer to ${method} ${r.request.path} within ${p.timeout ?? at.timeoutMs} ms`, { error: 'no answer', address });
    if (res.error === 'empty') return fail('error', `${where} closed the connection without an answer to ${method} ${r.request.path}${t.end === 'reset' ? ' (reset)' : ''}`, { error: `closed: ${t.end ?? 'error'}`, address });
    return fail('error', `${where} answered, but not in HTTP: "${res.said}"`, { error: `not HTTP: ${res.said}`, address });
  }
  const spec = p.status === undefined ? DEFAULT_STATUS : parseStatusSpec(p.status);
  const expected = 'error' in spec ? DEFAULT_STATUS : spec;
  const base = { url, address, status: res.status, statusLine: res.statusLine, expected: expected.text, durationMs };
  const said = `${method} ${url} → ${res.statusLine}`;
  if (!statusExpected(expected, res.status)) return { outcome: 'status' as const, summary: `${said} (expected ${expected.text})`, command, status: 'fail' as const, evidence: base };
  let header: string | undefined;
  if (p.header !== undefined) {
    const h = parseHeaderSpec(p.header);
    if ('error' in h) return fail('error', h.error, { error: h.error, address });
    const m = matchHeader(res, h);
    if (!m.matches) {
      const found = m.found ? `${m.found.name}: ${m.found.value}` : undefined;
      return { outcome: 'header' as const, summary: `${said}, but ${found ? `"${found}" does not match ${h.source}` : `no ${h.name} header`}`, command, status: 'fail' as const, evidence: { ...base, ...(found ? { header: found } : {}) } };
    }
    header = `${m.found!.name}: ${m.found!.value}`;
  }
  let bodyLine: string | undefined;
  if (p.body !== undefined) {
    const pattern = safePattern(p.body);
    if (!pattern) return fail('error', `'${p.body}' is not a regular expression whyport runs`, { error: 'unsafe body expression', address });
    bodyLine = matchBody(res.body, pattern);
    if (bodyLine === undefined) {
      const seen = `${res.body.length} bytes${res.bodyCut ? ' read (cut)' : ''}`;
      return { outcome: 'body' as const, summary: `${said}, but its body (${seen}) does not match ${p.body}`, command, status: 'fail' as const, evidence: { ...base, ...(header ? { header } : {}) } };
    }
  }
  return {
    outcome: 'ok' as const,
    summary: `${said}${header ? `; ${header}` : ''}${bodyLine !== undefined ? `; body: ${bodyLine}` : ''}`,
    command,
    status: 'pass' as const,
    evidence: { ...base, ...(header ? { header } : {}), ...(bodyLine !== undefined ? { bodyLine } : {}) },
  };
}
