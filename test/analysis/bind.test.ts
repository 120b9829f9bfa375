import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bindVerdict, listenerAccepts } from '../../src/analysis/bind.js';
import { parseSs } from '../../src/system/ss.js';
import type { TcpSocket } from '../../src/system/socket.js';

function listener(address: string, extra: Partial<TcpSocket> = {}): TcpSocket {
  return { family: address.includes(':') || address === '*' ? 'inet6' : 'inet', state: 'LISTEN', recvQ: 0, sendQ: 128, local: { address, port: 7071 }, peer: { address: '*', port: 0 }, ...extra };
}

describe('which listener accepts which address', () => {
  it('wildcards accept their family; a dual-stack * accepts both', () => {
    expect(listenerAccepts(listener('0.0.0.0'), '10.0.0.5')).toBe(true);
    expect(listenerAccepts(listener('0.0.0.0'), '::1')).toBe(false);
    expect(listenerAccepts(listener('*', { dualStack: true }), '10.0.0.5')).toBe(true);
    expect(listenerAccepts(listener('::', { dualStack: false }), '10.0.0.5')).toBe(false);
    expect(listenerAccepts(listener('::', { dualStack: false }), '2001:db8::5')).toBe(true);
    // netstat and /proc cannot tell v6only: Linux's default (bindv6only=0) is dual-stack.
    expect(listenerAccepts(listener('::'), '10.0.0.5')).toBe(true);
  });
  it('a specific address accepts only itself (127.0.0.2 is not 127.0.0.1)', () => {
    expect(listenerAccepts(listener('127.0.0.1'), '127.0.0.1')).toBe(true);
    expect(listenerAccepts(listener('127.0.0.1'), '127.0.0.2')).toBe(false);
    expect(listenerAccepts(listener('::ffff:10.0.0.5'), '10.0.0.5')).toBe(true);
  });
});

describe('bindVerdict', () => {
  it('loopback-only when every listener is loopback and the target is not', () => {
    expect(bindVerdict([listener('127.0.0.1'), listener('::1')], ['10.0.0.5'])).toEqual({ kind: 'loopback-only' });
  });
  it('other-address for 127.0.0.2 against a 127.0.0.1 listener (loopback target)', () => {
    expect(bindVerdict([listener('127.0.0.1')], ['127.0.0.2'])).toEqual({ kind: 'other-address' });
  });
  it('covers, and names the addresses missed (localhost → ::1 against an IPv4-only listener)', () => {
    expect(bindVerdict([listener('127.0.0.1')], ['::1', '127.0.0.1'])).toEqual({ kind: 'covers', accepted: ['127.0.0.1'], missed: ['::1'] });
  });
  it('none without listeners', () => {
    expect(bindVerdict([], ['127.0.0.1'])).toEqual({ kind: 'none' });
  });
  it('reads real ss output: the dual-stack * listener from the fixtures covers IPv4', () => {
    const dir = join(import.meta.dirname, '../fixtures/ss');
    const file = ['listeners.txt', 'listeners-e.txt'].map((f) => join(dir, f)).find((f) => { try { readFileSync(f); return true; } catch { return false; } });
    expect(file, `no listeners fixture in ${dir}`).toBeDefined();
    const star = parseSs(readFileSync(file!, 'utf8')).find((s) => s.local.address === '*');
    expect(star, 'the fixture has a * listener').toBeDefined();
    expect(listenerAccepts(star!, '192.0.2.7')).toBe(true);
  });
});
