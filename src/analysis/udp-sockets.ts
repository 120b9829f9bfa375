import { UDP_QUEUE_FULL_ROOM_BYTES } from '../knowledge/thresholds.js';
import { UDP_CLIENT_PROGRAMS } from '../knowledge/udp-clients.js';
import { endpointText } from '../net/endpoint.js';
import type { SocketTable, TcpSocket } from '../system/socket.js';
import type { UdpPortReading } from '../system/udp-port.js';
import type { UdpCounters } from '../system/udp-stats.js';
import { countStates, ownersText, type SocketFinding } from './sockets.js';
import { plural } from '../text/plural.js';

/**
 * The UDP sockets of one port read the way an expert reads `ss -uanm`: UDP has no handshake and
 * no listen(), so what serves a port is a bound, unconnected socket (UNCONN). A connected socket
 * on the port takes datagrams from its one peer only, a client given the port from the ephemeral
 * range is no service either, and a socket whose buffer overflows drops what it is sent. Pure: the
 * table and the two readings of the drop counters come in, the reading comes out.
 */

export interface UdpAnalysisOptions {
  port: number;
  /** net.ipv4.ip_local_port_range, when it was read (see system/udp-port.ts's needsEphemeralRange). */
  ephemeralRange?: readonly [number, number];
}

/** A socket as the report names it. */
export interface UdpSocketView {
  /** "0.0.0.0:53" */
  endpoint: string;
  /** The peer of a connected socket, "127.0.0.1:7171". */
  peer?: string;
  /** "dnsmasq (pid 42)", or why no process is named. */
  owner: string;
  pid?: number;
  socket: TcpSocket;
}

export interface UdpSocketAnalysis {
  port: number;
  source: SocketTable['source'];
  /** Sockets per state, UNCONN first. */
  counts: Record<string, number>;
  /** Bound, unconnected sockets on the port: they receive what anyone sends to it. */
  services: UdpSocketView[];
  /** Connected sockets on the port: each receives only from its peer. */
  connected: UdpSocketView[];
  /** Sockets on the port that a client was given from the ephemeral range. */
  ephemeral: UdpSocketView[];
  /** This machine's sockets talking to port `port` elsewhere (their peer is the port). */
  clients: UdpSocketView[];
  /** Without a service: one sentence of what else uses the port ("only a connected UDP socket …"). */
  otherUse: string;
  findings: SocketFinding[];
}

/**
 * The UDP sockets that serve the port: bound and unconnected, and not a port a client was given.
 * What `listeners` and `port-owner` take for a UDP target's listeners.
 */
export function udpServices(reading: UdpPortReading, port: number): TcpSocket[] {
  return analyseUdpSockets(reading.table, { port, ...(reading.ephemeralRange ? { ephemeralRange: reading.ephemeralRange } : {}) }).services.map((v) => v.socket);
}

/** Reads the table of `opts.port`; see UdpSocketAnalysis for what comes out. */
export function analyseUdpSockets(table: SocketTable, opts: UdpAnalysisOptions): UdpSocketAnalysis {
  const { port } = opts;
  const hidden = table.ownersHidden;
  const onPort = table.sockets.filter((s) => s.local.port === port || s.peer.port === port);
  const range = opts.ephemeralRange;
  const inRange = range !== undefined && port >= range[0] && port <= range[1];
  const view = (s: TcpSocket): UdpSocketView => {
    const first = s.owners?.[0];
    return {
      endpoint: endpointText(s.local.address, s.local.port),
      ...(s.state === 'ESTABLISHED' ? { peer: endpointText(s.peer.address, s.peer.port) } : {}),
      owner: ownersText(s.owners, hidden),
      ...(first ? { pid: first.pid } : {}),
      socket: s,
    };
  };

  const services: UdpSocketView[] = [];
  const connected: UdpSocketView[] = [];
  const ephemeral: UdpSocketView[] = [];
  const clients: UdpSocketView[] = [];
  for (const s of onPort) {
    if (s.local.port !== port) {
      clients.push(view(s));
    } else if (inRange && (s.state === 'ESTABLISHED' || isClientProgram(s))) {
      ephemeral.push(view(s));
    } else if (s.state === 'ESTABLISHED') {
      connected.push(view(s));
    } else if (s.state === 'UNCONN') {
      services.push(view(s));
    }
  }

  const a: UdpSocketAnalysis = { port, source: table.source, counts: countUdpStates(onPort), services, connected, ephemeral, clients, otherUse: '', findings: [] };
  a.otherUse = otherUseOf(a, range);
  a.findings = findingsOf(a, range);
  return a;
}

