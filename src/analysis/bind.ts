import { isIPv4 } from 'node:net';
import { isLoopback, normalizeAddress } from '../net/address.js';
import type { TcpSocket } from '../system/socket.js';

/**
 * Whether a listening socket accepts connections to `address`: a wildcard of the right family,
 * a dual-stack IPv6 wildcard (v6only off, shown by ss as `*`), or the very address.
 */
export function listenerAccepts(listener: TcpSocket, address: string): boolean {
  const bound = normalizeAddress(listener.local.address);
  const target = normalizeAddress(address);
  const v4 = isIPv4(target);
  if (bound === '*') return true;
  if (bound === '0.0.0.0') return v4;
  // An IPv6 wildcard takes IPv4 too unless v6only is set; netstat and /proc cannot tell, and
  // Linux's default (net.ipv6.bindv6only=0) is dual-stack.
  if (bound === '::') return !v4 || listener.dualStack !== false;
  return bound === target;
}

export type BindVerdict =
  | { kind: 'covers'; accepted: string[]; missed: string[] }
  | { kind: 'loopback-only' }
  | { kind: 'other-address' }
  | { kind: 'none' };

/** How the listeners of a port relate to the addresses a client would connect to. */
export function bindVerdict(listeners: readonly TcpSocket[], addresses: readonly string[]): BindVerdict {
  if (listeners.length === 0) return { kind: 'none' };
  const accepted = addresses.filter((a) => listeners.some((l) => listenerAccepts(l, a)));
  if (accepted.length > 0) return { kind: 'covers', accepted, missed: addresses.filter((a) => !accepted.includes(a)) };
  const targetIsLoopback = addresses.length > 0 && addresses.every(isLoopback);
  if (!targetIsLoopback && listeners.every((l) => isLoopback(l.local.address))) return { kind: 'loopback-only' };
  return { kind: 'other-address' };
}
