import { DEFAULT_THRESHOLDS, type SocketThresholds } from '../knowledge/thresholds.js';
import { stateSentences } from '../knowledge/tcp-states.js';
import { isLoopback } from '../net/address.js';
import { endpointText } from '../net/endpoint.js';
import type { SocketTable, TcpSocket } from '../system/socket.js';
import { plural } from '../text/plural.js';

/**
 * The socket table of one port read the way an expert reads `netstat -an | grep PORT`: each
 * listener's accept queue against its backlog, CLOSE_WAIT piling up per owning process, half-open
 * connections, heavy TIME_WAIT and FIN_WAIT2, and the traces a server leaves when it goes away.
 * Pure: the table comes in, the reading comes out; the check does the I/O around it.
 */

export interface AnalysisOptions {
  port: number;
  /** Defaults: DEFAULT_THRESHOLDS (src/knowledge/thresholds.ts). */
  thresholds?: Partial<SocketThresholds>;
  /**
   * net.core.somaxconn. netstat and /proc/net/tcp do not show a listener's backlog, and the kernel
   * cuts every backlog to somaxconn: a queue that long is full whatever the program asked for.
   */
  somaxconn?: number;
  /** Whether an address is this machine's; defaults to loopback only. */
  isLocalAddress?: (address: string) => boolean;
}

/** A listener and its accept queue. */
export interface ListenerQueue {
  endpoint: string;
  /** Its owners; null when they cannot be seen (not root, another PID namespace). */
  owners: { pid: number; program: string }[] | null;
  /** Connections that completed the handshake and wait for the program's accept(). */
  queue: number;
  /** The listen backlog (ss's Send-Q on LISTEN); null when the source does not show it. */
  backlog: number | null;
  /** When the backlog is unknown: net.core.somaxconn, which it cannot exceed. */
  backlogAtMost?: number;
  full: boolean;
  /** "127.0.0.1:7077 held by python3 (pid 812)" */
  who: string;
  /** "2 connections wait for accept(), backlog 1" */
  detail: string;
}

/** Sockets of one state held by one process (or by none visible). */
export interface OwnerCount {
  /** null: no owner visible, or none (not accepted yet, orphaned). */
  pid: number | null;
  program: string | null;
  count: number;
  /** "python3 (pid 812)", or why no process is named. */
  owner: string;
}

/** The sockets of one state on the port. */
export interface StateTally {
  total: number;
  threshold: number;
  /** At or above the threshold. */
  many: boolean;
  /** Sockets whose local port is the port: the server's side of its connections. */
  serverSide: number;
  /** The others: this machine's clients of the port. */
  clientSide: number;
  /** Per owning process, most first. */
  byOwner: OwnerCount[];
}

export interface SocketFinding {
  code: string;
  summary: string;
}

export interface SocketAnalysis {
  port: number;
  source: SocketTable['source'];
  /** Sockets per state, LISTEN first, then most first. */
  counts: Record<string, number>;
  /** One plain sentence for each state seen. */
  states: Record<string, string>;
  listeners: ListenerQueue[];
  /** Listeners whose accept queue is full. */
  fullQueues: ListenerQueue[];
  /** Listeners with connections waiting whose backlog the source does not show (netstat, /proc). */
  unknownBacklog: ListenerQueue[];
  /**
   * `leak`: the server side (connections accepted on the port) holds at least the threshold: the
   * program does not close what its clients closed. `clientLeak`: this machine's clients of the
   * port do the same with what the server closed. Owners of each side apart.
   */
  closeWait: StateTally & { leak: boolean; clientLeak: boolean; serverOwners: OwnerCount[]; clientOwners: OwnerCount[] };
  synRecv: StateTally;
  timeWait: StateTally;
  finWait2: StateTally;
  /**
   * No listener, but sockets left by connections to a server on this port (accepted ones, or this
   * machine's clients of it): a server was here recently and went away. null when there is a listener
   * or no such trace.
   */
  recent: { sockets: number; counts: Record<string, number>; holders: OwnerCount[] } | null;
  /** Without a listener: connections from here to the port on other hosts, no trace of a server here. */
  outgoingOnly: number;
  findings: SocketFinding[];
  thresholds: SocketThresholds;
}

