import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideProbe, probe, serverCommand } from '../../src/checks/probe.js';
import { classifyProbe, classifyUdpProbe } from '../../src/analysis/probe.js';
import { runCheck } from '../../src/checks/check.js';
import type { UdpProbeResult } from '../../src/host/udp-probe.js';
import { parsePing, type PingResult } from '../../src/system/ping.js';
import { parseNeighbours, parseRouteGet, type NeighbourResult, type RouteResult } from '../../src/system/route.js';
import type { ProbeResult } from '../../src/system/tcp-connect.js';
import { captured, contextWith, FakeFacts, replay, resolvedTo, type Reply } from './replay.js';

// nmap's rule, fed with what ping, ip route get and ip neigh really printed (test/fixtures/ping,
// test/fixtures/ip-route) and with the errno a TCP connect really gets in each case (TESTBED.md).

const ADDR = '10.213.9.2';

function pingFrom(name: string, address = ADDR): PingResult {
  const c = captured('ping', name) as Exclude<Reply, 'missing'>;
  return { address, command: `ping -c 1 -W 1 -n ${address}`, durationMs: 1, ...parsePing(c.stdout!, c.stderr!, c.exitCode!) };
}
const PING_MISSING = (address = ADDR): PingResult => ({ address, command: '', durationMs: 1, outcome: 'missing', error: 'ping is not installed' });

function routeFrom(name: string, address = ADDR): RouteResult {
  const c = captured('ip-route', name) as Exclude<Reply, 'missing'>;
  return { address, command: `ip route get ${address}`, durationMs: 1, ...parseRouteGet(c.stdout!, c.stderr!, c.exitCode!) };
}

function neighbourFrom(name: string, address: string): NeighbourResult {
  const c = captured('ip-route', name) as Exclude<Reply, 'missing'>;
  const entry = parseNeighbours(c.stdout!)[0];
  return { address, command: `ip neigh show ${address}`, durationMs: 1, ...(entry ? { entry: { ...entry, address } } : {}) };
}

const tcp = (outcome: ProbeResult['outcome'], errno?: string, durationMs = 2, address = ADDR): ProbeResult => ({ address, port: 7071, outcome, ...(errno ? { errno } : {}), durationMs });

