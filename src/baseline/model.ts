import type { Family } from '../system/socket.js';
import { isLoopback } from '../net/address.js';

/** The transport of a listening socket. */
export type Protocol = 'tcp' | 'udp';

/**
 * One listening socket in a baseline: a TCP LISTEN socket or an unconnected UDP socket. Several
 * sockets with the same fields (the workers of one program, SO_REUSEPORT groups) are one entry.
 */
export interface Listener {
  protocol: Protocol;
  /** As ss prints it, IPv6 without brackets: `0.0.0.0`, `127.0.0.1`, `::`, `::1`, or `*` (IPv6 wildcard that also takes IPv4). */
  address: string;
  port: number;
  family: Family;
  /** The socket is bound to one interface (SO_BINDTODEVICE), e.g. `lo`. */
  device?: string;
  /** The process name (comm) of the oldest holder; absent when no holder could be seen. */
  program?: string;
  /** The systemd unit the holder runs in, e.g. `nginx.service`. */
  unit?: string;
}

/** The format version this whyport writes and reads; a file with a higher one came from a newer whyport. */
export const BASELINE_VERSION = 1;

/** What `whyport baseline save` writes. */
export interface Baseline {
  whyport: 'baseline';
  version: typeof BASELINE_VERSION;
  host: string;
  /** ISO 8601. */
  savedAt: string;
  listeners: Listener[];
}

/** The machine's listeners right now, and whether some owners were hidden from us. */
export interface Inventory {
  listeners: Listener[];
  /** Some owners could not be seen (not root): their program is absent, not changed. */
  ownersHidden: boolean;
}

/** Orders listeners by protocol, port, family, address, device, program, unit: the order of the file and of reports. */
export function compareListeners(a: Listener, b: Listener): number {
  return (
    cmp(a.protocol, b.protocol) ||
    a.port - b.port ||
    cmp(a.family, b.family) ||
    cmp(a.address, b.address) ||
    cmp(a.device ?? '', b.device ?? '') ||
    cmp(a.program ?? '', b.program ?? '') ||
    cmp(a.unit ?? '', b.unit ?? '')
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether only this machine can reach the listener: a loopback address, or bound to the loopback device. */
export function isLoopbackOnly(l: Pick<Listener, 'address' | 'device'>): boolean {
  return isLoopback(l.address) || l.device === 'lo';
}
