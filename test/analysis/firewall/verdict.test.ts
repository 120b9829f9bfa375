import { describe, expect, it } from 'vitest';
import { findBlockingRules, type FirewallRulesets, type FirewallVerdict } from '../../../src/analysis/firewall/verdict.js';
import { parseFirewalldListAll, parseFirewalldServiceInfo, type FirewalldService } from '../../../src/system/firewall/firewalld.js';
import { parseIptablesSave } from '../../../src/system/firewall/iptables.js';
import { parseNftJson } from '../../../src/system/firewall/nft.js';
import { parseUfwStatus } from '../../../src/system/firewall/ufw.js';
import { fixture } from '../../system/firewall/fixtures.js';

const nft = (name: string): FirewallRulesets => ({ nft: parseNftJson(fixture('nft', name)) });
const ipt = (tool: string, name: string, family: 4 | 6 = 4): FirewallRulesets => ({ iptables: [parseIptablesSave(fixture(tool, name), { family })] });
const services = (): Record<string, FirewalldService> =>
  Object.fromEntries(['dhcpv6-client', 'http', 'https', 'ssh', 'postgresql'].map((s) => [s, parseFirewalldServiceInfo(fixture('firewalld', `info-service-${s}.txt`))]));

/** The block's where-and-what, without the fix and the notes. */
function blocked(v: FirewallVerdict) {
  if (v.verdict === 'accept') return v;
  return { verdict: v.verdict, tool: v.tool, table: v.table, chain: v.chain, rule: v.rule, policy: v.policy ?? false };
}

