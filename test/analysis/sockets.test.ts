import { localHost } from '../../src/host/local.js';
import type { Host } from '../../src/host/host.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../src/knowledge/thresholds.js';
import { parseNetstat } from '../../src/system/netstat.js';
import { parseProcNetTcp } from '../../src/system/procnet.js';
import { analyseSockets, type AnalysisOptions } from '../../src/analysis/sockets.js';
import type { SocketTable } from '../../src/system/socket.js';
import { parseSs } from '../../src/system/ss.js';

// Real captures: test/fixtures/capture-socket-states.sh (states-*, nstat/*) and
// test/fixtures/capture-sockets.sh (accept-queue.txt, port-7071*, taneeW.txt, tcp.txt). Pids are
// read from the captures themselves, so a new capture needs no edit here.
const text = (dir: string, name: string) => readFileSync(new URL(`../fixtures/${dir}/${name}`, import.meta.url), 'utf8');

const fromSs = (name: string): SocketTable => ({ source: 'ss', command: 'ss', sockets: parseSs(text('ss', name)), ownersHidden: false, notices: [] });
const fromNetstat = (name: string): SocketTable => ({ source: 'netstat', command: 'netstat', sockets: parseNetstat(text('netstat', name)).sockets, ownersHidden: false, notices: [] });
const fromProc = (name: string): SocketTable => ({ source: 'proc', command: 'proc', sockets: parseProcNetTcp(text('proc', name), 'inet'), ownersHidden: false, notices: [] });

/** The pid ss printed for a program in a capture. */
function pidIn(name: string, program: string): number {
  const m = new RegExp(`\\("${program}",pid=(\\d+)`).exec(text('ss', name));
  if (!m) throw new Error(`no ${program} in ${name}`);
  return Number(m[1]);
}

const analyse = (table: SocketTable, port: number, more: Partial<AnalysisOptions> = {}) => analyseSockets(table, { port, ...more });
const codes = (a: { findings: { code: string }[] }) => a.findings.map((f) => f.code);

describe('accept queue against the backlog', () => {
  it('ss: listen(1), never accepted → LISTEN 2 1, full, owner named, SYN_SENT explained', () => {
    const a = analyse(fromSs('states-accept-queue-owners.txt'), 7086);
    const pid = pidIn('states-accept-queue-owners.txt', 'stuck-srv');
    expect(a.listeners).toHaveLength(1);
    expect(a.fullQueues[0]).toMatchObject({ endpoint: '127.0.0.1:7086', queue: 2, backlog: 1, full: true, owners: [{ pid, program: 'stuck-srv' }] });
    expect(a.fullQueues[0]!.detail).toBe('2 connections wait for accept(), backlog 1');
    expect(a.counts).toEqual({ LISTEN: 1, ESTABLISHED: 4, SYN_SENT: 4 });
    expect(Object.keys(a.states)).toEqual(['LISTEN', 'ESTABLISHED', 'SYN_SENT']);
    expect(a.states.SYN_SENT).toMatch(/accept queue is full/);
    expect(codes(a)).toEqual(['ACCEPT_QUEUE_FULL']);
    expect(a.findings[0]!.summary).toContain(`127.0.0.1:7086 held by stuck-srv (pid ${pid})`);
  });

  it('ss without owners (as ss -Htane prints it): still full, the owner said to be unseen', () => {
    const a = analyse(fromSs('accept-queue.txt'), 7077);
    expect(a.fullQueues).toHaveLength(1);
    expect(a.fullQueues[0]).toMatchObject({ queue: 2, backlog: 1, owners: null });
    expect(a.fullQueues[0]!.who).toBe('127.0.0.1:7077 held by a process not visible from here');
  });

  it('as non-root, ss hides other users’ owners: said so, not guessed', () => {
    const table = { ...fromSs('nonroot-all-owners.txt'), ownersHidden: true };
    const a = analyse(table, 7077);
    expect(a.fullQueues[0]).toMatchObject({ queue: 2, backlog: 1, owners: null });
    expect(a.fullQueues[0]!.who).toBe('127.0.0.1:7077 held by a process only root can see (run whyport as root to name it)');
  });

  it('a listener with room in its queue is not full (LISTEN 0 128)', () => {
    const a = analyse(fromSs('port-7071.txt'), 7071);
    expect(a.listeners[0]).toMatchObject({ queue: 0, backlog: 128, full: false });
    expect(a.fullQueues).toEqual([]);
  });

  it('netstat: the queue is shown, the backlog is not; somaxconn is only an upper bound', () => {
    const a = analyse(fromNetstat('taneeW.txt'), 7077, { somaxconn: 4096 });
    expect(a.listeners[0]).toMatchObject({ queue: 2, backlog: null, backlogAtMost: 4096, full: false });
    expect(a.unknownBacklog).toHaveLength(1);
    expect(codes(a)).toEqual(['ACCEPT_QUEUE_WAITING']);
    expect(a.findings[0]!.summary).toContain('backlog unknown (netstat does not show it; at most net.core.somaxconn = 4096)');
    expect(a.findings[0]!.summary).toContain('ss -ltn');
  });

  it('netstat: a queue as long as somaxconn is full whatever the program asked for', () => {
    const a = analyse(fromNetstat('taneeW.txt'), 7077, { somaxconn: 2 });
    expect(a.fullQueues[0]).toMatchObject({ queue: 2, backlog: null, full: true });
  });

  it('/proc/net/tcp: rx_queue of a listener is its queue, the backlog unknown', () => {
    const a = analyse(fromProc('tcp.txt'), 7077);
    expect(a.listeners[0]).toMatchObject({ queue: 2, backlog: null, full: false });
    expect(a.listeners[0]!.detail).toContain('/proc/net/tcp does not show it; net.core.somaxconn unreadable');
  });
});

