import type { PingResult } from '../system/ping.js';
import type { NeighbourResult, RouteResult } from '../system/route.js';
import type { ProbeResult } from '../system/tcp-connect.js';
import type { UdpProbeResult } from '../host/udp-probe.js';
import { udpPayloadDescription } from '../knowledge/udp-payloads.js';
import { tries } from '../text/plural.js';
import { endpointText } from '../net/endpoint.js';
import { neighbourAnswered, neighbourSilent, onLink, pingShowsLife, pingUnavailable } from './life.js';

/** nmap's port states, as far as a plain connect() (TCP) or a probe datagram (UDP) can tell them. */
export type PortState = 'open' | 'closed' | 'filtered' | 'open-or-filtered' | 'unreachable';

/** Why an address got its state. */
export type StateReason =
  /** The handshake completed (SYN/ACK). */
  | 'syn-ack'
  /** ECONNREFUSED: a RST (or an ICMP port unreachable) came back from the host. */
  | 'reset'
  /** UDP: a datagram came back. */
  | 'udp-reply'
  /** UDP: ECONNREFUSED, an ICMP port unreachable came back. */
  | 'port-unreachable'
  /** No answer within the timeout, though the host shows signs of life (UDP: no reply and no ICMP error). */
  | 'no-response'
  /** EHOSTUNREACH while the host answers: an ICMP "administratively prohibited" from a firewall. */
  | 'admin-prohibited'
  /** This machine's own firewall refused to send the SYN (EPERM). */
  | 'blocked-here'
  /** No route, or a route that refuses (unreachable, prohibit, blackhole). */
  | 'no-route'
  /** On-link and nobody answers ARP/ND, or a router reports the host unreachable. */
  | 'host-down'
  /** Neither TCP nor ping got any answer. */
  | 'silent'
  /** connect() failed in a way whyport does not know. */
  | 'error';

/** One resolved address, probed three ways at once, and what nmap's rule makes of it. */
export interface AddressProbe {
  address: string;
  family: 4 | 6;
  state: PortState;
  reason: StateReason;
  /** The sentence a person reads: "no answer within 1000 ms, though it answers ping (0.1 ms)". */
  because: string;
  /** The sign of life the verdict rests on, if any: "it answers ping (0.09 ms)". */
  life?: string;
  /** The TCP connect, for a TCP target. */
  tcp?: ProbeResult;
  /** The UDP probe, for a UDP target. */
  udp?: UdpProbeResult;
  ping: PingResult;
  route: RouteResult;
  neighbour?: NeighbourResult;
}

const ROUTE_REFUSALS = new Set(['no-route', 'unreachable', 'prohibit', 'blackhole']);

/**
 * ARP and neighbour discovery give up after three tries a second apart: an EHOSTUNREACH sooner than
 * this, for an address on this machine's own link, was not made by this machine.
 */
const NEIGHBOUR_GIVES_UP_MS = 1000;

/** The sign of life a probe shows (besides an answer to the probe itself), in words; undefined when none. */
function signOfLife(tcp: Pick<ProbeResult, 'errno' | 'durationMs'>, ping: PingResult, route: RouteResult, neighbour: NeighbourResult | undefined): string | undefined {
  const arp = route.address.includes(':') ? 'neighbour discovery' : 'ARP';
  if (ping.outcome === 'reply') return `it answers ping in ${ping.rttMs} ms`;
  if (pingShowsLife(ping)) return `it sent an ICMP error itself in answer to ping ("${ping.icmpError!.message}")`;
  if (!onLink(route)) return undefined;
  if (neighbourAnswered(neighbour)) return `it answered ${arp}, ip neigh: ${neighbour!.entry!.state} ${neighbour!.entry!.lladdr}`;
  // No router between: a quick "unreachable" for a neighbour whose hardware address is known can
  // only be an ICMP error the host sent itself.
  if (tcp.errno === 'EHOSTUNREACH' && tcp.durationMs < NEIGHBOUR_GIVES_UP_MS && neighbour?.entry?.lladdr !== undefined && !neighbourSilent(neighbour)) {
    return `it is on this machine's own network, its hardware address is known (ip neigh: ${neighbour.entry.state} ${neighbour.entry.lladdr}), and the error came in ${tcp.durationMs} ms, long before ${arp} would give up: the host sent it`;
  }
  return undefined;
}

function routeText(route: RouteResult): string {
  if (route.kind === 'no-route') return `this machine has no route to ${route.address} (ip route get: ${route.error})`;
  if (route.kind === 'unreachable' || route.kind === 'prohibit' || route.kind === 'blackhole') {
    return `this machine's routing table refuses ${route.address}: a route of type ${route.kind} (ip route get: ${route.error})`;
  }
  return '';
}