describe("classifyProbe: nmap's rule with ping, route and the neighbour table", () => {
  it('SYN/ACK → open; RST → closed (a refusal proves the host is up, with or without ping)', () => {
    expect(classifyProbe(tcp('connected'), pingFrom('reply-v4'), routeFrom('get-on-link'))).toMatchObject({ state: 'open', reason: 'syn-ack' });
    expect(classifyProbe(tcp('refused', 'ECONNREFUSED'), PING_MISSING(), routeFrom('get-gateway'))).toMatchObject({
      state: 'closed',
      reason: 'reset',
      because: '10.213.9.2:7071 refuses the connection (ECONNREFUSED): the host is up and answered',
    });
  });

  it('no answer within the timeout from a host that answers ping → filtered', () => {
    const r = classifyProbe(tcp('timeout', 'ETIMEDOUT', 1001), pingFrom('reply-v4'), routeFrom('get-on-link'));
    expect(r).toMatchObject({ state: 'filtered', reason: 'no-response' });
    expect(r.because).toMatch(/^no answer from 10\.213\.9\.2:7071 within 1001 ms, though the host is up \(it answers ping in [\d.]+ ms\): something drops the packets$/);
  });

  it('EHOSTUNREACH at once while the host answers ping → filtered (administratively prohibited)', () => {
    expect(classifyProbe(tcp('unreachable', 'EHOSTUNREACH'), pingFrom('reply-v4'), routeFrom('get-on-link'))).toMatchObject({ state: 'filtered', reason: 'admin-prohibited' });
    // The host answers the echo with an ICMP error of its own: still alive.
    expect(classifyProbe(tcp('unreachable', 'EHOSTUNREACH'), pingFrom('packet-filtered'), routeFrom('get-on-link'))).toMatchObject({
      state: 'filtered',
      reason: 'admin-prohibited',
      life: 'it sent an ICMP error itself in answer to ping ("Packet filtered")',
    });
  });

  it('without ping: the neighbour table is the sign of life on the local link', () => {
    const a = '10.213.9.2';
    const answered = neighbourFrom('neigh-reachable', a);
    expect(classifyProbe(tcp('timeout', 'ETIMEDOUT', 1000), PING_MISSING(), routeFrom('get-on-link'), answered)).toMatchObject({ state: 'filtered', reason: 'no-response' });
    expect(classifyProbe(tcp('timeout', 'ETIMEDOUT', 1000), PING_MISSING(), routeFrom('get-on-link'), answered).life).toMatch(/^it answered ARP, ip neigh: REACHABLE /);
    // A quick EHOSTUNREACH from a neighbour whose hardware address is known came from the host.
    const stale: NeighbourResult = { address: a, command: '', durationMs: 1, entry: { address: a, dev: 'wptRC', lladdr: '02:00:00:00:00:02', state: 'DELAY', router: false } };
    expect(classifyProbe(tcp('unreachable', 'EHOSTUNREACH', 30), PING_MISSING(), routeFrom('get-on-link'), stale)).toMatchObject({ state: 'filtered', reason: 'admin-prohibited' });
  });

  it('no answer and nobody answers ARP on the link → unreachable, host down (ping or not)', () => {
    const a = '10.213.9.77';
    const silent = neighbourFrom('neigh-incomplete', a);
    for (const ping of [pingFrom('no-reply', a), PING_MISSING(a)]) {
      const r = classifyProbe(tcp('timeout', 'ETIMEDOUT', 1000, a), ping, routeFrom('get-on-link', a), silent);
      expect(r).toMatchObject({ state: 'unreachable', reason: 'host-down' });
      expect(r.because).toContain('nobody answers ARP for it on wptRC (ip neigh: INCOMPLETE)');
    }
    // After three ARP tries the kernel gives up: EHOSTUNREACH after ~3 s, and ping hears it from this machine.
    expect(classifyProbe(tcp('unreachable', 'EHOSTUNREACH', 3061, a), pingFrom('host-unreachable', a), routeFrom('get-on-link', a), neighbourFrom('neigh-failed', a))).toMatchObject({ state: 'unreachable', reason: 'host-down' });
  });

  it('behind a gateway, neither TCP nor ping answered → unreachable (silent); without ping → filtered, host state unknown', () => {
    const a = '10.88.0.1';
    expect(classifyProbe(tcp('timeout', 'ETIMEDOUT', 1000, a), pingFrom('no-reply', a), routeFrom('get-gateway', a))).toMatchObject({ state: 'unreachable', reason: 'silent' });
    const r = classifyProbe(tcp('timeout', 'ETIMEDOUT', 1000, a), PING_MISSING(a), routeFrom('get-gateway', a));
    expect(r).toMatchObject({ state: 'filtered', reason: 'no-response' });
    expect(r.because).toContain('ping is not installed, so whether the host is up is not known');
  });

  it('no route: ENETUNREACH, or a route that refuses (unreachable, prohibit, blackhole) → unreachable, no route', () => {
    expect(classifyProbe(tcp('unreachable', 'ENETUNREACH', 1, '10.99.0.1'), pingFrom('network-unreachable', '10.99.0.1'), routeFrom('get-no-route', '10.99.0.1'))).toEqual({
      state: 'unreachable',
      reason: 'no-route',
      because: 'this machine has no route to 10.99.0.1 (ip route get: Network is unreachable)',
    });
    expect(classifyProbe(tcp('unreachable', 'EHOSTUNREACH', 1, '10.55.0.1'), pingFrom('no-route-to-host', '10.55.0.1'), routeFrom('get-unreachable', '10.55.0.1'))).toMatchObject({ state: 'unreachable', reason: 'no-route' });
    expect(classifyProbe(tcp('error', 'EACCES', 1, '10.56.0.1'), PING_MISSING('10.56.0.1'), routeFrom('get-prohibit', '10.56.0.1')).because).toContain('a route of type prohibit');
    expect(classifyProbe(tcp('error', 'EINVAL', 1, '10.57.0.1'), PING_MISSING('10.57.0.1'), routeFrom('get-blackhole', '10.57.0.1')).because).toContain('a route of type blackhole');
  });

  it("EPERM: this machine's own firewall refused to send it", () => {
    expect(classifyProbe(tcp('error', 'EPERM'), pingFrom('reply-v4'), routeFrom('get-on-link'))).toMatchObject({ state: 'filtered', reason: 'blocked-here' });
  });
});

