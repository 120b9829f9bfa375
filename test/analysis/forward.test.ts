import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findDnat, type NatPacket } from '../../src/analysis/forward.js';
import { parseIptablesSave, type IptablesRuleset } from '../../src/system/firewall/iptables.js';
import { parseNftJson } from '../../src/system/firewall/nft.js';
import { fixture } from '../system/firewall/fixtures.js';

// Each case of test/fixtures/nat was loaded into a namespace and captured by capture.sh with both
// iptables-save and nft -j (SOURCES.md says where its rules come from).
function rules(name: string, views: 'iptables' | 'nft' | 'both' = 'both') {
  const iptables: IptablesRuleset[] = [];
  for (const file of [`${name}.iptables-save.txt`, `${name}.ip6tables-save.txt`]) {
    if (views !== 'nft' && existsSync(new URL(`../fixtures/nat/${file}`, import.meta.url))) iptables.push(parseIptablesSave(fixture('nat', file)));
  }
  return views === 'iptables' ? { iptables } : { iptables, nft: parseNftJson(fixture('nat', `${name}.nft.json`)) };
}

const remote = (port: number, extra: Partial<NatPacket> = {}): NatPacket => ({ port, protocol: 'tcp', hook: 'prerouting', dstLocal: true, ...extra });
const local = (port: number, extra: Partial<NatPacket> = {}): NatPacket => ({ port, protocol: 'tcp', hook: 'output', dstLocal: true, ...extra });

describe('findDnat: Docker before 28 (DOCKER chain with a RETURN for the bridge), rebuilt and proven to forward', () => {
  const docker = rules('docker-classic');

  it('a client on the uplink: PREROUTING → DOCKER, the published port to the container', () => {
    expect(findDnat(docker, remote(8080, { dst: '10.213.9.1', inInterface: 'uplink' }))).toEqual({
      via: 'dnat',
      to: { address: '172.17.0.2', port: 80 },
      rule: '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80',
      tool: 'iptables',
      table: 'nat',
      chain: 'nat PREROUTING → DOCKER',
    });
  });

  it('reads the iptables-nft tables through iptables-save, not twice: the same answer with or without nft', () => {
    expect(findDnat(rules('docker-classic', 'iptables'), remote(8080, { inInterface: 'uplink' }))).toEqual(findDnat(docker, remote(8080, { inInterface: 'uplink' })));
  });

  it('from another container on docker0 the RETURN wins: no DNAT', () => {
    expect(findDnat(docker, remote(8080, { inInterface: 'docker0' }))).toBeUndefined();
  });

  it('interface unknown: the forward, with what it rests on', () => {
    expect(findDnat(docker, remote(8080))?.assumed).toEqual([
      '-A DOCKER -i docker0 -j RETURN — assumed not to apply (it depends on the interface the connection arrives on)',
      '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80 — assumed to apply (it depends on the interface the connection arrives on)',
    ]);
  });

  it("from the host itself to its own address: OUTPUT → DOCKER (no input interface, so `! -i docker0` holds)", () => {
    expect(findDnat(docker, local(8080, { dst: '10.213.9.1' }))).toMatchObject({ to: { address: '172.17.0.2', port: 80 }, chain: 'nat OUTPUT → DOCKER' });
    expect(findDnat(docker, local(8080, { dst: '10.213.9.1' }))?.assumed).toBeUndefined();
  });

  it('to 127.0.0.1 nothing is NATed (`! -d 127.0.0.0/8`): docker-proxy answers there', () => {
    expect(findDnat(docker, local(8080, { dst: '127.0.0.1' }))).toBeUndefined();
  });

  it('UDP publishes, and a port published on 127.0.0.1 only is not reached from outside', () => {
    expect(findDnat(docker, remote(5353, { protocol: 'udp', inInterface: 'uplink' }))).toMatchObject({ to: { address: '172.17.0.4', port: 53 } });
    expect(findDnat(docker, remote(5353, { inInterface: 'uplink' }))).toBeUndefined();
    expect(findDnat(docker, remote(5432, { inInterface: 'uplink', dst: '10.213.9.1' }))).toBeUndefined();
  });

  it("a swarm node's DOCKER-INGRESS comes first", () => {
    expect(findDnat(docker, remote(9090, { inInterface: 'uplink' }))).toMatchObject({ to: { address: '172.18.0.2', port: 9090 }, chain: 'nat PREROUTING → DOCKER-INGRESS' });
  });

  it("nft's own view of iptables-nft rules names the DNAT target only (xt target DNAT): no destination to tell", () => {
    expect(findDnat(rules('docker-classic', 'nft'), remote(8080, { inInterface: 'uplink' }))).toBeUndefined();
    expect(findDnat(rules('kube-proxy', 'nft'), remote(31964, { dst: '10.0.0.5' }))).toBeUndefined();
  });
});

