import { TCP_STATES, type TcpState } from './tcp-state-names.js';

export { TCP_STATES, type TcpState };

/**
 * What each TCP state means, in one plain sentence a junior admin can act on: where it sits in
 * the life of a connection, and what seeing it on a port says. Kept as data: the sockets step puts
 * the sentences of the states it saw into its evidence, and `whyport explain STATE` prints them.
 */
export interface TcpStateInfo {
  state: TcpState;
  /** How `ss` prints it (netstat prints `state`). */
  ss: string;
  sentence: string;
}

export const TCP_STATE_INFO: Readonly<Record<TcpState, TcpStateInfo>> = {
  LISTEN: {
    state: 'LISTEN',
    ss: 'LISTEN',
    sentence:
      'A server socket waiting for new connections; connections that completed the handshake wait in its accept queue (Recv-Q in ss, the backlog in Send-Q) until the program calls accept().',
  },
  SYN_SENT: {
    state: 'SYN_SENT',
    ss: 'SYN-SENT',
    sentence:
      'A client sent the first packet of the handshake (SYN) and waits for the answer; if it lingers, nothing answers: a firewall drops the packets, the host is down, or the server\'s accept queue is full.',
  },
  SYN_RECV: {
    state: 'SYN_RECV',
    ss: 'SYN-RECV',
    sentence:
      'A server answered a SYN with SYN-ACK and waits for the client\'s final ACK (a half-open connection); many of them mean a SYN flood, lost packets, or a server too slow to complete handshakes.',
  },
  NEW_SYN_RECV: {
    state: 'NEW_SYN_RECV',
    ss: 'SYN-RECV',
    sentence:
      'The kernel\'s lightweight form of SYN_RECV: a half-open connection waiting for the client\'s final ACK; many of them mean a SYN flood or a server too slow to complete handshakes.',
  },
  ESTABLISHED: {
    state: 'ESTABLISHED',
    ss: 'ESTAB',
    sentence:
      'The handshake is done and data flows both ways: a live connection (on a server it may still sit in the accept queue until the program accepts it).',
  },
  FIN_WAIT1: {
    state: 'FIN_WAIT1',
    ss: 'FIN-WAIT-1',
    sentence:
      'This side closed the connection and sent its FIN, and waits for the peer to acknowledge it; if it lingers, the peer is gone or unreachable.',
  },
  FIN_WAIT2: {
    state: 'FIN_WAIT2',
    ss: 'FIN-WAIT-2',
    sentence:
      'This side closed and the peer acknowledged, but the peer has not closed its own side yet; many of them mean peers that keep connections open after this side hung up (the kernel drops orphaned ones after 60 s).',
  },
  TIME_WAIT: {
    state: 'TIME_WAIT',
    ss: 'TIME-WAIT',
    sentence:
      'The connection is over and this side closed first; the kernel keeps it for 60 s so late packets are not mistaken for a new connection: harmless, but thousands of them use up ephemeral ports on the side that closes.',
  },
  CLOSE: {
    state: 'CLOSE',
    ss: 'UNCONN',
    sentence: 'A socket that is not connected at all: only bound, or fully closed.',
  },
  CLOSE_WAIT: {
    state: 'CLOSE_WAIT',
    ss: 'CLOSE-WAIT',
    sentence:
      'The peer closed its side and this side\'s program was told so (read() returned 0), but it has not called close() yet; these never time out, so many of them mean the program forgets to close sockets (a leak).',
  },
  LAST_ACK: {
    state: 'LAST_ACK',
    ss: 'LAST-ACK',
    sentence:
      'The peer closed first, this side then closed too and waits for the acknowledgement of its FIN: the last moment of a connection the other side ended.',
  },
  CLOSING: {
    state: 'CLOSING',
    ss: 'CLOSING',
    sentence: 'Both sides closed at the same moment and each waits for the other\'s acknowledgement; rare and brief.',
  },
  UNKNOWN: {
    state: 'UNKNOWN',
    ss: 'UNKNOWN',
    sentence: 'A state the tool did not name, so whyport cannot say where in its life the connection is.',
  },
};

/**
 * The state a person or a tool means by `name`, in any of the spellings in use: netstat's
 * (CLOSE_WAIT, FIN_WAIT2), ss's (close-wait, ESTAB, FIN-WAIT-2, UNCONN, SYN-RECV), the RFC's
 * (CLOSED, SYN-RECEIVED), with any case and `-` or `_`; undefined for anything else.
 */
