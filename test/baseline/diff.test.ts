// The comparison of a baseline with the current listeners, and the filters: pure, plain objects.

import { describe, expect, it } from 'vitest';
import { diffListeners, filterChanges, parsePortRanges } from '../../src/baseline/diff.js';
import type { Listener } from '../../src/baseline/model.js';

const tcp = (port: number, address: string, program?: string, extra: Partial<Listener> = {}): Listener => ({
  protocol: 'tcp',
  address,
  port,
  family: address.includes(':') || address === '*' ? 'inet6' : 'inet',
  ...(program ? { program } : {}),
  ...extra,
});
const udp = (port: number, address: string, program?: string): Listener => ({ ...tcp(port, address, program), protocol: 'udp' });

describe('diffListeners', () => {
  it('finds nothing when nothing changed, whatever the order', () => {
    const a = [tcp(22, '0.0.0.0', 'sshd'), udp(53, '127.0.0.53', 'systemd-resolve'), tcp(22, '::', 'sshd')];
    expect(diffListeners(a, [...a].reverse())).toEqual([]);
  });

  it('reports appeared, disappeared and changed, keyed by protocol, port and family', () => {
    const before = [tcp(22, '0.0.0.0', 'sshd'), tcp(80, '0.0.0.0', 'nginx'), udp(80, '0.0.0.0', 'x'), tcp(9000, '127.0.0.1', 'python3')];
    const after = [tcp(22, '0.0.0.0', 'sshd'), tcp(443, '0.0.0.0', 'nginx'), udp(80, '0.0.0.0', 'x'), tcp(9000, '127.0.0.1', 'node')];
    const changes = diffListeners(before, after);
    expect(changes.map((c) => [c.kind, c.protocol, c.port, c.fields.join(','), c.exposure])).toEqual([
      ['appeared', 'tcp', 443, '', false],
      ['disappeared', 'tcp', 80, '', false],
      ['changed', 'tcp', 9000, 'program', false],
    ]);
    expect(changes[2]!.before?.program).toBe('python3');
    expect(changes[2]!.after?.program).toBe('node');
  });

  it('calls loopback → all addresses an exposure and lists it first', () => {
    const before = [tcp(80, '0.0.0.0', 'nginx'), tcp(6379, '127.0.0.1', 'redis-server')];
    const after = [tcp(6379, '0.0.0.0', 'redis-server'), tcp(81, '0.0.0.0', 'nginx')];
    const changes = diffListeners(before, after);
    expect(changes.map((c) => [c.kind, c.port, c.exposure])).toEqual([
      ['changed', 6379, true],
      ['appeared', 81, false],
      ['disappeared', 80, false],
    ]);
    expect(changes[0]!.fields).toEqual(['address']);
  });

  it('sees the exposure across families: 127.0.0.1:8080 gone, *:8080 new', () => {
    const changes = diffListeners([tcp(8080, '127.0.0.1', 'node')], [tcp(8080, '*', 'node')]);
    expect(changes.map((c) => [c.kind, c.family, c.exposure])).toEqual([
      ['appeared', 'inet6', true],
      ['disappeared', 'inet', false],
    ]);
  });

  it('counts a socket bound to lo as loopback, and loopback → a LAN address as an exposure', () => {
    const changes = diffListeners([tcp(53, '0.0.0.0', 'dns', { device: 'lo' })], [tcp(53, '192.168.1.5', 'dns')]);
    expect(changes).toMatchObject([{ kind: 'changed', exposure: true, fields: ['address'] }]);
    expect(diffListeners([tcp(53, '0.0.0.0', 'dns')], [tcp(53, '127.0.0.1', 'dns')])).toMatchObject([{ kind: 'changed', exposure: false }]);
  });

  it('pairs several listeners of one port by address, then by program', () => {
    const before = [udp(53, '127.0.0.1', 'dnsmasq'), udp(53, '10.0.0.1', 'dnsmasq'), udp(53, '127.0.0.53', 'systemd-resolve')];
    const after = [udp(53, '127.0.0.1', 'dnsmasq'), udp(53, '10.0.0.2', 'dnsmasq'), udp(53, '127.0.0.53', 'systemd-resolve')];
    expect(diffListeners(before, after)).toMatchObject([
      { kind: 'changed', fields: ['address'], before: { address: '10.0.0.1' }, after: { address: '10.0.0.2' }, exposure: false },
    ]);
  });

  it('does not call an owner that could not be seen a change (not root)', () => {
    const before = [tcp(5432, '127.0.0.1', 'postgres', { unit: 'postgresql.service' })];
    expect(diffListeners(before, [tcp(5432, '127.0.0.1')])).toEqual([]);
    // A unit is compared when the programs are known: then "no unit" is a fact.
    expect(diffListeners(before, [tcp(5432, '127.0.0.1', 'postgres')])).toMatchObject([{ kind: 'changed', fields: ['unit'] }]);
  });
});

describe('filterChanges', () => {
  const before = [tcp(22, '0.0.0.0', 'sshd'), tcp(9000, '127.0.0.1', 'chronyd'), tcp(9100, '127.0.0.1', 'chronyd')];
  const after = [tcp(8080, '0.0.0.0', 'node'), tcp(9000, '127.0.0.1', 'evil'), tcp(9100, '0.0.0.0', 'chronyd'), udp(40000, '0.0.0.0', 'chronyd')];
  const changes = diffListeners(before, after);

  it('leaves out ports and ranges', () => {
    const kept = filterChanges(changes, { ports: [{ from: 22, to: 22 }, { from: 8000, to: 9000 }], programs: [] });
    expect(kept.map((c) => c.port).sort()).toEqual([40000, 9100]);
  });

  it('leaves out what only concerns an ignored program, but keeps a takeover', () => {
    const kept = filterChanges(changes, { ports: [], programs: ['chronyd'] });
    expect(kept.map((c) => `${c.kind} ${c.port}`).sort()).toEqual(['appeared 8080', 'changed 9000', 'disappeared 22']);
  });
});

describe('parsePortRanges', () => {
  it('reads ports, ranges and comma lists', () => {
    expect(parsePortRanges(['22', '8000-8100,9000'])).toEqual([
      { from: 22, to: 22 },
      { from: 8000, to: 8100 },
      { from: 9000, to: 9000 },
    ]);
  });

  it('names the word it cannot read', () => {
    expect(parsePortRanges(['22', 'http'])).toEqual({ error: 'http' });
    expect(parsePortRanges(['70000'])).toEqual({ error: '70000' });
    expect(parsePortRanges(['90-80'])).toEqual({ error: '90-80' });
  });
});