/** Sockets per state, UNCONN first. */
function countUdpStates(list: readonly TcpSocket[]): Record<string, number> {
  const counts = countStates(list);
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => Number(b === 'UNCONN') - Number(a === 'UNCONN')));
}

/** The queue has no room left for even a small datagram (UDP_QUEUE_FULL_ROOM_BYTES). Unknown without the buffer's size (netstat, /proc). */
export function queueFull(s: TcpSocket): boolean {
  return s.rcvbuf !== undefined && s.rcvbuf - queued(s) < UDP_QUEUE_FULL_ROOM_BYTES;
}

/** Bytes queued for the program: ss -m's r…, else Recv-Q (the same count, as netstat and /proc print it). */
export function queued(s: TcpSocket): number {
  return s.rmemAlloc ?? s.recvQ;
}

/** Whether the service sockets are worth watching for drops: one has dropped before, or its queue is full. */
export function worthWatching(services: readonly UdpSocketView[]): boolean {
  return services.some((v) => (v.socket.drops ?? 0) > 0 || queueFull(v.socket));
}

/** One service socket over the watch: its drop counter before and after, its queue and buffer. */
export interface DropReading {
  endpoint: string;
  owner: string;
  pid?: number;
  /** The socket's drop counter at the second reading. */
  drops: number;
  /** How much it grew between the readings. */
  growth: number;
  /** Bytes queued at the second reading, and the buffer (null where the source does not show it). */
  queued: number;
  rcvbuf: number | null;
  /** Full at both readings: nothing is read, so everything sent now is dropped. */
  full: boolean;
  /** Drops grew, or the queue stayed full: datagrams are being dropped now. */
  dropping: boolean;
}

/**
 * The service sockets' drops over the watch, most growth first. A socket is matched between the
 * readings by its inode (by its address where the source shows none); one gone by the second
 * reading is left out.
 */
export function readDrops(services: readonly UdpSocketView[], first: readonly TcpSocket[], second: readonly TcpSocket[]): DropReading[] {
  const key = (s: TcpSocket) => (s.inode ? `ino:${s.inode}` : `${s.family} ${s.local.address}:${s.local.port} ${s.state}`);
  const before = new Map(first.map((s) => [key(s), s]));
  const after = new Map(second.map((s) => [key(s), s]));
  const out: DropReading[] = [];
  for (const v of services) {
    const then = before.get(key(v.socket)) ?? v.socket;
    const now = after.get(key(v.socket));
    if (!now) continue;
    const growth = Math.max(0, (now.drops ?? 0) - (then.drops ?? 0));
    const full = queueFull(then) && queueFull(now);
    out.push({
      endpoint: v.endpoint,
      owner: v.owner,
      ...(v.pid !== undefined ? { pid: v.pid } : {}),
      drops: now.drops ?? 0,
      growth,
      queued: queued(now),
      rcvbuf: now.rcvbuf ?? null,
      full,
      dropping: growth > 0 || full,
    });
  }
  return out.sort((a, b) => b.growth - a.growth || Number(b.full) - Number(a.full) || b.drops - a.drops);
}

/** Growth of the host's counter between two readings; null when either could not be read. */
export function counterGrowth(first: UdpCounters | string, second: UdpCounters | string): number | null {
  return typeof first === 'string' || typeof second === 'string' ? null : Math.max(0, second.rcvbufErrors - first.rcvbufErrors);
}