describe("findDnat: Docker 28 (moby's golden rules), IPv4 and IPv6", () => {
  const docker = rules('docker-modern');

  it('IPv6 from ip6tables, bracketed destination read; the fe80::/10 source exclusion is an assumption', () => {
    const fwd = findDnat(docker, remote(8080, { dst: 'fd00:9::1', inInterface: 'eth0' }));
    expect(fwd).toMatchObject({ to: { address: 'fd49:efd7:54aa::1', port: 80 }, tool: 'ip6tables', chain: 'nat PREROUTING → DOCKER' });
    expect(fwd?.assumed).toEqual(['-A DOCKER ! -s fe80::/10 ! -i br-dummy -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd49:efd7:54aa::1]:80 — assumed to apply (it depends on the client\'s address)']);
    expect(findDnat(docker, remote(8080, { dst: 'fd00:9::1', src: 'fd00:9::2', inInterface: 'eth0' }))?.assumed).toBeUndefined();
  });

  it('IPv4; a port published on 127.0.0.1 is not DNATed for another destination', () => {
    expect(findDnat(docker, remote(8080, { dst: '10.0.0.5', inInterface: 'eth0' }))).toMatchObject({ to: { address: '192.168.0.2', port: 80 }, tool: 'iptables' });
    expect(findDnat(docker, remote(8081, { dst: '10.0.0.5', inInterface: 'eth0' }))).toBeUndefined();
  });
});

describe('findDnat: inside a container, Docker\'s embedded DNS', () => {
  it('OUTPUT to 127.0.0.11, UDP and TCP to different ports', () => {
    const dns = rules('docker-dns-in-container');
    expect(findDnat(dns, local(53, { protocol: 'udp', dst: '127.0.0.11' }))).toMatchObject({ to: { address: '127.0.0.11', port: 46621 }, chain: 'nat OUTPUT → DOCKER_OUTPUT' });
    expect(findDnat(dns, local(53, { dst: '127.0.0.11' }))).toMatchObject({ to: { address: '127.0.0.11', port: 41879 } });
    expect(findDnat(dns, local(53, { dst: '127.0.0.1' }))).toBeUndefined();
  });
});

describe('findDnat: Podman with netavark', () => {
  it('iptables driver: NETAVARK-HOSTPORT-DNAT → NETAVARK-DN-<hash>; the mark-only jumps do not count as assumptions', () => {
    expect(findDnat(rules('netavark-iptables'), remote(8080))).toEqual({
      via: 'dnat',
      to: { address: '10.88.0.2', port: 80 },
      rule: '-A NETAVARK-DN-26815A4C67D60 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.88.0.2:80',
      tool: 'iptables',
      table: 'nat',
      chain: 'nat PREROUTING → NETAVARK-HOSTPORT-DNAT → NETAVARK-DN-26815A4C67D60',
    });
  });

  it('a published range maps each port to its place in the container range (`7000-7002/9000`)', () => {
    expect(findDnat(rules('netavark-iptables'), remote(9001))?.to).toEqual({ address: '10.88.0.3', port: 7001 });
    expect(findDnat(rules('netavark-iptables'), local(9002, { dst: '127.0.0.1' }))?.to).toEqual({ address: '10.88.0.3', port: 7002 });
  });

  it('nftables driver: the inet netavark table, `dnat ip to`, a port published on 127.0.0.1', () => {
    const nv = rules('netavark-nft');
    expect(findDnat(nv, remote(8080))).toMatchObject({
      to: { address: '10.88.0.2', port: 80 },
      tool: 'nftables',
      table: 'inet netavark',
      chain: 'inet netavark PREROUTING → NETAVARK-HOSTPORT-DNAT → nv_2f259bab_10_88_0_0_nm16_dnat',
    });
    expect(findDnat(nv, local(8443, { dst: '127.0.0.1' }))).toMatchObject({ to: { address: '10.88.0.3', port: 443 }, rule: 'ip daddr 127.0.0.1 tcp dport 8443 ct mark set meta mark | 4096 dnat ip to 10.88.0.3:443' });
    expect(findDnat(nv, remote(8443, { dst: '10.0.0.5' }))).toBeUndefined();
  });
});

