import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatIPv6, parseProcNetTcp } from '../../src/system/procnet.js';
import { parseSs } from '../../src/system/ss.js';

// Captured by test/fixtures/capture-sockets.sh on x86_64 (little-endian), with the ss fixtures.
const fixture = (name: string) => readFileSync(new URL(`../fixtures/proc/${name}`, import.meta.url), 'utf8');

describe('parseProcNetTcp', () => {
  it('decodes /proc/net/tcp: host-order addresses, hex ports and states, queues, uid, inode', () => {
    const sockets = parseProcNetTcp(fixture('tcp.txt'), 'inet', 'LE');
    expect(sockets).toHaveLength(18);
    expect(sockets[0]).toEqual({
      family: 'inet',
      state: 'LISTEN',
      // The accept queue; the backlog is not in the file (tx_queue is 0 on LISTEN).
      recvQ: 2,
      sendQ: 0,
      local: { address: '127.0.0.1', port: 7077 },
      peer: { address: '0.0.0.0', port: 0 },
      uid: 0,
      inode: 30189,
    });
    expect(sockets.find((s) => s.local.port === 7080)).toMatchObject({ local: { address: '0.0.0.0' }, uid: 65534, inode: 30141 });
    const on7071 = sockets.filter((s) => s.local.port === 7071 || s.peer.port === 7071);
    expect(on7071.map((s) => s.state).sort()).toEqual(['CLOSE_WAIT', 'ESTABLISHED', 'ESTABLISHED', 'FIN_WAIT2', 'LISTEN', 'TIME_WAIT', 'TIME_WAIT']);
    expect(on7071.find((s) => s.state === 'ESTABLISHED' && s.local.port === 7071)).toMatchObject({ recvQ: 5, peer: { port: 35796 } });
    expect(sockets.filter((s) => s.state === 'SYN_SENT').map((s) => [s.local.port, s.sendQ, s.inode])).toEqual([
      [37256, 1, 30192],
      [37262, 1, 30193],
    ]);
  });

  it('decodes /proc/net/tcp6, including IPv4-mapped addresses', () => {
    const sockets = parseProcNetTcp(fixture('tcp6.txt'), 'inet6', 'LE');
    expect(sockets.filter((s) => s.state === 'LISTEN').map((s) => [s.local.address, s.local.port, s.inode])).toEqual([
      ['::1', 7075, 30186],
      ['::1', 7079, 30195],
      ['::ffff:127.0.0.1', 7078, 30194],
      ['::', 7073, 30180],
      ['::', 7072, 30179],
    ]);
    expect(sockets.find((s) => s.inode === 30182)).toMatchObject({
      family: 'inet6',
      state: 'ESTABLISHED',
      local: { address: '::ffff:127.0.0.1', port: 7073 },
      peer: { address: '::ffff:127.0.0.1', port: 33308 },
    });
    expect(sockets.every((s) => s.dualStack === undefined)).toBe(true);
  });

  it('agrees with ss captured at the same moment', () => {
    const ss = parseSs(readFileSync(new URL('../fixtures/ss/all-owners.txt', import.meta.url), 'utf8'));
    const proc = [...parseProcNetTcp(fixture('tcp.txt'), 'inet', 'LE'), ...parseProcNetTcp(fixture('tcp6.txt'), 'inet6', 'LE')];
    const key = (s: { state: string; local: { address: string; port: number }; peer: { port: number }; inode?: number }) =>
      `${s.state} ${s.local.address === '*' ? '::' : s.local.address}:${s.local.port} ${s.peer.port} ${s.inode}`;
    expect(proc.map(key).sort()).toEqual(ss.map(key).sort());
  });

  it('reads big-endian hosts too', () => {
    const line = '   0: 7F000001:1B9F 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4511 1 0 100 0 0 10 0';
    expect(parseProcNetTcp(line, 'inet', 'BE')[0]).toMatchObject({ local: { address: '127.0.0.1', port: 7071 }, uid: 1000, inode: 4511 });
  });

  it('returns nothing for the header alone, empty text and garbage', () => {
    expect(parseProcNetTcp(fixture('tcp-empty.txt'), 'inet')).toEqual([]);
    expect(parseProcNetTcp('', 'inet6')).toEqual([]);
    expect(parseProcNetTcp('   0: XYZ:1B9F 00000000:0000 0A\nhello', 'inet')).toEqual([]);
  });
});

describe('formatIPv6', () => {
  it('writes RFC 5952 text', () => {
    const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
    expect(formatIPv6(bytes('20010db8000000000001000000000001'))).toBe('2001:db8::1:0:0:1');
    expect(formatIPv6(bytes('fe800000000000000000000000000001'))).toBe('fe80::1');
    expect(formatIPv6(bytes('20010db8000100010001000100010001'))).toBe('2001:db8:1:1:1:1:1:1');
    expect(formatIPv6(bytes('20010db8000000010001000100010001'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIPv6(bytes('00000000000000000000000000000000'))).toBe('::');
  });
});
