import { X509Certificate } from 'node:crypto';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { Host } from '../host/host.js';
import type { TlsHandshake } from '../host/tls-probe.js';
import { SYSTEM_CA_BUNDLES } from '../knowledge/tls-trust.js';
import { showCommand } from '../text/command.js';
import { certificateFacts, chainReachesTrust, type CertificateFacts } from './certificate.js';
import { parseSClient, sClientArgv } from './openssl.js';
import { defineReader } from './reader.js';

export interface ReadTlsOptions {
  /** The literal address to connect to. */
  address: string;
  port: number;
  /** The name the user asked for: sent as SNI (never for an IP literal). */
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
}

/**
 * What one TLS look at a port read: the handshake as either probe saw it, the leaf certificate's
 * facts, and whether the chain reaches a trusted root where only a date was reported.
 */
export interface TlsReading {
  /** node's TLS on this machine, or `openssl s_client` on the host (over ssh, one round trip). */
  via: 'node' | 'openssl';
  /** What a person would type there to see the same (the report's step command). */
  command: string;
  handshake: TlsHandshake;
  certificate?: CertificateFacts;
  /** Set when the verifier named only a date: node hears its last complaint alone, which may hide an unknown issuer. */
  chainTrusted?: boolean;
  /** The probe could not run there (openssl missing): nothing was learnt. */
  unavailable?: string;
}

/**
 * One TLS handshake with ADDRESS:PORT from `host`, verification off so that every problem shows:
 * this machine's own TLS when the host is this machine, `openssl s_client` through the host's
 * command runner otherwise (the server's vantage over ssh: one remote command).
 */
export async function readTls(host: Host, opts: ReadTlsOptions): Promise<TlsReading> {
  const sni = opts.serverName ? { serverName: opts.serverName } : {};
  const alpn = opts.alpn ? { alpn: opts.alpn } : {};
  if (host.probeTls) {
    const trust = await trustStore(host, opts.extraCa);
    const handshake = await host.probeTls(opts.address, opts.port, { timeoutMs: opts.timeoutMs, ...sni, ...alpn, ...(opts.signal ? { signal: opts.signal } : {}), secureContext: trust.context });
    const shown = sClientArgv(opts.address, opts.port, { ...sni, ...alpn }).filter((w) => w !== '-msg');
    return tlsReadingOf(handshake, 'node', `${showCommand(shown)} </dev/null`, trust);
  }
  const argv = sClientArgv(opts.address, opts.port, { ...sni, ...alpn, ...(opts.caFile ? { caFile: opts.caFile } : {}) });
  const command = `${showCommand(argv)} </dev/null`;
  const r = await host.run(argv, { timeoutMs: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  const handshake = parseSClient(r, opts.address, opts.port);
  if (r.missing) return { via: 'openssl', command, handshake, unavailable: 'openssl is not installed there (Debian: apt-get install openssl)' };
  // Interrupted: the command was killed, and what it printed so far says nothing.
  if (opts.signal?.aborted) return { via: 'openssl', command, handshake: { ...handshake, errno: 'ABORT_ERR' } };
  return tlsReadingOf(handshake, 'openssl', command);
}

/** The reading of one handshake: the leaf's facts, and the chain walked to the trust store when a date may hide the trust verdict. */
export function tlsReadingOf(handshake: TlsHandshake, via: TlsReading['via'], command: string, trust?: TrustStore): TlsReading {
  const leaf = handshake.chain[0];
  const certificate = leaf !== undefined ? certificateFacts(leaf) : undefined;
  const onlyDates = handshake.verifyErrors.length > 0 && handshake.verifyErrors.every((e) => e === 'CERT_HAS_EXPIRED' || e === 'CERT_NOT_YET_VALID');
  const chainTrusted = trust && onlyDates ? chainReachesTrust(handshake.chain, trust.certificates()) : undefined;
  return { via, command, handshake, ...(certificate ? { certificate } : {}), ...(chainTrusted !== undefined ? { chainTrusted } : {}) };
}

/** The certificates this machine trusts: the system's bundle (what curl and openssl use), node's own roots where there is none. */
export interface TrustStore {
  pems: string[];
  /** node's TLS context over them, built once (about 25 ms for a whole bundle). */
  context: SecureContext;
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
      let context: SecureContext;
      try {
        context = createSecureContext({ ca: pems });
      } catch {
        // A bundle OpenSSL cannot read whole: node's own roots rather than no probe at all.
        context = createSecureContext({ ca: [...rootCertificates] });
      }
      let parsed: X509Certificate[] | undefined;
      return {
        pems,
        context,
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

/** What makes two TLS looks the same read. */
export type TlsKey = Pick<ReadTlsOptions, 'address' | 'port' | 'serverName' | 'timeoutMs'>;

/** One TLS look at a port as a reader (the protocol step's read): once per diagnosis for an address, port and name. */
export const tlsOf = defineReader<TlsKey, TlsReading>({
  name: 'tls handshake',
  key: (k) => [k.address, k.port, k.serverName ?? '-', k.timeoutMs].join(' '),
  read: (k, s) => readTls(s.host, k),
});
