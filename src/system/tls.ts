import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { certificateFacts, chainReachesTrust, tlsProblems, wrongProtocol, type TlsDiagnosis, type WrongProtocol } from '../analysis/tls.js';
import { underlying } from '../host/abortable.js';
import type { Host } from '../host/host.js';
import { localHost } from '../host/local.js';
import { probeTls, type TlsHandshake } from '../host/tls-probe.js';
import { SYSTEM_CA_BUNDLES } from '../knowledge/tls-trust.js';
import { isNotTlsReason, reasonOfCode } from '../knowledge/tls-errors.js';
import { showCommand } from '../text/command.js';
import { parseSClient, sClientArgv } from './openssl.js';

export interface InspectTlsOptions {
  /** The literal address to connect to. */
  address: string;
  port: number;
  /** The name the user asked for: sent as SNI (not for an IP literal) and judged against the certificate. */
  serverName?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** ALPN protocols to offer. */
  alpn?: string[];
  /**
   * Certificates (PEM) trusted on top of the system's, for the probe of this machine (tests, a
   * future --ca). The system's trust store stays what production uses.
   */
  extraCa?: string[];
  /** For `openssl s_client` on another host: a CA file there, trusted in place of its default paths (tests). */
  caFile?: string;
  /** "now" for the dates (tests); the clock of this machine otherwise. */
  now?: Date;
}

/**
 * How the probe ran: node's TLS on this machine, or `openssl s_client` on the host (over ssh);
 * `command` is what a person would type there to see the same (the report's step command).
 */
export interface TlsVia {
  via: 'node' | 'openssl';
  command: string;
}

/**
 * What a TLS look at a port found, as a closed set of outcomes:
 * - `secure`: a handshake and a certificate a client accepts (tls.problems is empty);
 * - `problems`: a client would reject it (TLS_FAILURE): every problem in tls.problems;
 * - `wrong-protocol`: something else answered (WRONG_PROTOCOL): `answered` says what;
 * - `closed`: the connection was closed without a byte (CLOSED_AFTER_ACCEPT);
 * - `silent`: connected, and nothing came back within the time;
 * - `no-connection`: the TCP connect itself failed (errno);
 * - `unknown`: the probe could not run or its output could not be read (openssl missing there, interrupted).
 */
export type TlsFinding = (
  | { outcome: 'secure' | 'problems'; tls: TlsDiagnosis; protocol?: string; cipher?: string; alpn?: string }
  | { outcome: 'wrong-protocol'; answered: WrongProtocol; tls: TlsDiagnosis }
  | { outcome: 'closed' | 'silent' }
  | { outcome: 'no-connection'; errno: string }
  | { outcome: 'unknown'; reason: string }
) & TlsVia & { address: string; port: number; durationMs: number };

/**
 * One TLS look at ADDRESS:PORT from `host`: this machine's own TLS when the host is this machine,
 * `openssl s_client` through the host's command runner otherwise (the server's vantage over ssh:
 * one round trip). Either way the same analysis judges it.
 */