/** What ping said, for a sentence about a host that shows no life. */
function pingText(ping: PingResult): string {
  switch (ping.outcome) {
    case 'no-reply':
      return 'no reply to ping';
    case 'icmp-error':
      return `ping got "${ping.icmpError!.message}" from ${ping.icmpError!.from}`;
    case 'missing':
      return 'ping is not installed';
    case 'not-permitted':
      return 'ping is not permitted here';
    case 'no-route':
      return `ping: ${ping.error}`;
    default:
      return `ping failed (${ping.error ?? ping.outcome})`;
  }
}

function arpText(route: RouteResult, neighbour: NeighbourResult | undefined): string {
  if (!onLink(route) || !neighbourSilent(neighbour)) return '';
  const what = route.address.includes(':') ? 'neighbour discovery' : 'ARP';
  return `nobody answers ${what} for it on ${route.dev} (ip neigh: ${neighbour!.entry!.state})`;
}

/**
 * nmap's rule applied to one address: SYN/ACK → open; RST → closed; no answer within the timeout,
 * or EHOSTUNREACH from a host that otherwise answers (admin-prohibited) → filtered;
 * EHOSTUNREACH/ENETUNREACH with no sign of life → unreachable. ping and the neighbour table supply
 * the sign of life, `ip route get` tells "no route" from "host down". Pure.
 */
export function classifyProbe(tcp: ProbeResult, ping: PingResult, route: RouteResult, neighbour?: NeighbourResult): Omit<AddressProbe, 'address' | 'family' | 'tcp' | 'ping' | 'route' | 'neighbour'> {
  const where = endpointText(tcp.address, tcp.port);
  if (tcp.outcome === 'connected') return { state: 'open', reason: 'syn-ack', because: `${where} accepts connections (the TCP handshake completes)` };
  if (tcp.outcome === 'refused') {
    return { state: 'closed', reason: 'reset', because: `${where} refuses the connection (ECONNREFUSED): the host is up and answered` };
  }
  const life = signOfLife(tcp, ping, route, neighbour);
  const withLife = life ? { life } : {};
  const noLife = [pingUnavailable(ping) ? '' : pingText(ping), arpText(route, neighbour)].filter(Boolean).join(', ');

  if (tcp.errno === 'ENETUNREACH' || tcp.errno === 'EACCES' || tcp.errno === 'EINVAL' || ROUTE_REFUSALS.has(route.kind)) {
    const because = routeText(route) || `this machine has no route to ${tcp.address} (${tcp.errno})`;
    return { state: 'unreachable', reason: 'no-route', because, ...withLife };
  }
  if (tcp.errno === 'EPERM') {
    return { state: 'filtered', reason: 'blocked-here', because: `this machine refused to send the connection to ${where} (EPERM): a rule of its own firewall (an OUTPUT chain) blocks it`, ...withLife };
  }
  if (tcp.outcome === 'unreachable') {
    if (life) {
      return { state: 'filtered', reason: 'admin-prohibited', because: `${where} was answered at once with "unreachable" (${tcp.errno}) although the host is up (${life}): a firewall rejects the port with an ICMP "administratively prohibited"`, life };
    }
    return { state: 'unreachable', reason: 'host-down', because: `${tcp.address} is unreachable (${tcp.errno} after ${tcp.durationMs} ms)${noLife ? `; ${noLife}` : ''}` };
  }
  if (tcp.outcome === 'timeout') {
    if (life) return { state: 'filtered', reason: 'no-response', because: `no answer from ${where} within ${tcp.durationMs} ms, though the host is up (${life}): something drops the packets`, life };
    if (neighbourSilent(neighbour) && onLink(route)) {
      return { state: 'unreachable', reason: 'host-down', because: `no answer from ${where} within ${tcp.durationMs} ms; ${noLife}` };
    }
    if (!pingUnavailable(ping) && ping.outcome !== 'no-route') {
      return { state: 'unreachable', reason: 'silent', because: `no answer from ${where} within ${tcp.durationMs} ms, and ${pingText(ping)}: nothing answers at all` };
    }
    // Without ping nothing says whether the host is up: nmap (-Pn) calls this filtered too.
    return { state: 'filtered', reason: 'no-response', because: `no answer from ${where} within ${tcp.durationMs} ms (${pingText(ping)}, so whether the host is up is not known)` };
  }
  return { state: 'unreachable', reason: 'error', because: `connecting to ${where} failed: ${tcp.errno ?? tcp.outcome}`, ...withLife };
}

