import type { output } from 'zod/v4/core';
import { port, positive, z } from './params.js';
import { serveAdviceOf, type ServeAdvice } from '../system/port-servers.js';
import { DEFAULT_THRESHOLDS, OVERFLOW_SAMPLE_MS, UDP_DROP_SAMPLE_MS } from '../knowledge/thresholds.js';
import { listenOverflowsOf, somaxconnOf, type OverflowSample } from '../system/accept-queue.js';
import { endpointText } from '../net/endpoint.js';
import { analyseSockets, ownersText, type ListenerQueue, type OwnerCount, type SocketAnalysis, type SocketFinding } from '../analysis/sockets.js';
import { analyseUdpSockets, counterGrowth, dropSentence, pastDropFindings, queued, queueFull, readDrops, worthWatching, type DropReading, type UdpSocketAnalysis } from '../analysis/udp-sockets.js';
import { udpDropsOf, type UdpDropSample } from '../system/udp-stats.js';
import type { SocketTable } from '../system/socket.js';
import { unitsOfPidsOf } from '../system/systemd/cgroup.js';
import { isOwnAddress, socketTableOf } from '../system/facts.js';
import { udpPortOf, type UdpPortReading } from '../system/udp-port.js';
import { readOf } from '../system/reader.js';
import { defineCheck, type CheckContext, type Decision } from './check.js';
import { e, fields } from './evidence.js';
import { plural } from '../text/plural.js';

const EXAMPLES_PER_STATE = 3;

const threshold = z.optional(positive());

const SOCKETS_OUTCOMES = ['listening', 'accept-queue-full', 'close-wait-leak', 'recent', 'receive-drops', 'none', 'error'] as const;
type SocketsOutcome = (typeof SOCKETS_OUTCOMES)[number];

/** What the sockets step's evidence holds (what a playbook may name). */
const socketsEvidence = fields({
  source: e.str(), counts: e.map(e.str(), e.num()), examples: e.map(e.str(), e.list(e.str())), total: e.num(), notices: e.list(e.str()), states: e.any(), thresholds: e.map(e.str(), e.num()),
  listeners: e.list(e.any()), synRecv: e.num(), finWait2: e.num(), outgoingOnly: e.num(),
  timeWait: fields({ total: e.num(), serverSide: e.num(), clientSide: e.num() }),
  closeWait: fields({ total: e.num(), serverSide: e.num(), clientSide: e.num(), threshold: e.num(), owner: e.str(), unit: e.str(), byProcess: e.list(e.any()), perProcess: e.list(e.str()), clientsByProcess: e.list(e.any()) }),
  overflows: fields({ error: e.str(), detail: e.str(), source: e.str(), command: e.str(), first: e.num(), second: e.num(), growth: e.num(), intervalMs: e.num() }),
  recent: fields({ sockets: e.any(), counts: e.map(e.str(), e.num()), holders: e.any() }),
  acceptQueue: fields({ listener: e.str(), owner: e.str(), pid: e.num(), unit: e.str(), queue: e.num(), backlog: e.nullable(e.num()), backlogAtMost: e.num(), detail: e.str() }),
  // UDP only.
  protocol: e.str(), services: e.list(e.any()), connected: e.list(e.str()), ephemeral: e.list(e.str()), clients: e.num(),
  // Nothing holds the port: what usually serves it and how this host starts it, and the search for what mentions the port.
  serve: e.str(), startCommand: e.list(e.str()), findCommand: e.list(e.str()),
  drops: fields({
    listener: e.str(), owner: e.str(), pid: e.num(), unit: e.str(), drops: e.num(), growth: e.num(), windowMs: e.num(), queued: e.num(),
    rcvbuf: e.nullable(e.num()), rmemMax: e.nullable(e.num()), rmemDefault: e.nullable(e.num()), rcvbufErrors: e.nullable(e.num()), detail: e.str(), error: e.str(),
  }),
});
type Evidence = output<typeof socketsEvidence>;

/**
 * The port in every state — the `netstat -an | grep PORT` step — counted per state with examples,
 * and read the way an expert reads it: a full accept queue, CLOSE_WAIT piling up, half-open
 * connections, heavy TIME_WAIT or FIN_WAIT2, and the traces of a server that went away. What is
 * not the outcome comes back as findings ("Also noticed").
 */
