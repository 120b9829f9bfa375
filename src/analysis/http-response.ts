import { compileConfigRegex } from '../text/safe-regex.js';

/**
 * An HTTP/1.x response as the `http` check reads it (RFC 9112): the status line, the header
 * fields, and the start of the body — de-chunked when it came chunked — never more than a bound.
 * Pure: bytes in, a value out, for tests on real captured responses.
 */

/** The most of a body the check looks at (its `body:` expression runs on this much). */
export const HTTP_BODY_MAX = 64 * 1024;
/** The most of a response head (status line and header fields) it reads. */
export const HTTP_HEAD_MAX = 16 * 1024;

export interface HttpHeader {
  name: string;
  value: string;
}

export interface HttpResponse {
  /** As the server sent it, without CR LF (bounded to 200 characters). */
  statusLine: string;
  version: string;
  status: number;
  reason: string;
  headers: HttpHeader[];
  /** Whether the head ended (the empty line came) within what was read. */
  headComplete: boolean;
  /** The body's first bytes as latin1 text, de-chunked, at most `maxBody` bytes. */
  body: string;
  /** Whether the body was cut: longer than `maxBody`, or the connection ended before it did. */
  bodyCut: boolean;
  chunked: boolean;
}

/** Why bytes are not an HTTP response: nothing came, or the first line is not a status line. */
export interface NotHttp {
  error: 'empty' | 'not-http';
  /** The first line, printable and bounded (what was said instead). */
  said: string;
}

const printable = (s: string, max = 200) => {
  const p = s.replace(/[^\x20-\x7e]/g, (c) => (c === '\t' ? ' ' : '.'));
  return p.length > max ? `${p.slice(0, max)}…` : p;
};

/**
 * Parses a response from its first bytes: the status line (`HTTP/1.1 200 OK`), the header fields
 * (obsolete line folding joined), and the body — framed by Transfer-Encoding: chunked, else taken
 * as it came (Content-Length or the end of the connection), in both cases cut at `maxBody`.
 */
