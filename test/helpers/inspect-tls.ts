import { judgeTls, type TlsFinding } from '../../src/analysis/tls.js';
import type { Host } from '../../src/host/host.js';
import { readTls, type ReadTlsOptions } from '../../src/system/tls.js';

export type { TlsFinding } from '../../src/analysis/tls.js';

export interface InspectTlsOptions extends ReadTlsOptions {
  /** "now" for the certificate's dates (tests); this machine's clock otherwise. */
  now?: Date;
}

/**
 * One TLS look at ADDRESS:PORT from `host`, judged, for the tests of the TLS reading on real
 * servers: the reader (system/tls.ts: node's TLS here, `openssl s_client` through the host's
 * runner elsewhere) and the pure judgement (analysis/tls.ts) — what the protocol step does in its
 * read (the `tlsOf` reader) and its decide (checks/protocol.ts).
 */
export async function inspectTls(host: Host, opts: InspectTlsOptions): Promise<TlsFinding> {
  const { now, ...read } = opts;
  return judgeTls(await readTls(host, read), { ...(opts.serverName ? { serverName: opts.serverName } : {}), now: now ?? new Date() });
}
