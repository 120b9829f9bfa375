import { describe, expect, it } from 'vitest';
import { route } from '../../src/checks/route.js';
import { captured, contextWith, FakeFacts, replay, resolvedTo } from './replay.js';

// The route check on what ip route get and ip neigh really printed (test/fixtures/ip-route).
async function run(host: string, addresses: string[], replies: Parameters<typeof replay>[0]) {
  const r = replay(replies);
  const facts = new FakeFacts(r, { [host]: resolvedTo(...addresses) });
  const res = await route.run(route.params.parse({ host }), contextWith(r, facts, { host }));
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