describe('findBlockingRules on nftables', () => {
  it('a loopback accept before a drop: local tests pass, remote clients are dropped', () => {
    const v = findBlockingRules(7071, nft('inet-lo-accept-drop.json'));
    expect(blocked(v.remote)).toEqual({ verdict: 'drop', tool: 'nftables', table: 'inet filter', chain: 'input', rule: 'tcp dport 7071 drop', policy: false });
    // The rule is about 7071 alone and the policy accepts: the fix deletes that very rule, by its handle.
    expect(v.remote.verdict !== 'accept' && v.remote.fix).toEqual({
      argv: ['nft', 'delete', 'rule', 'inet', 'filter', 'input', 'handle', '4'],
      command: 'nft delete rule inet filter input handle 4',
      note: expect.stringContaining('/etc/nftables.conf'),
      summary: 'Delete the rule `tcp dport 7071 drop` (inet filter, chain input): it is about port 7071 alone, and nothing else blocks the port without it',
      kind: 'remove',
    });
    expect(v.loopback).toEqual({ verdict: 'accept', by: { tool: 'nftables', table: 'inet filter', chain: 'input', rule: 'iifname "lo" accept' }, caveats: [] });
    expect(v.consulted).toEqual(['nftables']);
    expect(findBlockingRules(7072, nft('inet-lo-accept-drop.json')).remote).toEqual({ verdict: 'accept', caveats: [] });
  });

  it('follows sets, ranges, verdict maps and jumps under a default-drop policy', () => {
    const rs = nft('policy-drop-sets.json');
    const at = (port: number, opts = {}) => findBlockingRules(port, rs, opts).remote;
    // 7071 falls in the 7000-7100 reject; an earlier source-restricted accept is named as a caveat.
    const r7071 = at(7071);
    expect(blocked(r7071)).toMatchObject({ verdict: 'reject', rule: 'tcp dport 7000-7100 reject with tcp reset' });
    expect(r7071.verdict !== 'accept' && r7071.rejectWith).toBe('tcp reset');
    expect(r7071.caveats).toEqual([`nftables inet filter input: "ip saddr 10.0.0.0/8 tcp dport 7071 accept" would accept it, depending on the client's address`]);
    // …and with the client's address known, decided.
    expect(at(7071, { remoteAddress: '10.1.2.3' })).toMatchObject({ verdict: 'accept', by: { rule: 'ip saddr 10.0.0.0/8 tcp dport 7071 accept' } });
    expect(blocked(at(7071, { remoteAddress: '192.0.2.9' }))).toMatchObject({ verdict: 'drop', rule: 'ip saddr @blocked_nets drop' });
    expect(at(22)).toMatchObject({ verdict: 'accept', by: { rule: 'tcp dport { 22, 80, 443 } accept' } });
    expect(at(9005)).toMatchObject({ verdict: 'accept', by: { rule: 'tcp dport @allowed accept' } });
    expect(at(8080)).toMatchObject({ verdict: 'accept', by: { rule: 'tcp dport vmap { 8080 : accept, 8081 : drop }' } });
    expect(blocked(at(8081))).toMatchObject({ verdict: 'drop', rule: 'tcp dport vmap { 8080 : accept, 8081 : drop }' });
    expect(at(53)).toMatchObject({ verdict: 'accept', by: { rule: 'meta l4proto { tcp, udp } th dport 53 accept' } });
    // Jumped-to chain: the rule is in `services`, reached from `input`.
    const r6379 = at(6379);
    expect(blocked(r6379)).toMatchObject({ verdict: 'drop', chain: 'services', rule: 'tcp dport 6379 tcp flags syn drop' });
    expect(r6379.verdict !== 'accept' && r6379.path).toEqual(['input', 'services']);
    expect(r6379.verdict !== 'accept' && r6379.fix.command).toBe('nft insert rule inet filter input tcp dport 6379 accept');
    expect(blocked(at(11211))).toMatchObject({ chain: 'services', rule: 'tcp dport 11211 ct state new drop' });
    // Nothing matches: the policy decides.
    expect(blocked(at(6000))).toEqual({ verdict: 'drop', tool: 'nftables', table: 'inet filter', chain: 'input', rule: 'type filter hook input priority filter; policy drop;', policy: true });
    // An established/related accept does not let a NEW connection in; the loopback accept does.
    expect(findBlockingRules(6000, rs).loopback).toMatchObject({ verdict: 'accept', by: { rule: 'iif "lo" accept' } });
  });

  it('reads IPv6 separately: ip tables do not apply, ip6 and inet do', () => {
    const rs = nft('policy-drop-sets.json');
    const v6 = findBlockingRules(7071, rs, { family: 6 });
    expect(blocked(v6.remote)).toMatchObject({ verdict: 'reject', rule: 'tcp dport 7000-7100 reject with tcp reset' });
    expect(v6.remote.caveats[0]).toContain('ip6 saddr fd00::/8 tcp dport 7071 accept');
    expect(findBlockingRules(7071, rs, { family: 6, remoteAddress: 'fd00::5' }).remote).toMatchObject({ verdict: 'accept' });
  });

  it('a drop in raw prerouting comes before every input chain; ip6 rules only for IPv6', () => {
    const rs = nft('families-hooks.json');
    const v4 = findBlockingRules(7071, rs);
    expect(blocked(v4.remote)).toEqual({ verdict: 'drop', tool: 'nftables', table: 'ip raw', chain: 'prerouting', rule: 'tcp dport 7071 ip saddr != 127.0.0.0/8 drop', policy: false });
    expect(v4.remote.verdict !== 'accept' && v4.remote.fix.command).toMatch(/^nft delete rule ip raw prerouting handle \d+$/);
    expect(v4.loopback).toEqual({ verdict: 'accept', caveats: [] });
    const v6 = findBlockingRules(7071, rs, { family: 6 });
    expect(blocked(v6.remote)).toMatchObject({ verdict: 'reject', table: 'ip6 filter', rule: 'tcp dport 7071 reject with icmpv6 admin-prohibited' });
    expect(v6.loopback).toMatchObject({ verdict: 'accept', by: { rule: 'ip6 daddr ::1 accept' } });
  });

  it('an empty ruleset accepts', () => {
    expect(findBlockingRules(7071, nft('empty.json'))).toEqual({ port: 7071, family: 4, remote: { verdict: 'accept', caveats: [] }, loopback: { verdict: 'accept', caveats: [] }, consulted: [] });
  });
});

