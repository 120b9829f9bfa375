import type { KernelRulesets } from './firewall/base-chains.js';
import type { TcpSocket } from '../system/socket.js';
import { isLoopback, isWildcard, normalizeAddress } from '../net/address.js';
import { findDnat, type DnatForward } from './forward.js';
import { proxyForward, type ProxyForward } from './proxy.js';
import { receiversOn } from './namespaces.js';

export type Forward = DnatForward | ProxyForward;

/** A process holding the port here, with its command line: a proxy's says where it forwards. */
export interface PortHolder {
  pid: number;
  argv: string[];
}

/** The proxy among the holders' command lines (docker-proxy runs once per protocol of a published port: `-proto udp`). */
export function proxyOf(holder: PortHolder, port: number, protocol: 'tcp' | 'udp'): ProxyForward | undefined {
  const proxy = proxyForward(holder.argv.join(' '), port);
  return proxy && (protocol === 'tcp' || proxy.protocol === 'udp') ? proxy : undefined;
}

/** The DNAT rule that takes the port for one of the target's addresses (as a client's packet meets the nat table). */
export function dnatOf(rules: KernelRulesets, addresses: readonly string[], port: number, protocol: 'tcp' | 'udp'): DnatForward | undefined {
  for (const dst of addresses.length ? addresses : [undefined]) {
    // From a client the packet meets PREROUTING; to a loopback address only this host's OUTPUT.
    const hook = dst !== undefined && isLoopback(dst) ? 'output' : 'prerouting';
    const dnat = findDnat(rules, { port, protocol, hook, dstLocal: true, ...(dst ? { dst } : {}) });
    if (dnat) return dnat;
  }
  return undefined;
}

/** What forwards the port: the DNAT rule that takes it, else a proxy among the processes holding it. */
export function forwardOf(rules: KernelRulesets, addresses: readonly string[], holders: readonly PortHolder[], port: number, protocol: 'tcp' | 'udp'): Forward | undefined {
  const dnat = dnatOf(rules, addresses, port, protocol);
  if (dnat) return dnat;
  for (const h of holders) {
    const proxy = proxyOf(h, port, protocol);
    if (proxy) return proxy;
  }
  return undefined;
}

/** At the destination: the sockets on its port, and those of them a forwarded packet reaches (bound to every address or to that one). */
export function listenersAt(sockets: readonly TcpSocket[], to: { address: string; port: number }, protocol: 'tcp' | 'udp'): { listeners: TcpSocket[]; covering: TcpSocket[] } {
  const listeners = receiversOn(sockets, to.port, protocol);
  const covering = listeners.filter((l) => isWildcard(l.local.address) || normalizeAddress(l.local.address) === normalizeAddress(to.address));
  return { listeners, covering };
}
