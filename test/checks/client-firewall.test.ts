import { describe, expect, it } from 'vitest';
import { decideClientFirewall, type ClientFirewallReadings } from '../../src/checks/client-firewall.js';
import type { DecideContext } from '../../src/checks/check.js';
import { parseIptablesSave } from '../../src/system/firewall/iptables.js';
import { parseNftJson } from '../../src/system/firewall/nft.js';
import { parseUfwStatus } from '../../src/system/firewall/ufw.js';
import type { FirewallReading, FirewallRulesets } from '../../src/system/firewall/read.js';
import { parseRouteGet } from '../../src/system/route.js';
import { fixture } from '../system/firewall/fixtures.js';
import { assertHas } from '../helpers/narrow.js';

// The client-firewall step's decision, from rulesets captured in a real client namespace whose
// OUTPUT side blocks (or not) the server's port, with what a real connect from there got
// (test/fixtures/output/capture.sh; each case's .connect.txt).

const tcp: DecideContext = { target: { host: '10.9.0.2', port: 7072, protocol: 'tcp' }, timeoutMs: 1000 };
const udp: DecideContext = { target: { host: '10.9.0.2', port: 7072, protocol: 'udp' }, timeoutMs: 1000 };
const p = { host: '10.9.0.2', port: 7072, address: '10.9.0.2' };

/** One captured case: iptables-save (unless nft alone made it), nft -j, ufw status when it ran, the route. */
function captured(name: string, opts: { nftOnly?: boolean; ufw?: boolean } = {}): ClientFirewallReadings {
  const iptables = opts.nftOnly ? [] : [parseIptablesSave(fixture('output', `${name}.iptables-save.txt`))].filter((r) => r.tables.length > 0);
  const rulesets: FirewallRulesets = { iptables, nft: parseNftJson(fixture('output', `${name}.nft.json`)), ...(opts.ufw ? { ufw: parseUfwStatus(fixture('output', `${name}.ufw.txt`)) } : {}) };
  const sources: FirewallReading['sources'] = [
    { name: 'nftables', command: 'nft -j list ruleset', status: 'ok', durationMs: 3 },
    { name: 'iptables', command: 'iptables-save', status: 'ok', durationMs: 3 },
  ];
  const route = { address: '10.9.0.2', command: 'ip route get 10.9.0.2', durationMs: 1, ...parseRouteGet(fixture('output', `${name}.ip-route.txt`), '', 0) };
  return { root: true, reading: { permission: true, sources, rulesets }, route };
}

