import type { ProtocolFinding } from './finding.js';
import { firstLine, printable } from './said.js';

/**
 * An HTTP response to HEAD / (RFC 9112 §4: `HTTP-version SP status-code SP [reason-phrase]`): any
 * status is an answer (a proxy's 502 is the proxy step's to explain); the Server header names the
 * product (RFC 9110 §10.2.4: `product/version (comment)`). undefined: no status line.
 */
export function classifyHttpResponse(bytes: Uint8Array, base: { bytes: number }): ProtocolFinding | undefined {
  const line = firstLine(bytes);
  const m = /^HTTP\/(\d(?:\.\d)?) (\d{3})\b/.exec(line);
  if (!m) return undefined;
  const text = Buffer.from(bytes).toString('latin1');
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const server = /^server:[ \t]*(.*?)[ \t]*\r?$/im.exec(head)?.[1];
  const pv = server ? /^([^\s/]+)(?:\/([^\s]+))?/.exec(server) : null;
  return {
    outcome: 'answered',
    evidence: {
      ...base,
      protocol: 'http',
      status: Number(m[2]),
      // 400 to a well-formed HEAD / with Host: the server could not read whyport's request as HTTP.
      // nginx answers so on a port where it expects TLS (its "plain HTTP request was sent to HTTPS
      // port" page, whose body HEAD does not get): the TLS step's to tell apart.
      ...(m[2] === '400' ? { reason: 'bad-request' } : {}),
      said: printable(line),
      ...(pv ? { product: printable(pv[1]!, 60), ...(pv[2] ? { version: printable(pv[2], 60) } : {}) } : {}),
    },
  };
}