describe('findBlockingRules on iptables', () => {
  it('a single DROP blocks remote and loopback alike', () => {
    const v = findBlockingRules(7071, ipt('iptables', 'nft-drop-port.S.txt'));
    expect(blocked(v.remote)).toEqual({ verdict: 'drop', tool: 'iptables', table: 'filter', chain: 'INPUT', rule: '-A INPUT -p tcp -m tcp --dport 7071 -j DROP', policy: false });
    expect(blocked(v.loopback)).toMatchObject({ verdict: 'drop' });
    // Deleted by its exact spec, as iptables -S prints it.
    expect(v.remote.verdict !== 'accept' && v.remote.fix.command).toBe('iptables -D INPUT -p tcp -m tcp --dport 7071 -j DROP');
    expect(v.remote.verdict !== 'accept' && v.remote.fix.kind).toBe('remove');
  });

  it.each([
    ['nft-policy-drop.save.txt', 'iptables'],
    ['legacy-policy-drop.save.txt', 'iptables-legacy'],
  ])('walks %s: ranges, user chains, RETURN, goto, raw table, policy', (name, binary) => {
    const rs = ipt('iptables', name);
    const at = (port: number) => findBlockingRules(port, rs).remote;
    const r7071 = at(7071);
    expect(blocked(r7071)).toMatchObject({ verdict: 'reject', rule: '-A INPUT -p tcp -m tcp --dport 7000:7100 -j REJECT --reject-with tcp-reset' });
    expect(r7071.caveats).toEqual([`iptables filter INPUT: "-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 7071 -j ACCEPT" would accept it, depending on the client's address`]);
    expect(r7071.verdict !== 'accept' && r7071.fix.argv[0]).toBe(binary);
    // A reject of a whole range stays: an accept for 7071 alone goes ahead of it, and the note says why.
    expect(r7071.verdict !== 'accept' && r7071.fix).toMatchObject({ kind: 'narrow', argv: [binary, '-I', 'INPUT', '-p', 'tcp', '--dport', '7071', '-j', 'ACCEPT'], note: expect.stringMatching(/^`-A INPUT -p tcp -m tcp --dport 7000:7100 -j REJECT --reject-with tcp-reset` blocks ports 7000-7100, not port 7071 alone, so it stays; /) });
    const r7072 = at(7072);
    expect(blocked(r7072)).toMatchObject({ verdict: 'drop', table: 'raw', chain: 'PREROUTING', rule: '-A PREROUTING -p tcp -m tcp --dport 7072 -j DROP' });
    expect(r7072.verdict !== 'accept' && r7072.fix.argv).toEqual([binary, '-t', 'raw', '-I', 'PREROUTING', '-p', 'tcp', '--dport', '7072', '-j', 'ACCEPT']);
    // The rule is about 7072 alone, but without it INPUT's range reject would block the port: narrowed, and said so.
    expect(r7072.verdict !== 'accept' && r7072.fix.note).toMatch(/^deleting `-A PREROUTING -p tcp -m tcp --dport 7072 -j DROP` alone would not open the port: `-A INPUT -p tcp -m tcp --dport 7000:7100 -j REJECT --reject-with tcp-reset` would block it next, so it stays; /);
    expect(at(22)).toMatchObject({ verdict: 'accept', by: { rule: '-A INPUT -p tcp -m multiport --dports 22,80,443,8000:8010 -j ACCEPT' } });
    // RETURN from the user chain, then nothing else matches: the policy.
    const r9000 = at(9000);
    expect(blocked(r9000)).toEqual({ verdict: 'drop', tool: 'iptables', table: 'filter', chain: 'INPUT', rule: '-P INPUT DROP', policy: true });
    expect(blocked(at(9050))).toMatchObject({ chain: 'services', rule: '-A services -p tcp -m multiport --dports 9000:9100,11211 -j DROP' });
    // `! -i lo`: remote clients are rejected, local ones accepted by the earlier lo rule.
    const v6379 = findBlockingRules(6379, rs);
    expect(blocked(v6379.remote)).toMatchObject({ verdict: 'reject', chain: 'services' });
    expect(v6379.remote.verdict !== 'accept' && v6379.remote.rejectWith).toBe('icmp-port-unreachable');
    expect(v6379.loopback).toMatchObject({ verdict: 'accept', by: { rule: '-A INPUT -i lo -j ACCEPT' } });
    // Accepted, unless the client is in the blocked network listed first.
    expect(at(22).caveats).toEqual([`iptables filter INPUT: "-A INPUT -s 192.0.2.0/24 -j DROP" would drop it, depending on the client's address`]);
  });

  it('ip6tables: its own tool name, IPv6 sources and reject types', () => {
    const v = findBlockingRules(7071, ipt('iptables', 'ip6-policy-drop.save.txt', 6), { family: 6 });
    expect(blocked(v.remote)).toMatchObject({ verdict: 'reject', tool: 'ip6tables', rule: '-A INPUT -p tcp -m tcp --dport 7071 -j REJECT --reject-with icmp6-adm-prohibited' });
    expect(v.remote.verdict !== 'accept' && v.remote.fix.command).toBe('ip6tables -I INPUT -p tcp --dport 7071 -j ACCEPT');
    // An IPv4 question finds no IPv6 rules.
    expect(findBlockingRules(7071, ipt('iptables', 'ip6-policy-drop.save.txt', 6)).remote).toEqual({ verdict: 'accept', caveats: [] });
  });

  it('iptables-nft rules seen by both nft and iptables count once, through iptables', () => {
    const rs: FirewallRulesets = {
      nft: parseNftJson(fixture('nft', 'iptables-nft-view.json')),
      iptables: [parseIptablesSave(fixture('nft', 'iptables-nft-view.iptables-save.txt')), parseIptablesSave(fixture('nft', 'iptables-nft-view.ip6tables-save.txt'))],
    };
    const v = findBlockingRules(7071, rs);
    expect(blocked(v.remote)).toMatchObject({ tool: 'iptables', rule: '-A INPUT -p tcp -m tcp --dport 7071 -m comment --comment "no app" -j DROP' });
    expect(v.remote.verdict !== 'accept' && v.remote.also).toEqual([]);
    expect(v.consulted).toEqual(['iptables']);
    // Without the iptables view, nft's own still finds it (its extensions undecided).
    expect(blocked(findBlockingRules(7071, { nft: rs.nft! }).remote)).toMatchObject({ tool: 'nftables', table: 'ip filter', chain: 'INPUT' });
  });

  it('a drop in both nftables and iptables: the first is reported, the other in also', () => {
    const rs: FirewallRulesets = { ...nft('inet-lo-accept-drop.json'), ...ipt('iptables', 'nft-drop-port.save.txt') };
    const v = findBlockingRules(7071, rs);
    expect(blocked(v.remote)).toMatchObject({ tool: 'nftables' });
    expect(v.remote.verdict !== 'accept' && v.remote.also.map((b) => [b.tool, b.rule])).toEqual([['iptables', '-A INPUT -p tcp -m tcp --dport 7071 -j DROP']]);
    // Loopback passes nft's lo accept but not iptables' drop: an accept ends only its own chain.
    expect(blocked(v.loopback)).toMatchObject({ verdict: 'drop', tool: 'iptables' });
  });
});

