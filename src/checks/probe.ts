import { port, positive, text, z } from './params.js';
import { defineCheck, type CheckContext } from './check.js';
import { e, fields } from './evidence.js';
import type { ResolvedAddress } from '../system/facts.js';
import { pingOf, pingShowsLife, pingUnavailable, type PingResult } from '../system/ping.js';
import { neighbourAnswered, neighbourSilent, sharedNeighbour, sharedRoute, type NeighbourResult, type RouteResult } from '../system/route.js';
import { showCommand } from '../system/runner.js';
import type { ProbeResult } from '../system/tcp-connect.js';
import type { UdpProbeResult } from '../host/udp-probe.js';
import { udpPayloadDescription, udpPayloadFor, udpPayloadNote, udpProbeOptions } from '../knowledge/udp-payloads.js';
import { tries } from '../text/plural.js';
import { endpointText } from '../net/endpoint.js';
import { asciiHostName } from '../net/host-name.js';
import { portLabel } from '../text/port-label.js';

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

function onLink(route: RouteResult): boolean {
  return route.kind === 'unicast' && route.via === undefined && route.dev !== undefined;
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

/** Probes one address: TCP or UDP, ping and the route at once; the neighbour table once the probe has settled. */
async function probeAddress(a: ResolvedAddress, portNumber: number, timeoutMs: number, ctx: CheckContext): Promise<AddressProbe> {
  const { facts } = ctx;
  const [answer, ping, route] = await Promise.all([
    ctx.target.protocol === 'udp'
      ? ctx.host.probeUdp(a.address, portNumber, udpProbeOptions(portNumber, timeoutMs)).then((udp) => ({ udp }))
      : ctx.host.connectTcp(a.address, portNumber, timeoutMs).then((tcp) => ({ tcp })),
    facts.read(pingOf, { address: a.address, timeoutMs }),
    sharedRoute(facts, a.address),
  ]);
  // Only the neighbour table can tell an on-link host that is up from one that is not, when
  // neither the probe nor ping got an answer (or ping is unavailable). Asked after the probe, whose
  // SYN or datagram made the kernel resolve the address.
  const answered = 'udp' in answer ? answer.udp.outcome === 'reply' || answer.udp.outcome === 'refused' : answer.tcp.outcome === 'connected' || answer.tcp.outcome === 'refused';
  const ask = !answered && ping.outcome !== 'reply' && onLink(route);
  const neighbour = ask ? await sharedNeighbour(facts, a.address) : undefined;
  const verdict = 'udp' in answer ? classifyUdpProbe(answer.udp, ping, route, neighbour) : classifyProbe(answer.tcp, ping, route, neighbour);
  return { address: a.address, family: a.family, ...verdict, ...answer, ping, route, ...(neighbour ? { neighbour } : {}) };
}

/** The port with its service name when it has one: "443 (https)". */
/** The command to run on the server next, with the program and unit the user named (the port as `53/udp` for UDP). */
export function serverCommand(address: string, portNumber: number, process?: string, service?: string, protocol: 'tcp' | 'udp' = 'tcp'): { argv: string[]; command: string } {
  const argv = ['whyport', address, protocol === 'udp' ? `${portNumber}/udp` : String(portNumber), ...(process ? ['--process', process] : []), ...(service ? ['--service', service] : [])];
  return { argv, command: showCommand(argv) };
}

const ORDER: PortState[] = ['open', 'closed', 'filtered', 'open-or-filtered', 'unreachable'];

/**
 * The words the playbook's diagnoses need to read right for either protocol: what goes to the
 * port, what a refusal is, what became of it when filtered, and how to see what listens.
 */
function protocolWords(protocol: 'tcp' | 'udp', reason: StateReason, portNumber: number) {
  if (protocol === 'udp') {
    return {
      traffic: 'datagrams',
      Traffic: 'Datagrams',
      refusal: 'an ICMP port unreachable',
      fate: reason === 'blocked-here' ? "are not sent: this machine's own firewall blocks them" : 'get no answer: something drops them',
      listenersArgv: ['ss', '-Hulnp', `sport = :${portNumber}`],
    };
  }
  return { traffic: 'connections', Traffic: 'Connections', refusal: 'a TCP reset (or an ICMP port unreachable)', fate: 'time out: something drops them', listenersArgv: ['ss', '-Htlnp', `sport = :${portNumber}`] };
}

/**
 * The client's view of HOST:PORT: every resolved address probed with a TCP connect (or, for UDP, a
 * datagram the service answers, retried), one ICMP echo and `ip route get`, all at once, and
 * classified by nmap's rule. The most alive address decides (open, then closed, then filtered,
 * then open|filtered); the others are named in the summary.
 */
export const probe = defineCheck({
  description: "Probe every address of the host from here (TCP connect or UDP datagram, ping, route) and classify the port by nmap's rule",
  outcomes: ['open', 'partial', 'closed', 'filtered', 'prohibited', 'open-or-filtered', 'unreachable', 'unresolved'],
  refines: { 'open-or-filtered': 'filtered' },
  params: z.object({
    host: text(),
    port: port(),
    timeout: z.optional(positive()),
    /** Passed on to the whyport command suggested for the server. */
    process: z.optional(z.string()),
    service: z.optional(z.string()),
  }),
  evidence: fields({
    error: e.str(), code: e.str(), port: e.num(), portLabel: e.str(), timeoutMs: e.num(), address: e.str(), because: e.str(), life: e.str(), ping: e.str(), addresses: e.list(e.any()), route: e.any(), onServer: e.object({ argv: e.list(e.str()), command: e.str() }),
    /** What was sent to a UDP port ("a DNS query for the root name servers", "an empty datagram"), and how many times. */
    sent: e.str(), sentNote: e.str(), tries: e.num(),
    traffic: e.str(), Traffic: e.str(), refusal: e.str(), fate: e.str(), listenersArgv: e.list(e.str()),
  }),
  describe: (p, ctx) => `probing ${p.host} port ${portLabel(p.port, ctx.target)}: ${ctx.target.protocol === 'udp' ? `UDP (${udpPayloadDescription(udpPayloadFor(p.port)?.name ?? 'empty')})` : 'TCP connect'}, ping and route at once`,
  async run(p, ctx) {
    const timeoutMs = p.timeout ?? ctx.timeoutMs;
    const label = portLabel(p.port, ctx.target);
    const res = await ctx.facts.resolve(p.host);
    if (!res.ok) {
      return { outcome: 'unresolved', status: 'fail', summary: res.error, command: `getent ahosts ${asciiHostName(p.host)}`, evidence: { error: res.error, code: res.code } };
    }
    const probes = await Promise.all(res.addresses.map((a) => probeAddress(a, p.port, timeoutMs, ctx)));
    const best = [...probes].sort((x, y) => ORDER.indexOf(x.state) - ORDER.indexOf(y.state))[0]!;
    const open = probes.filter((x) => x.state === 'open');
    const outcome =
      open.length === probes.length ? 'open' :
      open.length > 0 ? 'partial' :
      best.state === 'filtered' && best.reason === 'admin-prohibited' ? 'prohibited' :
      best.state;

    const first = probes[0]!;
    const protocol = ctx.target.protocol;
    const command = [`nc -vz${protocol === 'udp' ? 'u' : ''} -w ${Math.max(1, Math.ceil(timeoutMs / 1000))} ${first.address} ${p.port}`, first.ping.command, first.route.command].join('; ');
    const summary = `port ${label}: ${probes.length === 1 ? `${first.state} — ${first.because}` : probes.map((x) => `${x.address} ${x.state} — ${x.because}`).join('; ')}`;
    const pingStatus = probes.some((x) => x.ping.outcome === 'missing') ? 'missing' : probes.some((x) => x.ping.outcome === 'not-permitted') ? 'not-permitted' : 'used';
    const findings: { code: string; summary: string }[] = [];
    if (pingStatus === 'missing') {
      findings.push({ code: 'PING_MISSING', summary: `ping is not installed (apt-get install iputils-ping): whether the host is up was judged from ${protocol.toUpperCase()} and the neighbour table alone` });
    } else if (pingStatus === 'not-permitted') {
      findings.push({ code: 'PING_NOT_PERMITTED', summary: `ping may not send here (${first.ping.error ?? 'not permitted'}): whether the host is up was judged from ${protocol.toUpperCase()} and the neighbour table alone` });
    }
    if (outcome === 'partial') {
      for (const x of probes.filter((q) => q.state !== 'open')) findings.push({ code: 'ADDRESS_FAILS', summary: `${x.address}: ${x.because}` });
    }
    const evidence = {
      port: p.port,
      portLabel: label,
      timeoutMs,
      /** The address the verdict rests on. */
      address: best.address,
      because: best.because,
      life: best.life ?? '',
      ping: pingStatus,
      addresses: probes,
      route: best.route,
      onServer: serverCommand(best.address, p.port, p.process || undefined, p.service || undefined, protocol),
      ...(best.udp ? { sent: udpPayloadDescription(best.udp.payload), sentNote: udpPayloadNote(best.udp.payload), tries: best.udp.tries } : {}),
      ...protocolWords(protocol, best.reason, p.port),
    };
    const status = outcome === 'open' ? 'pass' : 'fail';
    return { outcome, status, summary, command, evidence, ...(findings.length ? { findings } : {}) };
  },
});