describe('CLOSE_WAIT per owning process', () => {
  it('ss -p: 27 accepted connections never closed, 22 by leaky-srv and 5 by its worker → a leak', () => {
    const name = 'states-close-wait-owners.txt';
    const a = analyse(fromSs(name), 7081);
    expect(a.counts).toEqual({ LISTEN: 1, CLOSE_WAIT: 27, FIN_WAIT2: 27 });
    expect(a.closeWait).toMatchObject({ total: 27, serverSide: 27, clientSide: 0, threshold: 20, leak: true, clientLeak: false });
    expect(a.closeWait.serverOwners).toEqual([
      { pid: pidIn(name, 'leaky-srv'), program: 'leaky-srv', count: 22, owner: `leaky-srv (pid ${pidIn(name, 'leaky-srv')})` },
      { pid: pidIn(name, 'leaky-wrk'), program: 'leaky-wrk', count: 5, owner: `leaky-wrk (pid ${pidIn(name, 'leaky-wrk')})` },
    ]);
    // The client side of the same connections: closed here, waiting for the server's FIN.
    expect(a.finWait2).toMatchObject({ total: 27, serverSide: 0, clientSide: 27, many: false });
    expect(codes(a)).toEqual(['CLOSE_WAIT_LEAK']);
    expect(a.findings[0]!.summary).toMatch(/^27 connections accepted on port 7081 sit in CLOSE_WAIT \(threshold 20\) — leaky-srv \(pid \d+\): 22, leaky-wrk \(pid \d+\): 5/);
    expect(a.states.CLOSE_WAIT).toMatch(/never time out/);
  });

  it('the threshold is a parameter: 30 → no leak', () => {
    const a = analyse(fromSs('states-close-wait-owners.txt'), 7081, { thresholds: { closeWait: 30 } });
    expect(a.closeWait.leak).toBe(false);
    expect(a.thresholds).toEqual({ ...DEFAULT_THRESHOLDS, closeWait: 30 });
    expect(codes(a)).toEqual([]);
  });

  it('netstat and /proc/net/tcp count the same 27', () => {
    for (const a of [analyse(fromNetstat('states-close-wait.txt'), 7081), analyse(fromProc('states-close-wait-tcp.txt'), 7081)]) {
      expect(a.closeWait).toMatchObject({ serverSide: 27, leak: true });
      expect(a.counts).toEqual({ LISTEN: 1, CLOSE_WAIT: 27, FIN_WAIT2: 27 });
    }
  });

  it('one CLOSE_WAIT is no leak (port 7071)', () => {
    const a = analyse(fromSs('port-7071-owners.txt'), 7071);
    expect(a.closeWait).toMatchObject({ total: 1, serverSide: 1, leak: false });
    expect(a.timeWait).toMatchObject({ total: 2, serverSide: 1, clientSide: 1, many: false });
    expect(a.findings).toEqual([]);
  });
});

