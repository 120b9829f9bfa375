import { judgeTls, type TlsFinding } from './analysis/tls.js';
import type { Host } from './host/host.js';
import { readTls, type ReadTlsOptions } from './system/tls.js';

export type { TlsFinding } from './analysis/tls.js';

export interface InspectTlsOptions extends ReadTlsOptions {
  /** "now" for the certificate's dates (tests); this machine's clock otherwise. */
  now?: Date;
}

/**
 * One TLS look at ADDRESS:PORT from `host`, judged: the reader (system/tls.ts: node's TLS here,
 * `openssl s_client` through the host's runner elsewhere) and the pure judgement
 * (analysis/tls.ts), for the protocol step. A check that declares its reads takes the two apart:
 * `readTls` as its reading, `judgeTls` in its decide().
 */
export async function inspectTls(host: Host, opts: InspectTlsOptions): Promise<TlsFinding> {
  const { now, ...read } = opts;
  return judgeTls(await readTls(host, read), { ...(opts.serverName ? { serverName: opts.serverName } : {}), now: now ?? new Date() });
}