export const sockets = defineCheck({
  description:
    'Every TCP socket on the port, in every state: accept queue vs backlog, CLOSE_WAIT per process, SYN_RECV, TIME_WAIT, FIN_WAIT2. For UDP: the bound sockets, connected and ephemeral ones, and receive-buffer drops watched as they happen',
  outcomes: SOCKETS_OUTCOMES,
  refines: { 'receive-drops': 'listening' },
  params: z.object({
    port: port(),
    /** CLOSE_WAIT accepted on the port at or above this: close-wait-leak. */
    closeWaitThreshold: threshold,
    /** Half-open connections (SYN_RECV) at or above this: a finding. */
    synRecvThreshold: threshold,
    /** TIME_WAIT at or above this: a finding. */
    timeWaitThreshold: threshold,
    /** FIN_WAIT2 at or above this: a finding. */
    finWait2Threshold: threshold,
  }),
  evidence: socketsEvidence,
  describe: (p, at) => (at.target.protocol === 'udp' ? udpCommand(p.port) : tcpCommand(p.port)),
  prefetch: (p, at) => [readOf(socketTableOf, { port: p.port, protocol: at.target.protocol })],
  read: (p, ctx): Promise<SocketsReadings> => (ctx.target.protocol === 'udp' ? readUdp(p.port, ctx) : readTcp(p, ctx)),
  decide(r, p) {
    if ('error' in r) {
      return r.protocol === 'udp'
        ? { outcome: 'error', status: 'fail', summary: `could not read the UDP socket table: ${r.error}`, command: udpCommand(p.port), evidence: {} }
        : { outcome: 'error', status: 'fail', summary: `could not read the socket table: ${r.error}`, command: tcpCommand(p.port), evidence: {} };
    }
    return r.protocol === 'udp' ? decideUdp(r, p.port) : decideTcp(r, p);
  },
});

/** What the sockets step reads: the port's table, and what its analysis says is worth reading next. */
export type SocketsReadings = { protocol: 'tcp' | 'udp'; error: string } | TcpSocketsReadings | UdpSocketsReadings;

/** The TCP port's readings. */
export interface TcpSocketsReadings {
  protocol: 'tcp';
  table: SocketTable;
  /** The host's interface addresses: a peer among them is a client on this host. */
  own: string[];
  /** net.core.somaxconn, read only where the table shows no backlog (not ss). */
  somaxconn?: number | undefined;
  /** The kernel's listen-overflow counter sampled twice, only when a queue is full or may be; a string says why it could not be. */
  overflows?: OverflowSample | string;
  /** The systemd unit of each pid the evidence names (the CLOSE_WAIT owners, a full queue's owner). */
  units: Record<number, string>;
  /** Nothing listens: what usually serves the port, and how this host starts it. */
  serve?: ServeAdvice;
}

/** The UDP port's readings. */
export interface UdpSocketsReadings {
  protocol: 'udp';
  port: UdpPortReading;
  /** Nothing is bound: what usually serves the port, and how this host starts it. */
  serve?: ServeAdvice;
  /** The drop counters watched, only when a service socket dropped before or has a full queue; a string says why they could not be read again. */
  drops?: UdpDropSample | string;
  /** The systemd unit of the pid the drop evidence names. */
  units: Record<number, string>;
}

type SocketsParams = { port: number; closeWaitThreshold?: number | undefined; synRecvThreshold?: number | undefined; timeWaitThreshold?: number | undefined; finWait2Threshold?: number | undefined };

function tcpCommand(port: number): string {
  return `ss -Htan '( sport = :${port} or dport = :${port} )'`;
}

