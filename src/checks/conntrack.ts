import { z } from './params.js';
import { defineCheck } from './check.js';
import { e, fields } from './evidence.js';
import { conntrackOf, type ConntrackReading } from '../system/conntrack.js';
import { CONNTRACK_FULL_AT } from '../knowledge/drop-causes.js';

/** How long the drop counter is watched when the table is full: enough to see it grow under load. */
const WATCH_MS = 250;
const FULL_AT = CONNTRACK_FULL_AT;

/** What the conntrack step reads: the table once, and when it is full, once more a moment later. */
export interface ConntrackReadings {
  first: ConntrackReading;
  again?: ConntrackReading;
}

/**
 * Whether the kernel's connection-tracking table is full: then netfilter drops new connections
 * before any rule sees them ("nf_conntrack: table full, dropping packet"), which no firewall rule
 * shows and a capture sees arrive.
 */
export const conntrack = defineCheck({
  description: "Whether the kernel's connection-tracking table (nf_conntrack) is full, so new connections are dropped before any rule",
  outcomes: ['full', 'room', 'untracked', 'unreadable'],
  params: z.object({}),
  evidence: fields({
    count: e.num(),
    max: e.num(),
    percent: e.num(),
    drops: e.num(),
    grew: e.num(),
    /** Twice the limit: room while the cause is found. */
    suggestedMax: e.num(),
    error: e.str(),
    drop: fields({ reason: e.str(), counter: e.str(), grew: e.num() }),
  }),
  describe: () => 'cat /proc/sys/net/netfilter/nf_conntrack_count /proc/sys/net/netfilter/nf_conntrack_max',
  async read(_, ctx): Promise<ConntrackReadings> {
    const first = await ctx.facts.read(conntrackOf, 'first');
    if (first.loaded !== true || first.count < first.max * FULL_AT) return { first };
    await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
    return { first, again: await ctx.facts.read(conntrackOf, 'again') };
  },
  decide: (r) => decideConntrack(r),
});

/** The pure decision of the conntrack step. */
export function decideConntrack(r: ConntrackReadings) {
  const command = 'cat /proc/sys/net/netfilter/nf_conntrack_count /proc/sys/net/netfilter/nf_conntrack_max /proc/net/stat/nf_conntrack';
  const { first, again } = r;
  if (first.loaded === false) return { outcome: 'untracked' as const, status: 'info' as const, summary: 'no connection tracking on this host (nf_conntrack is not loaded): it drops nothing', command, evidence: {} };
  if (first.loaded === 'unreadable') return { outcome: 'unreadable' as const, status: 'info' as const, summary: `the connection-tracking table could not be read: ${first.error}`, command, evidence: { error: first.error } };
  const percent = Math.round((first.count / first.max) * 1000) / 10;
  const drops = first.drops?.drop ?? 0;
  const evidence = { count: first.count, max: first.max, percent, drops };
  if (first.count < first.max * FULL_AT) {
    return { outcome: 'room' as const, status: 'pass' as const, summary: `the connection-tracking table has room: ${first.count} of ${first.max} entries (${percent} %)`, command, evidence };
  }
  const later = again?.loaded === true ? again.drops?.drop : undefined;
  const grew = later === undefined ? 0 : Math.max(0, later - drops);
  const growth = later === undefined ? '' : grew > 0 ? `; ${grew} new connections dropped in ${WATCH_MS} ms` : `; no drop in ${WATCH_MS} ms`;
  return {
    outcome: 'full' as const,
    status: 'fail' as const,
    summary: `the connection-tracking table is full: ${first.count} of ${first.max} entries (${percent} %), ${drops} connections dropped since boot${growth}`,
    command,
    evidence: { ...evidence, grew, suggestedMax: first.max * 2, drop: { reason: 'NF_CONNTRACK_FULL', counter: 'nf_conntrack drop', grew } },
  };
}
