import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNetstat } from '../../src/system/netstat.js';
import { parseProcNetTcp, parseProcNetUdp } from '../../src/system/procnet.js';
import { parseSs, parseSsListening } from '../../src/system/ss.js';

// The three UDP readers over one real capture (test/fixtures/capture-udp-sockets.sh): the same
// sockets read through ss -Huanem, netstat -uaneeW and /proc/net/udp{,6}, two of them after a
// burst overflowed their 2304-byte buffers (48 and 18 datagrams dropped).
const fixture = (dir: string, name: string) => readFileSync(new URL(`../fixtures/${dir}/${name}`, import.meta.url), 'utf8');

const byPort = <T extends { local: { port: number } }>(list: T[], port: number) => list.filter((s) => s.local.port === port);

describe('parseSs with protocol udp', () => {
  const sockets = parseSs(fixture('ss', 'udp-sockets.txt'), { protocol: 'udp' });

  it('reads every UDP socket: UNCONN (bound) and ESTABLISHED (connected), both families', () => {
    expect(sockets.map((s) => [s.state, s.local.address, s.local.port, s.peer.address, s.peer.port])).toEqual([
      ['ESTABLISHED', '127.0.0.1', 35106, '127.0.0.1', 7272],
      ['ESTABLISHED', '127.0.0.1', 40001, '127.0.0.1', 7272],
      ['UNCONN', '0.0.0.0', 7271, '0.0.0.0', 0],
      ['UNCONN', '127.0.0.1', 7272, '0.0.0.0', 0],
      ['ESTABLISHED', '127.0.0.1', 7276, '127.0.0.1', 7272],
      ['UNCONN', '::', 7273, '::', 0],
      ['UNCONN', '*', 7274, '*', 0],
      ['UNCONN', '::1', 7275, '::', 0],
    ]);
    expect(sockets.every((s) => s.protocol === 'udp')).toBe(true);
  });

  it("takes skmem from the indented line -m prints: the buffer, what is queued, and the drops", () => {
    expect(byPort(sockets, 7271)[0]).toEqual({
      family: 'inet',
      state: 'UNCONN',
      protocol: 'udp',
      recvQ: 1664,
      sendQ: 0,
      local: { address: '0.0.0.0', port: 7271 },
      peer: { address: '0.0.0.0', port: 0 },
      inode: 80251,
      uid: 0,
      rmemAlloc: 1664,
      rcvbuf: 2304,
      drops: 48,
    });
    expect(byPort(sockets, 7275)[0]).toMatchObject({ family: 'inet6', rmemAlloc: 1664, rcvbuf: 2304, drops: 18 });
    expect(byPort(sockets, 7272)[0]).toMatchObject({ rmemAlloc: 0, rcvbuf: 212992, drops: 0 });
  });

  it('reads v6only on UDP wildcards as on TCP ones', () => {
    expect(byPort(sockets, 7273)[0]!.dualStack).toBe(false);
    expect(byPort(sockets, 7274)[0]!.dualStack).toBe(true);
  });

  it('reads the owners of -p beside the skmem', () => {
    const owned = parseSs(fixture('ss', 'udp-sockets-owners.txt'), { protocol: 'udp' });
    expect(byPort(owned, 7271)[0]).toMatchObject({ owners: [{ pid: 26652, program: 'wpt-slow', fd: 3 }], drops: 48, rcvbuf: 2304 });
    expect(byPort(owned, 40001)[0]!.owners).toEqual([{ pid: 26655, program: 'dig', fd: 3 }]);
  });

  it('the same lines read as TCP are skipped: a TCP table never holds UDP sockets', () => {
    // Without a Netid column the only tell is the protocol asked for; UNCONN then reads as TCP's CLOSE.
    const asTcp = parseSs(fixture('ss', 'udp-port-7272.txt'));
    expect(asTcp.every((s) => s.protocol === undefined && s.drops === undefined)).toBe(true);
    // A Netid column says which protocol a line is: udp lines are left out of a TCP read, and the reverse.
    const mixed = fixture('ss', 'udp-all.txt');
    expect(parseSs(mixed).every((s) => s.protocol === undefined)).toBe(true);
    expect(parseSs(mixed, { protocol: 'udp' }).map((s) => s.local.port)).toEqual([7171, 7172, 7176, 7177, 7178, 7179, 7179, 7180, 7190, 60217, 7173, 7174, 7175]);
  });

  it('reads one port’s filtered table and an empty one', () => {
    expect(parseSs(fixture('ss', 'udp-port-7276.txt'), { protocol: 'udp' })).toEqual([
      expect.objectContaining({ state: 'ESTABLISHED', local: { address: '127.0.0.1', port: 7276 }, peer: { address: '127.0.0.1', port: 7272 }, rcvbuf: 212992, drops: 0 }),
    ]);
    expect(parseSs(fixture('ss', 'udp-port-empty.txt'), { protocol: 'udp' })).toEqual([]);
  });

  it('ss -Hulne lists the bound sockets only, and the baseline reads them as before', () => {
    const bound = parseSs(fixture('ss', 'udp-bound.txt'), { protocol: 'udp' });
    expect(bound.map((s) => s.local.port)).toEqual([7271, 7272, 7273, 7274, 7275]);
    expect(bound.every((s) => s.state === 'UNCONN' && s.drops === undefined)).toBe(true);
    expect(parseSsListening(fixture('ss', 'udp-listeners.txt')).filter((l) => l.protocol === 'udp').every((l) => l.socket.state === 'UNCONN')).toBe(true);
  });
});