describe('findDnat: kube-proxy (iptables mode)', () => {
  const kube = rules('kube-proxy');

  it('a NodePort: KUBE-SERVICES → KUBE-NODEPORTS → KUBE-EXT → KUBE-SVC → the first endpoint, the others listed', () => {
    expect(findDnat(kube, remote(31964, { dst: '10.0.0.5' }))).toEqual({
      via: 'dnat',
      to: { address: '10.244.1.5', port: 8080 },
      rule: '-A KUBE-SEP-OBK7ESLXBESBIWIF -p tcp -m comment --comment "default/nodeport-service" -m tcp -j DNAT --to-destination 10.244.1.5:8080',
      tool: 'iptables',
      table: 'nat',
      chain: 'nat PREROUTING → KUBE-SERVICES → KUBE-NODEPORTS → KUBE-EXT-QATUYZLPU4I4HE4S → KUBE-SVC-QATUYZLPU4I4HE4S → KUBE-SEP-OBK7ESLXBESBIWIF',
      alternatives: [
        { address: '10.244.2.7', port: 8080 },
        { address: '10.244.3.9', port: 8080 },
      ],
      note: 'a random choice (-m statistic --mode random) sends each new connection to one of 3 destinations (10.244.1.5:8080, 10.244.2.7:8080, 10.244.3.9:8080); the first is shown',
    });
  });

  it('a ClusterIP from the node itself, and kube-dns over UDP from a pod', () => {
    expect(findDnat(kube, local(80, { dstLocal: false, dst: '10.96.140.20' }))).toMatchObject({ to: { address: '10.244.1.5', port: 8080 }, chain: 'nat OUTPUT → KUBE-SERVICES → KUBE-SVC-QATUYZLPU4I4HE4S → KUBE-SEP-OBK7ESLXBESBIWIF' });
    expect(findDnat(kube, remote(53, { protocol: 'udp', dstLocal: false, dst: '10.96.0.10', src: '10.244.1.5' }))).toMatchObject({ to: { address: '10.244.0.3', port: 53 } });
  });

  it('the cluster IP unknown: the forward found only by assuming it', () => {
    expect(findDnat(kube, remote(80))?.assumed).toEqual([
      '-A KUBE-SERVICES -d 10.96.140.20/32 -p tcp -m comment --comment "default/nodeport-service cluster IP" -m tcp --dport 80 -j KUBE-SVC-QATUYZLPU4I4HE4S — assumed to apply (it depends on the address the client connects to)',
    ]);
    expect(findDnat(kube, remote(80, { dst: '10.0.0.5' }))).toBeUndefined();
  });
});

