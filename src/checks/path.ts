import { port, text, z } from './params.js';
import { defineCheck, type DecideContext } from './check.js';
import { e, fields } from './evidence.js';
import { tracerouteArgv, tracerouteOf, type TraceHop, type TraceResult } from '../system/traceroute.js';
import { showCommand } from '../text/command.js';

/** What the path step reads: the trace, or why none ran. */
export type PathReadings =
  | { kind: 'trace'; address: string; trace: TraceResult }
  /** TCP SYNs with a chosen TTL need a raw socket: root. */
  | { kind: 'not-root'; address: string }
  | { kind: 'unresolved' };

/** What each ICMP error traceroute marks says, in a few words. */
const MARKS: Record<string, string> = {
  '!X': 'ICMP admin-prohibited (!X): a firewall there rejects them',
  '!H': 'ICMP host unreachable (!H)',
  '!N': 'ICMP network unreachable (!N)',
  '!P': 'ICMP protocol unreachable (!P)',
  '!F': 'ICMP fragmentation needed (!F)',
  '!S': 'ICMP source route failed (!S)',
};

/** "a", "a and b", "a, b and c". */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** The addresses that answered, in the order of their hops, each once. */
function answered(hops: readonly TraceHop[]): string[] {
  const out: string[] = [];
  for (const h of [...hops].sort((a, b) => a.ttl - b.ttl)) if (h.address !== undefined && !out.includes(h.address)) out.push(h.address);
  return out;
}

/**
 * Where on the way the client's packets die, when its probe got silence: a traceroute to the port
 * itself (TCP SYNs, or UDP datagrams), so that a firewall that drops only that port lets the
 * earlier probes expire at each router and answer. The last router that answers is where the drop
 * is, or just after it.
 */
export const path = defineCheck({
  description: 'A traceroute to the port (TCP SYNs, or UDP datagrams): the last router the packets pass before they are lost',
  outcomes: ['lost-after', 'lost-at-first', 'reached', 'prohibited', 'unreachable-at', 'refused-here', 'not-root', 'no-tool', 'failed'],
  params: z.object({ host: text(), port: port(), address: z.optional(z.string()) }),
  evidence: fields({
    /** diagnosis.path (CONTRACT): the hops that answered, in order, and the last of them. */
    path: fields({ hops: e.list(e.str()), lastHop: e.str() }),
    /** Every row of the trace: { ttl, address, rttMs, annotation }. */
    trace: e.list(e.any()),
    address: e.str(),
    argv: e.list(e.str()),
    /** The ICMP error's mark (`!X`) and who sent it. */
    annotation: e.str(),
    by: e.str(),
    /** The one line that says what would tell, when no trace ran. */
    note: e.str(),
    /** The trace was ended at whyport's bound. */
    cut: e.bool(),
    error: e.str(),
  }),
  describe: (p, at) => showCommand(tracerouteArgv(p.address || p.host, p.port, at.target.protocol, at.timeoutMs)),
  async read(p, ctx): Promise<PathReadings> {
    let address = p.address;
    if (!address) {
      const res = await ctx.facts.resolve(p.host);
      address = res.ok ? res.addresses[0]?.address : undefined;
      if (!address) return { kind: 'unresolved' };
    }
    const protocol = ctx.target.protocol;
    // UDP to one port needs no privilege (-U); TCP SYNs with a chosen TTL are raw packets.
    if (protocol === 'tcp' && !(await ctx.facts.identity()).root) return { kind: 'not-root', address };
    return { kind: 'trace', address, trace: await ctx.facts.read(tracerouteOf, { address, port: p.port, protocol, timeoutMs: ctx.timeoutMs }) };
  },
  decide: decidePath,
});

