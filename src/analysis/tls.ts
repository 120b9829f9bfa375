import { isIP } from 'node:net';
import type { CertificateFacts } from '../system/certificate.js';
import type { TlsReading } from '../system/tls.js';
import { PLAIN_HTTP_TO_TLS_PORT, TLS_PROBLEMS, alertOf, isNotTlsReason, reasonOfCode, verifyErrorProblem, type TlsProblem } from '../knowledge/tls-errors.js';

export type { TlsProblem } from '../knowledge/tls-errors.js';

/** What the judgement reads: the leaf's facts, the verifier's errors, how the handshake ended. */
export interface TlsFacts {
  certificate?: CertificateFacts;
  /** Certificate verification's errors by OpenSSL's name (CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, …). */
  verifyErrors: readonly string[];
  /**
   * Whether the chain leads to a trusted root, where the probe could tell apart from verifyErrors
   * (OpenSSL reports only its last error to node, and an expired leaf hides an unknown issuer).
   */
  chainTrusted?: boolean;
  /** The handshake failed: OpenSSL's reason ("tlsv1 alert protocol version") or the error's message. */
  handshakeError?: string;
}

/** CONTRACT.md's `diagnosis.tls`: every problem found, and the certificate they are about. */
export interface TlsDiagnosis {
  problems: TlsProblem[];
  subject?: string;
  names?: string[];
  issuer?: string;
  notBefore?: string;
  notAfter?: string;
  /** The name the certificate was judged against (the host asked for). */
  serverName?: string;
  /** The TLS alert the handshake failed with ("protocol version", "handshake failure"). */
  alert?: string;
  /** The handshake's failure in OpenSSL's words, when it failed. */
  error?: string;
  /** The verifier's own codes, as evidence. */
  verifyErrors?: string[];
}

/**
 * Every problem a TLS client would reject this connection for, not the first: dates against
 * `now`, the name against the certificate's names (RFC 6125), self-signed, an unknown issuer, a
 * failed handshake. The dates and the name are judged here from the certificate itself, since the
 * verifier stops reporting at its first (node: last) complaint; its errors add what the
 * certificate alone cannot show (trust, a chain certificate's dates).
 */
export function tlsProblems(facts: TlsFacts, opts: { serverName?: string; now: Date }): TlsDiagnosis {
  const found = new Set<TlsProblem>();
  const cert = facts.certificate;
  if (facts.handshakeError !== undefined) found.add('handshake');
  if (cert) {
    const now = opts.now.getTime();
    if (Date.parse(cert.notAfter) < now) found.add('expired');
    if (Date.parse(cert.notBefore) > now) found.add('not-yet-valid');
    if (opts.serverName && !nameMatches(opts.serverName, cert)) found.add('name-mismatch');
    const untrusted = facts.verifyErrors.some((e) => ['untrusted', 'self-signed'].includes(verifyErrorProblem(e))) || facts.chainTrusted === false;
    // A self-signed leaf nobody trusts is one problem, not two; one the client trusts is none.
    if (untrusted) found.add(cert.selfSigned ? 'self-signed' : 'untrusted');
    for (const e of facts.verifyErrors) {
      const p = verifyErrorProblem(e);
      // The verifier's date complaints may be about a chain certificate: kept. Its name
      // complaint is node's, about a name judged here.
      if (p === 'expired' || p === 'not-yet-valid') found.add(p);
    }
  }
  const alert = facts.handshakeError !== undefined ? alertOf(facts.handshakeError) : undefined;
  return {
    problems: TLS_PROBLEMS.filter((p) => found.has(p)),
    ...(cert ? { subject: cert.subject, names: cert.names, issuer: cert.issuer, notBefore: cert.notBefore, notAfter: cert.notAfter } : {}),
    ...(opts.serverName ? { serverName: opts.serverName } : {}),
    ...(alert ? { alert } : {}),
    ...(facts.handshakeError !== undefined ? { error: facts.handshakeError } : {}),
    ...(facts.verifyErrors.length > 0 ? { verifyErrors: [...facts.verifyErrors] } : {}),
  };
}

