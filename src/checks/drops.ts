import { port, text, z } from './params.js';
import { defineCheck, type DecideContext } from './check.js';
import { e, fields } from './evidence.js';
import { conntrackOf, type ConntrackReading } from '../system/conntrack.js';
import { dropsByReason, dropTraceOf, dropTraceStartOf, kernelCountersOf, type DropTrace, type KernelCounters } from '../system/drops.js';
import { routeOfAddress, type RouteResult } from '../system/route.js';
import { tcpConnectOf, type ProbeResult } from '../system/tcp-connect.js';
import { CONNTRACK_FULL_AT, DROP_COUNTERS, NOISE_REASONS, explainDrop, type DropExplained } from '../knowledge/drop-causes.js';

/** The window's connect: its SYN and one retransmission (Linux resends after 1 s). */
const WINDOW_MS = 1_600;
/** When Linux resends an unanswered SYN, in ms after the first (1 s, then doubling). */
const SYN_RESENDS_MS = [1_000, 3_000, 7_000, 15_000];

/** What the drops step reads: the counters and the trace before and after one connect, and the route back. */
export type DropsReadings =
  | { kind: 'cannot'; reason: string }
  | {
      kind: 'window';
      /** Who connected during the window: the client (--ssh), or this machine itself. */
      from: 'client' | 'self';
      probe: ProbeResult;
      before: KernelCounters;
      after: KernelCounters;
      conntrackBefore: ConntrackReading;
      conntrackAfter: ConntrackReading;
      trace: DropTrace;
      /** The server's route back to the client's address, when one was given. */
      routeBack?: RouteResult;
    };

/** The step's parameters, as `decide` sees them. */
export interface DropsParams {
  host: string;
  port: number;
  /** The client's address as its packets come (the arrival step's `client`). */
  source?: string | undefined;
  /** The interface they came in by (the arrival step's `interface`). */
  interface?: string | undefined;
  /** The firewall step's outcome: a NETFILTER_DROP reads differently when the rules could not be read. */
  firewall?: string | undefined;
}

/**
 * Where on the server the client's SYNs die, by the kernel's own account: its counters (nstat,
 * conntrack's table and drops) read before and after one more connect — from the client with
 * --ssh, else from this machine to itself — and, as root where tracefs is mounted, the reason of
 * each drop in that window (skb:kfree_skb through a trace instance of whyport's own, removed
 * after). A cause that grew by about the SYNs sent names the drop.
 */
export const drops = defineCheck({
  description: "Read the kernel's drop counters (nstat, conntrack) and drop reasons (kfree_skb) before and after one more connect: which cause grew by the SYNs sent?",
  outcomes: ['named', 'conntrack-full', 'unexplained', 'cannot'],
  params: z.object({ host: text(), port: port(), source: z.optional(z.string()), interface: z.optional(z.string()), firewall: z.optional(z.string()) }),
  evidence: fields({
    drop: fields({ reason: e.str(), counter: e.str(), grew: e.num() }),
    sent: e.num(),
    /** Every watched counter that grew in the window, by name. */
    grew: e.map(e.str(), e.num()),
    /** The kernel's drop reasons traced in the window (machine-wide, the usual noise left out), by name. */
    reasons: e.map(e.str(), e.num()),
    why: e.str(),
    fixSummary: e.str(),
    /** The fix, as a person types it; `look` the command that shows the cause. */
    fix: e.list(e.str()),
    look: e.list(e.str()),
    /** What the trace could not tell, and what would (root, tracefs). */
    traceNote: e.str(),
    count: e.num(),
    max: e.num(),
    percent: e.num(),
    suggestedMax: e.num(),
    reason: e.str(),
  }),
  describe: (p) => `reading the kernel's drop counters and reasons while port ${p.port} is connected to once more`,
  async read(p, ctx): Promise<DropsReadings> {
    if (ctx.target.protocol === 'udp') return { kind: 'cannot', reason: 'the drop counters are read for TCP connections' };
    const from = ctx.client ? 'client' : 'self';
    const connecting = ctx.client ?? ctx;
    const res = await connecting.facts.resolve(p.host);
    const first = res.ok ? res.addresses[0] : undefined;
    if (!first) return { kind: 'cannot', reason: `${p.host} does not resolve ${from === 'client' ? 'on the client' : 'here'}` };
    const ethertype = first.family === 6 ? 34525 : 2048;
    const [before, conntrackBefore, start] = await Promise.all([
      ctx.facts.read(kernelCountersOf, 'drops-before'),
      ctx.facts.read(conntrackOf, 'drops-before'),
      ctx.facts.read(dropTraceStartOf, { window: 'drops', ethertype }),
    ]);
    let probe: ProbeResult;
    try {
      probe = await connecting.facts.read(tcpConnectOf, { address: first.address, port: p.port, timeoutMs: WINDOW_MS, attempt: 'while the kernel counts drops' });
    } catch (err) {
      // Stopped and removed whatever the connect did: never left enabled.
      if (start.kind === 'tracing') await ctx.facts.read(dropTraceOf, start.instance);
      throw err;
    }
    // The trace stopped, and the counters read, in one round trip over ssh.
    const [trace, after, conntrackAfter, routeBack] = await Promise.all([
      start.kind === 'tracing' ? ctx.facts.read(dropTraceOf, start.instance) : start,
      ctx.facts.read(kernelCountersOf, 'drops-after'),
      ctx.facts.read(conntrackOf, 'drops-after'),
      p.source ? ctx.facts.read(routeOfAddress, p.source) : undefined,
    ]);
    return { kind: 'window', from, probe, before, after, conntrackBefore, conntrackAfter, trace, ...(routeBack ? { routeBack } : {}) };
  },
  decide: decideDrops,
});

