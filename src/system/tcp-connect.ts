import type { ProbeResult } from '../host/tcp-connect.js';
import { defineReader } from './reader.js';

// The TCP probe belongs to the host (a server over ssh connects from there): re-exported here for
// the client's checks, which always probe from this machine.
export { probeTcp, type ProbeOutcome, type ProbeResult } from '../host/tcp-connect.js';

/**
 * Where a connect goes and how long it may wait; `attempt` names a connect that must be made
 * afresh whatever came before (the arrival step's, sent while the server captures).
 */
export interface ConnectKey {
  address: string;
  port: number;
  timeoutMs: number;
  attempt?: string;
}

/** What makes two connects (or two UDP probes) the same read. */
export function connectKey(k: ConnectKey): string {
  return `${k.address} ${k.port} ${k.timeoutMs}${k.attempt ? ` ${k.attempt}` : ''}`;
}

/** One TCP connect from the host to an address and port (connected, refused, unreachable, timeout). */
export const tcpConnectOf = defineReader<ConnectKey, ProbeResult>({
  name: 'tcp connect',
  key: connectKey,
  read: (k, s) => s.host.connectTcp(k.address, k.port, k.timeoutMs),
});
