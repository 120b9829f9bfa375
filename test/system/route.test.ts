import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNeighbours, parseRouteGet, routeTo } from '../../src/system/route.js';
import { neighbourAnswered, neighbourSilent } from '../../src/analysis/life.js';
import type { Runner } from '../../src/system/runner.js';

// `ip route get` and `ip neigh show` as they printed in a private namespace
// (test/fixtures/ip-route/capture.sh): stdout, stderr and exit status of each case.
function captured(name: string): { stdout: string; stderr: string; exitCode: number } {
  const file = (suffix: string) => new URL(`../fixtures/ip-route/${name}${suffix}`, import.meta.url);
  const read = (suffix: string) => (existsSync(file(suffix)) ? readFileSync(file(suffix), 'utf8') : '');
  return { stdout: read('.txt'), stderr: read('.stderr.txt'), exitCode: Number(read('.exitcode').trim()) };
}

const route = (name: string) => {
  const c = captured(name);
  return parseRouteGet(c.stdout, c.stderr, c.exitCode);
};

describe('parseRouteGet on captured output', () => {
  it('on the link itself: an interface and a source address, no gateway', () => {
    expect(route('get-on-link')).toEqual({ kind: 'unicast', dev: 'wptRC', src: '10.213.9.1' });
    expect(route('get-on-link-v6')).toEqual({ kind: 'unicast', dev: 'wptRC', src: 'fd00:213:9::1' });
  });

  it('through a gateway', () => {
    expect(route('get-gateway')).toEqual({ kind: 'unicast', via: '10.213.9.2', dev: 'wptRC', src: '10.213.9.1' });
    expect(route('get-gateway-v6')).toEqual({ kind: 'unicast', via: 'fd00:213:9::2', dev: 'wptRC', src: 'fd00:213:9::1' });
  });

  it("this machine's own addresses", () => {
    expect(route('get-local')).toEqual({ kind: 'local', dev: 'lo', src: '10.213.9.1' });
    expect(route('get-loopback')).toEqual({ kind: 'local', dev: 'lo', src: '127.0.0.1' });
  });

  it('no route, and the routes that refuse: each told apart by what RTNETLINK answers', () => {
    expect(route('get-no-route')).toEqual({ kind: 'no-route', error: 'Network is unreachable' });
    expect(route('get-no-route-v6')).toEqual({ kind: 'no-route', error: 'Network is unreachable' });
    expect(route('get-unreachable')).toEqual({ kind: 'unreachable', error: 'No route to host' });
    expect(route('get-prohibit')).toEqual({ kind: 'prohibit', error: 'Permission denied' });
    expect(route('get-blackhole')).toEqual({ kind: 'blackhole', error: 'Invalid argument' });
  });

  it('a gateway named with its family, as ip prints an IPv6 next hop for an IPv4 route', () => {
    expect(parseRouteGet('10.0.0.5 via inet6 fe80::1 dev eth0 src 10.0.0.9 uid 0 \n    cache \n', '', 0)).toEqual({ kind: 'unicast', via: 'fe80::1', dev: 'eth0', src: '10.0.0.9' });
  });
});

describe('parseNeighbours on captured output', () => {
  const neigh = (name: string) => parseNeighbours(captured(name).stdout);

  it('an address that answered ARP or neighbour discovery', () => {
    expect(neigh('neigh-reachable')).toEqual([{ address: '10.213.9.2', dev: 'wptRC', lladdr: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/), state: 'REACHABLE', router: false }]);
    expect(neigh('neigh-reachable-v6')[0]).toMatchObject({ address: 'fd00:213:9::2', state: 'REACHABLE' });
  });

  it('an address nobody answers for: INCOMPLETE while asking, FAILED after', () => {
    expect(neigh('neigh-incomplete')).toEqual([{ address: '10.213.9.77', dev: 'wptRC', state: 'INCOMPLETE', router: false }]);
    expect(neigh('neigh-failed')).toEqual([{ address: '10.213.9.77', dev: 'wptRC', state: 'FAILED', router: false }]);
  });

  it('an address never asked about: no entry', () => {
    expect(neigh('neigh-none')).toEqual([]);
  });

  it('flags and a router mark', () => {
    expect(parseNeighbours('fe80::1 dev eth0 lladdr 52:54:00:12:34:56 router STALE\n10.0.0.1 dev eth0 lladdr 52:54:00:12:34:57 PERMANENT proxy\n')).toEqual([
      { address: 'fe80::1', dev: 'eth0', lladdr: '52:54:00:12:34:56', state: 'STALE', router: true },
      { address: '10.0.0.1', dev: 'eth0', lladdr: '52:54:00:12:34:57', state: 'PERMANENT', router: false },
    ]);
  });

  it('only a fresh answer counts as one; asking or failing counts as silence', () => {
    const of = (name: string) => ({ address: '', command: '', durationMs: 0, entry: neigh(name)[0]! });
    expect(neighbourAnswered(of('neigh-reachable'))).toBe(true);
    expect(neighbourSilent(of('neigh-incomplete'))).toBe(true);
    expect(neighbourSilent(of('neigh-failed'))).toBe(true);
    expect(neighbourAnswered({ address: '', command: '', durationMs: 0, entry: { address: 'x', lladdr: 'aa:bb:cc:dd:ee:ff', state: 'STALE', router: false } })).toBe(false);
  });
});

describe('routeTo', () => {
  it('says so when ip is missing', async () => {
    const runner: Runner = { run: async (argv) => ({ argv, exitCode: null, stdout: '', stderr: '', missing: true, timedOut: false, durationMs: 1 }) };
    expect(await routeTo(runner, '10.0.0.5', { timeoutMs: 1000 })).toMatchObject({ kind: 'other', missing: true, command: 'ip route get 10.0.0.5' });
  });
});
