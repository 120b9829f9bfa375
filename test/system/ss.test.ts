import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeTcpState, parseSs } from '../../src/system/ss.js';

// Captured by test/fixtures/capture-sockets.sh (see there for which socket is which).
const fixture = (name: string) => readFileSync(new URL(`../fixtures/ss/${name}`, import.meta.url), 'utf8');

describe('parseSs', () => {
  it('reads every state of one port (ss -Htane state all with a port filter)', () => {
    const sockets = parseSs(fixture('port-7071.txt'));
    expect(sockets.map((s) => s.state)).toEqual([
      'LISTEN',
      'CLOSE_WAIT',
      'TIME_WAIT',
      'ESTABLISHED',
      'FIN_WAIT2',
      'TIME_WAIT',
      'ESTABLISHED',
    ]);
    expect(sockets[0]).toEqual({
      family: 'inet',
      state: 'LISTEN',
      recvQ: 0,
      sendQ: 128,
      local: { address: '0.0.0.0', port: 7071 },
      peer: { address: '0.0.0.0', port: 0 },
      inode: 30170,
      uid: 0,
    });
    // Accepted, never closed, the client closed: CLOSE-WAIT holding the client's FIN (1 byte).
    expect(sockets[1]).toMatchObject({ state: 'CLOSE_WAIT', recvQ: 1, local: { port: 7071 }, peer: { address: '127.0.0.1', port: 35802 }, inode: 30174 });
    // No file holds a TIME-WAIT socket: inode 0.
    expect(sockets[2]).toMatchObject({ state: 'TIME_WAIT', local: { port: 7071 }, peer: { port: 35818 }, inode: 0 });
    // The keepalive timer's commas and parentheses do not disturb the columns after it.
    expect(sockets[3]).toMatchObject({ state: 'ESTABLISHED', local: { port: 35796 }, peer: { port: 7071 }, inode: 30171, uid: 0 });
    expect(sockets[6]).toMatchObject({ state: 'ESTABLISHED', recvQ: 5, sendQ: 0, local: { port: 7071 }, peer: { port: 35796 } });
    // Without -p nothing is said about owners.
    expect(sockets.every((s) => s.owners === undefined)).toBe(true);
  });

  it('reads the owners of ss -p, with the same sockets as without it', () => {
    const plain = parseSs(fixture('port-7071.txt'));
    const withOwners = parseSs(fixture('port-7071-owners.txt'));
    expect(withOwners.map(({ owners: _o, ...s }) => s)).toEqual(plain);
    expect(withOwners[0]!.owners).toEqual([{ pid: 13467, program: 'python3', fd: 3 }]);
    expect(withOwners[3]!.owners).toEqual([{ pid: 13467, program: 'python3', fd: 4 }]);
    // TIME-WAIT and the orphaned FIN-WAIT-2 have no process and no users:(…) column.
    expect(withOwners[2]!.owners).toBeUndefined();
    expect(withOwners[4]!.owners).toBeUndefined();
  });

  it('reads several owners of one socket, with blanks, commas, quotes and parentheses in their names', () => {
    const sockets = parseSs(fixture('listeners-owners.txt'));
    const shared = sockets.find((s) => s.local.port === 7076)!;
    expect(shared.owners).toEqual([
      { pid: 13494, program: 'worker "b", 2', fd: 3 },
      // The process is called `my (app), v2`: ss itself cuts the name at its first ')'.
      { pid: 13468, program: 'my (app', fd: 3 },
    ]);
    expect(shared).toMatchObject({ inode: 30790, uid: 0, local: { address: '127.0.0.1', port: 7076 } });
  });

  it('tells the IPv6 wildcards, loopback, mapped and device-bound listeners apart', () => {
    const byPort = new Map(parseSs(fixture('listeners.txt')).map((s) => [s.local.port, s]));
    expect(byPort.size).toBe(10);
    expect(byPort.get(7073)).toEqual({
      family: 'inet6',
      state: 'LISTEN',
      recvQ: 0,
      sendQ: 128,
      local: { address: '*', port: 7073 },
      peer: { address: '*', port: 0 },
      inode: 30180,
      uid: 0,
      dualStack: true,
    });
    expect(byPort.get(7072)).toMatchObject({ family: 'inet6', local: { address: '::', port: 7072 }, peer: { address: '::', port: 0 }, dualStack: false });
    expect(byPort.get(7075)).toMatchObject({ family: 'inet6', local: { address: '::1', port: 7075 } });
    expect(byPort.get(7075)!.dualStack).toBeUndefined();
    expect(byPort.get(7078)).toMatchObject({ family: 'inet6', local: { address: '::ffff:127.0.0.1', port: 7078 } });
    expect(byPort.get(7074)).toMatchObject({ family: 'inet', local: { address: '127.0.0.1', port: 7074, device: 'lo' } });
    expect(byPort.get(7079)).toMatchObject({ family: 'inet6', local: { address: '::1', port: 7079, device: 'lo' } });
    expect(byPort.get(7071)).toMatchObject({ family: 'inet', local: { address: '0.0.0.0', port: 7071 } });
    expect(byPort.get(7071)!.dualStack).toBeUndefined();
    expect(byPort.get(7080)).toMatchObject({ uid: 65534, inode: 30141 });
  });

  it('reads a full accept queue: on LISTEN Recv-Q is the queue and Send-Q the backlog', () => {
    const sockets = parseSs(fixture('accept-queue.txt'));
    expect(sockets[0]).toMatchObject({ state: 'LISTEN', recvQ: 2, sendQ: 1, local: { address: '127.0.0.1', port: 7077 } });
    // Queued but not accepted: established, held by no file yet.
    const queued = sockets.filter((s) => s.local.port === 7077 && s.state === 'ESTABLISHED');
    expect(queued.map((s) => s.inode)).toEqual([0, 0]);
    // Connects beyond the queue are dropped: they stay in SYN-SENT with the SYN unacknowledged.
    const waiting = sockets.filter((s) => s.state === 'SYN_SENT');
    expect(waiting.map((s) => [s.local.port, s.peer.port, s.sendQ, s.inode])).toEqual([
      [37256, 7077, 1, 30192],
      [37262, 7077, 1, 30193],
    ]);
  });

  it('reads the v4-mapped side of an IPv4 connection to a dual-stack listener', () => {
    const sockets = parseSs(fixture('all-owners.txt'));
    expect(sockets).toHaveLength(28);
    const mapped = sockets.find((s) => s.local.address === '::ffff:127.0.0.1' && s.local.port === 7073)!;
    expect(mapped).toMatchObject({
      family: 'inet6',
      state: 'ESTABLISHED',
      peer: { address: '::ffff:127.0.0.1', port: 33308 },
      owners: [{ pid: 13467, program: 'python3', fd: 11 }],
      inode: 30182,
    });
  });

  it('shows only the own processes as non-root, silently', () => {
    const sockets = parseSs(fixture('nonroot-all-owners.txt'));
    expect(sockets).toHaveLength(28);
    const withOwners = sockets.filter((s) => s.owners);
    expect(withOwners.map((s) => [s.local.port, s.uid, s.owners])).toEqual([[7080, 65534, [{ pid: 13469, program: 'python3', fd: 3 }]]]);
  });

  it('uses the given state when ss printed no State column (a single-state query)', () => {
    const text = fixture('no-state-column.txt');
    expect(parseSs(text, { state: 'LISTEN' }).map((s) => [s.state, s.local.port, s.recvQ, s.sendQ])).toContainEqual(['LISTEN', 7077, 2, 1]);
    expect(parseSs(text, { state: 'LISTEN' })).toHaveLength(10);
    expect(parseSs(text).every((s) => s.state === 'UNKNOWN')).toBe(true);
  });

  it('returns nothing for empty output, and skips headers, blank and garbage lines', () => {
    expect(parseSs(fixture('empty.txt'))).toEqual([]);
    expect(parseSs('')).toEqual([]);
    const text = [
      'State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process',
      '',
      'Cannot open netlink socket: Protocol not supported',
      'LISTEN 0 128 0.0.0.0:notaport 0.0.0.0:*',
      fixture('port-7071.txt').split('\n')[0],
      '\t cubic wscale:7,7 rto:204',
      'udp   UNCONN 0 0 0.0.0.0:53 0.0.0.0:*',
      'tcp   LISTEN 0 4096 127.0.0.53%lo:53 0.0.0.0:*',
    ].join('\n');
    expect(parseSs(text).map((s) => [s.state, s.local.address, s.local.port, s.local.device])).toEqual([
      ['LISTEN', '0.0.0.0', 7071, undefined],
      ['LISTEN', '127.0.0.53', 53, 'lo'],
    ]);
  });
});

describe('normalizeTcpState', () => {
  it('maps ss names to netstat names', () => {
    expect(
      ['ESTAB', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'UNCONN', 'CLOSE-WAIT', 'LAST-ACK', 'LISTEN', 'CLOSING'].map(
        normalizeTcpState,
      ),
    ).toEqual(['ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING']);
    expect(normalizeTcpState('FIN_WAIT1')).toBe('FIN_WAIT1');
    expect(normalizeTcpState('Recv-Q')).toBeUndefined();
  });
});
