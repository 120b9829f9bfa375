import type { Endpoint, Family, SocketOwner, SocketState, TcpSocket, TcpState } from './socket.js';
import { splitEndpoint, TCP_STATES } from './socket.js';

/** ss's state names (iproute2 ss.c `sstate_name`) in the netstat spelling whyport uses. */
const SS_STATE_NAMES: Readonly<Record<string, TcpState>> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  // A TCP socket that is neither listening nor connected (bound only, or closed): the kernel's TCP_CLOSE.
  UNCONN: 'CLOSE',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
  'NEW-SYN-RECV': 'NEW_SYN_RECV',
  UNKNOWN: 'UNKNOWN',
};

/**
 * The netstat name of a state as ss (ESTAB, SYN-SENT…) or netstat (ESTABLISHED, SYN_SENT…) spells
 * it; undefined for a word that is not a TCP state (a header, garbage).
 */
export function normalizeTcpState(name: string): TcpState | undefined {
  const upper = name.toUpperCase();
  const mapped = SS_STATE_NAMES[upper];
  if (mapped) return mapped;
  return (TCP_STATES as readonly string[]).includes(upper) ? (upper as TcpState) : undefined;
}

/** ss's Netid column, printed when several protocols are asked for (`ss -tua`). */
const NETIDS = new Set(['tcp', 'udp', 'raw', 'u_str', 'u_dgr', 'u_seq', 'p_raw', 'p_dgr', 'nl', 'mptcp', 'sctp', 'dccp', 'tipc', 'xdp', 'v_str', 'v_dgr']);

export interface ParseSsOptions {
  /**
   * The state of every line when ss printed no State column: ss drops it when the query names a
   * single state (`ss -Htn state listening`). Without it such lines get 'UNKNOWN'.
   */
  state?: TcpState;
  /**
   * 'udp': the output of `ss -u…`, whose lines (without a Netid column, as only UDP was asked
   * for) are UDP sockets: UNCONN or ESTABLISHED, with their skmem when `-m` was given. Lines a
   * Netid column names as another protocol are skipped. Without it only TCP sockets are read.
   */
  protocol?: 'udp';
}

/**
 * Parses `ss -Htan[e][p]` output (one socket a line, no header) into sockets. Extended (`-e`) and
 * process (`-p`) columns are read when present. Lines that are not TCP sockets are skipped; with
 * `protocol: 'udp'`, `ss -Huan[e][p][m]` output, whose `skmem:(…)` (printed by -m on an indented
 * line of its own) gives each socket its receive buffer, queued bytes and drops.
 */
export function parseSs(text: string, options: ParseSsOptions = {}): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  // The socket the last socket line gave: an indented line after it is its continuation.
  let last: TcpSocket | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    // Continuation lines (`ss -i` prints TCP info, `ss -m` the socket memory, on an indented
    // second line) carry no socket of their own.
    if (/^\s/.test(line)) {
      if (last && options.protocol === 'udp') readSkmem(line, last);
      continue;
    }
    last = parseSsLine(line, options);
    if (last) sockets.push(last);
  }
  return sockets;
}

/** One socket line of ss: its socket, the protocol its Netid column names (if printed), its cgroup (-e). */
interface SsRow {
  protocol?: 'tcp' | 'udp';
  socket: TcpSocket;
  cgroup?: string;
}

function parseSsLine(line: string, options: ParseSsOptions): TcpSocket | undefined {
  const row = parseSsRow(line, options);
  if (!row) return undefined;
  if (options.protocol === 'udp') return row.protocol === 'udp' ? row.socket : undefined;
  return row.protocol !== 'udp' ? row.socket : undefined;
}

/**
 * `skmem:(r1664,rb2304,t0,tb212992,f2432,w0,o0,bl0,d48)` (iproute2 ss.c print_skmeminfo): r is
 * sk_rmem_alloc (bytes queued for reading), rb sk_rcvbuf (the receive buffer), d sk_drops (what
 * the kernel dropped, mostly for a full buffer). Read onto the socket; a line without it is left.
 */