function analyseTcp(r: Pick<TcpSocketsReadings, 'table' | 'own' | 'somaxconn'>, p: SocketsParams): SocketAnalysis {
  return analyseSockets(r.table, {
    port: p.port,
    thresholds: {
      closeWait: p.closeWaitThreshold ?? DEFAULT_THRESHOLDS.closeWait,
      synRecv: p.synRecvThreshold ?? DEFAULT_THRESHOLDS.synRecv,
      timeWait: p.timeWaitThreshold ?? DEFAULT_THRESHOLDS.timeWait,
      finWait2: p.finWait2Threshold ?? DEFAULT_THRESHOLDS.finWait2,
    },
    // Only ss shows the backlog; for the others somaxconn is the most it can be.
    ...(r.table.source !== 'ss' ? { somaxconn: r.somaxconn } : {}),
    isLocalAddress: (address) => isOwnAddress(address, r.own),
  });
}

/** The pids whose units the TCP evidence names: every CLOSE_WAIT owner, and the full queue's owner. */
function tcpEvidencePids(a: SocketAnalysis): number[] {
  const owners = [...a.closeWait.serverOwners, ...a.closeWait.clientOwners];
  const pid = a.listeners.length > 0 ? a.fullQueues[0]?.owners?.[0]?.pid : undefined;
  return [...new Set([...owners.flatMap((o) => (o.pid !== null ? [o.pid] : [])), ...(pid !== undefined ? [pid] : [])])];
}

async function readTcp(p: SocketsParams, ctx: CheckContext): Promise<SocketsReadings> {
  let table: SocketTable;
  try {
    table = await ctx.facts.socketTable(p.port);
  } catch (err) {
    return { protocol: 'tcp', error: (err as Error).message };
  }
  const own = await ctx.facts.localAddresses();
  const r: TcpSocketsReadings = { protocol: 'tcp', table, own, units: {}, ...(table.source !== 'ss' ? { somaxconn: await ctx.facts.read(somaxconnOf, undefined) } : {}) };
  const a = analyseTcp(r, p);
  // The kernel's overflow counter is worth the wait only when a queue is full or may be.
  if (a.fullQueues.length || a.unknownBacklog.length) r.overflows = await ctx.facts.read(listenOverflowsOf, OVERFLOW_SAMPLE_MS);
  r.units = await unitsOf(ctx, tcpEvidencePids(a));
  if (a.listeners.length === 0) r.serve = await ctx.facts.read(serveAdviceOf, { port: p.port, protocol: 'tcp' });
  return r;
}

/** The units of these pids (one host call), as pid → unit for those in one. */
async function unitsOf(ctx: CheckContext, pids: number[]): Promise<Record<number, string>> {
  if (pids.length === 0) return {};
  const units = await ctx.facts.read(unitsOfPidsOf, pids);
  return Object.fromEntries(pids.flatMap((pid, i) => (units[i] ? [[pid, units[i]]] : [])));
}