/** One sentence with the numbers of a socket dropping datagrams now. */
export function dropSentence(r: DropReading, windowMs: number, limits: { rmemMax: number | null; rmemDefault: number | null; rcvbufErrors: number | null }): string {
  const what = r.growth > 0
    ? `the kernel dropped ${plural(r.growth, 'datagram')} for ${r.endpoint} within ${windowMs} ms (its drop counter ${r.drops - r.growth} → ${r.drops})`
    : `the receive queue of ${r.endpoint} stayed full for ${windowMs} ms (its drop counter at ${r.drops}): every datagram sent to it now is dropped`;
  const buffer = r.rcvbuf !== null ? `${r.queued} of its ${r.rcvbuf}-byte receive buffer (SO_RCVBUF) are queued` : `${r.queued} bytes are queued (the buffer's size is not shown here)`;
  const limit = [limits.rmemDefault !== null ? `net.core.rmem_default ${limits.rmemDefault}` : '', limits.rmemMax !== null ? `rmem_max ${limits.rmemMax}` : ''].filter(Boolean).join(', ');
  const host = limits.rcvbufErrors !== null ? `; UdpRcvbufErrors grew by ${limits.rcvbufErrors} on this host` : '';
  return `${what}; ${buffer}${limit ? `; ${limit}` : ''}${host}`;
}

/** A finding for service sockets that dropped before but not while whyport watched. */
export function pastDropFindings(readings: readonly DropReading[], windowMs: number): SocketFinding[] {
  return readings
    .filter((r) => !r.dropping && r.drops > 0)
    .map((r) => ({
      code: 'UDP_PAST_DROPS',
      summary: `${r.endpoint} (${r.owner}) has dropped ${plural(r.drops, 'datagram')} since it was opened, none within the ${windowMs} ms whyport watched: it fell behind earlier (a burst, a pause of the program) and keeps up now. Watch ss -uam's d… (or nstat UdpRcvbufErrors) when it happens again.`,
    }));
}

function isClientProgram(s: TcpSocket): boolean {
  return (s.owners ?? []).some((o) => UDP_CLIENT_PROGRAMS.has(o.program));
}

function who(v: UdpSocketView): string {
  return `${v.endpoint} (${v.owner})`;
}

function list(views: readonly UdpSocketView[], text: (v: UdpSocketView) => string): string {
  const shown = views.slice(0, 3).map(text).join(', ');
  return views.length > 3 ? `${shown} and ${views.length - 3} more` : shown;
}

function connectedText(v: UdpSocketView): string {
  return `${who(v)}, which receives only from its peer ${v.peer}`;
}

function ephemeralText(v: UdpSocketView, range: readonly [number, number] | undefined): string {
  const talking = v.peer ? `, talking to ${v.peer}` : '';
  return `${who(v)}${talking} is an ephemeral port a client was given${range ? ` (this host gives clients ${range[0]}–${range[1]})` : ''}`;
}

/** What uses the port when nothing serves it. */
function otherUseOf(a: UdpSocketAnalysis, range: readonly [number, number] | undefined): string {
  const parts: string[] = [];
  if (a.connected.length) {
    parts.push(`only ${a.connected.length === 1 ? 'a connected UDP socket' : `${a.connected.length} connected UDP sockets`}, ${list(a.connected, connectedText)} — not a listener`);
  }
  if (a.ephemeral.length) parts.push(`${list(a.ephemeral, (v) => ephemeralText(v, range))}, not a service`);
  if (a.clients.length) {
    const peers = [...new Set(a.clients.map((c) => endpointText(c.socket.peer.address, c.socket.peer.port)))];
    parts.push(`${plural(a.clients.length, 'socket')} from here talking to port ${a.port} elsewhere (${peers.slice(0, 3).join(', ')}${peers.length > 3 ? ', …' : ''})`);
  }
  return parts.join('; ');
}

function findingsOf(a: UdpSocketAnalysis, range: readonly [number, number] | undefined): SocketFinding[] {
  const out: SocketFinding[] = [];
  // With a service on the port, the rest is said aside; without one it is the outcome's summary.
  if (a.services.length > 0) {
    for (const v of a.connected) {
      out.push({ code: 'UDP_CONNECTED_SOCKET', summary: `${connectedText(v)}: it is connected, so the kernel gives it datagrams from that peer only — not a listener.` });
    }
    for (const v of a.ephemeral) out.push({ code: 'UDP_EPHEMERAL_PORT', summary: `${ephemeralText(v, range)}, not a service.` });
  }
  if (a.source === 'netstat' && a.services.length > 0) {
    out.push({ code: 'UDP_DROPS_UNSEEN', summary: "netstat shows neither a UDP socket's receive buffer nor its drops: ss -uam (or /proc/net/udp's drops column) does." });
  }
  return out;
}