describe('the probe check', () => {
  let server: Server;
  let open = 0;
  beforeAll(async () => {
    server = createServer((c) => c.destroy());
    await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r));
    open = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  // Real TCP on loopback; ping and ip route get replayed (their real output for a host that answers).
  const runner = () =>
    replay({
      'ping -c 1 -W 1 -n 127.0.0.1': captured('ping', 'reply-v4'),
      'ping -c 1 -W 1 -n 127.0.0.2': captured('ping', 'reply-v4'),
      'ip route get 127.0.0.1': captured('ip-route', 'get-loopback'),
      'ip route get 127.0.0.2': captured('ip-route', 'get-loopback'),
    });

  it('every address of the name is probed; one refusing while another accepts → partial, named in findings', async () => {
    const r = runner();
    const facts = new FakeFacts(r, { appserver: resolvedTo('127.0.0.1', '127.0.0.2') });
    const ctx = contextWith(r, facts, { host: 'appserver', port: open });
    const res = await runCheck(probe, probe.params.parse({ host: 'appserver', port: String(open) }), ctx);
    expect(res.outcome).toBe('partial');
    expect(res.summary).toBe(`port ${open}: 127.0.0.1 open — 127.0.0.1:${open} accepts connections (the TCP handshake completes); 127.0.0.2 closed — 127.0.0.2:${open} refuses the connection (ECONNREFUSED): the host is up and answered`);
    expect(res.findings).toEqual([{ code: 'ADDRESS_FAILS', summary: `127.0.0.2: 127.0.0.2:${open} refuses the connection (ECONNREFUSED): the host is up and answered` }]);
    // ping and the route were asked for both addresses, at once with the TCP connects.
    expect(r.calls.sort()).toEqual(['ip route get 127.0.0.1', 'ip route get 127.0.0.2', 'ping -c 1 -W 1 -n 127.0.0.1', 'ping -c 1 -W 1 -n 127.0.0.2']);
  });

  it('the service name goes with the port, and the next move names --process and --service', async () => {
    const r = runner();
    const facts = new FakeFacts(r, { appserver: resolvedTo('127.0.0.2') });
    const ctx = contextWith(r, facts, { host: 'appserver', port: open, portName: 'myproto' });
    const res = await runCheck(probe, probe.params.parse({ host: 'appserver', port: String(open), process: 'nginx', service: 'nginx.service' }), ctx);
    expect(res.outcome).toBe('closed');
    expect(res.summary.startsWith(`port ${open} (myproto): closed`)).toBe(true);
    expect(res.evidence.onServer).toEqual({ argv: ['whyport', '127.0.0.2', String(open), '--process', 'nginx', '--service', 'nginx.service'], command: `whyport 127.0.0.2 ${open} --process nginx --service nginx.service` });
    expect(res.command).toBe(`nc -vz -w 1 127.0.0.2 ${open}; ping -c 1 -W 1 -n 127.0.0.2; ip route get 127.0.0.2`);
  });

  it('ping missing: said so in a finding, and the verdict still comes (a refusal needs no ping)', async () => {
    const r = replay({ 'ip route get 127.0.0.2': captured('ip-route', 'get-loopback') });
    const facts = new FakeFacts(r, { appserver: resolvedTo('127.0.0.2') });
    const res = await runCheck(probe, probe.params.parse({ host: 'appserver', port: String(open), process: '', service: '' }), contextWith(r, facts, { host: 'appserver', port: open }));
    expect(res.outcome).toBe('closed');
    expect(res.evidence.ping).toBe('missing');
    expect(res.findings).toEqual([expect.objectContaining({ code: 'PING_MISSING' })]);
    // Empty inputs (--process not given) add no words to the command for the server.
    expect(res.evidence.onServer).toEqual(serverCommand('127.0.0.2', open));
  });

  it('a name that does not resolve → unresolved', async () => {
    const r = replay({});
    const facts = new FakeFacts(r, { nosuch: { ok: false, error: 'nosuch does not resolve (no such name)', code: 'ENOTFOUND', durationMs: 1 } });
    const res = await runCheck(probe, probe.params.parse({ host: 'nosuch', port: '80' }), contextWith(r, facts, { host: 'nosuch', port: 80 }));
    expect(res).toMatchObject({ outcome: 'unresolved', summary: 'nosuch does not resolve (no such name)' });
  });
});