/** The pure decision of the path step. */
export function decidePath(r: PathReadings, p: { host: string; port: number; address?: string | undefined }, at: DecideContext) {
  const udp = at.target.protocol === 'udp';
  const packets = udp ? 'datagrams' : 'SYNs';
  const kind = udp ? 'UDP' : 'TCP';
  const address = r.kind === 'unresolved' ? p.host : r.address;
  const argv = tracerouteArgv(address, p.port, at.target.protocol, at.timeoutMs);
  const command = showCommand(argv);
  const info = (outcome: 'not-root' | 'no-tool' | 'failed', summary: string, extra: { note?: string; error?: string } = {}) => ({ outcome, status: 'info' as const, summary, command, evidence: { address, argv, ...extra } });
  if (r.kind === 'unresolved') return info('failed', `not traced: ${p.host} does not resolve`, { error: `${p.host} does not resolve` });
  if (r.kind === 'not-root') {
    const note = `run as root for a ${kind} traceroute: it names the last router the ${packets} pass (${command})`;
    return info('not-root', `not traced: ${note}`, { note });
  }
  const t = r.trace;
  if (t.kind === 'missing') {
    const note = `apt install traceroute: a ${kind} traceroute to the port names the last router the ${packets} pass`;
    return info('no-tool', `not traced: traceroute is not installed (${note})`, { note });
  }
  if (t.kind === 'not-permitted') {
    const note = `run as root for a ${kind} traceroute (traceroute: ${t.error})`;
    return info('not-root', `not traced: ${note}`, { note, error: t.error });
  }
  const hops = t.hops;
  const trace = hops.map((h) => ({ ...h }));
  const cut = t.cut ? { cut: true } : {};
  const after = t.cut ? `; the trace was ended after ${(t.durationMs / 1000).toFixed(1)} s` : '';
  const base = { address, argv, trace, ...cut };
  if (t.kind === 'send-refused') {
    return {
      outcome: 'refused-here' as const,
      status: 'fail' as const,
      summary: `this machine refuses to send the ${packets} (traceroute: ${t.error}): its own firewall's output rules drop them`,
      command,
      evidence: { ...base, error: t.error },
    };
  }
  if (t.kind === 'failed' && hops.length === 0) return info('failed', `not traced: traceroute failed (${t.error})`, { error: t.error });

  const marked = hops.find((h) => h.annotation !== undefined && h.address !== undefined);
  const routersBefore = (ttl: number) => answered(hops.filter((h) => h.ttl < ttl && h.address !== address));
  if (marked) {
    const by = marked.address!;
    const before = routersBefore(marked.ttl).filter((a) => a !== by);
    const words = MARKS[marked.annotation!] ?? `an ICMP error (${marked.annotation})`;
    const pass = before.length ? `the ${packets} pass ${listed(before)}, then ` : `the ${packets} reach `;
    const prohibited = marked.annotation === '!X';
    return {
      outcome: prohibited ? ('prohibited' as const) : ('unreachable-at' as const),
      status: 'fail' as const,
      summary: `${pass}${by}${before.length ? ' answers them' : ', which answers them'} with ${words} (hop ${marked.ttl})${after}`,
      command,
      evidence: { ...base, path: { hops: [...before, by], lastHop: by }, annotation: marked.annotation!, by },
    };
  }
  const all = answered(hops);
  if (all.includes(address)) {
    const reachedAt = hops.find((h) => h.address === address)!.ttl;
    const before = routersBefore(reachedAt);
    const through = before.length ? ` (through ${listed(before)})` : '';
    const answer = udp ? 'answers them with ICMP port unreachable' : 'answers them (SYN-ACK or RST)';
    return {
      outcome: 'reached' as const,
      status: 'fail' as const,
      summary: `traceroute's ${packets} reach ${address} itself${through} and it ${answer}, while whyport's got no answer: the port is filtered at the host itself, not on the way${after}`,
      command,
      evidence: { ...base, path: { hops: [...before, address], lastHop: address } },
    };
  }
  if (all.length === 0) {
    return {
      outcome: 'lost-at-first' as const,
      status: 'fail' as const,
      summary: `no hop answered the ${packets}: they are lost at the first hop — the first router, this machine's own way out, or ${address} itself when it is on this link${after}`,
      command,
      evidence: base,
    };
  }
  const last = all.at(-1)!;
  const lastTtl = Math.max(...hops.filter((h) => h.address === last).map((h) => h.ttl));
  const passed = all.slice(0, -1);
  const silent = hops.some((h) => h.ttl > lastTtl) ? `; no answer from hop ${lastTtl + 1} on` : '';
  return {
    outcome: 'lost-after' as const,
    status: 'fail' as const,
    summary: `${passed.length ? `the ${packets} pass ${listed(passed)} and are lost after ${last}` : `the ${packets} are lost after ${last}, the first router`} (hop ${lastTtl}${silent})${after}`,
    command,
    evidence: { ...base, path: { hops: all, lastHop: last } },
  };
}