/**
 * nmap's UDP rule applied to one address: a reply → open; ICMP port unreachable (ECONNREFUSED) →
 * closed; EHOSTUNREACH from a host that shows life (an ICMP "administratively prohibited") →
 * filtered; silence after the retries → open|filtered, since a program that ignores the probe and
 * a firewall that drops it look alike from here — unless nothing shows life at all (ping silent
 * too, or on the link and nobody answers ARP), which is unreachable as for TCP. Linux reports
 * no ICMP host- or net-unreachable to a UDP socket (src/host/udp-probe.ts), so a host that is down
 * shows as silence, and only ping and the neighbour table tell it from a silent port. Pure.
 */
export function classifyUdpProbe(udp: UdpProbeResult, ping: PingResult, route: RouteResult, neighbour?: NeighbourResult): Omit<AddressProbe, 'address' | 'family' | 'udp' | 'ping' | 'route' | 'neighbour'> {
  const where = endpointText(udp.address, udp.port);
  const sent = udpPayloadDescription(udp.payload);
  if (udp.outcome === 'reply') {
    const reply = udp.replyBytes === undefined ? 'a reply' : `a reply of ${udp.replyBytes} bytes`;
    return { state: 'open', reason: 'udp-reply', because: `${where} answered ${sent} (${reply} after ${tries(udp.tries)})` };
  }
  if (udp.outcome === 'refused') {
    return { state: 'closed', reason: 'port-unreachable', because: `${where} answered ${sent} with an ICMP port unreachable (ECONNREFUSED, after ${tries(udp.tries)}): the host is up and answered` };
  }
  const life = signOfLife(udp, ping, route, neighbour);
  const withLife = life ? { life } : {};
  const noLife = [pingUnavailable(ping) ? '' : pingText(ping), arpText(route, neighbour)].filter(Boolean).join(', ');

  // EACCES and EINVAL before any try are routes of type prohibit and blackhole; EACCES after one is
  // ICMPv6's "administratively prohibited" (the probe says unreachable then).
  if (udp.errno === 'ENETUNREACH' || (udp.outcome === 'error' && (udp.errno === 'EACCES' || udp.errno === 'EINVAL')) || ROUTE_REFUSALS.has(route.kind)) {
    const because = routeText(route) || `this machine has no route to ${udp.address} (${udp.errno})`;
    return { state: 'unreachable', reason: 'no-route', because, ...withLife };
  }
  if (udp.errno === 'EPERM') {
    return { state: 'filtered', reason: 'blocked-here', because: `this machine refused to send ${sent} to ${where} (EPERM): a rule of its own firewall (an OUTPUT chain) blocks it`, ...withLife };
  }
  if (udp.outcome === 'unreachable') {
    if (life) {
      return { state: 'filtered', reason: 'admin-prohibited', because: `${where} answered ${sent} with "unreachable" (${udp.errno}) although the host is up (${life}): a firewall rejects the port with an ICMP "administratively prohibited"`, life };
    }
    return { state: 'unreachable', reason: 'host-down', because: `${udp.address} is unreachable (${udp.errno} after ${udp.durationMs} ms)${noLife ? `; ${noLife}` : ''}` };
  }
  if (udp.outcome === 'silent') {
    const silence = `no reply and no ICMP error from ${where} to ${sent}, sent ${udp.tries === 1 ? 'once' : `${udp.tries} times`} within ${udp.durationMs} ms`;
    if (life) return { state: 'open-or-filtered', reason: 'no-response', because: `${silence}, though the host is up (${life}): a program that ignores the probe and a firewall that drops it look alike from here`, life };
    if (neighbourSilent(neighbour) && onLink(route)) return { state: 'unreachable', reason: 'host-down', because: `${silence}; ${noLife}` };
    if (!pingUnavailable(ping) && ping.outcome !== 'no-route') return { state: 'unreachable', reason: 'silent', because: `${silence}, and ${pingText(ping)}: nothing answers at all` };
    return { state: 'open-or-filtered', reason: 'no-response', because: `${silence} (${pingText(ping)}, so whether the host is up is not known)` };
  }
  return { state: 'unreachable', reason: 'error', because: `probing ${where} failed: ${udp.errno ?? udp.outcome}`, ...withLife };
}

/**
 * Whether the neighbour table is worth asking after the probe: only it can tell an on-link host that
 * is up from one that is not, when neither the probe nor ping got an answer (or ping is unavailable).
 */
export function needsNeighbour(answered: boolean, ping: PingResult, route: RouteResult): boolean {
  return !answered && ping.outcome !== 'reply' && onLink(route);
}

/** The probe got an answer from the port itself: a handshake or reply, or a refusal. */
export function probeAnswered(answer: { tcp: ProbeResult } | { udp: UdpProbeResult }): boolean {
  return 'udp' in answer ? answer.udp.outcome === 'reply' || answer.udp.outcome === 'refused' : answer.tcp.outcome === 'connected' || answer.tcp.outcome === 'refused';
}
