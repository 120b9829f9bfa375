import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listeners, type ListenersReadings } from '../../src/checks/listeners.js';
import { bindSettingOf } from '../../src/knowledge/bind-settings.js';
import type { SocketTable, TcpSocket } from '../../src/system/socket.js';

// The listeners step's decision on plain readings: every outcome, and where a listener that misses
// the target takes its address from (its configuration line, its command line, or neither).

const config = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/config', name), 'utf8');
const at = (protocol: 'tcp' | 'udp' = 'tcp') => ({ target: { host: '127.0.0.1', port: 7071, protocol }, timeoutMs: 1000 });
const params = (port: number, host: string) => listeners.params.parse({ port: String(port), host });

function listener(address: string, port: number, owner?: { pid: number; program: string }, more: Partial<TcpSocket> = {}): TcpSocket {
  return { family: address.includes(':') ? 'inet6' : 'inet', state: 'LISTEN', recvQ: 0, sendQ: 128, local: { address, port }, peer: { address: '0.0.0.0', port: 0 }, ...(owner ? { owners: [{ ...owner, fd: 3 }] } : {}), ...more };
}

function readings(list: TcpSocket[], addresses: string[], more: Partial<Extract<ListenersReadings, { table: SocketTable }>> = {}): ListenersReadings {
  const table: SocketTable = { source: 'ss', command: 'ss', sockets: list, ownersHidden: list.every((l) => !l.owners), notices: [] };
  return { protocol: 'tcp', table, listening: list, addresses, ...more };
}

describe("the listeners step's decision", () => {
  it('error: the table could not be read', () => {
    expect(listeners.decide({ protocol: 'udp', error: 'ss is not installed' }, params(53, 'localhost'), at('udp'))).toEqual({
      outcome: 'error',
      status: 'fail',
      summary: 'could not read the UDP socket table: ss is not installed',
      command: "ss -Hulnp 'sport = :53'",
      evidence: {},
    });
  });

  it('none: nothing listens, whatever the target', () => {
    expect(listeners.decide(readings([], ['127.0.0.1']), params(7071, '127.0.0.1'), at())).toMatchObject({ outcome: 'none', summary: 'nothing listens on port 7071', command: "ss -Htlnp 'sport = :7071'" });
  });

  it('covers: a wildcard takes every address; an address it misses is said and fails the step', () => {
    const all = listeners.decide(readings([listener('0.0.0.0', 7071, { pid: 9, program: 'app' })], ['127.0.0.1']), params(7071, '127.0.0.1'), at());
    expect(all).toMatchObject({ outcome: 'covers', status: 'pass', summary: 'listening on 0.0.0.0:7071 (app[9])', evidence: { accepted: ['127.0.0.1'], missed: [] } });
    const v4 = listeners.decide(readings([listener('0.0.0.0', 7071, { pid: 9, program: 'app' })], ['127.0.0.1', '::1']), params(7071, 'localhost'), at());
    expect(v4).toMatchObject({ outcome: 'covers', status: 'fail', summary: 'listening on 0.0.0.0:7071 (app[9]); not reachable on ::1' });
  });

  it('loopback-only, owner hidden: the ss command that shows it as root', () => {
    const d = listeners.decide(readings([listener('127.0.0.1', 7071)], ['192.0.2.10']), params(7071, 'app.example'), at());
    expect(d).toMatchObject({ outcome: 'loopback-only', summary: 'listening only on loopback: 127.0.0.1:7071 (owner hidden: not root)' });
    expect(d.evidence).toMatchObject({ ownersHidden: true, bindCommand: ['ss', '-Htlnp', 'sport = :7071'] });
    expect(d.evidence.note).toBe('owners of other users’ sockets are hidden: run whyport as root to see them');
  });

  it('loopback-only, the address from a configuration line: the sed that changes it', () => {
    const redis = listener('127.0.0.1', 6379, { pid: 812, program: 'redis-server' });
    const bindInputs = { program: 'redis-server', pid: 812, argv: ['/usr/bin/redis-server', '127.0.0.1:6379'], spec: bindSettingOf('redis-server')!, files: [{ path: '/etc/redis/redis.conf', text: config('redis.conf') }] };
    const d = listeners.decide(readings([redis], ['192.0.2.10'], { bindInputs }), params(6379, 'cache.example'), at());
    expect(d.outcome).toBe('loopback-only');
    expect(d.evidence.setting).toEqual({ file: '/etc/redis/redis.conf', line: 87, text: 'bind 127.0.0.1 -::1' });
    expect(d.evidence.bindCommand).toEqual(['sed', '-i', '87s/.*/bind 0.0.0.0 -::1/', '/etc/redis/redis.conf']);
    expect(d.evidence.bindFix).toMatch(/^\/etc\/redis\/redis\.conf line 87, `bind 127\.0\.0\.1 -::1`, makes redis-server listen on 127\.0\.0\.1:6379 only: change that line to `bind 0\.0\.0\.0 -::1`/);
  });

  it('other-address, the address from the command line: the command line as it should be', () => {
    const app = listener('10.0.0.5', 7071, { pid: 77, program: 'python3' });
    const bindInputs = { program: 'python3', pid: 77, argv: ['python3', '-m', 'http.server', '--bind', '10.0.0.5', '7071'], files: [] };
    const d = listeners.decide(readings([app], ['192.0.2.10'], { bindInputs }), params(7071, 'web.example'), at());
    expect(d).toMatchObject({ outcome: 'other-address', summary: 'listening on 10.0.0.5:7071 (python3[77]), not on 192.0.2.10' });
    expect(d.evidence.bindCommand).toEqual(['python3', '-m', 'http.server', '--bind', '0.0.0.0', '7071']);
    expect(d.evidence.bindSource).toMatchObject({ kind: 'argument', text: '--bind 10.0.0.5' });
  });

  it('other-address, and neither its files nor its command line show where: ps shows its command line', () => {
    const d = listeners.decide(readings([listener('10.0.0.5', 7071, { pid: 77, program: 'app' })], []), params(7071, 'nosuch.example'), at());
    expect(d).toMatchObject({ outcome: 'other-address', summary: 'listening on 10.0.0.5:7071 (app[77]), not on nosuch.example' });
    expect(d.evidence.bindCommand).toEqual(['ps', '-o', 'args=', '-p', '77']);
  });

  it('UDP words: bound, not listening', () => {
    const d = listeners.decide({ ...readings([listener('127.0.0.1', 53, { pid: 5, program: 'dnsmasq' }, { protocol: 'udp', state: 'UNCONN' })], ['192.0.2.1']), protocol: 'udp' }, params(53, 'dns.example'), at('udp'));
    expect(d).toMatchObject({ outcome: 'loopback-only', summary: 'bound only to loopback: 127.0.0.1:53 (dnsmasq[5])', command: "ss -Hulnp 'sport = :53'" });
  });

  it('prefetch: the socket table of the port and the resolution of the host', () => {
    const calls = listeners.prefetch!(params(7071, 'app.example'), at());
    expect(calls.map((c) => [c.reader.name, c.key])).toEqual([
      ['socket table', { port: 7071, protocol: 'tcp' }],
      ['name resolution', 'app.example'],
    ]);
  });
});