function readSkmem(text: string, socket: TcpSocket): void {
  const m = /skmem:\(([^)]*)\)/.exec(text);
  if (!m) return;
  for (const field of m[1]!.split(',')) {
    const f = /^([a-z]+)(\d+)$/.exec(field);
    if (!f) continue;
    const value = Number(f[2]);
    if (f[1] === 'r') socket.rmemAlloc = value;
    else if (f[1] === 'rb') socket.rcvbuf = value;
    else if (f[1] === 'd') socket.drops = value;
  }
}

// UDP lines have the same columns as TCP ones (state, queues, local, peer, details), so one row
// parser serves both the TCP socket table and the baseline's TCP+UDP inventory.
function parseSsRow(line: string, options: ParseSsOptions): SsRow | undefined {
  const words = new WordReader(line);
  let word = words.next();
  let protocol: SsRow['protocol'];
  if (word !== undefined && NETIDS.has(word)) {
    if (word !== 'tcp' && word !== 'udp') return undefined;
    protocol = word;
    word = words.next();
  }
  if (word === undefined) return undefined;
  const udp = (protocol ?? options.protocol) === 'udp';

  let state: SocketState;
  if (/^\d+$/.test(word)) {
    state = options.state ?? 'UNKNOWN';
  } else {
    const known = normalizeTcpState(word);
    if (!known) return undefined;
    // ss names a UDP socket in TCP_CLOSE UNCONN too: bound (or not even that), unconnected.
    state = udp && known === 'CLOSE' ? 'UNCONN' : known;
    word = words.next();
  }
  const recvQ = toCount(word);
  const sendQ = toCount(words.next());
  const local = parseSsEndpoint(words.next());
  const peer = parseSsEndpoint(words.next());
  if (recvQ === undefined || sendQ === undefined || !local || !peer) return undefined;

  const socket: TcpSocket = { family: local.family, state, ...(udp ? { protocol: 'udp' as const } : {}), recvQ, sendQ, local: local.endpoint, peer: peer.endpoint };

  const { owners, rest } = extractUsers(words.rest());
  if (owners) socket.owners = owners;

  let v6only: number | undefined;
  let details = false;
  let cgroup: string | undefined;
  for (const token of rest.split(/\s+/)) {
    if (token.startsWith('cgroup:')) cgroup = token.slice('cgroup:'.length);
    const m = /^(ino|uid|v6only):(\d+)$/.exec(token);
    if (!m) continue;
    const value = Number(m[2]);
    if (m[1] === 'ino') {
      socket.inode = value;
      details = true;
    } else if (m[1] === 'uid') {
      socket.uid = value;
    } else {
      v6only = value;
    }
  }
  if (udp) readSkmem(rest, socket);
  // ss prints `uid:` only when it is not 0 (ss.c sock_details_print), so with the details shown
  // (`ino:` is always among them) a missing uid is root's.
  if (details && socket.uid === undefined) socket.uid = 0;

  if (local.family === 'inet6' && (local.endpoint.address === '*' || local.endpoint.address === '::')) {
    // ss writes the IPv6 wildcard as `*` when v6only is off and `[::]` when it is on.
    socket.dualStack = v6only !== undefined ? v6only === 0 : local.endpoint.address === '*';
  }
  const said = protocol ?? options.protocol;
  return { ...(said ? { protocol: said } : {}), socket, ...(cgroup !== undefined ? { cgroup } : {}) };
}

/** A listening socket of `ss -Htulne`: TCP in LISTEN or UDP unconnected, with the cgroup it was made in. */
export interface SsListeningSocket {
  protocol: 'tcp' | 'udp';
  socket: TcpSocket;
  cgroup?: string;
}

/**
 * Parses `ss -Htulne` (or `-Htuane`) output into its listening sockets: TCP in state LISTEN and UDP
 * in state UNCONN. Connected UDP sockets, TCP connections and other protocols are skipped. Without
 * a Netid column (one protocol asked for) the state tells which protocol a line is.
 */