/**
 * Whether the certificate is valid for `name`, by RFC 6125 as node's tls.checkServerIdentity
 * applies it (test/analysis/tls.test.ts holds the two side by side): an IP address only against
 * the IP addresses of subjectAltName; a name against its DNS names, or against the subject's CN
 * when it has none; a wildcard only within the leftmost label (`*.a.test`, `w*.a.test`), never
 * in a name of two labels or fewer, never in an IDNA label.
 */
export function nameMatches(name: string, cert: Pick<CertificateFacts, 'names' | 'commonName'>): boolean {
  const host = unfqdn(name);
  if (isIP(host)) {
    const want = canonicalIp(host);
    return cert.names.some((n) => isIP(n) !== 0 && canonicalIp(n) === want);
  }
  const dns = cert.names.filter((n) => isIP(n) === 0);
  const patterns = dns.length > 0 ? dns : cert.commonName ? [cert.commonName] : [];
  const hostParts = host.toLowerCase().split('.');
  return patterns.some((p) => labelsMatch(hostParts, p));
}

function unfqdn(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function labelsMatch(hostParts: readonly string[], pattern: string): boolean {
  const parts = unfqdn(pattern).toLowerCase().split('.');
  if (parts.length !== hostParts.length || parts.includes('')) return false;
  if (parts.some((p) => /[^\u0021-\u007F]/u.test(p))) return false;
  for (let i = parts.length - 1; i > 0; i--) if (parts[i] !== hostParts[i]) return false;
  const [label, first] = [parts[0]!, hostParts[0]!];
  const pieces = label.split('*');
  if (pieces.length === 1 || label.includes('xn--')) return first === label;
  if (pieces.length > 2 || parts.length <= 2) return false;
  const [prefix, suffix] = [pieces[0]!, pieces[1]!];
  return prefix.length + suffix.length <= first.length && first.startsWith(prefix) && first.endsWith(suffix);
}

/** One spelling per address: IPv6 compressed and lower-case, IPv4 as it is. */
function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

/** Another protocol that answered where one was expected: its lower-case name (CONTRACT's `service.protocol`) and its own words. */
export interface WrongProtocol {
  protocol: 'http' | 'https' | 'tls' | 'ssh' | 'unknown';
  said: string;
}

/**
 * What answered instead of the protocol expected, from the server's first bytes (as given, or hex):
 * plain HTTP (`HTTP/1.1 400 Bad Request`) or an SSH greeting where TLS was expected; TLS records,
 * or nginx's page for plain HTTP sent to its TLS port, where plain text was expected. Undefined
 * when the bytes are the expected protocol's, or say nothing.
 */
export function wrongProtocol(bytes: Uint8Array | string, expected: 'tls' | 'plain'): WrongProtocol | undefined {
  const buf = typeof bytes === 'string' ? Buffer.from(/^(?:[0-9a-f]{2})*$/i.test(bytes) ? bytes : '', 'hex') : Buffer.from(bytes);
  if (buf.length === 0) return undefined;
  const text = buf.subarray(0, 4096).toString('latin1');
  const firstLine = printable(text.split(/\r?\n/, 1)[0] ?? '');
  const tlsRecord = buf.length >= 3 && (buf[0] === 0x15 || buf[0] === 0x16) && buf[1] === 0x03 && buf[2]! <= 0x04;
  if (expected === 'tls') {
    if (tlsRecord) return undefined;
    if (text.startsWith('HTTP/')) return { protocol: 'http', said: firstLine };
    if (text.startsWith('SSH-')) return { protocol: 'ssh', said: firstLine };
    return { protocol: 'unknown', said: firstLine };
  }
  if (tlsRecord) return { protocol: 'tls', said: buf[0] === 0x15 ? 'a TLS alert' : 'a TLS handshake' };
  if (text.includes(PLAIN_HTTP_TO_TLS_PORT)) return { protocol: 'https', said: `${firstLine} (${PLAIN_HTTP_TO_TLS_PORT})` };
  return undefined;
}

/** At most 200 characters, control characters shown as `.`, for a one-line quote of what a server said. */
function printable(text: string): string {
  return text.slice(0, 200).replace(/[^\x20-\x7e]/g, '.');
}

/**
 * What a TLS look at a port found, as a closed set of outcomes:
 * - `secure`: a handshake and a certificate a client accepts (tls.problems is empty): REACHABLE;
 * - `problems`: a client would reject it: every problem in tls.problems (TLS_FAILURE);
 * - `wrong-protocol`: something else answered, `answered` says what (WRONG_PROTOCOL);
 * - `closed`: the connection was closed without a byte (CLOSED_AFTER_ACCEPT);
 * - `silent`: connected, and nothing came back within the time;
 * - `no-connection`: the TCP connect itself failed (errno);
 * - `unknown`: the probe could not run (openssl missing there, interrupted).
 */
export type TlsFinding = (
  | { outcome: 'secure' | 'problems'; tls: TlsDiagnosis; protocol?: string; cipher?: string; alpn?: string }
  | { outcome: 'wrong-protocol'; answered: WrongProtocol; tls: TlsDiagnosis }
  | { outcome: 'closed' | 'silent' }
  | { outcome: 'no-connection'; errno: string }
  | { outcome: 'unknown'; reason: string }
) & { via: 'node' | 'openssl'; command: string; address: string; port: number; durationMs: number };

/** The judgement of one TLS reading, whichever probe made it. */
export function judgeTls(reading: TlsReading, opts: { serverName?: string; now: Date }): TlsFinding {
  const h = reading.handshake;
  const base = { via: reading.via, command: reading.command, address: h.address, port: h.port, durationMs: h.durationMs };
  const sni = opts.serverName ? { serverName: opts.serverName } : {};
  if (reading.unavailable) return { ...base, outcome: 'unknown', reason: reading.unavailable };
  if (h.errno === 'ABORT_ERR') return { ...base, outcome: 'unknown', reason: 'interrupted' };
  if (h.stage === 'connect') return { ...base, outcome: 'no-connection', errno: h.errno ?? 'UNKNOWN' };
  const reason = h.error !== undefined ? (reasonOfCode(h.error) ?? h.error) : undefined;
  if (h.stage === 'handshake') {
    // What answered, when it was not TLS: its first bytes, or OpenSSL's word that they were none.
    const other = h.firstBytes ? wrongProtocol(h.firstBytes, 'tls') : undefined;
    if (other || (reason && isNotTlsReason(reason) && h.receivedBytes > 0)) {
      const answered = other ?? { protocol: 'unknown' as const, said: `bytes that are not TLS (${reason})` };
      return { ...base, outcome: 'wrong-protocol', answered, tls: tlsProblems({ verifyErrors: [], handshakeError: reason ?? 'not TLS' }, { ...sni, now: opts.now }) };
    }
    if (h.receivedBytes === 0 && h.timedOut) return { ...base, outcome: 'silent' };
    if (h.receivedBytes === 0 && h.closed) return { ...base, outcome: 'closed' };
  }
  const failure = h.stage === 'done' ? undefined : (reason ?? (h.timedOut ? 'no answer to the handshake in time' : h.closed ? 'the peer closed the connection during the handshake' : 'the handshake failed'));
  const tls = tlsProblems(
    {
      ...(reading.certificate ? { certificate: reading.certificate } : {}),
      verifyErrors: h.verifyErrors,
      ...(reading.chainTrusted !== undefined ? { chainTrusted: reading.chainTrusted } : {}),
      ...(failure !== undefined ? { handshakeError: failure } : {}),
    },
    { ...sni, now: opts.now },
  );
  return {
    ...base,
    outcome: tls.problems.length === 0 ? 'secure' : 'problems',
    tls,
    ...(h.protocol ? { protocol: h.protocol } : {}),
    ...(h.cipher ? { cipher: h.cipher } : {}),
    ...(h.alpn ? { alpn: h.alpn } : {}),
  };
}
