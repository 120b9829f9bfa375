import { describe, expect, it } from 'vitest';
import { decideRoute, route } from '../../src/checks/route.js';
import type { NeighbourResult, RouteResult } from '../../src/system/route.js';
import { runCheck } from '../../src/checks/check.js';
import { captured, contextWith, FakeFacts, replay, resolvedTo } from './replay.js';

// The route check on what ip route get and ip neigh really printed (test/fixtures/ip-route).
async function run(host: string, addresses: string[], replies: Parameters<typeof replay>[0]) {
  const r = replay(replies);
  const facts = new FakeFacts(r, { [host]: resolvedTo(...addresses) });
  const res = await runCheck(route, route.params.parse({ host }), contextWith(r, facts, { host }));
  return { res, calls: r.calls };
}

describe('the route check', () => {
  it('on the link, nobody answers ARP: on-link, and the summary says the host is down', async () => {
    const { res, calls } = await run('ghost', ['10.213.9.77'], {
      'ip route get 10.213.9.77': captured('ip-route', 'get-on-link'),
      'ip neigh show 10.213.9.77': captured('ip-route', 'neigh-incomplete'),
    });
    expect(res.outcome).toBe('on-link');
    expect(res.summary).toBe(
      "10.213.9.77 is on this machine's own network (interface wptRC, source address 10.213.9.1), no gateway in between: nobody answers ARP for it (ip neigh: INCOMPLETE) — the host is down, unplugged, or the address is not in use",
    );
    expect(res.evidence).toMatchObject({ address: '10.213.9.77', dev: 'wptRC', gateway: '', neighbour: 'INCOMPLETE' });
    expect(res.command).toBe('ip route get 10.213.9.77; ip neigh show 10.213.9.77');
    expect(calls).toEqual(['ip route get 10.213.9.77', 'ip neigh show 10.213.9.77']);
  });

  it('through a gateway: the gateway is named for the next move', async () => {
    const { res } = await run('far', ['10.88.0.1'], { 'ip route get 10.88.0.1': captured('ip-route', 'get-gateway') });
    expect(res.outcome).toBe('gateway');
    expect(res.evidence).toMatchObject({ gateway: '10.213.9.2', address: '10.88.0.1' });
  });

  it('no route at all, or a route that refuses → no-route', async () => {
    expect((await run('x', ['10.99.0.1'], { 'ip route get 10.99.0.1': captured('ip-route', 'get-no-route') })).res).toMatchObject({
      outcome: 'no-route',
      status: 'fail',
      summary: 'no route to 10.99.0.1: Network is unreachable (no route covers it, and there is no default gateway)',
    });
    expect((await run('x', ['10.56.0.1'], { 'ip route get 10.56.0.1': captured('ip-route', 'get-prohibit') })).res.summary).toBe(
      'the routing table refuses 10.56.0.1: a route of type prohibit covers it (Permission denied)',
    );
  });

  it('an IPv6 address without a route does not hide the IPv4 address that has one', async () => {
    const { res } = await run('dual', ['fd99::1', '10.88.0.1'], {
      'ip route get fd99::1': captured('ip-route', 'get-no-route-v6'),
      'ip route get 10.88.0.1': captured('ip-route', 'get-gateway'),
    });
    expect(res.outcome).toBe('gateway');
    expect(res.summary).toMatch(/^no route to fd99::1: Network is unreachable .*; 10\.88\.0\.1 is reached through the gateway 10\.213\.9\.2/);
  });

  it('without ip: unknown, and said so', async () => {
    const { res } = await run('x', ['10.0.0.5'], {});
    expect(res).toMatchObject({ outcome: 'unknown', summary: "the route to 10.0.0.5 is not known: the 'ip' command (iproute2) is not installed" });
  });
});

describe('decideRoute: the routes read to one outcome', () => {
  const route = (address: string, kind: RouteResult['kind'], more: Partial<RouteResult> = {}): RouteResult => ({ address, command: `ip route get ${address}`, durationMs: 1, kind, ...more });
  const decide = (...routes: { address: string; route: RouteResult; neighbour?: NeighbourResult }[]) => decideRoute({ resolution: resolvedTo(...routes.map((r) => r.address)), routes }, { host: 'appserver' });

  it('local, gateway, on-link (with the neighbour entry), unknown', () => {
    expect(decide({ address: '10.0.0.9', route: route('10.0.0.9', 'local', { dev: 'lo' }) })).toMatchObject({ outcome: 'local', status: 'info', summary: "10.0.0.9 is this machine's own address" });
    expect(decide({ address: '10.88.0.1', route: route('10.88.0.1', 'unicast', { via: '10.0.0.1', dev: 'eth0' }) })).toMatchObject({ outcome: 'gateway', evidence: { gateway: '10.0.0.1', dev: 'eth0' } });
    const neighbour: NeighbourResult = { address: '10.0.0.5', command: 'ip neigh show 10.0.0.5', durationMs: 1, entry: { address: '10.0.0.5', state: 'REACHABLE', lladdr: '52:54:00:12:34:56', router: false } };
    const onLink = decide({ address: '10.0.0.5', route: route('10.0.0.5', 'unicast', { dev: 'eth0' }), neighbour });
    expect(onLink).toMatchObject({ outcome: 'on-link', command: 'ip route get 10.0.0.5; ip neigh show 10.0.0.5', evidence: { neighbour: 'REACHABLE' } });
    expect(onLink.summary).toBe("10.0.0.5 is on this machine's own network (interface eth0), no gateway in between: it answers ARP (52:54:00:12:34:56), so it is up");
    expect(decide({ address: '10.0.0.255', route: route('10.0.0.255', 'other') }).outcome).toBe('unknown');
  });

  it('no-route only when no address has a route', () => {
    const refused = { address: '10.56.0.1', route: route('10.56.0.1', 'prohibit', { error: 'Permission denied' }) };
    expect(decide(refused)).toMatchObject({ outcome: 'no-route', status: 'fail' });
    expect(decide(refused, { address: '10.88.0.1', route: route('10.88.0.1', 'unicast', { via: '10.0.0.1', dev: 'eth0' }) })).toMatchObject({ outcome: 'gateway', evidence: { address: '10.88.0.1' } });
  });

  it('unresolved: what the resolver said', () => {
    const d = decideRoute({ resolution: { ok: false, error: 'nosuch does not resolve', code: 'ENOTFOUND', durationMs: 1 }, routes: [] }, { host: 'nosuch' });
    expect(d).toMatchObject({ outcome: 'unresolved', status: 'fail', command: 'getent ahosts nosuch', evidence: { error: 'nosuch does not resolve' } });
  });
});
