/**
 * What OpenSSL says when a TLS connection goes wrong, and which of a client's complaints each one
 * is. Two sources speak here: the certificate verifier (X509_V_ERR_* of OpenSSL's
 * include/openssl/x509_vfy.h.in; node names them without the prefix in `authorizationError`,
 * `openssl s_client` prints their numbers in `verify error:num=N`), and the TLS layer's reasons
 * (ssl/ssl_err.c's reason strings: node puts them in `err.reason` and in its `ERR_SSL_*` codes,
 * s_client prints them in its error lines).
 */

/** A problem a TLS client would reject the connection for (CONTRACT.md, `diagnosis.tls.problems`). */
export type TlsProblem = 'expired' | 'not-yet-valid' | 'name-mismatch' | 'self-signed' | 'untrusted' | 'handshake';

/** Every problem, in the order reports list them. */
export const TLS_PROBLEMS: readonly TlsProblem[] = ['expired', 'not-yet-valid', 'name-mismatch', 'self-signed', 'untrusted', 'handshake'];

/**
 * X509_V_ERR_* by number (s_client's `num=`), with the name node gives it and the problem it is.
 * A code not listed here is a verification failure of another kind: 'untrusted'.
 */
export const VERIFY_ERRORS: Readonly<Record<number, { name: string; problem: TlsProblem }>> = {
  2: { name: 'UNABLE_TO_GET_ISSUER_CERT', problem: 'untrusted' },
  4: { name: 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', problem: 'untrusted' },
  6: { name: 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', problem: 'untrusted' },
  7: { name: 'CERT_SIGNATURE_FAILURE', problem: 'untrusted' },
  9: { name: 'CERT_NOT_YET_VALID', problem: 'not-yet-valid' },
  10: { name: 'CERT_HAS_EXPIRED', problem: 'expired' },
  13: { name: 'ERROR_IN_CERT_NOT_BEFORE_FIELD', problem: 'untrusted' },
  14: { name: 'ERROR_IN_CERT_NOT_AFTER_FIELD', problem: 'untrusted' },
  18: { name: 'DEPTH_ZERO_SELF_SIGNED_CERT', problem: 'self-signed' },
  19: { name: 'SELF_SIGNED_CERT_IN_CHAIN', problem: 'untrusted' },
  20: { name: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', problem: 'untrusted' },
  21: { name: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', problem: 'untrusted' },
  22: { name: 'CERT_CHAIN_TOO_LONG', problem: 'untrusted' },
  23: { name: 'CERT_REVOKED', problem: 'untrusted' },
  24: { name: 'INVALID_CA', problem: 'untrusted' },
  25: { name: 'PATH_LENGTH_EXCEEDED', problem: 'untrusted' },
  26: { name: 'INVALID_PURPOSE', problem: 'untrusted' },
  27: { name: 'CERT_UNTRUSTED', problem: 'untrusted' },
  28: { name: 'CERT_REJECTED', problem: 'untrusted' },
  62: { name: 'HOSTNAME_MISMATCH', problem: 'name-mismatch' },
  64: { name: 'IP_ADDRESS_MISMATCH', problem: 'name-mismatch' },
};

const BY_NAME = new Map(Object.values(VERIFY_ERRORS).map((v) => [v.name, v.problem]));

/** The problem a verification error is (by node's name, e.g. CERT_HAS_EXPIRED); 'untrusted' for any other failure. */
export function verifyErrorProblem(name: string): TlsProblem {
  // node's own name for a failed name check, when its checkServerIdentity ran.
  if (name === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'name-mismatch';
  return BY_NAME.get(name) ?? 'untrusted';
}

/** The name of an X509_V_ERR_* number (s_client's `num=`), or `X509_V_ERR_<n>` when it is not listed. */
export function verifyErrorName(num: number): string {
  return VERIFY_ERRORS[num]?.name ?? `X509_V_ERR_${num}`;
}

/**
 * TLS-layer reasons a client gets when the peer's bytes are no TLS record at all: OpenSSL read a
 * record header that is not one (`HTTP/` read as a header is version 0x5454: "wrong version
 * number"; a first byte of 0x16 with a length over 2^14+2048: "packet length too long"; OpenSSL
 * 1.x's SSLv23 method: "unknown protocol"). Not the generic "record layer failure", which real TLS
 * peers cause too.
 */
export const NOT_TLS_REASONS: readonly string[] = ['wrong version number', 'packet length too long', 'unknown protocol'];

/**
 * The alert in a TLS-layer reason: OpenSSL words a received alert as `sslv3 alert NAME`,
 * `tlsv1 alert NAME` or `tlsv13 alert NAME`, and a few as `tlsv1 NAME` (unrecognized name,
 * bad certificate status response); node's codes say the same in capitals
 * (ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION). Returns the alert's RFC 8446 §6 name with spaces
 * ("protocol version"), or undefined when the reason is not an alert.
 */
export function alertOf(reason: string): string | undefined {
  const text = reason.startsWith('ERR_SSL_') ? reason.slice('ERR_SSL_'.length).toLowerCase().replace(/_/g, ' ') : reason.toLowerCase();
  const m = /\b(?:sslv3|tlsv1|tlsv13) alert ([a-z0-9 ]+)/.exec(text) ?? /\btlsv1 (unrecognized name|bad certificate status response|bad certificate hash value|certificate unobtainable)/.exec(text);
  return m?.[1]?.trim();
}

/** The TLS-layer reason in a node error code (ERR_SSL_WRONG_VERSION_NUMBER → "wrong version number"). */
export function reasonOfCode(code: string): string | undefined {
  return code.startsWith('ERR_SSL_') ? code.slice('ERR_SSL_'.length).toLowerCase().replace(/_/g, ' ') : undefined;
}

/** Whether a TLS-layer reason says the peer does not speak TLS. */
export function isNotTlsReason(reason: string): boolean {
  const r = reason.toLowerCase();
  return NOT_TLS_REASONS.some((n) => r.includes(n));
}

/**
 * What nginx answers a plain-HTTP request to a TLS port with (ngx_http_special_response.c,
 * `ngx_http_error_497_page`): the reverse case, where a client spoke plain text and TLS was due.
 */
export const PLAIN_HTTP_TO_TLS_PORT = 'The plain HTTP request was sent to HTTPS port';