export function parseHttpResponse(bytes: Uint8Array, maxBody = HTTP_BODY_MAX): HttpResponse | NotHttp {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) return { error: 'empty', said: '' };
  const headEnd = findHeadEnd(buf);
  const head = buf.subarray(0, headEnd?.at ?? Math.min(buf.length, HTTP_HEAD_MAX)).toString('latin1');
  const lines = head.split(/\r?\n/);
  const statusLine = lines[0]!;
  const m = /^HTTP\/(\d(?:\.\d)?) (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!m) return { error: 'not-http', said: printable(statusLine) };
  const headers: HttpHeader[] = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    // Obsolete line folding (RFC 9112 §5.2): a continuation line belongs to the field above.
    if (/^[ \t]/.test(line) && headers.length) {
      headers.at(-1)!.value = `${headers.at(-1)!.value} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  const chunked = headers.some((h) => h.name.toLowerCase() === 'transfer-encoding' && /\bchunked\s*$/i.test(h.value));
  const rest = headEnd ? buf.subarray(headEnd.at + headEnd.length) : Buffer.alloc(0);
  const length = Number(headers.find((h) => h.name.toLowerCase() === 'content-length')?.value ?? NaN);
  let body: Buffer;
  let cut: boolean;
  if (chunked) {
    ({ body, cut } = dechunk(rest, maxBody));
  } else {
    const framed = Number.isInteger(length) && length >= 0 ? rest.subarray(0, length) : rest;
    body = framed.subarray(0, maxBody);
    cut = framed.length > maxBody || (Number.isInteger(length) && length > rest.length && rest.length < maxBody);
  }
  return {
    statusLine: printable(statusLine),
    version: m[1]!,
    status: Number(m[2]),
    reason: printable(m[3] ?? '', 100),
    headers,
    headComplete: headEnd !== undefined,
    body: body.toString('latin1'),
    bodyCut: cut,
    chunked,
  };
}

function findHeadEnd(buf: Buffer): { at: number; length: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 };
  return lf >= 0 ? { at: lf, length: 2 } : undefined;
}

/** Transfer-Encoding: chunked (RFC 9112 §7.1): sizes in hex, extensions ignored, up to the last chunk or `max` bytes. */
function dechunk(raw: Buffer, max: number): { body: Buffer; cut: boolean } {
  const parts: Buffer[] = [];
  let size = 0;
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) return { body: Buffer.concat(parts), cut: true };
    const n = parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(n) || n < 0) return { body: Buffer.concat(parts), cut: true };
    if (n === 0) return { body: Buffer.concat(parts), cut: false };
    const data = raw.subarray(eol + 2, eol + 2 + n);
    const room = max - size;
    parts.push(data.subarray(0, room));
    size += Math.min(room, data.length);
    if (data.length > room) return { body: Buffer.concat(parts), cut: true };
    if (data.length < n) return { body: Buffer.concat(parts), cut: true };
    at = eol + 2 + n + 2;
  }
}

/** The statuses a playbook expects: numbers (`200`), classes (`2xx`), or a list of them. */
export interface StatusSpec {
  codes: number[];
  classes: number[];
  /** As a person reads it: "200 or 301", "2xx or 3xx". */
  text: string;
}

/** When a playbook expects nothing: a success or a redirect, as curl -f sees it. */
export const DEFAULT_STATUS: StatusSpec = { codes: [], classes: [2, 3], text: '2xx or 3xx' };

/** Reads `status:` — `200`, `"2xx"`, `[200, 301]`, `"200, 301"` — or says what is wrong with it. */
export function parseStatusSpec(v: string | number | readonly (string | number)[]): StatusSpec | { error: string } {
  const words = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(/[\s,]+/)).filter((w) => w !== '');
  if (!words.length) return { error: 'no status given' };
  const codes: number[] = [];
  const classes: number[] = [];
  for (const w of words) {
    if (/^[1-5]\d\d$/.test(w)) codes.push(Number(w));
    else if (/^[1-5]xx$/i.test(w)) classes.push(Number(w[0]));
    else return { error: `'${w}' is not a status: write a code (200), a class (2xx) or a list of them` };
  }
  return { codes, classes, text: words.map((w) => w.toLowerCase()).join(' or ') };
}

export function statusExpected(spec: StatusSpec, status: number): boolean {
  return spec.codes.includes(status) || spec.classes.includes(Math.floor(status / 100));
}

/** `header:` — `NAME: REGEX` — compiled, or what is wrong with it. */
export function parseHeaderSpec(v: string): { name: string; pattern: RegExp; source: string } | { error: string } {
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(v);
  if (!m) return { error: `'${v}' is not NAME: REGEX (e.g. "Content-Type: ^text/html")` };
  const pattern = m[2] === '' ? /(?:)/ : safePattern(m[2]!);
  if (!pattern) return { error: `'${m[2]}' is not a regular expression whyport runs: it does not compile, or it could backtrack for ages (a repeated group that repeats inside, a back-reference)` };
  return { name: m[1]!, pattern, source: m[2]! };
}

/** A `body:` expression, compiled when it is safe (src/text/safe-regex.ts), else undefined. */
export function safePattern(source: string): RegExp | undefined {
  return compileConfigRegex(source, 'm');
}

/** The header field of that name (the first) whose value matches, or the first of that name, or none. */
export function matchHeader(r: Pick<HttpResponse, 'headers'>, spec: { name: string; pattern: RegExp }): { found?: HttpHeader; matches: boolean } {
  const named = r.headers.filter((h) => h.name.toLowerCase() === spec.name.toLowerCase());
  const hit = named.find((h) => spec.pattern.test(h.value));
  return hit ? { found: hit, matches: true } : { ...(named[0] ? { found: named[0] } : {}), matches: false };
}

/** The line of the body an expression matches (printable, at most 200 characters), or undefined. */
export function matchBody(body: string, pattern: RegExp): string | undefined {
  const m = pattern.exec(body);
  if (!m) return undefined;
  const start = body.lastIndexOf('\n', m.index) + 1;
  const end = body.indexOf('\n', m.index + Math.max(m[0].length - 1, 0));
  return printable(body.slice(start, end < 0 ? undefined : end).replace(/\r$/, '').trim());
}