// The same rule for UDP (nmap -sU): the probe's outcome as a connected datagram socket really
// reports it (measured in namespaces, src/host/udp-probe.ts), with the same captured ping, route
// and neighbour output.
const udp = (outcome: UdpProbeResult['outcome'], more: Partial<UdpProbeResult> = {}, address = ADDR): UdpProbeResult => ({ address, port: 53, outcome, durationMs: 3, tries: 1, payload: 'dns', ...more });

describe("classifyUdpProbe: nmap's UDP rule with ping, route and the neighbour table", () => {
  it('a reply → open; an ICMP port unreachable → closed (the host answered, with or without ping)', () => {
    expect(classifyUdpProbe(udp('reply', { replyBytes: 17 }), pingFrom('reply-v4'), routeFrom('get-on-link'))).toEqual({
      state: 'open',
      reason: 'udp-reply',
      because: '10.213.9.2:53 answered a DNS query for the root name servers (a reply of 17 bytes after 1 try)',
    });
    expect(classifyUdpProbe(udp('refused', { errno: 'ECONNREFUSED', payload: 'empty', tries: 2 }), PING_MISSING(), routeFrom('get-gateway'))).toEqual({
      state: 'closed',
      reason: 'port-unreachable',
      because: '10.213.9.2:53 answered an empty datagram with an ICMP port unreachable (ECONNREFUSED, after 2 tries): the host is up and answered',
    });
  });

  it('silence after every try from a host that is up → open|filtered, saying what was sent and how often', () => {
    const r = classifyUdpProbe(udp('silent', { durationMs: 3001, tries: 4 }), pingFrom('reply-v4'), routeFrom('get-on-link'));
    expect(r).toMatchObject({ state: 'open-or-filtered', reason: 'no-response' });
    expect(r.because).toMatch(/^no reply and no ICMP error from 10\.213\.9\.2:53 to a DNS query for the root name servers, sent 4 times within 3001 ms, though the host is up \(it answers ping in [\d.]+ ms\): a program that ignores the probe and a firewall that drops it look alike from here$/);
    // Without ping, an ARP answer is the sign of life.
    expect(classifyUdpProbe(udp('silent', { tries: 4 }), PING_MISSING(), routeFrom('get-on-link'), neighbourFrom('neigh-reachable', ADDR))).toMatchObject({ state: 'open-or-filtered', life: expect.stringMatching(/^it answered ARP/) });
    // Without ping and behind a gateway nothing says whether the host is up: still open|filtered, and said so.
    expect(classifyUdpProbe(udp('silent'), PING_MISSING('10.88.0.1'), routeFrom('get-gateway', '10.88.0.1')).because).toContain('ping is not installed, so whether the host is up is not known');
  });

  it('silence with no sign of life at all → unreachable, as for TCP: ping silent too, or nobody answers ARP', () => {
    expect(classifyUdpProbe(udp('silent', {}, '10.88.0.1'), pingFrom('no-reply', '10.88.0.1'), routeFrom('get-gateway', '10.88.0.1'))).toMatchObject({ state: 'unreachable', reason: 'silent' });
    // Linux reports no ICMP host unreachable to a UDP socket (a soft error): a host that is down is silence, and ARP says why.
    const a = '10.213.9.77';
    const r = classifyUdpProbe(udp('silent', { durationMs: 3000, tries: 4 }, a), pingFrom('host-unreachable', a), routeFrom('get-on-link', a), neighbourFrom('neigh-failed', a));
    expect(r).toMatchObject({ state: 'unreachable', reason: 'host-down' });
    expect(r.because).toContain('nobody answers ARP for it on wptRC (ip neigh: FAILED)');
  });

  it('EHOSTUNREACH while the host is up → filtered (administratively prohibited); without life → unreachable', () => {
    const r = classifyUdpProbe(udp('unreachable', { errno: 'EHOSTUNREACH', payload: 'empty' }), pingFrom('reply-v4'), routeFrom('get-on-link'));
    expect(r).toMatchObject({ state: 'filtered', reason: 'admin-prohibited' });
    expect(r.because).toMatch(/^10\.213\.9\.2:53 answered an empty datagram with "unreachable" \(EHOSTUNREACH\) although the host is up/);
    expect(classifyUdpProbe(udp('unreachable', { errno: 'EHOSTUNREACH', durationMs: 3050 }), pingFrom('no-reply'), routeFrom('get-gateway'))).toMatchObject({ state: 'unreachable', reason: 'host-down' });
    // ICMPv6's "administratively prohibited" is EACCES on the receive (icmp6-adm-prohibited, measured in
    // test/integration/udp-client.test.ts): filtered too, not the prohibit route EACCES at connect is.
    const v6 = 'fd00:213:9::2';
    expect(classifyUdpProbe(udp('unreachable', { errno: 'EACCES' }, v6), pingFrom('reply-v6', v6), routeFrom('get-on-link-v6', v6))).toMatchObject({ state: 'filtered', reason: 'admin-prohibited' });
  });

  it('no route, a refusing route, or EPERM from this machine\'s own firewall: as for TCP', () => {
    expect(classifyUdpProbe(udp('unreachable', { errno: 'ENETUNREACH', tries: 0 }, '10.99.0.1'), pingFrom('network-unreachable', '10.99.0.1'), routeFrom('get-no-route', '10.99.0.1'))).toMatchObject({ state: 'unreachable', reason: 'no-route' });
    expect(classifyUdpProbe(udp('error', { errno: 'EACCES', tries: 0 }, '10.56.0.1'), PING_MISSING('10.56.0.1'), routeFrom('get-prohibit', '10.56.0.1')).because).toContain('a route of type prohibit');
    expect(classifyUdpProbe(udp('error', { errno: 'EPERM' }), pingFrom('reply-v4'), routeFrom('get-on-link'))).toMatchObject({
      state: 'filtered',
      reason: 'blocked-here',
      because: 'this machine refused to send a DNS query for the root name servers to 10.213.9.2:53 (EPERM): a rule of its own firewall (an OUTPUT chain) blocks it',
    });
  });
});