/** What the real connect got in that case (tcp and udp lines of its .connect.txt). */
function connectGot(name: string): Record<string, string> {
  return Object.fromEntries(fixture('output', `${name}.connect.txt`).trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

describe('decideClientFirewall', () => {
  it("blocks: the issue's `iptables -A OUTPUT -p tcp --dport 7072 -j DROP`, named; a connect times out; the fix deletes the rule", () => {
    expect(connectGot('iptables-drop').tcp).toBe('timeout');
    const d = decideClientFirewall(captured('iptables-drop'), p, tcp);
    expect(d.outcome).toBe('blocks');
    expect(d.status).toBe('fail');
    expect(d.summary).toBe('iptables table filter, chain OUTPUT: `-A OUTPUT -p tcp -m tcp --dport 7072 -j DROP` drops outgoing connections to 10.9.0.2:7072: its connections time out (the SYN never leaves this machine)');
    expect(d.command).toBe('iptables -S OUTPUT');
    expect(d.evidence).toMatchObject({ tool: 'iptables', table: 'filter', chain: 'OUTPUT', rule: '-A OUTPUT -p tcp -m tcp --dport 7072 -j DROP', verdict: 'drop', policy: false, path: 'OUTPUT', oif: 'wpt0', source: '10.9.0.1', fixKind: 'remove' });
    assertHas(d.evidence, 'fix');
    expect(d.evidence.fix).toEqual(['iptables', '-D', 'OUTPUT', '-p', 'tcp', '-m', 'tcp', '--dport', '7072', '-j', 'DROP']);
    // The captured fix, applied for real, let the connection through.
    expect(connectGot('iptables-drop.fixed').tcp).toBe('connected');
  });

  it('blocks: a REJECT in OUTPUT; the program is refused at once (ECONNREFUSED), which the probe calls closed', () => {
    expect(connectGot('iptables-reject').tcp).toBe('ECONNREFUSED');
    const d = decideClientFirewall(captured('iptables-reject'), p, tcp);
    expect(d.outcome).toBe('blocks');
    expect(d.evidence).toMatchObject({ verdict: 'reject', action: 'rejects (with icmp-port-unreachable)', gets: 'its connections are refused at once (ECONNREFUSED), as if the port were closed' });
  });

  it('allows: a DROP for another port only is no false alarm', () => {
    expect(connectGot('iptables-other-port').tcp).toBe('connected');
    const d = decideClientFirewall(captured('iptables-other-port'), p, tcp);
    expect(d.outcome).toBe('allows');
    expect(d.status).toBe('pass');
    expect(d.summary).toBe("no rule of this machine's own firewall drops or rejects outgoing TCP to 10.9.0.2:7072, which leaves by wpt0 from 10.9.0.1; read nftables, iptables");
  });

  it("blocks: OUTPUT's policy DROP with accepts for lo, DNS and 80/443 only; the fix lets this destination and port alone out", () => {
    expect(connectGot('iptables-policy-drop')).toEqual({ tcp: 'timeout', udp: 'EPERM' });
    const d = decideClientFirewall(captured('iptables-policy-drop'), p, tcp);
    expect(d.outcome).toBe('blocks');
    expect(d.summary).toBe('iptables table filter, chain OUTPUT: the default policy (-P OUTPUT DROP) drops outgoing connections to 10.9.0.2:7072: no rule lets them out first: its connections time out (the SYN never leaves this machine)');
    expect(d.evidence).toMatchObject({ policy: true, fixKind: 'narrow' });
    assertHas(d.evidence, 'fix');
    expect(d.evidence.fix).toEqual(['iptables', '-I', 'OUTPUT', '-d', '10.9.0.2', '-p', 'tcp', '--dport', '7072', '-j', 'ACCEPT']);
    assertHas(d.evidence, 'fixSummary');
    expect(d.evidence.fixSummary).toBe('Let outgoing TCP to 10.9.0.2 port 7072 out ahead of what blocks it: an accept for that destination alone, first in table filter chain OUTPUT');
  });

  it("blocks: UDP under the same policy: the program's send fails with EPERM", () => {
    const d = decideClientFirewall(captured('iptables-policy-drop'), p, udp);
    expect(d.outcome).toBe('blocks');
    expect(d.evidence).toMatchObject({ gets: 'its sends fail at once with EPERM ("Operation not permitted")' });
    assertHas(d.evidence, 'fix');
    expect(d.evidence.fix).toEqual(['iptables', '-I', 'OUTPUT', '-d', '10.9.0.2', '-p', 'udp', '--dport', '7072', '-j', 'ACCEPT']);
  });

  it("blocks: the raw table's OUTPUT, before conntrack; the fix names the table", () => {
    const d = decideClientFirewall(captured('iptables-raw-drop'), p, tcp);
    expect(d.outcome).toBe('blocks');
    expect(d.evidence).toMatchObject({ table: 'raw', chain: 'OUTPUT', rule: '-A OUTPUT -d 10.9.0.2/32 -p tcp -m tcp --dport 7072 -j DROP', fixKind: 'remove' });
    assertHas(d.evidence, 'fix');
    expect(d.evidence.fix).toEqual(['iptables', '-t', 'raw', '-D', 'OUTPUT', '-d', '10.9.0.2/32', '-p', 'tcp', '-m', 'tcp', '--dport', '7072', '-j', 'DROP']);
    expect(d.command).toBe('iptables -t raw -S OUTPUT');
  });

  it('UDP: a TCP-only rule does not block datagrams, and a UDP drop does (EPERM, measured)', () => {
    expect(decideClientFirewall(captured('iptables-drop'), p, udp).outcome).toBe('allows');
    expect(connectGot('iptables-udp-drop')).toEqual({ tcp: 'connected', udp: 'EPERM' });
    expect(decideClientFirewall(captured('iptables-udp-drop'), p, udp).outcome).toBe('blocks');
    expect(decideClientFirewall(captured('iptables-udp-drop'), p, tcp).outcome).toBe('allows');
  });

  it('blocks: nftables alone, a reject on the output hook; the fix deletes it by its handle', () => {
    expect(connectGot('nft-output-reject').tcp).toBe('ECONNREFUSED');
    const d = decideClientFirewall(captured('nft-output-reject', { nftOnly: true }), p, tcp);
    expect(d.outcome).toBe('blocks');
    expect(d.evidence).toMatchObject({ tool: 'nftables', table: 'inet client', chain: 'output', rule: 'tcp dport 7072 reject', verdict: 'reject', fixKind: 'remove' });
    assertHas(d.evidence, 'fix');
    expect(d.evidence.fix.slice(0, 7)).toEqual(['nft', 'delete', 'rule', 'inet', 'client', 'output', 'handle']);
    expect(d.command).toBe('nft -a list chain inet client output');
  });

  it('blocks: an nft postrouting chain that drops the server alone (after routing, with the interface known)', () => {
    expect(connectGot('nft-postrouting-drop').tcp).toBe('timeout');
    const d = decideClientFirewall(captured('nft-postrouting-drop', { nftOnly: true }), p, tcp);
    expect(d.outcome).toBe('blocks');
    expect(d.evidence).toMatchObject({ chain: 'postrouting', rule: 'ip daddr 10.9.0.2 tcp dport 7072 drop', verdict: 'drop' });
    // Another server is not dropped by it.
    expect(decideClientFirewall(captured('nft-postrouting-drop', { nftOnly: true }), { ...p, address: '10.9.0.3' }, tcp).outcome).toBe('allows');
  });

  it("blocks through ufw: `ufw deny out 7072/tcp`, said in ufw's words; the fix is ufw's own delete", () => {
    expect(connectGot('ufw-deny-out').tcp).toBe('timeout');
    const d = decideClientFirewall(captured('ufw-deny-out', { ufw: true }), p, tcp);
    expect(d.outcome).toBe('blocks');
    expect(d.evidence).toMatchObject({ tool: 'ufw', chain: 'ufw-user-output', rule: '7072/tcp                   DENY OUT    Anywhere', verdict: 'drop', fixKind: 'remove' });
    assertHas(d.evidence, 'fix');
    expect(d.evidence.fix).toEqual(['ufw', 'delete', 'deny', 'out', '7072/tcp']);
    // That very command, run for real, deleted the rule and the connection went through.
    expect(fixture('output', 'ufw-deny-out.fixed.ufw-delete.txt')).toContain('Rule deleted');
    expect(connectGot('ufw-deny-out.fixed').tcp).toBe('connected');
  });

  it("blocks through ufw: `default deny outgoing`; the fix allows this destination and port out", () => {
    const d = decideClientFirewall(captured('ufw-deny-outgoing', { ufw: true }), p, tcp);
    expect(d.outcome).toBe('blocks');
    expect(d.evidence).toMatchObject({ tool: 'ufw', rule: 'Default: deny (outgoing)', policy: true, fixKind: 'narrow' });
    assertHas(d.evidence, 'fix');
    expect(d.evidence.fix).toEqual(['ufw', 'allow', 'out', 'to', '10.9.0.2', 'port', '7072', 'proto', 'tcp']);
    expect(connectGot('ufw-deny-outgoing.fixed').tcp).toBe('connected');
  });

  it('no-permission: not root, nothing read, and the summary says what root would add', () => {
    const d = decideClientFirewall({ root: false }, p, tcp);
    expect(d.outcome).toBe('no-permission');
    expect(d.summary).toBe("this machine's own firewall was not read: that needs root (as root, whyport would also look for a rule here that drops or rejects outgoing TCP to 10.9.0.2:7072)");
  });

  it('unknown: neither nft nor iptables could be asked', () => {
    const r = captured('iptables-drop');
    r.reading = { permission: true, rulesets: {}, sources: [{ name: 'nftables', command: 'nft -j list ruleset', status: 'missing', durationMs: 1 }, { name: 'iptables', command: 'iptables-save', status: 'missing', durationMs: 1 }] };
    expect(decideClientFirewall(r, p, tcp).outcome).toBe('unknown');
  });
});
