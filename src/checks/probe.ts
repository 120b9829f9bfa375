import { port, positive, text, z } from './params.js';
import { defineCheck, type CheckContext, type DecideContext } from './check.js';
import { e, fields } from './evidence.js';
import type { Resolution, ResolvedAddress } from '../system/facts.js';
import { pingOf, type PingResult } from '../system/ping.js';
import { neighbourOfAddress, routeOfAddress, type NeighbourResult, type RouteResult } from '../system/route.js';
import { showCommand } from '../system/runner.js';
import { tcpConnectOf, type ProbeResult } from '../system/tcp-connect.js';
import { udpProbeOf } from '../system/udp-probe.js';
import type { UdpProbeResult } from '../host/udp-probe.js';
import { classifyProbe, classifyUdpProbe, needsNeighbour, probeAnswered, type AddressProbe, type PortState, type StateReason } from '../analysis/probe.js';
import { udpPayloadDescription, udpPayloadFor, udpPayloadNote } from '../knowledge/udp-payloads.js';
import { asciiHostName } from '../net/host-name.js';
import { portLabel } from '../text/port-label.js';

/** What was read of one address: the probe of the port (TCP or UDP), ping, the route, and the neighbour table when it was worth asking. */
export type AddressReading = ({ tcp: ProbeResult } | { udp: UdpProbeResult }) & {
  address: string;
  family: 4 | 6;
  ping: PingResult;
  route: RouteResult;
  neighbour?: NeighbourResult;
};

/** What the probe step reads: the resolution of the host, and each address probed three ways. */
export interface ProbeReadings {
  resolution: Resolution;
  addresses: AddressReading[];
}

/** Probes one address: TCP or UDP, ping and the route at once; the neighbour table once the probe has settled. */
async function readAddress(a: ResolvedAddress, portNumber: number, timeoutMs: number, ctx: CheckContext): Promise<AddressReading> {
  const { facts } = ctx;
  const at = { address: a.address, port: portNumber, timeoutMs };
  const [answer, ping, route] = await Promise.all([
    ctx.target.protocol === 'udp' ? facts.read(udpProbeOf, at).then((udp) => ({ udp })) : facts.read(tcpConnectOf, at).then((tcp) => ({ tcp })),
    facts.read(pingOf, { address: a.address, timeoutMs }),
    facts.read(routeOfAddress, a.address),
  ]);
  // Asked after the probe, whose SYN or datagram made the kernel resolve the address.
  const neighbour = needsNeighbour(probeAnswered(answer), ping, route) ? await facts.read(neighbourOfAddress, a.address) : undefined;
  return { address: a.address, family: a.family, ...answer, ping, route, ...(neighbour ? { neighbour } : {}) };
}

/** nmap's rule applied to what was read of one address, in the shape the evidence lists. */
function classified(x: AddressReading): AddressProbe {
  const { address, family, ping, route, neighbour } = x;
  const verdict = 'udp' in x ? classifyUdpProbe(x.udp, ping, route, neighbour) : classifyProbe(x.tcp, ping, route, neighbour);
  const answer = 'udp' in x ? { udp: x.udp } : { tcp: x.tcp };
  return { address, family, ...verdict, ...answer, ping, route, ...(neighbour ? { neighbour } : {}) };
}

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
    /** The address the probe went out from (`src` of the route to the address the verdict rests on). */
    source: e.str(),
  }),
  describe: (p, ctx) => `probing ${p.host} port ${portLabel(p.port, ctx.target)}: ${ctx.target.protocol === 'udp' ? `UDP (${udpPayloadDescription(udpPayloadFor(p.port)?.name ?? 'empty')})` : 'TCP connect'}, ping and route at once`,
  async read(p, ctx): Promise<ProbeReadings> {
    const timeoutMs = p.timeout ?? ctx.timeoutMs;
    const resolution = await ctx.facts.resolve(p.host);
    if (!resolution.ok) return { resolution, addresses: [] };
    return { resolution, addresses: await Promise.all(resolution.addresses.map((a) => readAddress(a, p.port, timeoutMs, ctx))) };
  },
  decide: decideProbe,
});

/** The probe step's parameters, as `decide` sees them. */
export interface ProbeParams {
  host: string;
  port: number;
  timeout?: number | undefined;
  process?: string | undefined;
  service?: string | undefined;
}

/** The pure decision of the probe step: every address classified, the most alive one deciding. */
export function decideProbe(r: ProbeReadings, p: ProbeParams, at: DecideContext) {
  const timeoutMs = p.timeout ?? at.timeoutMs;
  const label = portLabel(p.port, at.target);
  const res = r.resolution;
  if (!res.ok) {
    return { outcome: 'unresolved' as const, status: 'fail' as const, summary: res.error, command: `getent ahosts ${asciiHostName(p.host)}`, evidence: { error: res.error, code: res.code } };
  }
  const probes = r.addresses.map(classified);
  const best = [...probes].sort((x, y) => ORDER.indexOf(x.state) - ORDER.indexOf(y.state))[0]!;
  const open = probes.filter((x) => x.state === 'open');
  const outcome =
    open.length === probes.length ? ('open' as const) :
    open.length > 0 ? ('partial' as const) :
    best.state === 'filtered' && best.reason === 'admin-prohibited' ? ('prohibited' as const) :
    best.state;

  const first = probes[0]!;
  const protocol = at.target.protocol;
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
    ...(best.route.src ? { source: best.route.src } : {}),
    onServer: serverCommand(best.address, p.port, p.process || undefined, p.service || undefined, protocol),
    ...(best.udp ? { sent: udpPayloadDescription(best.udp.payload), sentNote: udpPayloadNote(best.udp.payload), tries: best.udp.tries } : {}),
    ...protocolWords(protocol, best.reason, p.port),
  };
  const status = outcome === 'open' ? ('pass' as const) : ('fail' as const);
  return { outcome, status, summary, command, evidence, ...(findings.length ? { findings } : {}) };
}