describe('the probe check for a UDP target (real datagrams on loopback)', () => {
  let server: Socket;
  let answering = 0;
  let closed = 0;
  beforeAll(async () => {
    server = createSocket('udp4');
    server.on('message', (m, from) => server.send(m, from.port, from.address));
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    answering = server.address().port;
    const gone = createSocket('udp4');
    await new Promise<void>((r) => gone.bind(0, '127.0.0.1', r));
    closed = gone.address().port;
    await new Promise<void>((r) => gone.close(() => r()));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const runner = () => replay({ 'ping -c 1 -W 1 -n 127.0.0.1': captured('ping', 'reply-v4'), 'ip route get 127.0.0.1': captured('ip-route', 'get-loopback') });
  const run = (port: number) => {
    const r = runner();
    const ctx = contextWith(r, new FakeFacts(r, { appserver: resolvedTo('127.0.0.1') }), { host: 'appserver', port, protocol: 'udp' });
    return runCheck(probe, probe.params.parse({ host: 'appserver', port: String(port) }), ctx);
  };

  it('an answering port → open; the command is nc -vzu and the probe the UDP one', async () => {
    const res = await run(answering);
    expect(res.outcome).toBe('open');
    expect(res.command).toBe(`nc -vzu -w 1 127.0.0.1 ${answering}; ping -c 1 -W 1 -n 127.0.0.1; ip route get 127.0.0.1`);
    expect((res.evidence.addresses as { udp?: unknown; tcp?: unknown }[])[0]).toMatchObject({ udp: { outcome: 'reply', payload: 'empty', tries: 1 } });
    expect((res.evidence.addresses as { tcp?: unknown }[])[0]!.tcp).toBeUndefined();
  });

  it('a port nobody holds → closed at once; the words for the diagnoses are UDP\'s, and the server command says PORT/udp', async () => {
    const res = await run(closed);
    expect(res.outcome).toBe('closed');
    expect(res.summary).toBe(`port ${closed}: closed — 127.0.0.1:${closed} answered an empty datagram with an ICMP port unreachable (ECONNREFUSED, after 1 try): the host is up and answered`);
    expect(res.evidence).toMatchObject({
      sent: 'an empty datagram',
      tries: 1,
      traffic: 'datagrams',
      refusal: 'an ICMP port unreachable',
      listenersArgv: ['ss', '-Hulnp', `sport = :${closed}`],
      onServer: { argv: ['whyport', '127.0.0.1', `${closed}/udp`], command: `whyport 127.0.0.1 ${closed}/udp` },
    });
  });

  it('serverCommand writes the port as PORT/udp for UDP, and as the number for TCP', () => {
    expect(serverCommand('10.0.0.5', 53, 'dnsmasq', undefined, 'udp')).toEqual({ argv: ['whyport', '10.0.0.5', '53/udp', '--process', 'dnsmasq'], command: 'whyport 10.0.0.5 53/udp --process dnsmasq' });
    expect(serverCommand('10.0.0.5', 53).argv).toEqual(['whyport', '10.0.0.5', '53']);
  });
});

describe('decideProbe: the readings of every address to one outcome', () => {
  const at = (protocol: 'tcp' | 'udp' = 'tcp') => ({ target: { host: 'appserver', port: 7071, protocol }, timeoutMs: 1000 });
  const params = { host: 'appserver', port: 7071 };
  const resolution = (...addresses: string[]) => resolvedTo(...addresses);
  const reading = (t: ProbeResult, ping = pingFrom('reply-v4', t.address), route = routeFrom('get-gateway', t.address)) => ({ address: t.address, family: 4 as const, tcp: t, ping, route });
  const decide = (...addresses: ReturnType<typeof reading>[]) => decideProbe({ resolution: resolution(...addresses.map((a) => a.address)), addresses }, params, at());

  it('open: every address accepts; partial: some do, the others are findings', () => {
    expect(decide(reading(tcp('connected')))).toMatchObject({ outcome: 'open', status: 'pass', evidence: { address: ADDR, ping: 'used', traffic: 'connections' } });
    const partial = decide(reading(tcp('connected')), reading(tcp('refused', 'ECONNREFUSED', 2, '10.213.9.3')));
    expect(partial).toMatchObject({ outcome: 'partial', status: 'fail' });
    expect(partial.findings).toEqual([{ code: 'ADDRESS_FAILS', summary: '10.213.9.3: 10.213.9.3:7071 refuses the connection (ECONNREFUSED): the host is up and answered' }]);
  });

  it('closed, filtered, prohibited, unreachable: the most alive address decides', () => {
    expect(decide(reading(tcp('refused', 'ECONNREFUSED'))).outcome).toBe('closed');
    expect(decide(reading(tcp('timeout', 'ETIMEDOUT', 1001))).outcome).toBe('filtered');
    expect(decide(reading(tcp('unreachable', 'EHOSTUNREACH'))).outcome).toBe('prohibited');
    expect(decide(reading(tcp('timeout', 'ETIMEDOUT', 1001), pingFrom('no-reply'))).outcome).toBe('unreachable');
    // One address closed, one silent: closed is more alive than unreachable.
    const two = decide(reading(tcp('timeout', 'ETIMEDOUT', 1001), pingFrom('no-reply')), reading(tcp('refused', 'ECONNREFUSED', 2, '10.213.9.3')));
    expect(two).toMatchObject({ outcome: 'closed', evidence: { address: '10.213.9.3' } });
  });

  it('open-or-filtered (UDP): silence from a host that is up; what was sent is in the evidence', () => {
    const udp: UdpProbeResult = { address: ADDR, port: 53, outcome: 'silent', durationMs: 1000, tries: 3, payload: 'empty' };
    const d = decideProbe({ resolution: resolution(ADDR), addresses: [{ address: ADDR, family: 4, udp, ping: pingFrom('reply-v4'), route: routeFrom('get-gateway') }] }, { host: 'appserver', port: 53 }, at('udp'));
    expect(d).toMatchObject({ outcome: 'open-or-filtered', evidence: { sent: 'an empty datagram', tries: 3, traffic: 'datagrams', listenersArgv: ['ss', '-Hulnp', 'sport = :53'] } });
    expect(d.command).toMatch(/^nc -vzu -w 1 10\.213\.9\.2 53; /);
  });

  it('ping missing: a finding says the verdict rests on the probe and the neighbour table alone', () => {
    const d = decide(reading(tcp('refused', 'ECONNREFUSED'), PING_MISSING()));
    expect(d.evidence.ping).toBe('missing');
    expect(d.findings?.[0]?.code).toBe('PING_MISSING');
  });

  it('unresolved: the resolver error, and getent as the command', () => {
    const d = decideProbe({ resolution: { ok: false, error: 'nosuch does not resolve (no such name)', code: 'ENOTFOUND', durationMs: 2 }, addresses: [] }, { host: 'nosuch', port: 80 }, at());
    expect(d).toMatchObject({ outcome: 'unresolved', status: 'fail', command: 'getent ahosts nosuch', evidence: { code: 'ENOTFOUND' } });
  });
});
