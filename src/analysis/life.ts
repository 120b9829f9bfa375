import type { PingResult } from '../system/ping.js';
import type { NeighbourResult, RouteResult } from '../system/route.js';

/** The host itself answered: an echo reply, or an ICMP error sent from the target address. */
export function pingShowsLife(p: PingResult | undefined): boolean {
  if (!p) return false;
  if (p.outcome === 'reply') return true;
  return p.outcome === 'icmp-error' && sameAddress(p.icmpError!.from, p.address);
}

/** ping could not tell anything about the host: not installed or not permitted. */
export function pingUnavailable(p: PingResult | undefined): boolean {
  return !p || p.outcome === 'missing' || p.outcome === 'not-permitted' || p.outcome === 'failed';
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * The host answered ARP or neighbour discovery just now: the kernel holds its link-layer address
 * as REACHABLE. (STALE, DELAY and PROBE only say it answered some time ago.)
 */
export function neighbourAnswered(n: NeighbourResult | undefined): boolean {
  return n?.entry?.state === 'REACHABLE' && n.entry.lladdr !== undefined;
}

/** The kernel asked for the address on the link and nobody answered (yet). */
export function neighbourSilent(n: NeighbourResult | undefined): boolean {
  return n?.entry?.state === 'INCOMPLETE' || n?.entry?.state === 'FAILED';
}

/** The route leaves straight onto the link, no gateway between: only ARP/ND can say whether the host is there. */
export function onLink(route: RouteResult): boolean {
  return route.kind === 'unicast' && route.via === undefined && route.dev !== undefined;
}
