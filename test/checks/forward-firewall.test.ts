import { describe, expect, it } from 'vitest';
import { decideForwardFirewall, type ForwardFirewallReadings } from '../../src/checks/forward-firewall.js';
import type { DecideContext } from '../../src/checks/check.js';
import { parseIptablesSave } from '../../src/system/firewall/iptables.js';
import { parseNftJson } from '../../src/system/firewall/nft.js';
import { parseUfwStatus } from '../../src/system/firewall/ufw.js';
import type { FirewallReading, FirewallRulesets } from '../../src/system/firewall/read.js';
import { parseRouteGet } from '../../src/system/route.js';
import { parseForwarding } from '../../src/system/ip-forwarding.js';
import { fixture } from '../system/firewall/fixtures.js';
import { assertHas } from '../helpers/narrow.js';

// The forward-firewall step's decision, from rulesets captured in real namespaces where a client
// really connected through the DNAT (test/fixtures/forward/capture.sh: answered, silent, refused).

const at: DecideContext = { target: { host: '10.213.9.1', port: 8080, protocol: 'tcp' }, timeoutMs: 1000 };

/** One captured case: its iptables-save (when iptables made it), its nft -j, and its route to the container. */
function captured(name: string, opts: { nftOnly?: boolean; ufw?: string } = {}): ForwardFirewallReadings {
  const iptables = opts.nftOnly ? [] : [parseIptablesSave(fixture('forward', `${name}.iptables-save.txt`))];
  const rulesets: FirewallRulesets = { iptables, nft: parseNftJson(fixture('forward', `${name}.nft.json`)), ...(opts.ufw ? { ufw: parseUfwStatus(fixture('ufw', opts.ufw)) } : {}) };
  const sources: FirewallReading['sources'] = [
    { name: 'nftables', command: 'nft -j list ruleset', status: 'ok', durationMs: 3 },
    { name: 'iptables', command: 'iptables-save', status: opts.nftOnly ? 'missing' : 'ok', durationMs: 3 },
  ];
  const route = { address: '172.17.0.2', command: 'ip route get 172.17.0.2', durationMs: 1, ...parseRouteGet(fixture('forward', `${name}.ip-route.txt`), '', 0) };
  return {
    nat: { iptables, nft: rulesets.nft! },
    addresses: ['10.213.9.1'],
    dnat: { local: false, forwarding: { family: 4, sysctl: 'net.ipv4.ip_forward', on: true }, route, firewall: { permission: true, sources, rulesets } },
  };
}

