import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

// Certificates as the analysis reads them: parsed here (node's X509Certificate, OpenSSL
// underneath) from the PEM either probe brings back, so node's TLS and `openssl s_client -showcerts`
// on a server give the same facts without a second command.

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
  return {
    subject: rdns(cert.subject).reverse().join(', '),
    ...(commonName !== undefined ? { commonName } : {}),
    names: subjectAltNames(cert.subjectAltName),
    issuer: rdns(cert.issuer).reverse().join(', '),
    notBefore: isoDate(cert.validFrom),
    notAfter: isoDate(cert.validTo),
    selfSigned: signedBy(cert, cert),
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

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Whether the chain leads to one of the trusted certificates: each certificate's issuer is found
 * among the chain and the trusted ones by name and signature. Dates, purposes and constraints are
 * not judged (the dates are the analysis's own problems). For the case where OpenSSL's verifier
 * told node only of a date and nothing of trust (it reports its last complaint alone).
 */
export function chainReachesTrust(chainPems: readonly string[], trusted: readonly X509Certificate[]): boolean {
  const chain = chainPems.flatMap((p) => {
    try {
      return [new X509Certificate(p)];
    } catch {
      return [];
    }
  });
  let at = chain[0];
  for (let depth = 0; at && depth < 10; depth++) {
    const current: X509Certificate = at;
    if (trusted.some((t) => t.fingerprint256 === current.fingerprint256 || signedBy(current, t))) return true;
    at = chain.find((c) => c !== current && signedBy(current, c));
  }
  return false;
}
