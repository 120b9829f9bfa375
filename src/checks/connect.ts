import { port, positive, text, z } from './params.js';
import { tcpConnectOf, type ProbeResult } from '../system/tcp-connect.js';
import { udpProbeOf } from '../system/udp-probe.js';
import type { Resolution } from '../system/facts.js';
import type { UdpProbeResult } from '../host/udp-probe.js';
import { udpPayloadDescription } from '../knowledge/udp-payloads.js';
import { tries } from '../text/plural.js';
import { UDP_LOCAL_REPLY_MS } from '../knowledge/thresholds.js';
import { endpointText } from '../net/endpoint.js';
import { defineCheck, type DecideContext } from './check.js';
import { e, fields } from './evidence.js';

const RANK = ['connected', 'refused', 'unreachable', 'timeout', 'no-reply', 'error'] as const;

/** One address's answer in the terms of this check: a UDP probe's outcome mapped onto a connect's. */
type Attempt = { address: string; port: number; outcome: (typeof RANK)[number]; errno?: string; durationMs: number; tries?: number; payload?: string };

/** A UDP probe as a connect: a reply is `connected`; silence is `no-reply` (a program that ignores the probe and a drop look alike). */
function udpAttempt(r: UdpProbeResult): Attempt {
  const outcome = r.outcome === 'reply' ? 'connected' : r.outcome === 'silent' ? 'no-reply' : r.outcome;
  return { address: r.address, port: r.port, outcome, ...(r.errno ? { errno: r.errno } : {}), durationMs: r.durationMs, tries: r.tries, payload: r.payload };
}

/** What the connect step reads: the resolution of the host, and one connect (or UDP probe) to each address. */
export interface ConnectReadings {
  resolution: Resolution;
  answers: ({ tcp: ProbeResult } | { udp: UdpProbeResult })[];
}

/** How long each connect may take: --timeout, or for UDP at most the time a local service takes to reply. */
function connectTimeout(p: { timeout?: number | undefined }, at: DecideContext): number {
  return p.timeout ?? (at.target.protocol === 'udp' ? Math.min(at.timeoutMs, UDP_LOCAL_REPLY_MS) : at.timeoutMs);
}

/**
 * Connects to every address the host resolves to, concurrently: TCP, or for a UDP target a probe
 * datagram the service answers (retried until a reply, an ICMP error or the timeout). Each address
 * is probed on its own, so `localhost` → ::1 failing while 127.0.0.1 works (Node ≥ 17 and many
 * clients try ::1 first) shows up as `partial` instead of being hidden by happy-eyeballs.
 */
export const connect = defineCheck({
  description: 'Connect over TCP (or probe over UDP) to every resolved address of the host',
  outcomes: ['connected', 'partial', 'refused', 'timeout', 'no-reply', 'unreachable', 'unresolved'],
  refines: { 'no-reply': 'timeout' },
  params: z.object({ host: text(), port: port(), timeout: z.optional(positive()) }),
  evidence: fields({ error: e.str(), probes: e.list(e.any()), timeoutMs: e.num() }),
  describe: (p, ctx) => (ctx.target.protocol === 'udp' ? `probing ${p.host} port ${p.port} over UDP` : `connecting to ${p.host} port ${p.port}`),
  async read(p, ctx): Promise<ConnectReadings> {
    const timeoutMs = connectTimeout(p, ctx);
    const resolution = await ctx.facts.resolve(p.host);
    if (!resolution.ok) return { resolution, answers: [] };
    const answers = await Promise.all(
      resolution.addresses.map((a) => {
        const at = { address: a.address, port: p.port, timeoutMs };
        return ctx.target.protocol === 'udp' ? ctx.facts.read(udpProbeOf, at).then((udp) => ({ udp })) : ctx.facts.read(tcpConnectOf, at).then((tcp) => ({ tcp }));
      }),
    );
    return { resolution, answers };
  },
  decide: decideConnect,
});

/** The pure decision of the connect step: every address connected, some, or the worst failure. */
export function decideConnect(r: ConnectReadings, p: { host: string; port: number; timeout?: number | undefined }, at: DecideContext) {
  const udp = at.target.protocol === 'udp';
  const timeout = connectTimeout(p, at);
  const command = `nc -vz${udp ? 'u' : ''} -w ${Math.max(1, Math.ceil(timeout / 1000))} ${p.host} ${p.port}`;
  const res = r.resolution;
  if (!res.ok) return { outcome: 'unresolved' as const, status: 'fail' as const, summary: res.error, command, evidence: { error: res.error } };
  const probes: Attempt[] = r.answers.map((x) => ('udp' in x ? udpAttempt(x.udp) : x.tcp));
  const ok = probes.filter((x) => x.outcome === 'connected');
  const evidence = { probes, timeoutMs: timeout };
  if (ok.length === probes.length) {
    return { outcome: 'connected' as const, status: 'pass' as const, summary: `${udp ? 'a reply from' : 'connected to'} ${list(ok)}`, command, evidence };
  }
  if (ok.length > 0) {
    const bad = probes.filter((x) => x.outcome !== 'connected');
    return {
      outcome: 'partial' as const,
      status: 'fail' as const,
      summary: `${udp ? 'a reply from' : 'connected to'} ${list(ok)}, but ${bad.map(describeFailure).join('; ')}`,
      command,
      evidence,
    };
  }
  const worst = [...probes].sort((a, b) => RANK.indexOf(a.outcome) - RANK.indexOf(b.outcome))[0]!;
  const outcome = worst.outcome === 'error' || worst.outcome === 'connected' ? ('unreachable' as const) : worst.outcome;
  return { outcome, status: 'fail' as const, summary: probes.map(describeFailure).join('; '), command, evidence };
}

function list(rs: Pick<ProbeResult, 'address' | 'port'>[]): string {
  return rs.map((r) => endpointText(r.address, r.port)).join(', ');
}

function describeFailure(r: Attempt): string {
  const where = endpointText(r.address, r.port);
  switch (r.outcome) {
    case 'refused':
      return r.payload === undefined ? `${where} refused the connection (ECONNREFUSED)` : `${where} answered with an ICMP port unreachable (ECONNREFUSED)`;
    case 'timeout':
      return `no answer from ${where} within ${r.durationMs} ms`;
    case 'no-reply':
      return `no reply and no ICMP error from ${where} to ${udpPayloadDescription(r.payload ?? 'empty')} within ${r.durationMs} ms (${tries(r.tries ?? 1)})`;
    case 'unreachable':
      return `${where} is unreachable (${r.errno})`;
    default:
      return `${where}: ${r.errno ?? r.outcome}`;
  }
}
