import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.js';
import { firewall } from '../../src/checks/firewall.js';
import { forward } from '../../src/checks/forward.js';
import type { Host } from '../../src/host/host.js';
import { localHost } from '../../src/host/local.js';
import { contextWith, FakeFacts } from '../checks/replay.js';
import { dockerLikeHost, type DockerLikeHost } from '../helpers/containers.js';
import { netnsSkipReason } from '../helpers/netns.js';

/**
 * The firewall and forward checks for UDP against real rules: nft and iptables rulesets loaded in
 * the "host" namespace of a Docker-like bed of this test's own (test/helpers/containers.ts; never
 * the machine's firewall), read there through `ip netns exec`, with a real DNS server (dnsmasq)
 * behind them. What a client namespace really gets back from each rule is measured beside the
 * verdict: the verdict's `clientSees` must name it. The checks run in this process on a Host whose
 * commands run in the bed's host namespace (the command line has no `53/udp` yet).
 */

function skipReason(): string | undefined {
  const ns = netnsSkipReason();
  if (ns) return ns;
  const missing = [['nft', 'nftables'], ['iptables', 'iptables'], ['dnsmasq', 'dnsmasq-base']].filter(([tool]) => spawnSync(tool!, ['--version'], { stdio: 'ignore' }).error);
  if (missing.length) {
    const install = spawnSync('apt-get', ['install', '-y', ...missing.map(([, pkg]) => pkg!)], { stdio: 'ignore', timeout: 180_000 });
    if (install.status !== 0) return `missing ${missing.map(([t]) => t).join(', ')} and apt-get install failed: apt-get install -y ${missing.map(([, p]) => p).join(' ')}`;
  }
  return undefined;
}

const reason = skipReason();
if (reason) console.warn(`skipping the UDP firewall tests: ${reason}`);

const DNS = 53;
/** The host port published (by a UDP DNAT) to the container's DNS server. */
const PUBLISHED = 5300;

/** A DNS query for example.test A (id 0x1234): dnsmasq answers it from --address. */
const QUERY_HEX = '12340100000100000000000007' + Buffer.from('example').toString('hex') + '04' + Buffer.from('test').toString('hex') + '0000010001';

/**
 * What a client in `ns` gets for a DNS query to address:port over a connected UDP socket within a
 * second (three sends): `reply`, the errno of an ICMP error (ECONNREFUSED for port unreachable,
 * EHOSTUNREACH for admin-prohibited), or `silence`.
 */
function udpFrom(ns: readonly string[], address: string, port: number): string {
  const script = `const s=require('dgram').createSocket('udp4');const q=Buffer.from('${QUERY_HEX}','hex');
s.on('message',()=>{console.log('reply');process.exit(0)});s.on('error',(e)=>{console.log(e.code);process.exit(0)});
s.connect(${port},'${address}',()=>{for(const t of [0,300,600])setTimeout(()=>s.send(q,()=>{}),t)});setTimeout(()=>{console.log('silence');process.exit(0)},1000);`;
  return execFileSync(ns[0]!, [...ns.slice(1), process.execPath, '-e', script], { encoding: 'utf8', timeout: 10_000 }).trim();
}