export async function inspectTls(host: Host, opts: InspectTlsOptions): Promise<TlsFinding> {
  const now = opts.now ?? new Date();
  if (underlying(host) === localHost) {
    const trust = await trustStore(host, opts.extraCa);
    const handshake = await probeTls(opts.address, opts.port, {
      timeoutMs: opts.timeoutMs,
      ...(opts.serverName ? { serverName: opts.serverName } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.alpn ? { alpn: opts.alpn } : {}),
      ca: trust.pems,
    });
    const shown = sClientArgv(opts.address, opts.port, { ...(opts.serverName ? { serverName: opts.serverName } : {}), ...(opts.alpn ? { alpn: opts.alpn } : {}) }).filter((w) => w !== '-msg');
    return findingOf(handshake, { via: 'node', command: `${showCommand(shown)} </dev/null` }, opts.serverName, now, trust);
  }
  const argv = sClientArgv(opts.address, opts.port, { ...(opts.serverName ? { serverName: opts.serverName } : {}), ...(opts.alpn ? { alpn: opts.alpn } : {}), ...(opts.caFile ? { caFile: opts.caFile } : {}) });
  const via: TlsVia = { via: 'openssl', command: `${showCommand(argv)} </dev/null` };
  const r = await host.run(argv, { timeoutMs: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  const base = { address: opts.address, port: opts.port, durationMs: r.durationMs, ...via };
  if (r.missing) return { ...base, outcome: 'unknown', reason: 'openssl is not installed there (Debian: apt-get install openssl)' };
  if (opts.signal?.aborted) return { ...base, outcome: 'unknown', reason: 'interrupted' };
  return findingOf(parseSClient(r, opts.address, opts.port), via, opts.serverName, now);
}

/** The judgement of one handshake, whichever probe saw it. */
export function findingOf(h: TlsHandshake, via: TlsVia, serverName: string | undefined, now: Date, trust?: TrustStore): TlsFinding {
  const base = { address: h.address, port: h.port, durationMs: h.durationMs, ...via };
  if (h.stage === 'connect') return h.errno === 'ABORT_ERR' ? { ...base, outcome: 'unknown', reason: 'interrupted' } : { ...base, outcome: 'no-connection', errno: h.errno ?? 'UNKNOWN' };
  if (h.errno === 'ABORT_ERR') return { ...base, outcome: 'unknown', reason: 'interrupted' };
  const reason = h.error !== undefined ? (reasonOfCode(h.error) ?? h.error) : undefined;
  if (h.stage === 'handshake') {
    // What answered, when it was not TLS: its first bytes, or OpenSSL's word that they were none.
    const other = h.firstBytes ? wrongProtocol(h.firstBytes, 'tls') : undefined;
    if (other || (reason && isNotTlsReason(reason) && h.receivedBytes > 0)) {
      const answered = other ?? { protocol: 'unknown' as const, said: `bytes that are not TLS (${reason})` };
      return { ...base, outcome: 'wrong-protocol', answered, tls: tlsProblems({ verifyErrors: [], handshakeError: reason ?? 'not TLS' }, { ...(serverName ? { serverName } : {}), now }) };
    }
    if (h.receivedBytes === 0 && h.timedOut) return { ...base, outcome: 'silent' };
    if (h.receivedBytes === 0 && h.closed) return { ...base, outcome: 'closed' };
  }
  const leafPem = h.chain[0];
  const certificate = leafPem !== undefined ? certificateFacts(leafPem) : undefined;
  // node hears only the verifier's last error: a date complaint may hide an unknown issuer.
  const onlyDates = h.verifyErrors.length > 0 && h.verifyErrors.every((e) => e === 'CERT_HAS_EXPIRED' || e === 'CERT_NOT_YET_VALID');
  const chainTrusted = trust && onlyDates ? chainReachesTrust(h.chain, trust.certificates()) : undefined;
  const tls = tlsProblems(
    {
      ...(certificate ? { certificate } : {}),
      verifyErrors: h.verifyErrors,
      ...(chainTrusted !== undefined ? { chainTrusted } : {}),
      ...(h.stage !== 'done' ? { handshakeError: reason ?? (h.timedOut ? 'no answer to the handshake in time' : h.closed ? 'the peer closed the connection during the handshake' : 'the handshake failed') } : {}),
    },
    { ...(serverName ? { serverName } : {}), now },
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

/** The certificates this machine trusts: the system's bundle (what curl and openssl use), node's own roots where there is none. */
export interface TrustStore {
  pems: string[];
  /** Parsed on first use only (about 30 ms for 140 roots): needed only when a date hides the trust verdict. */
  certificates(): X509Certificate[];
}

const stores = new Map<string, Promise<TrustStore>>();

async function trustStore(host: Host, extraCa: readonly string[] = []): Promise<TrustStore> {
  const key = extraCa.join('');
  let store = stores.get(key);
  if (!store) {
    store = (async () => {
      let system: string[] | undefined;
      for (const path of SYSTEM_CA_BUNDLES) {
        const text = await host.readFile(path).catch(() => undefined);
        const pems = text?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
        if (pems?.length) {
          system = pems;
          break;
        }
      }
      const pems = [...(system ?? rootCertificates), ...extraCa];
      let parsed: X509Certificate[] | undefined;
      return {
        pems,
        certificates: () =>
          (parsed ??= pems.flatMap((p) => {
            try {
              return [new X509Certificate(p)];
            } catch {
              return [];
            }
          })),
      };
    })();
    stores.set(key, store);
  }
  return store;
}