export function parseTcpStateName(name: string): TcpState | undefined {
  const key = name.trim().toUpperCase().replace(/[\s-]+/g, '_');
  if (!key) return undefined;
  const aliases: Record<string, TcpState> = {
    ESTAB: 'ESTABLISHED',
    UNCONN: 'CLOSE',
    CLOSED: 'CLOSE',
    LISTENING: 'LISTEN',
    SYN_RECEIVED: 'SYN_RECV',
    FIN_WAIT_1: 'FIN_WAIT1',
    FIN_WAIT_2: 'FIN_WAIT2',
    TIMEWAIT: 'TIME_WAIT',
    CLOSEWAIT: 'CLOSE_WAIT',
    NEW_SYN_RECEIVED: 'NEW_SYN_RECV',
  };
  const state = aliases[key] ?? key;
  // UNKNOWN is whyport's own placeholder, not a state anybody asks about.
  return state !== 'UNKNOWN' && (TCP_STATES as readonly string[]).includes(state) ? (state as TcpState) : undefined;
}

/** The sentence of each state in `states`, for a step's evidence (in the order given, once each). */
export function stateSentences(states: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of states) {
    const info = TCP_STATE_INFO[s as TcpState];
    if (info && !(s in out)) out[s] = info.sentence;
  }
  return out;
}

// One row of the life-cycle diagram: the client (or the side that closes first) on the left, the
// server (or the other side) on the right, the packet between them.
type Row = { left?: string; packet?: string; right?: string; note?: string } | { heading: string };

const LIFE_CYCLE: readonly Row[] = [
  { heading: 'Opening (the three-way handshake)' },
  { left: 'client', right: 'server' },
  { right: 'LISTEN', note: 'listen(): waits for connections' },
  { left: 'SYN_SENT', packet: '──── SYN ──────────▶', right: 'SYN_RECV', note: 'half-open' },
  { left: 'ESTABLISHED', packet: '◀─── SYN+ACK ───────' },
  { packet: '──── ACK ──────────▶', right: 'ESTABLISHED', note: 'waits in the accept queue until accept()' },
  { packet: '◀═══ data ═════════▶' },
  { heading: 'Closing (either side may close first)' },
  { left: 'closes first', right: 'the other side' },
  { left: 'FIN_WAIT1', packet: '──── FIN ──────────▶', right: 'CLOSE_WAIT', note: 'until its program calls close()' },
  { left: 'FIN_WAIT2', packet: '◀─── ACK ───────────' },
  { packet: '◀─── FIN ───────────', right: 'LAST_ACK' },
  { left: 'TIME_WAIT', packet: '──── ACK ──────────▶', right: 'CLOSED' },
  { left: 'CLOSED', note: 'after 60 s in TIME_WAIT' },
  { heading: 'Both sides close at the same moment: FIN_WAIT1 → CLOSING → TIME_WAIT' },
];

/** The labels in the diagram that stand for a state (CLOSE is drawn CLOSED, as in the RFC). */
function labelsOf(state: TcpState): string[] {
  if (state === 'CLOSE') return ['CLOSED'];
  if (state === 'NEW_SYN_RECV') return ['SYN_RECV'];
  return [state];
}

const CELL = 13; // "[ESTABLISHED]": the widest label with its brackets

/**
 * The life of a TCP connection as text, with `mark` (if given) bracketed and its rows pointed at
 * with » — what `whyport explain STATE` prints.
 */
export function renderLifeCycle(mark?: TcpState): string {
  const labels = mark ? labelsOf(mark) : [];
  const cell = (label = '') => (labels.includes(label) ? `[${label}]` : ` ${label} `).padEnd(CELL + 1);
  const out: string[] = [];
  for (const row of LIFE_CYCLE) {
    if ('heading' in row) {
      const hit = mark === 'CLOSING' && row.heading.includes('CLOSING');
      out.push('', `${hit ? '»' : ' '} ${hit ? row.heading.replace('CLOSING', '[CLOSING]') : row.heading}`);
      continue;
    }
    const hit = labels.some((l) => l === row.left || l === row.right);
    const packet = (row.packet ?? '').padEnd(20);
    out.push(`${hit ? '»' : ' '}   ${cell(row.left)} ${packet} ${cell(row.right)}${row.note ? ` ${row.note}` : ''}`.trimEnd());
  }
  return out.slice(1).join('\n') + '\n';
}