describe.skipIf(reason !== undefined)('UDP through real firewall rules and a UDP DNAT, with a real DNS server', () => {
  let bed: DockerLikeHost;
  const servers: ChildProcess[] = [];
  const inHost = (...argv: string[]) => execFileSync(bed.host.exec[0]!, [...bed.host.exec.slice(1), ...argv], { stdio: ['pipe', 'ignore', 'pipe'], timeout: 10_000 });
  const nftInHost = (ruleset: string) => execFileSync(bed.host.exec[0]!, [...bed.host.exec.slice(1), 'nft', '-f', '-'], { input: ruleset, stdio: ['pipe', 'ignore', 'pipe'], timeout: 10_000 });

  /** dnsmasq on address:53 in the namespace, once its socket is bound. */
  async function dnsmasqIn(ns: readonly string[], address: string): Promise<void> {
    const args = ['--keep-in-foreground', '--no-resolv', '--no-hosts', '--pid-file=', '--user=root', `--port=${DNS}`, `--listen-address=${address}`, '--bind-interfaces', '--address=/example.test/10.1.2.3'];
    const child = spawn(ns[0]!, [...ns.slice(1), 'dnsmasq', ...args], { stdio: 'ignore' });
    servers.push(child);
    for (let i = 0; i < 50; i++) {
      const ss = spawnSync(ns[0]!, [...ns.slice(1), 'ss', '-Huln', `sport = :${DNS}`], { encoding: 'utf8', timeout: 5_000 });
      if (ss.stdout.includes(`${address}:${DNS}`)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`dnsmasq did not bind ${address}:${DNS}`);
  }

  /** The bed's host namespace as whyport's Host: commands run there; /proc is the machine's. */
  function hostCtx(): CheckContext {
    const host: Host = { ...localHost, run: (argv, options) => localHost.run([...bed.host.exec, ...argv], options) };
    const facts = new FakeFacts(host, {}, [bed.hostAddress]);
    return contextWith(host, facts, { host: bed.hostAddress, port: DNS, protocol: 'udp' });
  }
  const runFirewall = (ctx: CheckContext, port = DNS) => firewall.run(firewall.params.parse({ host: bed.hostAddress, port: String(port) }), { ...ctx, target: { ...ctx.target, port } });

  beforeAll(async () => {
    bed = dockerLikeHost();
    inHost('sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0');
    await dnsmasqIn(bed.host.exec, bed.hostAddress);
    await dnsmasqIn(bed.container.exec, bed.containerAddress);
    // Docker publishes `-p 5300:53/udp` as a UDP DNAT in its DOCKER chain; a TCP one for 5301 beside it.
    inHost('iptables', '-t', 'nat', '-A', 'DOCKER', '!', '-i', bed.bridge, '-p', 'udp', '-m', 'udp', '--dport', String(PUBLISHED), '-j', 'DNAT', '--to-destination', `${bed.containerAddress}:${DNS}`);
    bed.publish(PUBLISHED + 1, DNS);
  }, 60_000);

  afterEach(() => {
    // Only the filter rules of this bed's host namespace; its nat table (the DOCKER chain) stays.
    inHost('iptables', '-F', 'INPUT');
    spawnSync(bed.host.exec[0]!, [...bed.host.exec.slice(1), 'nft', 'delete', 'table', 'inet', 'filter'], { stdio: 'ignore', timeout: 5_000 });
  });

  afterAll(() => {
    for (const s of servers) if (s.pid) process.kill(s.pid);
    bed?.remove();
  });

  it('no rule: allows, and the DNS server answers the client', async () => {
    expect(udpFrom(bed.client.exec, bed.hostAddress, DNS)).toBe('reply');
    const res = await runFirewall(hostCtx());
    expect(res.outcome, res.summary).toBe('allows');
    expect(res.summary).toMatch(/^no firewall rule drops or rejects incoming datagrams to port 53; read nftables, iptables/);
  });

  it('nft `udp dport 53 drop`: blocks, names the rule, and its fix (applied) lets the client in; the client hears nothing meanwhile', async () => {
    nftInHost(`table inet filter {\n  chain input {\n    type filter hook input priority filter; policy accept;\n    iifname "lo" accept\n    udp dport ${DNS} drop\n  }\n}\n`);
    expect(udpFrom(bed.client.exec, bed.hostAddress, DNS)).toBe('silence');
    const res = await runFirewall(hostCtx());
    expect(res.outcome).toBe('blocks');
    expect(res.evidence).toMatchObject({ tool: 'nftables', table: 'inet filter', chain: 'input', rule: `udp dport ${DNS} drop`, clientSees: 'no reply', clientCode: 'OPEN_OR_FILTERED', remoteOnly: true });
    // The rule is about port 53 alone: its fix deletes it by its handle.
    expect(res.evidence.fixCommand).toMatch(/^nft delete rule inet filter input handle \d+$/);
    inHost(...(res.evidence.fix as string[]));
    expect(udpFrom(bed.client.exec, bed.hostAddress, DNS)).toBe('reply');
    expect((await runFirewall(hostCtx())).outcome).toBe('allows');
  });

  it('iptables `-p udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited`: the client gets EHOSTUNREACH, which the verdict names as filtered', async () => {
    inHost('iptables', '-A', 'INPUT', '-p', 'udp', '--dport', String(DNS), '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited');
    expect(udpFrom(bed.client.exec, bed.hostAddress, DNS)).toBe('EHOSTUNREACH');
    const res = await runFirewall(hostCtx());
    expect(res.outcome).toBe('blocks');
    expect(res.summary).toBe(`iptables table filter, chain INPUT: \`-A INPUT -p udp -m udp --dport ${DNS} -j REJECT --reject-with icmp-admin-prohibited\` rejects (with icmp-admin-prohibited) datagrams to port ${DNS}: a client gets ICMP administratively prohibited, so from there the port looks filtered`);
    expect(res.evidence).toMatchObject({ clientCode: 'PORT_FILTERED', fixCommand: `iptables -D INPUT -p udp -m udp --dport ${DNS} -j REJECT --reject-with icmp-admin-prohibited` });
  });

  it('iptables REJECT with its default: the client gets ECONNREFUSED (port unreachable), which the verdict names as closed', async () => {
    inHost('iptables', '-A', 'INPUT', '-p', 'udp', '--dport', String(DNS), '-j', 'REJECT');
    expect(udpFrom(bed.client.exec, bed.hostAddress, DNS)).toBe('ECONNREFUSED');
    const res = await runFirewall(hostCtx());
    expect(res.evidence).toMatchObject({ rule: `-A INPUT -p udp -m udp --dport ${DNS} -j REJECT --reject-with icmp-port-unreachable`, clientSees: 'ICMP port unreachable', clientCode: 'PORT_CLOSED' });
  });

  it('a TCP-only drop of the port does not block UDP (nft and iptables alike), while TCP is blocked', async () => {
    inHost('iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(DNS), '-j', 'DROP');
    nftInHost(`table inet filter {\n  chain input {\n    type filter hook input priority filter; policy accept;\n    tcp dport ${DNS} drop\n    tcp flags syn drop\n  }\n}\n`);
    expect(udpFrom(bed.client.exec, bed.hostAddress, DNS)).toBe('reply');
    expect((await runFirewall(hostCtx())).outcome).toBe('allows');
    const ctx = hostCtx();
    const asTcp = await runFirewall({ ...ctx, target: { ...ctx.target, protocol: 'tcp' } });
    expect(asTcp.outcome).toBe('blocks');
    // Deleting `tcp dport 53 drop` alone would leave `tcp flags syn drop`: the drop is narrowed instead.
    expect(asTcp.evidence).toMatchObject({ rule: `tcp dport ${DNS} drop`, fixCommand: `nft insert rule inet filter input tcp dport ${DNS} accept`, fixKind: 'narrow' });
  });

  it('a UDP DNAT (Docker `-p 5300:53/udp`) to the container is found by the forward check, and dnsmasq there is the listener; a TCP DNAT is not', async () => {
    expect(udpFrom(bed.client.exec, bed.hostAddress, PUBLISHED)).toBe('reply');
    const ctx = hostCtx();
    const at = (port: number, protocol: 'tcp' | 'udp') => forward.run(forward.params.parse({ host: bed.hostAddress, port: String(port) }), { ...ctx, target: { ...ctx.target, port, protocol } });
    const res = await at(PUBLISHED, 'udp');
    expect(res.outcome, res.summary).toBe('reaches');
    expect(res.evidence).toMatchObject({
      forward: { via: 'dnat', to: `${bed.containerAddress}:${DNS}`, rule: `-A DOCKER ! -i ${bed.bridge} -p udp -m udp --dport ${PUBLISHED} -j DNAT --to-destination ${bed.containerAddress}:${DNS}` },
      destination: `${bed.containerAddress}:${DNS}`,
      listeners: [`${bed.containerAddress}:${DNS}`],
      program: 'dnsmasq',
    });
    expect(res.command).toContain("ss -Hulnp 'sport = :53'");
    // The TCP DNAT for 5301 is not UDP's, and the UDP one for 5300 is not TCP's; asked about TCP,
    // 5301 goes to dnsmasq's TCP socket on 53.
    expect((await at(PUBLISHED + 1, 'udp')).outcome).toBe('none');
    expect((await at(PUBLISHED, 'tcp')).outcome).toBe('none');
    expect(await at(PUBLISHED + 1, 'tcp')).toMatchObject({ outcome: 'reaches', evidence: { forward: { rule: expect.stringContaining('-p tcp -m tcp --dport 5301 -j DNAT') }, program: 'dnsmasq' } });
  });
});