describe('decideForwardFirewall', () => {
  it("allows: Docker's own FORWARD rules let the published port through (its ACCEPT in DOCKER), no false alarm", () => {
    const d = decideForwardFirewall(captured('docker-open'), { port: 8080 }, at);
    expect(d.outcome).toBe('allows');
    expect(d.status).toBe('pass');
    expect(d.summary).toBe('this host forwards IPv4 (net.ipv4.ip_forward = 1), and no rule of its forward hook drops or rejects the connections forwarded to 172.17.0.2:80 (out through docker0) (accepted by `-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT`, iptables table filter, chain DOCKER); read nftables, iptables');
    expect(d.evidence).toMatchObject({ destination: '172.17.0.2:80', oif: 'docker0', caveats: [] });
  });

  it('blocks: a DROP in DOCKER-USER on the container port (80, after the DNAT), named with its table and chain; the fix deletes it', () => {
    const d = decideForwardFirewall(captured('docker-user-drop'), { port: 8080 }, at);
    expect(d.outcome).toBe('blocks');
    expect(d.status).toBe('fail');
    expect(d.summary).toBe('iptables table filter, chain DOCKER-USER: `-A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP` drops the connections that the DNAT of port 8080 forwards to 172.17.0.2:80');
    expect(d.command).toBe('iptables -S DOCKER-USER');
    expect(d.evidence).toMatchObject({ tool: 'iptables', table: 'filter', chain: 'DOCKER-USER', rule: '-A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP', verdict: 'drop', action: 'drops', path: 'FORWARD → DOCKER-USER', clientSees: 'no reply', policy: false, fixKind: 'remove' });
    assertHas(d.evidence, 'fixSummary');
    expect(d.evidence.fix).toEqual(['iptables', '-D', 'DOCKER-USER', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', 'DROP']);
    expect(d.evidence.fixSummary).toBe('Delete the rule `-A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP` (table filter, chain DOCKER-USER): it is about port 80 alone, and nothing else blocks forwarded TCP to 172.17.0.2 port 80 without it');
  });

  it("blocks: nftables alone, a `hook forward` chain's reject with a TCP reset; the fix deletes the rule by its handle", () => {
    const d = decideForwardFirewall(captured('nft-forward-reject', { nftOnly: true }), { port: 8080 }, at);
    expect(d.outcome).toBe('blocks');
    expect(d.evidence).toMatchObject({ tool: 'nftables', table: 'inet filter', chain: 'forward', rule: 'ip daddr 172.17.0.2 tcp dport 80 reject with tcp reset', verdict: 'reject', action: 'rejects (with tcp reset)', clientSees: 'TCP reset' });
    assertHas(d.evidence, 'fix');
    expect(d.evidence.fix.slice(0, 6)).toEqual(['nft', 'delete', 'rule', 'inet', 'filter', 'forward']);
    expect(d.command).toBe('nft -a list chain inet filter forward');
  });

  it("blocks: FORWARD's policy DROP with nothing that accepts the container's port: the policy, and a fix that lets that destination alone through", () => {
    const d = decideForwardFirewall(captured('forward-policy-drop'), { port: 8080 }, at);
    expect(d.outcome).toBe('blocks');
    expect(d.summary).toBe('iptables table filter, chain FORWARD: the default policy (-P FORWARD DROP) drops the connections that the DNAT of port 8080 forwards to 172.17.0.2:80: no rule accepts them first');
    expect(d.evidence).toMatchObject({ policy: true, fixKind: 'narrow' });
    assertHas(d.evidence, 'fixSummary');
    expect(d.evidence.fix).toEqual(['iptables', '-I', 'FORWARD', '-d', '172.17.0.2', '-p', 'tcp', '--dport', '80', '-j', 'ACCEPT']);
    // The rule on the bridge's own traffic does not apply to a client from elsewhere: no caveat about it.
    expect(d.evidence.caveats).toEqual([]);
  });

  it("blocks through ufw: its FORWARD chains end in ufw's default routed policy; said in ufw's words, fixed with ufw route", () => {
    const r = captured('forward-policy-drop');
    const ufwTables = parseIptablesSave(fixture('ufw', 'active-rules.iptables-save.txt'));
    const nat = r.nat.iptables![0]!.tables.filter((t) => t.name === 'nat');
    const iptables = [{ ...ufwTables, tables: [...ufwTables.tables.filter((t) => t.name !== 'nat'), ...nat] }];
    const ufw = parseUfwStatus(fixture('ufw', 'active-rules.txt'));
    r.nat = { iptables };
    r.dnat!.firewall = { ...r.dnat!.firewall!, rulesets: { iptables, ufw } };
    const d = decideForwardFirewall(r, { port: 8080 }, at);
    expect(d.outcome).toBe('blocks');
    expect(d.evidence).toMatchObject({ tool: 'ufw', rule: 'Default: disabled (routed)', policy: true, where: 'ufw' });
    assertHas(d.evidence, 'fixSummary');
    expect(d.evidence.fix).toEqual(['ufw', 'route', 'allow', 'proto', 'tcp', 'from', 'any', 'to', '172.17.0.2', 'port', '80']);
    // ufw's route rule for eth0 → eth1 leaves by eth1, not docker0 (ip route get): decided, no caveat.
    expect((d.evidence.caveats ?? []).join('\n')).not.toContain('ufw-user-forward');
  });

  it('allows, with a caveat: a DROP in DOCKER-USER for clients coming in on eth0 depends on the interface, which whyport does not know', () => {
    const r = captured('docker-user-drop');
    const text = fixture('forward', 'docker-user-drop.iptables-save.txt').replace('-A DOCKER-USER -p tcp', '-A DOCKER-USER -i eth0 -p tcp');
    r.dnat!.firewall!.rulesets.iptables = [parseIptablesSave(text)];
    const d = decideForwardFirewall(r, { port: 8080 }, at);
    expect(d.outcome).toBe('allows');
    assertHas(d.evidence, 'caveats');
    expect(d.evidence.caveats).toEqual(['iptables filter DOCKER-USER: "-A DOCKER-USER -i eth0 -p tcp -m tcp --dport 80 -j DROP" would drop it, depending on the interface the connection arrives on']);
    expect(d.findings).toEqual([{ code: 'FIREWALL_CAVEAT', summary: d.evidence.caveats![0] }]);
  });

  it('forwarding-off: net.ipv4.ip_forward = 0 drops the forwarded packets before any rule: the kernel drop reason and counter, and the sysctl that turns it on', () => {
    const r = captured('docker-open');
    r.dnat!.forwarding = { family: 4, sysctl: 'net.ipv4.ip_forward', on: parseForwarding('0\n')! };
    const d = decideForwardFirewall(r, { port: 8080 }, at);
    expect(d.outcome).toBe('forwarding-off');
    expect(d.status).toBe('fail');
    expect(d.summary).toBe('net.ipv4.ip_forward = 0: this host does not forward IPv4 packets, so the kernel drops the connections that the DNAT of port 8080 sends to 172.17.0.2:80 (out through docker0) (counted in IpInAddrErrors)');
    expect(d.evidence).toMatchObject({ sysctl: 'net.ipv4.ip_forward', drop: { reason: 'IP_INADDRERRORS', counter: 'IpInAddrErrors', grew: 0 }, fix: ['sysctl', '-w', 'net.ipv4.ip_forward=1'] });
  });

  it('not-forwarded: no DNAT rule (a proxy on this host holds the port), or a DNAT to an address of this host', () => {
    const none = decideForwardFirewall({ nat: { iptables: [] }, addresses: ['10.213.9.1'] }, { port: 8080 }, at);
    expect(none.outcome).toBe('not-forwarded');
    const local = decideForwardFirewall({ ...captured('docker-open'), dnat: { local: true } }, { port: 8080 }, at);
    expect(local).toMatchObject({ outcome: 'not-forwarded', summary: 'the DNAT sends port 8080 to 172.17.0.2:80, an address of this host: it is delivered here, not forwarded' });
  });

  it('no-permission and unknown: the rules could not be read; forwarding is still said', () => {
    const r = captured('docker-user-drop');
    r.dnat!.firewall = { permission: false, sources: [{ name: 'nftables', command: 'nft -j list ruleset', status: 'denied', error: 'Operation not permitted', durationMs: 1 }], rulesets: {} };
    const d = decideForwardFirewall(r, { port: 8080 }, at);
    expect(d.outcome).toBe('no-permission');
    expect(d.summary).toMatch(/^this host forwards IPv4 \(net\.ipv4\.ip_forward = 1\); whether a rule of the forward hook drops .* without root \(nft -j list ruleset: permission denied\)$/);
    r.dnat!.firewall = { permission: true, sources: [{ name: 'nftables', command: 'nft -j list ruleset', status: 'missing', durationMs: 1 }], rulesets: {} };
    expect(decideForwardFirewall(r, { port: 8080 }, at).outcome).toBe('unknown');
  });
});