describe('half-open, TIME_WAIT', () => {
  it('60 SYN_RECV (the clients’ final ACK dropped) → a finding; ss, netstat and /proc agree', () => {
    const tables = [fromSs('states-syn-recv-owners.txt'), fromNetstat('states-syn-recv.txt'), fromProc('states-syn-recv-tcp.txt')];
    for (const table of tables) {
      const a = analyse(table, 7082);
      expect(a.synRecv, table.source).toMatchObject({ total: 60, serverSide: 60, many: true });
      expect(codes(a), table.source).toEqual(['SYN_RECV_MANY']);
      expect(a.states.SYN_RECV).toMatch(/half-open/);
    }
    expect(analyse(tables[0]!, 7082, { thresholds: { synRecv: 61 } }).findings).toEqual([]);
  });

  it('TIME_WAIT: 40 on the client side, 5 on the server side; a finding only at the threshold', () => {
    const a = analyse(fromSs('states-time-wait.txt'), 7083);
    expect(a.timeWait).toMatchObject({ total: 45, clientSide: 40, serverSide: 5, many: false });
    expect(a.findings).toEqual([]);
    const low = analyse(fromSs('states-time-wait.txt'), 7083, { thresholds: { timeWait: 45 } });
    expect(codes(low)).toEqual(['TIME_WAIT_MANY']);
    expect(low.findings[0]!.summary).toContain("40 on this machine's client side, each holding an ephemeral port toward port 7083");
    expect(low.findings[0]!.summary).toContain('5 on the server side');
  });
});

describe('a server that went away', () => {
  it('killed while its clients still hold their connections: orphaned FIN_WAIT2 and the clients’ CLOSE_WAIT', () => {
    const a = analyse(fromSs('states-killed-open-owners.txt'), 7084);
    expect(a.listeners).toEqual([]);
    expect(a.recent).toEqual({ sockets: 6, counts: { FIN_WAIT2: 3, CLOSE_WAIT: 3 }, holders: [] });
    // The CLOSE_WAIT belongs to the clients, not to a server: nobody to blame for the port.
    expect(a.closeWait).toMatchObject({ serverSide: 0, clientSide: 3, leak: false });
    expect(codes(a)).toEqual(['SERVER_GONE']);
    expect(a.findings[0]!.summary).toBe('no listener on port 7084, yet 3 CLOSE_WAIT, 3 FIN_WAIT2 left by connections to it: a server was here recently and went away.');
  });

  it('killed, then the clients closed: TIME_WAIT on the server side, no listener', () => {
    for (const table of [fromSs('states-killed-closed.txt'), fromNetstat('states-killed-closed.txt'), fromProc('states-killed-closed-tcp.txt')]) {
      const a = analyse(table, 7084);
      expect(a.recent, table.source).toMatchObject({ sockets: 3, counts: { TIME_WAIT: 3 } });
      expect(a.findings[0]!.summary).toContain('(a closed connection stays in TIME_WAIT for 60 s)');
    }
  });

  it('a process that closed its listener but holds accepted connections is named', () => {
    const name = 'states-stopped-listening-owners.txt';
    const a = analyse(fromSs(name), 7085);
    const pid = pidIn(name, 'quitter');
    expect(a.recent?.holders).toEqual([{ pid, program: 'quitter', count: 2, owner: `quitter (pid ${pid})` }]);
    expect(codes(a)).toEqual(['SERVER_GONE', 'STOPPED_LISTENING']);
    expect(a.findings[1]!.summary).toBe(`quitter (pid ${pid}) still holds 2 connections accepted on port 7085, but listens no more: it is running and closed (or lost) its listening socket.`);
  });

  it('connections from here to the port on another host are no trace of a server here', () => {
    const table = fromSs('port-7071.txt');
    const clientOnly = { ...table, sockets: table.sockets.filter((s) => s.local.port !== 7071) };
    const remote = analyse(clientOnly, 7071, { isLocalAddress: () => false });
    expect(remote.recent).toBeNull();
    expect(remote.outgoingOnly).toBe(3);
    expect(remote.findings).toEqual([]);
    // The same sockets toward a local address do show a server was here.
    expect(analyse(clientOnly, 7071).recent?.sockets).toBe(3);
  });
});

describe('countStates', () => {
  it('LISTEN first, then most first, then by name: the same words whatever order ss listed them in', async () => {
    const { countStates } = await import('../../src/analysis/sockets.js');
    const of = (...states: string[]) => Object.keys(countStates(states.map((state) => ({ state }) as never)));
    expect(of('FIN_WAIT2', 'TIME_WAIT', 'CLOSE_WAIT', 'LISTEN', 'TIME_WAIT')).toEqual(['LISTEN', 'TIME_WAIT', 'CLOSE_WAIT', 'FIN_WAIT2']);
    expect(of('CLOSE_WAIT', 'TIME_WAIT', 'FIN_WAIT2', 'TIME_WAIT', 'LISTEN')).toEqual(['LISTEN', 'TIME_WAIT', 'CLOSE_WAIT', 'FIN_WAIT2']);
  });
});