/** The TCP port's decision: a full accept queue, a CLOSE_WAIT leak, listening; or without a listener, recent traces or none. */
export function decideTcp(r: TcpSocketsReadings, p: SocketsParams): Decision<SocketsOutcome, Evidence> {
  const { table, overflows } = r;
  const a = analyseTcp(r, p);
  const examples = examplesByState(table);
  const evidence: Evidence = {
    source: table.source,
    counts: a.counts,
    examples,
    total: table.sockets.length,
    notices: table.notices,
    states: a.states,
    thresholds: { ...a.thresholds },
    listeners: a.listeners.map(({ endpoint, owners, queue, backlog, backlogAtMost, full }) => ({ endpoint, owners, queue, backlog, ...(backlogAtMost ? { backlogAtMost } : {}), full })),
    closeWait: closeWaitEvidence(r.units, a),
    synRecv: a.synRecv.total,
    timeWait: { total: a.timeWait.total, serverSide: a.timeWait.serverSide, clientSide: a.timeWait.clientSide },
    finWait2: a.finWait2.total,
  };
  if (overflows !== undefined) evidence.overflows = overflowEvidence(overflows);
  if (a.recent) evidence.recent = { sockets: a.recent.sockets, counts: a.recent.counts, holders: a.recent.holders };
  if (a.outgoingOnly) evidence.outgoingOnly = a.outgoingOnly;

  const tally = tallyOf(a.counts);
  const findings = (skip: string) => {
    const list = a.findings.filter((f) => f.code !== skip);
    // The counter is shared by every listener, so it is said beside a queue that may be full.
    if (overflows !== undefined && a.unknownBacklog.length) {
      const note = typeof overflows === 'string' ? '' : ` ${overflowSentence(overflows)}.`;
      for (const f of list) if (f.code === 'ACCEPT_QUEUE_WAITING') f.summary += note;
    }
    return list.length ? { findings: list } : {};
  };
  const base = { command: table.command };

  if (a.listeners.length > 0) {
    const full = a.fullQueues[0];
    if (full) {
      evidence.acceptQueue = queueEvidence(r.units, full, table.ownersHidden);
      return {
        ...base,
        outcome: 'accept-queue-full',
        status: 'fail',
        summary: `port ${p.port}: the accept queue of ${full.endpoint} is full (${full.queue} waiting, ${full.backlog === null ? `backlog unknown, at most ${full.backlogAtMost}` : `backlog ${full.backlog}`}); ${tally}`,
        evidence,
        ...findings('ACCEPT_QUEUE_FULL'),
      };
    }
    if (a.closeWait.leak) {
      const top = a.closeWait.serverOwners[0]!;
      return {
        ...base,
        outcome: 'close-wait-leak',
        status: 'fail',
        summary: `port ${p.port}: ${a.closeWait.serverSide} CLOSE_WAIT not closed by ${top.owner}${a.closeWait.serverOwners.length > 1 ? ' and others' : ''} (threshold ${a.thresholds.closeWait}); ${tally}`,
        evidence,
        ...findings('CLOSE_WAIT_LEAK'),
      };
    }
    return { ...base, outcome: 'listening', status: 'pass', summary: `port ${p.port}: ${tally}`, evidence, ...findings('') };
  }
  if (r.serve) Object.assign(evidence, serveEvidence(r.serve));
  if (a.recent) {
    return {
      ...base,
      outcome: 'recent',
      status: 'fail',
      summary: `no listener on port ${p.port}, but ${tallyOf(a.recent.counts)}: something used this port recently`,
      evidence,
      ...findings(''),
    };
  }
  const outgoing = a.outgoingOnly ? `; only ${a.outgoingOnly} connection${a.outgoingOnly === 1 ? '' : 's'} from here to port ${p.port} on other hosts` : '';
  return { ...base, outcome: 'none', status: 'fail', summary: `no ${a.outgoingOnly ? 'listener' : 'socket'} on port ${p.port}${a.outgoingOnly ? '' : ' in any state'}${outgoing}`, evidence, ...findings('') };
}

function serveEvidence(s: ServeAdvice): Record<string, unknown> {
  return { serve: s.text, ...(s.start ? { startCommand: s.start } : {}), findCommand: s.find };
}

function tallyOf(counts: Record<string, number>): string {
  return Object.entries(counts).map(([state, n]) => `${n} ${state}`).join(', ');
}

/** The full listener, as the playbook's ACCEPT_QUEUE_FULL diagnosis quotes it. */
function queueEvidence(units: Record<number, string>, l: ListenerQueue, ownersHidden: boolean) {
  const pid = l.owners?.[0]?.pid;
  const unit = pid !== undefined ? units[pid] : undefined;
  return {
    listener: l.endpoint,
    owner: ownersText(l.owners, ownersHidden),
    ...(pid !== undefined ? { pid } : {}),
    ...(unit ? { unit } : {}),
    queue: l.queue,
    backlog: l.backlog,
    ...(l.backlogAtMost ? { backlogAtMost: l.backlogAtMost } : {}),
    detail: `${l.who}${unit ? ` (unit ${unit})` : ''}: ${l.detail}`,
  };
}

/** CLOSE_WAIT per owning process, with each one's systemd unit where it has one. */
function closeWaitEvidence(units: Record<number, string>, a: SocketAnalysis) {
  const line = (o: OwnerCount) => {
    const unit = o.pid !== null ? units[o.pid] : undefined;
    return { ...o, ...(unit ? { unit } : {}), text: `${o.owner}${unit ? ` in ${unit}` : ''}: ${o.count} CLOSE_WAIT` };
  };
  const server = a.closeWait.serverOwners.map(line);
  const client = a.closeWait.clientOwners.map(line);
  return {
    total: a.closeWait.total,
    serverSide: a.closeWait.serverSide,
    clientSide: a.closeWait.clientSide,
    threshold: a.thresholds.closeWait,
    owner: server[0]?.owner ?? '',
    ...(server[0]?.unit ? { unit: server[0].unit } : {}),
    byProcess: server,
    // One line per process, for the diagnosis's evidence.
    perProcess: server.map((o) => o.text),
    ...(client.length ? { clientsByProcess: client } : {}),
  };
}