/** Reads the table of `opts.port`; see SocketAnalysis for what comes out. */
export function analyseSockets(table: SocketTable, opts: AnalysisOptions): SocketAnalysis {
  const { port } = opts;
  const thresholds: SocketThresholds = { ...DEFAULT_THRESHOLDS, ...definedOnly(opts.thresholds ?? {}) };
  const isLocal = opts.isLocalAddress ?? isLoopback;
  const hidden = table.ownersHidden;
  const onPort = table.sockets.filter((s) => s.local.port === port || s.peer.port === port);
  const counts = countStates(onPort);

  const listeners = onPort
    .filter((s) => s.state === 'LISTEN' && s.local.port === port)
    .map((s) => listenerQueue(s, table.source, opts.somaxconn, hidden));
  const fullQueues = listeners.filter((l) => l.full);
  const unknownBacklog = listeners.filter((l) => !l.full && l.backlog === null && l.queue > 0);

  const tally = (states: readonly string[], threshold: number, count: 'all' | 'server' = 'all'): StateTally => {
    const list = onPort.filter((s) => states.includes(s.state));
    const serverSide = list.filter((s) => s.local.port === port).length;
    const total = list.length;
    const measured = count === 'server' ? serverSide : total;
    return { total, threshold, many: measured >= threshold, serverSide, clientSide: total - serverSide, byOwner: byOwner(list, hidden) };
  };
  const cw = tally(['CLOSE_WAIT'], thresholds.closeWait, 'server');
  const closeWaits = onPort.filter((s) => s.state === 'CLOSE_WAIT');
  const closeWait = {
    ...cw,
    leak: cw.many,
    clientLeak: cw.clientSide >= thresholds.closeWait,
    serverOwners: byOwner(closeWaits.filter((s) => s.local.port === port), hidden),
    clientOwners: byOwner(closeWaits.filter((s) => s.local.port !== port), hidden),
  };
  const synRecv = tally(['SYN_RECV', 'NEW_SYN_RECV'], thresholds.synRecv);
  const timeWait = tally(['TIME_WAIT'], thresholds.timeWait);
  const finWait2 = tally(['FIN_WAIT2'], thresholds.finWait2);

  let recent: SocketAnalysis['recent'] = null;
  let outgoingOnly = 0;
  if (listeners.length === 0 && onPort.length > 0) {
    // An accepted connection has the port as its local port; a client of a server on this machine
    // has it as its peer port with a local peer address. A connection to the port on another host
    // says nothing about this one.
    const traces = onPort.filter((s) => s.local.port === port || isLocal(s.peer.address));
    outgoingOnly = onPort.length - traces.length;
    if (traces.length > 0) {
      const held = traces.filter((s) => s.local.port === port && s.owners && s.owners.length > 0);
      recent = { sockets: traces.length, counts: countStates(traces), holders: byOwner(held, hidden) };
    }
  }

  const analysis: SocketAnalysis = {
    port,
    source: table.source,
    counts,
    states: stateSentences(Object.keys(counts)),
    listeners,
    fullQueues,
    unknownBacklog,
    closeWait,
    synRecv,
    timeWait,
    finWait2,
    recent,
    outgoingOnly,
    findings: [],
    thresholds,
  };
  analysis.findings = findingsOf(analysis);
  return analysis;
}

/** Sockets per state, LISTEN first, then most first, then by name (the same words whatever order the kernel listed them in). */
export function countStates(list: readonly TcpSocket[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of list) counts[s.state] = (counts[s.state] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a, x], [b, y]) => Number(b === 'LISTEN') - Number(a === 'LISTEN') || y - x || (a < b ? -1 : a > b ? 1 : 0)));
}

/** "python3 (pid 812)", "python3 (pids 812, 813)", or why no process is named. */
export function ownersText(owners: readonly { pid: number; program: string }[] | null | undefined, hidden: boolean): string {
  if (owners && owners.length > 0) {
    const programs = [...new Set(owners.map((o) => o.program))];
    const pids = [...new Set(owners.map((o) => o.pid))];
    return `${programs.join(', ')} (pid${pids.length > 1 ? 's' : ''} ${pids.join(', ')})`;
  }
  if (owners === undefined || owners === null) return hidden ? 'a process only root can see (run whyport as root to name it)' : 'a process not visible from here';
  return 'no process';
}

function listenerQueue(s: TcpSocket, source: SocketTable['source'], somaxconn: number | undefined, hidden: boolean): ListenerQueue {
  const endpoint = endpointText(s.local.address, s.local.port);
  const owners = s.owners ? s.owners.map((o) => ({ pid: o.pid, program: o.program })) : null;
  const who = `${endpoint} held by ${ownersText(owners, hidden)}`;
  const waiting = `${s.recvQ} connection${s.recvQ === 1 ? '' : 's'} wait${s.recvQ === 1 ? 's' : ''} for accept()`;
  // Only ss reports the backlog, in Send-Q of a LISTEN line; netstat prints 0 there and
  // /proc/net/tcp's tx_queue is 0 for listeners.
  if (source === 'ss') {
    // The kernel drops a SYN once the queue holds more than the backlog; at the backlog the next
    // handshake still fits, but one more burst does not. A backlog of 0 is only possible when
    // asked for, and is then really 1; it never reads as full here.
    const full = s.sendQ > 0 && s.recvQ >= s.sendQ;
    return { endpoint, owners, queue: s.recvQ, backlog: s.sendQ, full, who, detail: `${waiting}, backlog ${s.sendQ}` };
  }
  const bound = somaxconn !== undefined ? `at most net.core.somaxconn = ${somaxconn}` : 'net.core.somaxconn unreadable';
  const full = somaxconn !== undefined && s.recvQ >= somaxconn;
  return {
    endpoint,
    owners,
    queue: s.recvQ,
    backlog: null,
    ...(somaxconn !== undefined ? { backlogAtMost: somaxconn } : {}),
    full,
    who,
    detail: `${waiting}, backlog unknown (${source === 'netstat' ? 'netstat' : '/proc/net/tcp'} does not show it; ${bound})`,
  };
}

