// The inventory parser on real `ss -Htulne` output (captured by test/fixtures/ss/capture-udp.sh),
// and the step from sockets to baseline entries.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listenersFromSockets, parseListeningSockets, type SocketHolder } from '../../src/baseline/inventory.js';

const SS = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'ss');
const fixture = (name: string) => readFileSync(join(SS, name), 'utf8');

describe('parseListeningSockets', () => {
  const sockets = parseListeningSockets(fixture('udp-listeners.txt'));

  it('reads every TCP LISTEN and UDP UNCONN line', () => {
    expect(sockets).toHaveLength(17);
    expect(sockets.filter((s) => s.protocol === 'udp')).toHaveLength(12);
    expect(sockets.filter((s) => s.protocol === 'tcp').map((s) => s.port)).toEqual([7181, 7182, 7183, 7184, 7185]);
  });

  it('reads addresses, families, devices, inodes and the socket cgroup', () => {
    const at = (protocol: string, port: number) => sockets.filter((s) => s.protocol === protocol && s.port === port);
    expect(at('udp', 7171)).toEqual([{ protocol: 'udp', family: 'inet', address: '0.0.0.0', port: 7171, inode: 103197, cgroup: '/' }]);
    expect(at('udp', 7176)[0]).toMatchObject({ address: '127.0.0.1', device: 'lo', family: 'inet' });
    expect(at('udp', 7173)[0]).toMatchObject({ address: '::', family: 'inet6' });
    // ss writes the dual-stack IPv6 wildcard (v6only off) as `*`.
    expect(at('udp', 7174)[0]).toMatchObject({ address: '*', family: 'inet6' });
    expect(at('udp', 7175)[0]).toMatchObject({ address: '::1', family: 'inet6' });
    expect(at('udp', 7180)[0]).toMatchObject({ address: '0.0.0.0', inode: 103188 });
    expect(at('udp', 7190)[0]).toMatchObject({ cgroup: '/wpt-capture.slice/wpt-demo.service' });
    expect(at('udp', 7179).map((s) => s.inode)).toEqual([103996, 103212]);
    expect(at('tcp', 7183)[0]).toMatchObject({ address: '*', family: 'inet6' });
    expect(at('tcp', 7184)[0]).toMatchObject({ address: '::', family: 'inet6' });
  });

  it('keeps the socket a client autobound by sending without bind(): UDP cannot tell it from a listener', () => {
    expect(sockets.some((s) => s.protocol === 'udp' && s.port === 60217)).toBe(true);
  });

  it('skips connected UDP sockets and TCP connections (ss -a output)', () => {
    const all = fixture('udp-all.txt');
    expect(all).toMatch(/^udp ESTAB .*:7177/m);
    expect(all).toMatch(/^tcp ESTAB /m);
    expect(parseListeningSockets(all)).toEqual(sockets);
  });

  it('reads the same as root and as nobody (no owner columns are asked for)', () => {
    expect(parseListeningSockets(fixture('udp-listeners-nonroot.txt'))).toEqual(sockets);
  });

  it('returns nothing for a namespace without sockets', () => {
    expect(fixture('udp-empty.txt')).toBe('');
    expect(parseListeningSockets(fixture('udp-empty.txt'))).toEqual([]);
  });

  it('reads TCP-only output without a Netid column (ss -Htlne), including the ugly addresses', () => {
    const tcp = parseListeningSockets(fixture('listeners.txt'));
    expect(tcp).toHaveLength(10);
    expect(tcp.every((s) => s.protocol === 'tcp')).toBe(true);
    expect(tcp.find((s) => s.port === 7078)).toMatchObject({ address: '::ffff:127.0.0.1', family: 'inet6' });
    expect(tcp.find((s) => s.port === 7079)).toMatchObject({ address: '::1', device: 'lo', family: 'inet6' });
    expect(tcp.find((s) => s.port === 7073)).toMatchObject({ address: '*', family: 'inet6' });
  });

  it('ignores garbage and other protocols', () => {
    expect(parseListeningSockets('raw UNCONN 0 0 0.0.0.0:255 0.0.0.0:*\nnonsense\nudp UNCONN x 0 0.0.0.0:53 0.0.0.0:*\n')).toEqual([]);
  });
});

describe('listenersFromSockets', () => {
  const sockets = parseListeningSockets(fixture('udp-listeners.txt'));
  // Owners as /proc showed them during the capture (inode → process).
  const holders = new Map<number, SocketHolder>([
    [103197, { program: 'python3' }],
    [103190, { program: 'my (app), v2' }],
    [103996, { program: 'wpt-worker' }],
    [103212, { program: 'wpt-worker' }],
    [103209, { program: 'nginx', unit: 'nginx.service' }],
  ]);
  const listeners = listenersFromSockets(sockets, (inode) => holders.get(inode));

  it('makes one entry of the SO_REUSEPORT sockets of one program', () => {
    expect(listeners.filter((l) => l.port === 7179)).toEqual([{ protocol: 'udp', address: '0.0.0.0', port: 7179, family: 'inet', program: 'wpt-worker' }]);
    expect(listeners).toHaveLength(16);
  });

  it('keeps two entries when two different programs share a port', () => {
    const two = listenersFromSockets(sockets, (inode) => (inode === 103212 ? { program: 'intruder' } : holders.get(inode)));
    expect(two.filter((l) => l.port === 7179).map((l) => l.program)).toEqual(['intruder', 'wpt-worker']);
  });

  it('takes the unit from the socket cgroup when no holder is visible', () => {
    expect(listeners.find((l) => l.port === 7190)).toEqual({ protocol: 'udp', address: '0.0.0.0', port: 7190, family: 'inet', unit: 'wpt-demo.service' });
    expect(listeners.find((l) => l.port === 7183)).toMatchObject({ program: 'nginx', unit: 'nginx.service' });
    // cgroup:/ is the root cgroup, not a unit.
    expect(listeners.find((l) => l.port === 7172)).toEqual({ protocol: 'udp', address: '127.0.0.1', port: 7172, family: 'inet' });
  });

  it('sorts by protocol, port, family, address', () => {
    const keys = listeners.map((l) => `${l.protocol} ${l.port} ${l.family}`);
    expect(keys.slice(0, 3)).toEqual(['tcp 7181 inet', 'tcp 7182 inet', 'tcp 7183 inet6']);
    expect(keys.at(-1)).toBe('udp 60217 inet');
    expect(listeners.find((l) => l.port === 7176)).toMatchObject({ device: 'lo' });
  });
});
