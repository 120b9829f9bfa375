import { readFileSync } from 'node:fs';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHost } from '../../src/host/local.js';
import { Facts } from '../../src/system/facts.js';
import type { SocketSource, TcpSocket } from '../../src/system/socket.js';
import { readListeners, readSocketTable, socketTableArgv, udpSocketTableArgv } from '../../src/system/socket-query.js';

// Real UDP sockets on loopback, opened by this test on ports the kernel picks: a bound one, and a
// connected one whose peer is the bound one. Read with the real ss and netstat, and from /proc.
const myComm = readFileSync('/proc/self/comm', 'utf8').replace(/\n$/, '');

let bound: Socket;
let connected: Socket;
let port: number;
let clientPort: number;

beforeAll(async () => {
  bound = createSocket('udp4');
  await new Promise<void>((resolve) => bound.bind(0, '127.0.0.1', resolve));
  port = bound.address().port;
  connected = createSocket('udp4');
  await new Promise<void>((resolve) => connected.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => connected.connect(port, '127.0.0.1', resolve));
  clientPort = connected.address().port;
});

afterAll(() => {
  bound?.close();
  connected?.close();
});

const find = (sockets: TcpSocket[], state: string, localPort: number) => sockets.find((s) => s.state === state && s.local.port === localPort);

describe.each<SocketSource>(['ss', 'netstat', 'proc'])('readSocketTable for UDP, prefer %s', (prefer) => {
  it('reads the bound socket as UNCONN and the connected one as ESTABLISHED, with owners', async () => {
    const table = await readSocketTable(localHost, port, { timeoutMs: 5_000, prefer, protocol: 'udp' });
    expect(table).toMatchObject({ source: prefer, protocol: 'udp', notices: [], ownersHidden: false });
    const me = { pid: process.pid, program: myComm };
    const service = find(table.sockets, 'UNCONN', port);
    expect(service).toMatchObject({ protocol: 'udp', family: 'inet', local: { address: '127.0.0.1', port }, peer: { port: 0 } });
    expect(service!.owners).toEqual([expect.objectContaining(me)]);
    expect(find(table.sockets, 'ESTABLISHED', clientPort)).toMatchObject({ peer: { address: '127.0.0.1', port } });
    // ss shows the buffer and the drops, /proc the drops, netstat neither.
    expect(service!.drops).toBe(prefer === 'netstat' ? undefined : 0);
    expect(service!.rcvbuf === undefined).toBe(prefer !== 'ss');
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    expect(table.command).toBe(
      { ss: `ss -Huanm '( sport = :${port} or dport = :${port} )'`, netstat: `netstat -uanp | grep ':${port} '`, proc: `grep ':${hex} ' /proc/net/udp /proc/net/udp6` }[prefer],
    );
  });

  it('readListeners for UDP lists the bound sockets only, without owners', async () => {
    const table = await readListeners(localHost, { timeoutMs: 5_000, prefer, protocol: 'udp' });
    expect(table.sockets.every((s) => s.state === 'UNCONN' && s.protocol === 'udp')).toBe(true);
    expect(find(table.sockets, 'UNCONN', port)!.owners).toBeUndefined();
    expect(find(table.sockets, 'ESTABLISHED', clientPort)).toBeUndefined();
  });
});

describe('the TCP path is left as it was', () => {
  it('the same argv, and a TCP table knows no UDP socket', async () => {
    expect(socketTableArgv(53)).toEqual(['ss', '-Htane', 'state', 'all', '( sport = :53 or dport = :53 )']);
    expect(udpSocketTableArgv(53)).toEqual(['ss', '-Huanem', 'state', 'all', '( sport = :53 or dport = :53 )']);
    const tcp = await readSocketTable(localHost, port, { timeoutMs: 5_000 });
    expect(tcp.protocol).toBeUndefined();
    expect(tcp.sockets.some((s) => s.protocol === 'udp')).toBe(false);
  });

  it('Facts reads each protocol once, apart', async () => {
    const facts = new Facts(localHost, { timeoutMs: 5_000 });
    const udp = facts.socketTable(port, 'udp');
    expect(facts.socketTable(port, 'udp')).toBe(udp);
    expect(facts.socketTable(port)).not.toBe(udp);
    expect(facts.socketTable(port)).toBe(facts.socketTable(port, 'tcp'));
    expect((await udp).sockets.map((s) => [s.state, s.local.port]).sort()).toEqual([
      ['ESTABLISHED', clientPort],
      ['UNCONN', port],
    ].sort());
  });
});
