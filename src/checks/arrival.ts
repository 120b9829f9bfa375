import { port, text, z } from './params.js';
import { defineCheck, type DecideContext } from './check.js';
import { e, fields } from './evidence.js';
import { endpointText } from '../net/endpoint.js';
import { interfaceOfCaptureLine, synArrivalsOf, type SynCapture } from '../system/capture.js';
import { tcpConnectOf, type ProbeResult } from '../system/tcp-connect.js';
import { udpProbeOf } from '../system/udp-probe.js';
import { routeOfAddress } from '../system/route.js';
import type { UdpProbeResult } from '../host/udp-probe.js';

// tcpdump needs a moment after its channel opens before it captures; the client's one connect
// then sends its SYN and one retransmission (Linux waits 1 s) well inside the capture.
const CAPTURE_START_MS = 700;
const CLIENT_TRY_MS = 1_600;
const CAPTURE_MS = 3_000;

/** What the arrival step reads: the ssh connection's two ends, and, with a client to connect from, the capture on the server during its connect. */
export type ArrivalReadings = { via?: { client: string; server: string } } & (
  | { kind: 'no-client' }
  | { kind: 'unresolved' }
  | {
      kind: 'captured';
      /** The address the client connected to (its first for the name). */
      address: string;
      /** The client's own source address for it (`ip route get` there: `src`), when the route names one. */
      source?: string;
      capture: SynCapture;
      probe: ProbeResult | UdpProbeResult;
    }
);

/**
 * The addresses the client's packets may come from as the server sees them: the probe's own
 * source (a client with two addresses may connect from another than its ssh's: reverse-path
 * filtering then drops one and not the other), and the ssh connection's (a NAT on the way shows
 * the client under that one).
 */
function clientAddresses(source: string | undefined, sshClient: string | undefined): string[] {
  return [...new Set([source, sshClient].filter((a): a is string => Boolean(a)))];
}

/** The capture's filter: the SYNs (for UDP, the datagrams) to the port, from the client's addresses when they are known. */
function captureFilter(portNumber: number, protocol: 'tcp' | 'udp', from: readonly string[]): string {
  const hosts = from.length === 0 ? '' : from.length === 1 ? ` and src host ${from[0]}` : ` and (${from.map((a) => `src host ${a}`).join(' or ')})`;
  return `${protocol === 'udp' ? `udp dst port ${portNumber}` : `tcp dst port ${portNumber} and tcp[tcpflags] & tcp-syn != 0`}${hosts}`;
}

/**
 * Where the packet dies (--ssh): capture on the server while the client connects once more. The
 * SYNs arriving and nothing answering means they die on the server (a rule, rp_filter, no route
 * back); none arriving means they die on the way there.
 */
export const arrival = defineCheck({
  description: "Capture on the server (tcpdump) while the client connects: do the client's SYNs arrive?",
  outcomes: ['arrived', 'none-arrived', 'cannot'],
  params: z.object({ host: text(), port: port() }),
  evidence: fields({
    /** The client as its probe comes: the probe's source address, else the ssh connection's. */
    client: e.str(),
    /** The client's address of its ssh connection, when its probe comes from another. */
    sshClient: e.str(),
    /** The probe's source address on the client (`src` of its route to the server). */
    source: e.str(),
    server: e.str(),
    /** The interface the first captured packet came in by (tcpdump -i any names it). */
    interface: e.str(),
    syns: e.num(),
    filter: e.str(),
    reason: e.str(),
    lines: e.list(e.str()),
    probe: e.any(),
  }),
  describe: (p, ctx) => `capturing port ${p.port}/${ctx.target.protocol} on the server while the client ${ctx.target.protocol === 'udp' ? 'sends to it' : 'connects'}`,
  async read(p, ctx): Promise<ArrivalReadings> {
    const { via } = await ctx.facts.identity();
    const ends = via ? { via } : {};
    // The client's own context (the two-ended walk): the connect goes out from there, while this end captures.
    if (!ctx.client) return { ...ends, kind: 'no-client' };
    const res = await ctx.client.facts.resolve(p.host);
    const address = res.ok ? res.addresses[0]?.address : undefined;
    if (!address) return { ...ends, kind: 'unresolved' };
    const protocol = ctx.target.protocol;
    // The probe's source as the client's route names it (memoised: the probe step read the same route).
    const source = (await ctx.client.facts.read(routeOfAddress, address)).src;
    const capture = ctx.facts.read(synArrivalsOf, { filter: captureFilter(p.port, protocol, clientAddresses(source, via?.client)), timeoutMs: CAPTURE_MS, protocol });
    await new Promise((r) => setTimeout(r, CAPTURE_START_MS));
    // A connect of its own, never one read before: it must go out while tcpdump captures. For UDP
    // the same datagram as the client's probe: its tries (0, 250, 750 ms…) fall inside the capture.
    const at = { address, port: p.port, timeoutMs: CLIENT_TRY_MS, attempt: 'during the capture' };
    const probe = protocol === 'udp' ? await ctx.client.facts.read(udpProbeOf, at) : await ctx.client.facts.read(tcpConnectOf, at);
    return { ...ends, kind: 'captured', address, ...(source ? { source } : {}), capture: await capture, probe };
  },
  decide: decideArrival,
});

/** The pure decision of the arrival step: the client's packets arrived at the server, none did, or the capture could not tell. */
export function decideArrival(r: ArrivalReadings, p: { host: string; port: number }, at: DecideContext) {
  const sshClient = r.via?.client;
  const source = r.kind === 'captured' ? r.source : undefined;
  const client = source ?? sshClient;
  const server = r.via?.server;
  const udp = at.target.protocol === 'udp';
  const filter = captureFilter(p.port, at.target.protocol, clientAddresses(source, sshClient));
  const packets = udp ? 'datagrams' : 'SYNs';
  const command = `tcpdump -n -i any -c 2 '${filter}'`;
  const seen = {
    ...(client ? { client } : {}),
    ...(sshClient && client !== sshClient ? { sshClient } : {}),
    ...(source ? { source } : {}),
    ...(server ? { server } : {}),
    filter,
  };
  const cannot = (reason: string) => ({ outcome: 'cannot' as const, status: 'info' as const, summary: reason, command, evidence: { ...seen, reason } });
  if (r.kind === 'no-client') return cannot('there is no client end to connect from (the capture runs with --ssh)');
  if (r.kind === 'unresolved') return cannot(`${p.host} does not resolve on the client`);
  const got = r.capture;
  if (got.kind === 'cannot') return cannot(got.reason);
  const from = client ? ` from ${client}` : '';
  const to = endpointText(server ?? r.address, p.port);
  const came = got.lines.map(interfaceOfCaptureLine).find(Boolean);
  const evidence = { ...seen, syns: got.syns, lines: got.lines, probe: r.probe, ...(came ? { interface: came } : {}) };
  if (got.syns > 0) {
    return {
      outcome: 'arrived' as const,
      status: 'fail' as const,
      summary: `the client's ${packets} arrive at the server (${got.syns} captured${from} to ${to}), and the server does not answer them`,
      command,
      evidence,
    };
  }
  return {
    outcome: 'none-arrived' as const,
    status: 'fail' as const,
    summary: `none of the client's ${packets}${from} arrived at the server (tcpdump captured nothing for ${to} in ${CAPTURE_MS / 1000} s while the client ${udp ? 'sent' : 'connected'}): they die on the way`,
    command,
    evidence,
  };
}