describe('findBlockingRules on ufw', () => {
  const active = (): FirewallRulesets => ({
    ufw: parseUfwStatus(fixture('ufw', 'active-rules.txt')),
    iptables: [parseIptablesSave(fixture('ufw', 'active-rules.iptables-save.txt')), parseIptablesSave(fixture('ufw', 'active-rules.ip6tables-save.txt'))],
  });

  it('names the ufw rule, not the iptables rule it became', () => {
    const v = findBlockingRules(7071, active());
    expect(blocked(v.remote)).toEqual({ verdict: 'drop', tool: 'ufw', table: 'filter', chain: 'ufw-user-input', rule: '7071/tcp                   DENY IN     Anywhere', policy: false });
    expect(v.remote.verdict !== 'accept' && v.remote.detail).toContain('-A ufw-user-input -p tcp -m tcp --dport 7071 -j DROP');
    // The same rule but for its action: `ufw insert 1 allow` would be skipped as existing, `ufw allow` updates it.
    expect(v.remote.verdict !== 'accept' && v.remote.fix.command).toBe('ufw allow 7071/tcp');
    // Deleting the deny would leave the port to ufw's default deny: the note says why it is not deleted.
    expect(v.remote.verdict !== 'accept' && v.remote.fix).toMatchObject({ kind: 'narrow', note: expect.stringMatching(/^deleting `-A ufw-user-input -p tcp -m tcp --dport 7071 -j DROP` alone would not open the port: /) });
    expect(v.loopback).toMatchObject({ verdict: 'accept', by: { rule: '-A ufw-before-input -i lo -j ACCEPT' } });
  });

  it('a range reject, the default policy, and IPv6 rules', () => {
    const rs = active();
    expect(blocked(findBlockingRules(7050, rs).remote)).toMatchObject({ verdict: 'reject', tool: 'ufw', rule: '7000:7100/tcp              REJECT IN   Anywhere' });
    const r9999 = findBlockingRules(9999, rs).remote;
    expect(blocked(r9999)).toEqual({ verdict: 'drop', tool: 'ufw', table: 'filter', chain: 'INPUT', rule: 'Default: deny (incoming)', policy: true });
    expect(r9999.verdict !== 'accept' && r9999.fix.command).toBe('ufw allow 9999/tcp');
    expect(findBlockingRules(22, rs).remote).toMatchObject({ verdict: 'accept' });
    expect(blocked(findBlockingRules(7071, rs, { family: 6 }).remote)).toMatchObject({ tool: 'ufw', rule: '7071/tcp (v6)              DENY IN     Anywhere (v6)' });
    // 7072 is allowed from 10.0.0.0/8, but the range reject listed earlier wins.
    expect(blocked(findBlockingRules(7072, rs).remote)).toMatchObject({ rule: '7000:7100/tcp              REJECT IN   Anywhere' });
    // 9000 is allowed only from fd00::/8: blocked by the default, with the source rule as a caveat.
    const r9000 = findBlockingRules(9000, rs, { family: 6 }).remote;
    expect(blocked(r9000)).toMatchObject({ tool: 'ufw', policy: true });
    expect(r9000.caveats).toEqual([`ip6tables filter ufw6-user-input: "-A ufw6-user-input -s fd00::/8 -p tcp -m tcp --dport 9000 -j ACCEPT" would accept it, depending on the client's address`]);
    expect(findBlockingRules(9000, rs, { family: 6, remoteAddress: 'fd00::1' }).remote.verdict).toBe('accept');
  });

  it('from ufw status alone (iptables unreadable) gives the same verdicts', () => {
    const rs: FirewallRulesets = { ufw: parseUfwStatus(fixture('ufw', 'active-rules.txt')) };
    expect(blocked(findBlockingRules(7071, rs).remote)).toEqual({ verdict: 'drop', tool: 'ufw', table: 'filter', chain: 'ufw-user-input', rule: '7071/tcp                   DENY IN     Anywhere', policy: false });
    expect(blocked(findBlockingRules(9999, rs).remote)).toMatchObject({ rule: 'Default: deny (incoming)', policy: true });
    expect(findBlockingRules(9999, rs).loopback).toMatchObject({ verdict: 'accept' });
    expect(findBlockingRules(7071, { ufw: parseUfwStatus(fixture('ufw', 'inactive.txt')) }).remote).toEqual({ verdict: 'accept', caveats: [] });
  });

  it('default allow with one deny', () => {
    const rs: FirewallRulesets = { ufw: parseUfwStatus(fixture('ufw', 'default-allow.txt')), iptables: [parseIptablesSave(fixture('ufw', 'default-allow.iptables-save.txt'))] };
    const v = findBlockingRules(7071, rs).remote;
    expect(blocked(v)).toMatchObject({ tool: 'ufw', rule: '7071/tcp                   DENY IN     Anywhere' });
    // ufw lets everything else in: deleting the deny opens the port, and nothing else.
    expect(v.verdict !== 'accept' && v.fix).toMatchObject({ argv: ['ufw', 'delete', 'deny', '7071/tcp'], kind: 'remove' });
    expect(findBlockingRules(8000, rs).remote.verdict).toBe('accept');
  });
});