function byOwner(list: readonly TcpSocket[], hidden: boolean): OwnerCount[] {
  const groups = new Map<string, OwnerCount>();
  for (const s of list) {
    const first = s.owners?.[0];
    const key = first ? `pid:${first.pid}` : s.owners ? 'none' : 'unseen';
    const g = groups.get(key);
    if (g) {
      g.count++;
      continue;
    }
    const owner = first
      ? `${first.program} (pid ${first.pid})`
      : s.owners
        ? // A socket no file holds: not accepted yet (still in the accept queue), or orphaned after close.
          'no process (not accepted yet, or orphaned)'
        : hidden
          ? 'a process only root can see (run whyport as root to name it)'
          : 'a process not visible from here';
    groups.set(key, { pid: first?.pid ?? null, program: first?.program ?? null, count: 1, owner });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

function perOwner(list: readonly OwnerCount[]): string {
  return list.map((o) => `${o.owner}: ${o.count}`).join(', ');
}

function tallyText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
}

function findingsOf(a: SocketAnalysis): SocketFinding[] {
  const out: SocketFinding[] = [];
  const { port, thresholds } = a;
  for (const l of a.fullQueues) {
    out.push({
      code: 'ACCEPT_QUEUE_FULL',
      summary: `the accept queue of ${l.who} is full: ${l.detail}. The program has stopped accepting connections (hung or overloaded); new ones are dropped and time out.`,
    });
  }
  for (const l of a.unknownBacklog) {
    out.push({
      code: 'ACCEPT_QUEUE_WAITING',
      summary: `${l.who}: ${l.detail}. Whether its queue is full cannot be told from here: ss -ltn shows the backlog in Send-Q.`,
    });
  }
  if (a.closeWait.leak) {
    out.push({
      code: 'CLOSE_WAIT_LEAK',
      summary: `${a.closeWait.serverSide} connections accepted on port ${port} sit in CLOSE_WAIT (threshold ${thresholds.closeWait}) — ${perOwner(a.closeWait.serverOwners)}: the clients closed them and the program never did; they stay until it closes them or exits.`,
    });
  }
  if (a.closeWait.clientLeak) {
    out.push({
      code: 'CLOSE_WAIT_LEAK_CLIENT',
      summary: `${a.closeWait.clientSide} of this machine's connections to port ${port} sit in CLOSE_WAIT (threshold ${thresholds.closeWait}) — ${perOwner(a.closeWait.clientOwners)}: the server closed them and these clients never did.`,
    });
  }
  if (a.synRecv.many) {
    out.push({
      code: 'SYN_RECV_MANY',
      summary: `${plural(a.synRecv.total, 'half-open connection')} (SYN_RECV) on port ${port} (threshold ${thresholds.synRecv}): clients sent SYN and never completed the handshake — a SYN flood, lost packets on the way back, or a server too slow to keep up.`,
    });
  }
  if (a.timeWait.many) {
    const sides: string[] = [];
    if (a.timeWait.clientSide) sides.push(`${a.timeWait.clientSide} on this machine's client side, each holding an ephemeral port toward port ${port} for 60 s (the side that closes first pays)`);
    if (a.timeWait.serverSide) sides.push(`${a.timeWait.serverSide} on the server side, which closed first`);
    out.push({
      code: 'TIME_WAIT_MANY',
      summary: `${a.timeWait.total} TIME_WAIT on port ${port} (threshold ${thresholds.timeWait}): ${sides.join('; ')}. Connection reuse (keep-alive, pooling) avoids opening and closing so many.`,
    });
  }
  if (a.finWait2.many) {
    out.push({
      code: 'FIN_WAIT2_MANY',
      summary: `${a.finWait2.total} FIN_WAIT2 on port ${port} (threshold ${thresholds.finWait2}): this side closed and the peers never closed theirs — peers that leak connections, or that vanished.`,
    });
  }
  if (a.recent) {
    out.push({
      code: 'SERVER_GONE',
      summary: `no listener on port ${port}, yet ${tallyText(a.recent.counts)} left by connections to it: a server was here recently and went away${a.recent.counts.TIME_WAIT ? ' (a closed connection stays in TIME_WAIT for 60 s)' : ''}.`,
    });
    if (a.recent.holders.length > 0) {
      out.push({
        code: 'STOPPED_LISTENING',
        summary: `${a.recent.holders.map((h) => `${h.owner} still holds ${plural(h.count, 'connection')} accepted on port ${port}`).join('; ')}, but listens no more: it is running and closed (or lost) its listening socket.`,
      });
    }
  }
  return out;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
