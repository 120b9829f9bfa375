import { describe, expect, it } from 'vitest';
import { decideForward, forward, type ForwardReadings } from '../../src/checks/forward.js';
import { natRulesOf } from '../../src/system/facts.js';
import type { DecideContext } from '../../src/checks/check.js';
import type { TcpSocket } from '../../src/system/socket.js';
import { parseIptablesSave } from '../../src/system/firewall/iptables.js';
import { fixture } from '../system/firewall/fixtures.js';
import { paramsOf } from './replay.js';
import { assertHas } from '../helpers/narrow.js';

// The forward step's decision, from what it read: nat rules captured from a real Docker host
// (test/fixtures/nat), a docker-proxy's command line, and the sockets at the other end.

const at = (protocol: 'tcp' | 'udp' = 'tcp'): DecideContext => ({ target: { host: '10.213.9.1', port: 8080, protocol }, timeoutMs: 1000 });
const docker = { iptables: [parseIptablesSave(fixture('nat', 'docker-classic.iptables-save.txt'))] };
const noNat = { iptables: [] };

function sock(address: string, port: number, state: TcpSocket['state'] = 'LISTEN', inode = 4242): TcpSocket {
  return { family: address.includes(':') ? 'inet6' : 'inet', state, recvQ: 0, sendQ: 0, local: { address, port }, peer: { address: '0.0.0.0', port: 0 }, inode };
}

const container = { inode: 4026532301, pid: 812, cgroup: '0::/system.slice/docker-3f2a9c1b7e4d5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a.scope', names: [], sockets: [] };
const owners = { owners: [{ inode: 4242, holders: [{ pid: 812, program: 'nginx' }] }], hidden: false };

function readings(destination: ForwardReadings['destination'], more: Partial<ForwardReadings> = {}): ForwardReadings {
  return { nat: docker, addresses: ['10.213.9.1'], holders: [], ...(destination ? { destination } : {}), ...more };
}

describe('decideForward', () => {
  it('none: no DNAT rule and no proxy holds the port', () => {
    const d = decideForward({ nat: noNat, addresses: ['10.213.9.1'], holders: [{ pid: 7, argv: ['nginx', '-g', 'daemon off;'] }] }, { port: 8080 }, at());
    expect(d).toMatchObject({ outcome: 'none', status: 'info', summary: 'no DNAT rule or proxy forwards port 8080', evidence: {} });
    expect(d.command).toBe("iptables -t nat -S; nft list ruleset | grep -n 'dnat\\|redirect'; ss -Htlnp 'sport = :8080'");
  });

  it('reaches: the DNAT rule to a container where nginx listens on every address', () => {
    const d = decideForward(readings({ found: true, view: container, containerName: 'web', sockets: [sock('0.0.0.0', 80)], owners }), { port: 8080 }, at());
    expect(d.outcome).toBe('reaches');
    expect(d.status).toBe('pass');
    expect(d.summary).toBe('port 8080 is forwarded to 172.17.0.2:80 (container web) by iptables rule `-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80` (nat PREROUTING → DOCKER), and nginx (pid 812) listens there on 0.0.0.0:80');
    expect(d.evidence).toMatchObject({ destination: '172.17.0.2:80', namespace: { kind: 'container', name: 'web', pid: 812 }, where: 'container web', listeners: ['0.0.0.0:80'], program: 'nginx', pid: 812, tool: 'iptables', chain: 'nat PREROUTING → DOCKER' });
    expect(d.command).toContain('docker ps --filter id=3f2a9c1b7e4d');
  });

  it('loopback-only: inside, the program listens on 127.0.0.1 and its command line says so', () => {
    const argv = ['python3', '-m', 'http.server', '--bind', '127.0.0.1', '80'];
    const d = decideForward(readings({ found: true, view: container, sockets: [sock('127.0.0.1', 80)], owners, argv }), { port: 8080 }, at());
    expect(d.outcome).toBe('loopback-only');
    expect(d.status).toBe('fail');
    expect(d.summary).toMatch(/but there nginx \(pid 812\) listens on 127\.0\.0\.1:80 only, which forwarded connections never reach$/);
    assertHas(d.evidence, 'look');
    expect(d.evidence.look).toEqual(['nsenter', '-t', '812', '-n', 'ss', '-Htlnp', 'sport = :80']);
    assertHas(d.evidence, 'bindFix');
    expect(d.evidence.bindFix).toMatch(/^Inside, nginx \(pid 812\) was started with `--bind 127\.0\.0\.1`/);
  });

  it('nothing: nothing listens on the destination port; the ports it does listen on are said', () => {
    const d = decideForward(readings({ found: true, view: container, sockets: [sock('0.0.0.0', 8000), sock('127.0.0.1', 9000)] }), { port: 8080 }, at());
    expect(d.outcome).toBe('nothing');
    expect(d.evidence).toMatchObject({ listeners: [], otherPorts: [8000], otherPortsText: 'it listens on 8000 instead' });
    expect(d.summary).toMatch(/but nothing listens on port 80 there: it listens on 8000 instead$/);
  });

  it('off-host: the destination address is no namespace of this host', () => {
    const d = decideForward(readings({ found: false }), { port: 8080 }, at());
    expect(d.outcome).toBe('off-host');
    expect(d.summary).toMatch(/no network namespace of this host has that address, so it is another machine$/);
    expect(d.evidence).toMatchObject({ destination: '172.17.0.2:80' });
  });

  it('a docker-proxy holding the port: its command line names the destination; this host itself when the address is its own', () => {
    const proxy = { pid: 662, argv: ['docker-proxy', '-proto', 'tcp', '-host-ip', '0.0.0.0', '-host-port', '49153', '-container-ip', '10.0.0.2', '-container-port', '80'] };
    const d = decideForward({ nat: noNat, addresses: [], holders: [proxy], destination: { found: true, sockets: [sock('10.0.0.2', 80)], owners } }, { port: 49153 }, at());
    expect(d.outcome).toBe('reaches');
    expect(d.evidence).toMatchObject({ forward: { via: 'proxy', to: '10.0.0.2:80' }, where: 'this host itself' });
    expect(d.evidence).not.toHaveProperty('namespace');
  });

  it('off-host: a proxy whose destination its command line does not say', () => {
    const d = decideForward({ nat: noNat, addresses: [], holders: [{ pid: 9, argv: ['rootlessport'] }] }, { port: 8080 }, at());
    expect(d.outcome).toBe('off-host');
    expect(d.summary).toBe('port 8080 is forwarded by rootlessport (rootlessport), whose destination its command line does not say');
  });

  it('UDP: the rule must name UDP, and the listener is an unconnected socket', () => {
    const udp = sock('0.0.0.0', 53, 'UNCONN');
    const d = decideForward(readings({ found: true, view: container, sockets: [udp], owners: { owners: [{ inode: 4242, holders: [{ pid: 812, program: 'dnsmasq' }] }], hidden: false } }), { port: 5353 }, at('udp'));
    expect(d.outcome).toBe('reaches');
    assertHas(d.evidence, 'listeners');
    expect(d.evidence.listeners).toEqual(['0.0.0.0:53']);
    expect(decideForward(readings(undefined), { port: 5353 }, at('tcp')).outcome).toBe('none');
  });
});

describe('forward.prefetch', () => {
  it('the nat rules, worth it only when the target is this host', () => {
    expect(forward.prefetch?.(paramsOf(forward, { port: '8080', host: '10.213.9.1' }), at())).toEqual([{ reader: natRulesOf, key: undefined, onlyForLocalTarget: true }]);
  });
});