describe('parseNetstat with protocol udp', () => {
  it('reads udp and udp6 lines; an unconnected socket has a blank State, put back as UNCONN', () => {
    const t = parseNetstat(fixture('netstat', 'udp-uaneeW.txt'), { protocol: 'udp' });
    expect(t.sockets.map((s) => [s.family, s.state, s.local.address, s.local.port, s.peer.port, s.uid, s.inode])).toEqual([
      ['inet', 'ESTABLISHED', '127.0.0.1', 35106, 7272, 0, 80254],
      ['inet', 'ESTABLISHED', '127.0.0.1', 40001, 7272, 0, 79402],
      ['inet', 'UNCONN', '0.0.0.0', 7271, 0, 0, 80251],
      ['inet', 'UNCONN', '127.0.0.1', 7272, 0, 0, 80255],
      ['inet', 'ESTABLISHED', '127.0.0.1', 7276, 7272, 0, 80253],
      ['inet6', 'UNCONN', '::', 7273, 0, 0, 80256],
      ['inet6', 'UNCONN', '::', 7274, 0, 0, 80257],
      ['inet6', 'UNCONN', '::1', 7275, 0, 0, 80252],
    ]);
    // Recv-Q is the queued bytes; netstat shows neither the buffer nor the drops.
    expect(byPort(t.sockets, 7271)[0]).toMatchObject({ recvQ: 1664, protocol: 'udp' });
    expect(t.sockets.some((s) => s.drops !== undefined || s.rcvbuf !== undefined)).toBe(false);
  });

  it('reads the program column after a blank State, and -l lists only the unconnected', () => {
    const owned = parseNetstat(fixture('netstat', 'udp-uanpee.txt'), { protocol: 'udp' });
    // netstat names argv[0] (python3), not comm.
    expect(byPort(owned.sockets, 7271)[0]!.owners).toEqual([{ pid: 26652, program: 'python3' }]);
    expect(byPort(owned.sockets, 7276)[0]!.owners).toEqual([{ pid: 26654, program: 'python3' }]);
    const bound = parseNetstat(fixture('netstat', 'udp-ulneeW.txt'), { protocol: 'udp' });
    expect(bound.sockets.map((s) => [s.state, s.local.port])).toEqual([
      ['UNCONN', 7271],
      ['UNCONN', 7272],
      ['UNCONN', 7273],
      ['UNCONN', 7274],
      ['UNCONN', 7275],
    ]);
  });

  it('a TCP read of the same output finds no sockets, and a UDP read of TCP output none', () => {
    expect(parseNetstat(fixture('netstat', 'udp-uaneeW.txt')).sockets).toEqual([]);
    expect(parseNetstat(fixture('netstat', 'taneeW.txt'), { protocol: 'udp' }).sockets).toEqual([]);
  });
});

describe('parseProcNetUdp', () => {
  it('decodes /proc/net/udp: 07 is UNCONN, 01 ESTABLISHED, rx_queue the queued bytes, the last column the drops', () => {
    const v4 = parseProcNetUdp(fixture('proc', 'udp.txt'), 'inet', 'LE');
    expect(v4.map((s) => [s.state, s.local.address, s.local.port, s.peer.address, s.peer.port, s.drops])).toEqual([
      ['ESTABLISHED', '127.0.0.1', 35106, '127.0.0.1', 7272, 0],
      ['ESTABLISHED', '127.0.0.1', 40001, '127.0.0.1', 7272, 0],
      ['UNCONN', '0.0.0.0', 7271, '0.0.0.0', 0, 48],
      ['UNCONN', '127.0.0.1', 7272, '0.0.0.0', 0, 0],
      ['ESTABLISHED', '127.0.0.1', 7276, '127.0.0.1', 7272, 0],
    ]);
    expect(byPort(v4, 7271)[0]).toEqual({
      family: 'inet',
      state: 'UNCONN',
      protocol: 'udp',
      recvQ: 1664,
      sendQ: 0,
      local: { address: '0.0.0.0', port: 7271 },
      peer: { address: '0.0.0.0', port: 0 },
      uid: 0,
      inode: 80251,
      drops: 48,
    });
  });

  it('decodes /proc/net/udp6, drops of [::1] included', () => {
    const v6 = parseProcNetUdp(fixture('proc', 'udp6.txt'), 'inet6', 'LE');
    expect(v6.map((s) => [s.local.address, s.local.port, s.drops, s.recvQ])).toEqual([
      ['::', 7273, 0, 0],
      ['::', 7274, 0, 0],
      ['::1', 7275, 18, 1664],
    ]);
  });

  it('the same sockets as ss reads them, inode for inode', () => {
    const ss = parseSs(fixture('ss', 'udp-sockets.txt'), { protocol: 'udp' });
    const proc = [...parseProcNetUdp(fixture('proc', 'udp.txt'), 'inet'), ...parseProcNetUdp(fixture('proc', 'udp6.txt'), 'inet6')];
    const key = (s: { inode?: number; state: string; local: { port: number }; drops?: number }) => `${s.inode} ${s.state} ${s.local.port} ${s.drops}`;
    expect(proc.map(key).sort()).toEqual(ss.map(key).sort());
  });

  it('TCP files keep their reading: no drops column is taken from them', () => {
    expect(parseProcNetTcp(fixture('proc', 'tcp.txt'), 'inet').some((s) => s.drops !== undefined || s.protocol !== undefined)).toBe(false);
  });
});