function overflowSentence(o: OverflowSample): string {
  const via = o.source === 'nstat' ? 'nstat TcpExtListenOverflows' : '/proc/net/netstat ListenOverflows';
  // The counter is the network namespace's, not the socket's: said, so nobody over-reads it.
  const scope = 'the counter covers every listener on this host';
  if (o.growth === 0) {
    return `no connection was dropped for a full accept queue within ${o.intervalMs} ms (${via} stayed at ${o.second}; ${scope}): nobody was knocking just then`;
  }
  return `the kernel dropped ${o.growth} more connection${o.growth === 1 ? '' : 's'} for a full accept queue within ${o.intervalMs} ms (${via}: ${o.first} → ${o.second}; ${scope})`;
}

function overflowEvidence(o: OverflowSample | string) {
  if (typeof o === 'string') return { error: o, detail: `the kernel's listen-overflow counter could not be read: ${o}` };
  return { ...o, detail: overflowSentence(o) };
}

function udpCommand(port: number): string {
  return `ss -Huanm '( sport = :${port} or dport = :${port} )'`;
}

function analyseUdp(r: UdpSocketsReadings, port: number): UdpSocketAnalysis {
  return analyseUdpSockets(r.port.table, { port, ...(r.port.ephemeralRange ? { ephemeralRange: r.port.ephemeralRange } : {}) });
}

/** The UDP port's table; the serve advice where nothing is bound; the drops watched where a socket is worth watching. */
async function readUdp(port: number, ctx: CheckContext): Promise<SocketsReadings> {
  let reading: UdpPortReading;
  try {
    reading = await ctx.facts.read(udpPortOf, port);
  } catch (err) {
    return { protocol: 'udp', error: (err as Error).message };
  }
  const r: UdpSocketsReadings = { protocol: 'udp', port: reading, units: {} };
  const a = analyseUdp(r, port);
  if (a.services.length === 0) {
    r.serve = await ctx.facts.read(serveAdviceOf, { port, protocol: 'udp' });
    return r;
  }
  // A healthy socket (no drops, room in its queue) is not watched: it costs nothing more.
  if (!worthWatching(a.services)) return r;
  r.drops = await ctx.facts.read(udpDropsOf, { port, intervalMs: UDP_DROP_SAMPLE_MS });
  if (typeof r.drops !== 'string') {
    const pid = readDrops(a.services, r.drops.first.sockets, r.drops.second.sockets)[0]?.pid;
    if (pid !== undefined) r.units = await unitsOf(ctx, [pid]);
  }
  return r;
}

/**
 * The UDP reading of the port: a bound socket is `listening`, one dropping datagrams while whyport
 * watches is `receive-drops`, and without a bound socket `none` says what else uses the port. The
 * TCP outcomes (accept queue, CLOSE_WAIT, recent) never come out: UDP has no such states.
 */