export function parseSsListening(text: string): SsListeningSocket[] {
  const out: SsListeningSocket[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || /^\s/.test(line)) continue;
    const row = parseSsRow(line, {});
    if (!row) continue;
    // ss prints a TCP or UDP socket in TCP_CLOSE as UNCONN: a UDP one (Netid udp) reads as
    // UNCONN, one of unknown protocol normalizes to TCP's CLOSE, and is UDP when only UDP can be.
    const protocol = row.protocol ?? (row.socket.state === 'LISTEN' ? 'tcp' : row.socket.state === 'CLOSE' ? 'udp' : undefined);
    const listening = protocol === 'tcp' ? row.socket.state === 'LISTEN' : protocol === 'udp' && (row.socket.state === 'UNCONN' || row.socket.state === 'CLOSE');
    if (!protocol || !listening) continue;
    const socket: TcpSocket = protocol === 'udp' ? { ...row.socket, state: 'UNCONN', protocol } : row.socket;
    out.push({ protocol, socket, ...(row.cgroup !== undefined ? { cgroup: row.cgroup } : {}) });
  }
  return out;
}

/** Splits on runs of blanks while remembering where it is, so the tail can be read verbatim. */
class WordReader {
  #pos = 0;
  constructor(readonly line: string) {}

  next(): string | undefined {
    const re = /\S+/g;
    re.lastIndex = this.#pos;
    const m = re.exec(this.line);
    if (!m) return undefined;
    this.#pos = m.index + m[0].length;
    return m[0];
  }

  rest(): string {
    return this.line.slice(this.#pos);
  }
}

function toCount(word: string | undefined): number | undefined {
  return word !== undefined && /^\d+$/.test(word) ? Number(word) : undefined;
}

/**
 * `127.0.0.1:22`, `127.0.0.1%lo:53`, `[::1]:7075`, `[::1]%lo:7079`, `[::ffff:127.0.0.1]:5000`,
 * `*:7071` (the dual-stack IPv6 wildcard), `0.0.0.0:*` (a listener's peer). Old ss versions print
 * IPv6 without brackets (`:::22`); the last colon still separates the port.
 */
function parseSsEndpoint(word: string | undefined): { endpoint: Endpoint; family: Family } | undefined {
  const split = splitEndpoint(word);
  if (!split) return undefined;
  const { port } = split;
  let host = split.host;
  let device: string | undefined;
  let address: string;
  let family: Family;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return undefined;
    address = host.slice(1, close);
    const after = host.slice(close + 1);
    if (after.startsWith('%')) device = after.slice(1);
    else if (after !== '') return undefined;
    family = 'inet6';
  } else {
    const pct = host.indexOf('%');
    if (pct >= 0) {
      device = host.slice(pct + 1);
      host = host.slice(0, pct);
    }
    address = host;
    family = address === '*' || address.includes(':') ? 'inet6' : 'inet';
  }
  if (address === '') return undefined;
  const endpoint: Endpoint = { address, port };
  if (device) endpoint.device = device;
  return { endpoint, family };
}

/**
 * Takes `users:(("name",pid=1,fd=3),("other",pid=2,fd=4))` out of the tail of a line. Names are
 * printed raw: they may hold blanks, commas, quotes and parentheses, so entries are found by
 * their `",pid=N,fd=N)` ending rather than by splitting. (ss itself cuts a name at its first `)`:
 * a process called `my (app), v2` shows as `my (app`.) Old ss versions omit `pid=` and `fd=`.
 */
function extractUsers(tail: string): { owners?: SocketOwner[]; rest: string } {
  const start = tail.indexOf('users:((');
  if (start < 0) return { rest: tail };
  const owners: SocketOwner[] = [];
  const ending = /",(?:pid=)?(\d+),(?:fd=)?(\d+)\)/g;
  let i = start + 'users:('.length;
  while (tail.startsWith('("', i)) {
    ending.lastIndex = i + 2;
    const m = ending.exec(tail);
    if (!m) break;
    owners.push({ pid: Number(m[1]), program: tail.slice(i + 2, m.index), fd: Number(m[2]) });
    i = m.index + m[0].length;
    if (tail[i] === ',') {
      i += 1;
      continue;
    }
    if (tail[i] === ')') i += 1;
    break;
  }
  return { owners, rest: tail.slice(0, start) + ' ' + tail.slice(i) };
}