/** A drop's meaning as evidence: the fix and the command that shows the cause, each as argv. */
function words(x: DropExplained): { why: string; fixSummary: string; fix: string[]; look: string[] } {
  return { why: x.why, fixSummary: x.fixSummary, fix: x.fix[0] ?? [], look: x.fix[1] ?? [] };
}

/** How many SYNs a connect that lasted `ms` sent: the first, and each resend before it ended. Pure. */
export function synsSent(ms: number): number {
  return 1 + SYN_RESENDS_MS.filter((t) => t < ms).length;
}

/** How much each watched counter grew between the two readings (only those that grew). Pure. */
function counterGrowth(before: KernelCounters, after: KernelCounters): Record<string, number> {
  if (before.kind !== 'read' || after.kind !== 'read') return {};
  const out: Record<string, number> = {};
  for (const { counter } of DROP_COUNTERS) {
    const grew = (after.counters[counter] ?? 0) - (before.counters[counter] ?? 0);
    if (grew > 0) out[counter] = grew;
  }
  return out;
}

/** The pure decision of the drops step: the cause that grew by about the SYNs sent, or what no counter explains. */
export function decideDrops(r: DropsReadings, p: DropsParams, _at: DecideContext) {
  const command = `nstat -az ${DROP_COUNTERS.map((c) => c.counter).join(' ')}; cat /proc/sys/net/netfilter/nf_conntrack_count /proc/sys/net/netfilter/nf_conntrack_max /proc/net/stat/nf_conntrack`;
  if (r.kind === 'cannot') return { outcome: 'cannot' as const, status: 'info' as const, summary: r.reason, command, evidence: { reason: r.reason } };
  const who = r.from === 'client' ? "the client's" : "this machine's own";
  if (r.before.kind === 'cannot' && r.conntrackBefore.loaded !== true && r.trace.kind === 'cannot') {
    const reason = `the kernel's drop counters could not be read (${r.before.reason}) nor its drop reasons (${r.trace.reason})`;
    return { outcome: 'cannot' as const, status: 'info' as const, summary: reason, command, evidence: { reason } };
  }
  const sent = synsSent(r.probe.durationMs);
  const grew = counterGrowth(r.before, r.after);
  const ctDrop = r.conntrackBefore.loaded === true && r.conntrackAfter.loaded === true ? Math.max(0, (r.conntrackAfter.drops?.drop ?? 0) - (r.conntrackBefore.drops?.drop ?? 0)) : 0;
  if (ctDrop > 0) grew['nf_conntrack drop'] = ctDrop;
  const traced = r.trace.kind === 'traced' ? dropsByReason(r.trace.drops.filter((d) => !NOISE_REASONS.has(d.reason))) : {};
  const traceNote = r.trace.kind === 'cannot' ? `no drop reasons: ${r.trace.reason}` : r.trace.removed ? '' : 'the trace instance could not be removed';

  // About the SYNs sent, or more (a full table drops everyone's): fewer than all but one is a stray.
  const near = (n: number) => n >= Math.max(1, sent - 1);
  const byCloseness = <T extends { grew: number }>(xs: T[]) => xs.filter((x) => near(x.grew)).sort((a, b) => Math.abs(a.grew - sent) - Math.abs(b.grew - sent))[0];
  const counted = byCloseness([
    ...(ctDrop > 0 ? [{ reason: 'NF_CONNTRACK_FULL', counter: 'nf_conntrack drop', grew: ctDrop }] : []),
    ...DROP_COUNTERS.filter((c) => grew[c.counter] !== undefined).map((c) => ({ reason: c.reason, counter: c.counter, grew: grew[c.counter]! })),
  ]);
  // The trace is the whole machine's (every namespace): a reason alone names the drop only when it
  // counted at least every SYN sent.
  const fromTrace = byCloseness(Object.entries(traced).filter(([, n]) => n >= sent).map(([reason, n]) => ({ reason, counter: 'kfree_skb', grew: n })));
  const drop = counted ?? fromTrace;

  const table = r.conntrackAfter.loaded === true ? r.conntrackAfter : r.conntrackBefore.loaded === true ? r.conntrackBefore : undefined;
  const tableFull = table !== undefined && table.count >= table.max * CONNTRACK_FULL_AT;
  const facts = {
    port: p.port,
    ...(p.source ? { client: p.source } : {}),
    ...(p.interface ? { inInterface: p.interface } : {}),
    ...(r.routeBack?.dev ? { routeBackDev: r.routeBack.dev } : {}),
    ...(table ? { conntrackMax: table.max } : {}),
    ...(p.firewall ? { firewall: p.firewall } : {}),
  };
  const base = { sent, grew, reasons: traced, ...(traceNote ? { traceNote } : {}) };
  const tableEvidence = table ? { count: table.count, max: table.max, percent: Math.round((table.count / table.max) * 1000) / 10, suggestedMax: table.max * 2 } : {};
  const seen = `${sent} SYN${sent === 1 ? '' : 's'} of ${who} connect`;

  if (drop?.reason === 'NF_CONNTRACK_FULL' || (!drop && tableFull)) {
    const d = drop ?? { reason: 'NF_CONNTRACK_FULL', counter: 'nf_conntrack drop', grew: 0 };
    const explained = words(explainDrop('NF_CONNTRACK_FULL', facts));
    return {
      outcome: 'conntrack-full' as const,
      status: 'fail' as const,
      summary: `the connection-tracking table is full${table ? `: ${table.count} of ${table.max} entries` : ''}; its drop counter grew by ${d.grew} over the ${seen}`,
      command,
      evidence: { ...base, ...tableEvidence, drop: d, ...explained },
    };
  }
  if (drop) {
    // The kernel's own name where the trace gave the counter's reason too.
    const named = drop.counter !== 'kfree_skb' && traced[drop.reason] ? ` (kfree_skb reason ${drop.reason}, ${traced[drop.reason]} traced)` : '';
    const explained = words(explainDrop(drop.reason, facts));
    return {
      outcome: 'named' as const,
      status: 'fail' as const,
      summary: `the kernel drops ${who} SYNs: ${drop.counter === 'kfree_skb' ? `kfree_skb traced ${drop.grew} drops of reason ${drop.reason}` : `${drop.counter} grew by ${drop.grew}${named}`} over the ${seen}`,
      command,
      evidence: { ...base, ...tableEvidence, drop, ...explained },
    };
  }
  const connected = r.probe.outcome === 'connected' ? `; this time the connect succeeded` : '';
  const nothing = r.before.kind === 'cannot' ? `the kernel's counters could not be read (${r.before.reason})` : `none of the kernel's drop counters grew over the ${seen}`;
  return {
    outcome: 'unexplained' as const,
    status: 'info' as const,
    summary: `${nothing}${r.trace.kind === 'traced' ? ', and kfree_skb traced no drop of a new connection' : ''}${connected}`,
    command,
    evidence: { ...base, ...tableEvidence },
  };
}