describe('findBlockingRules on firewalld', () => {
  const zone = (name: string) => parseFirewalldListAll(fixture('firewalld', name));

  it('the zone target rejects a port no service or port allows; the fix adds the port to that zone', () => {
    const rs: FirewallRulesets = { nft: parseNftJson(fixture('firewalld', 'public-default.nft.json')), firewalld: { zone: zone('public-default.txt'), services: services() } };
    const v = findBlockingRules(7071, rs);
    expect(blocked(v.remote)).toEqual({ verdict: 'reject', tool: 'firewalld', table: 'inet firewalld', chain: 'filter_IN_public', rule: 'reject with icmpx admin-prohibited', policy: false });
    expect(v.remote.verdict !== 'accept' && v.remote.fix).toMatchObject({ command: 'firewall-cmd --zone=public --add-port=7071/tcp', note: expect.stringContaining('--permanent') });
    expect(v.remote.verdict !== 'accept' && v.remote.detail).toMatch(/zone public \(target: default\)/);
    expect(v.loopback).toMatchObject({ verdict: 'accept', by: { rule: 'iifname "lo" accept' } });
    expect(findBlockingRules(22, rs).remote).toMatchObject({ verdict: 'accept', by: { chain: 'filter_IN_public_allow', rule: 'tcp dport 22 accept' } });
  });

  it('a rich rule that rejects: the fix removes it', () => {
    const z = zone('public-ports.txt');
    const rs: FirewallRulesets = { nft: parseNftJson(fixture('firewalld', 'public-ports.nft.json')), firewalld: { zone: z, services: services() } };
    const v = findBlockingRules(7072, rs);
    expect(blocked(v.remote)).toMatchObject({ verdict: 'reject', tool: 'firewalld', chain: 'filter_IN_public_deny', rule: 'tcp dport 7072 reject with icmp port-unreachable' });
    expect(v.remote.verdict !== 'accept' && v.remote.fix.argv).toEqual(['firewall-cmd', '--zone=public', '--remove-rich-rule=rule family="ipv4" port port="7072" protocol="tcp" reject']);
    expect(findBlockingRules(7005, rs).remote).toMatchObject({ verdict: 'accept', by: { rule: 'tcp dport 7000-7010 accept' } });
    // Allowed only from 10.0.0.0/8 by a rich rule.
    const v7071 = findBlockingRules(7071, rs);
    expect(blocked(v7071.remote)).toMatchObject({ chain: 'filter_IN_public' });
    expect(v7071.remote.caveats.join('\n')).toContain('ip saddr 10.0.0.0/8 tcp dport 7071 accept');
    // A rich reject with an IPv4-only ICMP type does not apply to IPv6.
    expect(blocked(findBlockingRules(7072, rs, { family: 6 }).remote)).toMatchObject({ chain: 'filter_IN_public', rule: 'reject with icmpx admin-prohibited' });
  });

  it('from firewall-cmd --list-all alone (no nft tool) gives the same verdicts', () => {
    const rs: FirewallRulesets = { firewalld: { zone: zone('public-ports.txt'), services: services() } };
    expect(blocked(findBlockingRules(7071, rs).remote)).toEqual({ verdict: 'reject', tool: 'firewalld', table: 'firewalld', chain: 'zone public', rule: 'target: default', policy: true });
    const r7072 = findBlockingRules(7072, rs).remote;
    expect(blocked(r7072)).toMatchObject({ rule: 'rich rule: rule family="ipv4" port port="7072" protocol="tcp" reject' });
    expect(r7072.verdict !== 'accept' && r7072.fix.command).toBe(`firewall-cmd --zone=public '--remove-rich-rule=rule family="ipv4" port port="7072" protocol="tcp" reject'`);
    expect(findBlockingRules(443, rs).remote).toMatchObject({ verdict: 'accept', by: { rule: 'services: https' } });
    expect(findBlockingRules(7071, rs, { remoteAddress: '10.0.0.1' }).remote).toMatchObject({ verdict: 'accept' });
  });

  it('default zone drop while the interface sits in public: the walk names the zone it went through', () => {
    const rs: FirewallRulesets = { nft: parseNftJson(fixture('firewalld', 'drop-zone.nft.json')), firewalld: { zone: zone('drop-zone.txt'), services: services() } };
    const v = findBlockingRules(7071, rs);
    expect(blocked(v.remote)).toMatchObject({ verdict: 'drop', tool: 'firewalld', chain: 'filter_IN_drop', rule: 'drop' });
    expect(v.remote.verdict !== 'accept' && v.remote.fix.command).toBe('firewall-cmd --zone=drop --add-port=7071/tcp');
    expect(v.remote.caveats.at(-1)).toMatch(/your connections\/interfaces are in zone 'public'/);
    // Arriving on wptfw0, public applies: it had 7071 added (the fix, applied during the capture), not 9999.
    expect(findBlockingRules(7071, rs, { interface: 'wptfw0' }).remote).toMatchObject({ verdict: 'accept', by: { chain: 'filter_IN_public_allow', rule: 'tcp dport 7071 accept' } });
    const viaIface = findBlockingRules(9999, rs, { interface: 'wptfw0' }).remote;
    expect(blocked(viaIface)).toMatchObject({ verdict: 'reject', chain: 'filter_IN_public' });
    expect(viaIface.verdict !== 'accept' && viaIface.fix.command).toBe('firewall-cmd --zone=public --add-port=9999/tcp');
  });
});

describe('findBlockingRules notes what it does not walk', () => {
  it('a DNAT for the port: the input chains may not be where the connection goes', () => {
    const v = findBlockingRules(8080, nft('families-hooks.json'));
    expect(v.remote.verdict).toBe('accept');
    expect(v.remote.caveats).toEqual([`nftables ip nat prerouting: "tcp dport 8080 dnat to 10.0.0.2:80" rewrites the destination, so the connection may be forwarded (e.g. to a container) past the input chains walked here`]);
    expect(findBlockingRules(8080, ipt('iptables', 'nft-policy-drop.save.txt')).remote.caveats[0]).toMatch(/-j DNAT --to-destination 10.0.0.2:80" rewrites the destination/);
  });
});