export function decideUdp(r: UdpSocketsReadings, port: number): Decision<SocketsOutcome, Evidence> {
  const { table } = r.port;
  const a = analyseUdp(r, port);
  const examples = examplesByState(table);
  const evidence: Evidence = {
    protocol: 'udp',
    source: table.source,
    counts: a.counts,
    examples,
    total: table.sockets.length,
    notices: table.notices,
    services: a.services.map(({ endpoint, owner, socket: s }) => ({
      endpoint,
      owner,
      owners: s.owners ?? null,
      family: s.family,
      ...(s.dualStack !== undefined ? { dualStack: s.dualStack } : {}),
      queued: queued(s),
      rcvbuf: s.rcvbuf ?? null,
      drops: s.drops ?? null,
      full: queueFull(s),
    })),
    connected: a.connected.map((v) => `${v.endpoint} ↔ ${v.peer} (${v.owner})`),
    ephemeral: a.ephemeral.map((v) => `${v.endpoint}${v.peer ? ` ↔ ${v.peer}` : ''} (${v.owner})`),
    clients: a.clients.length,
  };
  const base = { command: table.command };
  const tally = tallyOf(a.counts);
  const withFindings = (more: SocketFinding[]) => {
    const list = [...a.findings, ...more];
    return list.length ? { findings: list } : {};
  };

  if (a.services.length === 0) {
    if (r.serve) Object.assign(evidence, serveEvidence(r.serve));
    const summary = a.otherUse ? `no UDP socket is bound to port ${port} for anyone to reach: ${a.otherUse}` : `no UDP socket on port ${port}`;
    return { ...base, outcome: 'none', status: 'fail', summary, evidence, ...withFindings([]) };
  }
  const listening = { ...base, outcome: 'listening' as const, status: 'pass' as const, summary: `UDP port ${port}: ${tally}`, evidence };
  const sample = r.drops;
  if (sample === undefined) return { ...listening, ...withFindings([]) };
  if (typeof sample === 'string') {
    evidence.drops = { error: sample, detail: `the drop counters could not be read a second time: ${sample}` };
    const earlier = a.services.filter((v) => (v.socket.drops ?? 0) > 0).map((v) => `${v.endpoint} (${v.owner}) has dropped ${v.socket.drops} datagrams since it was opened`);
    return { ...listening, ...withFindings(earlier.map((summary) => ({ code: 'UDP_PAST_DROPS', summary: `${summary}; whether it still does could not be watched (${sample}).` }))) };
  }
  const readings = readDrops(a.services, sample.first.sockets, sample.second.sockets);
  const rcvbufErrors = counterGrowth(sample.first.counters, sample.second.counters);
  const worst = readings[0];
  const limits = { rmemMax: sample.rmemMax, rmemDefault: sample.rmemDefault, rcvbufErrors };
  if (worst) evidence.drops = dropEvidence(r.units, worst, sample.windowMs, limits);
  if (worst?.dropping) {
    const queue = worst.rcvbuf !== null ? `${worst.queued} of ${worst.rcvbuf} bytes queued` : `${worst.queued} bytes queued`;
    const during = worst.growth > 0 ? `dropped ${plural(worst.growth, 'datagram')} within ${sample.windowMs} ms` : `has a full queue that stayed full for ${sample.windowMs} ms`;
    return {
      ...base,
      outcome: 'receive-drops',
      status: 'fail',
      summary: `UDP port ${port}: ${worst.endpoint} (${worst.owner}) ${during} (${worst.drops} in all); ${queue}${limits.rmemMax !== null ? `, net.core.rmem_max ${limits.rmemMax}` : ''}`,
      evidence,
      ...withFindings([]),
    };
  }
  return { ...listening, ...withFindings(pastDropFindings(readings, sample.windowMs)) };
}

/** The socket dropping datagrams (or the one that dropped most), as the UDP_RECEIVE_DROPS diagnosis quotes it. */
function dropEvidence(units: Record<number, string>, r: DropReading, windowMs: number, limits: { rmemMax: number | null; rmemDefault: number | null; rcvbufErrors: number | null }) {
  const unit = r.pid !== undefined ? units[r.pid] : undefined;
  return {
    listener: r.endpoint,
    owner: r.owner,
    ...(r.pid !== undefined ? { pid: r.pid } : {}),
    ...(unit ? { unit } : {}),
    drops: r.drops,
    growth: r.growth,
    windowMs,
    queued: r.queued,
    rcvbuf: r.rcvbuf,
    ...limits,
    detail: `${r.owner}${unit ? ` (unit ${unit})` : ''}: ${dropSentence(r, windowMs, limits)}`,
  };
}

/** A few sockets of each state, `local ↔ peer`, for the evidence (TCP and UDP alike). */
function examplesByState(table: SocketTable): Record<string, string[]> {
  const examples: Record<string, string[]> = {};
  for (const s of table.sockets) {
    const list = (examples[s.state] ??= []);
    if (list.length < EXAMPLES_PER_STATE) list.push(`${endpointText(s.local.address, s.local.port)} ↔ ${endpointText(s.peer.address, s.peer.port)}`);
  }
  return examples;
}
