import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { PLAIN_HTTP_TO_TLS_PORT, TLS_PROBLEMS, alertOf, verifyErrorProblem, type TlsProblem } from '../knowledge/tls-errors.js';

export type { TlsProblem } from '../knowledge/tls-errors.js';

/** The facts of one certificate a TLS client judges (CONTRACT.md's `diagnosis.tls` fields, and the rest it needs). */
export interface CertificateFacts {
  /** The subject in RFC 4514 order, most specific first: `CN=a.test, O=Example`. */
  subject: string;
  commonName?: string;
  /** The DNS names and IP addresses of its subjectAltName, in its order. */
  names: string[];
  issuer: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  /** Issued by itself: its issuer is its subject and its own key verifies its signature. */
  selfSigned: boolean;
}

/** What the analysis reads: the leaf's facts, the verifier's errors, how the handshake ended. */
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
  if (facts.handshakeError !== undefined && !cert) found.add('handshake');
  if (cert) {
    const now = opts.now.getTime();
    if (Date.parse(cert.notAfter) < now) found.add('expired');
    if (Date.parse(cert.notBefore) > now) found.add('not-yet-valid');
    if (opts.serverName && !nameMatches(opts.serverName, cert)) found.add('name-mismatch');
    const trustErrors = facts.verifyErrors.map(verifyErrorProblem).filter((p) => p === 'untrusted' || p === 'self-signed');
    const untrusted = trustErrors.length > 0 || facts.chainTrusted === false;
    // A self-signed leaf nobody trusts is one problem, not two; one the client trusts is none.
    if (untrusted) found.add(cert.selfSigned ? 'self-signed' : 'untrusted');
    for (const e of facts.verifyErrors) {
      const p = verifyErrorProblem(e);
      // The verifier's date complaints may be about a chain certificate: kept. Its name
      // complaint is node's, about a name the analysis judges itself.
      if (p === 'expired' || p === 'not-yet-valid') found.add(p);
    }
    if (facts.handshakeError !== undefined) found.add('handshake');
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
 * Whether the certificate is valid for `name` by RFC 6125 as node's checkServerIdentity applies it:
 * a wildcard only as the leftmost label, an IP address only against the IP addresses of
 * subjectAltName, the subject's CN only when there are no DNS names.
 */
export function nameMatches(name: string, cert: Pick<CertificateFacts, 'names' | 'commonName'>): boolean {
  const host = name.toLowerCase().replace(/\.$/, '');
  const san = cert.names.map((n) => (isIP(n) ? `IP Address:${n}` : `DNS:${n}`)).join(', ');
  const peer = { subject: cert.commonName !== undefined ? { CN: cert.commonName } : {}, ...(san ? { subjectaltname: san } : {}) } as unknown as PeerCertificate;
  try {
    return checkServerIdentity(host, peer) === undefined;
  } catch {
    return false;
  }
}

/**
 * The facts of one PEM certificate, or undefined when it does not parse. The subject and issuer in
 * RFC 4514 order (node lists the RDNs as encoded: the country first, the CN last).
 */
export function certificateFacts(pem: string): CertificateFacts | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return undefined;
  }
  const rdns = (dn: string) => dn.split('\n').filter(Boolean);
  const commonName = rdns(cert.subject).reverse().find((r) => r.startsWith('CN='))?.slice(3);
  let selfSigned = false;
  try {
    selfSigned = cert.checkIssued(cert) && cert.verify(cert.publicKey);
  } catch {
    selfSigned = false;
  }
  return {
    subject: rdns(cert.subject).reverse().join(', '),
    ...(commonName !== undefined ? { commonName } : {}),
    names: subjectAltNames(cert.subjectAltName),
    issuer: rdns(cert.issuer).reverse().join(', '),
    notBefore: isoDate(cert.validFrom),
    notAfter: isoDate(cert.validTo),
    selfSigned,
  };
}

/** The DNS names and IP addresses of node's subjectAltName text (`DNS:a.test, IP Address:10.0.0.1`; values with commas come quoted). */
export function subjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  const names: string[] = [];
  for (const m of text.matchAll(/(?:^|, )(?:"((?:[^"\\]|\\.)*)"|([^,]*))/g)) {
    const entry = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? '');
    if (entry.startsWith('DNS:')) names.push(entry.slice(4));
    else if (entry.startsWith('IP Address:')) names.push(compactIp(entry.slice('IP Address:'.length)));
  }
  return names;
}

/** `0:0:0:0:0:0:0:1` as `::1`; an IPv4 address as it is. */
function compactIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}

/** OpenSSL's `Jan  1 00:00:00 2021 GMT` as ISO 8601. */
function isoDate(text: string): string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}

/**
 * Whether the chain leads to one of the trusted certificates: each certificate's issuer is found
 * among the chain and the trusted ones by name and signature. Dates, purposes and constraints are
 * not judged (the dates are the analysis's own problems). For the case where OpenSSL's verifier
 * reported only a date to node and said nothing of trust.
 */
export function chainReachesTrust(chainPems: readonly string[], trusted: readonly X509Certificate[]): boolean {
  const chain = chainPems.flatMap((p) => {
    try {
      return [new X509Certificate(p)];
    } catch {
      return [];
    }
  });
  const isTrusted = (c: X509Certificate) => trusted.some((t) => t.fingerprint256 === c.fingerprint256);
  const signedBy = (c: X509Certificate, issuer: X509Certificate) => {
    try {
      return c.checkIssued(issuer) && c.verify(issuer.publicKey);
    } catch {
      return false;
    }
  };
  let at = chain[0];
  for (let depth = 0; at && depth < 10; depth++) {
    if (isTrusted(at) || trusted.some((t) => signedBy(at!, t))) return true;
    const current: X509Certificate = at;
    at = chain.find((c) => c !== current && signedBy(current, c));
  }
  return false;
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
  const buf = typeof bytes === 'string' ? Buffer.from(/^[0-9a-f]*$/i.test(bytes) && bytes.length % 2 === 0 ? bytes : '', 'hex') : Buffer.from(bytes);
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