describe('findDnat: native nftables, written by hand', () => {
  const nft = rules('nft-native');
  const eth0 = (port: number, extra: Partial<NatPacket> = {}) => remote(port, { inInterface: 'eth0', ...extra });

  it('iptables-save refuses the table; findDnat reads it through nft', () => {
    expect(nft.iptables.flatMap((r) => r.tables)).toEqual([]);
    expect(fixture('nat', 'nft-native.iptables-save.txt')).toMatch(/incompatible, use 'nft' tool/);
    expect(findDnat(nft, eth0(8080))).toEqual({ via: 'dnat', to: { address: '10.88.0.2', port: 80 }, rule: 'fib daddr type local tcp dport 8080 dnat to 10.88.0.2:80', tool: 'nftables', table: 'ip nat', chain: 'ip nat prerouting' });
  });

  it('a set of ports, and a dnat without a port keeps the original one', () => {
    expect(findDnat(nft, eth0(9443))?.to).toEqual({ address: '10.88.0.3', port: 9443 });
  });

  it('a jump; UDP; a goto whose target returns ends the calling chain too', () => {
    expect(findDnat(nft, local(2222, { dst: '10.0.0.5' }))).toMatchObject({ to: { address: '10.88.0.4', port: 22 }, chain: 'ip nat output → services' });
    expect(findDnat(nft, eth0(5353, { protocol: 'udp' }))?.to).toEqual({ address: '10.88.0.5', port: 53 });
    expect(findDnat(nft, eth0(7003))).toMatchObject({ to: { address: '10.88.0.6', port: 7003 }, chain: 'ip nat prerouting → services → backends' });
    expect(findDnat(nft, eth0(7005))).toBeUndefined();
  });

  it('dnat maps, written as nft prints them', () => {
    expect(findDnat(nft, eth0(3000))).toMatchObject({ to: { address: '10.88.0.8', port: 3000 }, rule: 'dnat to tcp dport map @app_ports' });
    expect(findDnat(nft, eth0(3001))).toMatchObject({ to: { address: '10.88.0.9', port: 8001 }, rule: 'dnat ip to tcp dport map { 3001 : 10.88.0.9 . 8001 }' });
    expect(findDnat(nft, eth0(3002))).toBeUndefined();
  });

  it('a random choice between chains (numgen vmap): the first, the other listed', () => {
    expect(findDnat(nft, eth0(6000))).toMatchObject({
      to: { address: '10.88.0.20', port: 6000 },
      chain: 'ip nat prerouting → services → pool_a',
      alternatives: [{ address: '10.88.0.21', port: 6000 }],
      note: 'a random choice (nft numgen) sends each new connection to one of 2 destinations (10.88.0.20:6000, 10.88.0.21:6000); the first is shown',
    });
  });

  it('redirect to a port of this host', () => {
    expect(findDnat(nft, eth0(3004))).toMatchObject({ to: { address: '127.0.0.1', port: 8080 }, redirect: true, rule: 'tcp dport 3004 redirect to :8080' });
  });

  it('IPv6: the ip6 table, and the inet table that maps both families', () => {
    expect(findDnat(nft, eth0(8080, { dst: 'fd00:9::1' }))).toMatchObject({ to: { address: 'fd00:88::2', port: 80 }, rule: 'fib daddr type local tcp dport 8080 dnat to [fd00:88::2]:80', table: 'ip6 nat' });
    expect(findDnat(nft, eth0(8888, { dst: 'fd00:9::1' }))).toMatchObject({ to: { address: 'fd00:88::7', port: 80 }, table: 'inet portmap' });
    expect(findDnat(nft, eth0(8888))).toMatchObject({ to: { address: '10.88.0.7', port: 80 }, table: 'inet portmap' });
  });

  it('returns before the rule: an interface excluded, loopback excluded on output', () => {
    expect(findDnat(nft, remote(8080, { inInterface: 'br-lan' }))).toBeUndefined();
    expect(findDnat(nft, local(2222, { dst: '127.0.0.1' }))).toBeUndefined();
    expect(findDnat(nft, remote(8080))?.assumed).toEqual(['iifname "br-lan" return — assumed not to apply (it depends on the interface the connection arrives on)']);
  });
});

describe('findDnat: REDIRECT (iptables)', () => {
  const redirect = rules('redirect');

  it('from outside: to this host, with what that means for a loopback-only listener', () => {
    expect(findDnat(redirect, remote(80))).toEqual({
      via: 'dnat',
      to: { address: '127.0.0.1', port: 8080 },
      redirect: true,
      note: 'REDIRECT sends it to this host, to the first address of the interface it arrives on (shown as 127.0.0.1): a listener on 0.0.0.0 takes it, one on loopback only does not',
      rule: '-A PREROUTING -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080',
      tool: 'iptables',
      table: 'nat',
      chain: 'nat PREROUTING',
    });
    expect(findDnat(redirect, remote(80, { family: 6 }))).toMatchObject({ to: { address: '::1', port: 8080 }, tool: 'ip6tables' });
  });

  it('from the host over lo (-o lo on OUTPUT)', () => {
    expect(findDnat(redirect, local(80, { dst: '127.0.0.1' }))).toMatchObject({ to: { address: '127.0.0.1', port: 8080 }, chain: 'nat OUTPUT' });
  });

  it('multiport into a goto chain; its RETURN for a source ends PREROUTING', () => {
    expect(findDnat(redirect, remote(2001))).toMatchObject({ to: { address: '127.0.0.1', port: 2001 }, chain: 'nat PREROUTING → REDIR', assumed: ['-A REDIR -s 192.0.2.0/24 -j RETURN — assumed not to apply (it depends on the client\'s address)'] });
    expect(findDnat(redirect, remote(2001, { src: '192.0.2.7' }))).toBeUndefined();
    expect(findDnat(redirect, remote(4443, { src: '198.51.100.1' }))).toMatchObject({ to: { address: '127.0.0.1', port: 4443 } });
    expect(findDnat(redirect, remote(2003))).toBeUndefined();
  });
});

describe('findDnat: nothing to walk', () => {
  it('no rulesets, or no nat table', () => {
    expect(findDnat({}, remote(8080))).toBeUndefined();
    expect(findDnat({ iptables: [parseIptablesSave(fixture('iptables', 'nft-drop-port.save.txt'))] }, remote(7071))).toBeUndefined();
  });
});
