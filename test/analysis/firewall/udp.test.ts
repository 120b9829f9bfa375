import { describe, expect, it } from 'vitest';
import { findDnat } from '../../../src/analysis/forward.js';
import { findBlockingRules, type FindBlockingOptions, type FirewallRulesets, type FirewallVerdict } from '../../../src/analysis/firewall/verdict.js';
import { parseFirewalldListAll, parseFirewalldServiceInfo, type FirewalldService } from '../../../src/system/firewall/firewalld.js';
import { parseIptablesSave } from '../../../src/system/firewall/iptables.js';
import { parseNftJson } from '../../../src/system/firewall/nft.js';
import { parseUfwStatus } from '../../../src/system/firewall/ufw.js';
import { fixture } from '../../system/firewall/fixtures.js';

// The same walk for UDP datagrams, over rulesets captured for real in namespaces (the UDP
// sections of test/fixtures/{nft,iptables,ufw}/capture.sh, and `firewalld/capture.sh udp`): each
// rule form matched or passed over by protocol, the fix in UDP's words, and what the client sees.

const nft = (name: string): FirewallRulesets => ({ nft: parseNftJson(fixture('nft', name)) });
const ipt = (name: string, family: 4 | 6 = 4): FirewallRulesets => ({ iptables: [parseIptablesSave(fixture('iptables', name), { family })] });
const udp = (port: number, rs: FirewallRulesets, opts: FindBlockingOptions = {}) => findBlockingRules(port, rs, { ...opts, protocol: 'udp' }).remote;
const tcp = (port: number, rs: FirewallRulesets, opts: FindBlockingOptions = {}) => findBlockingRules(port, rs, { ...opts, protocol: 'tcp' }).remote;

/** The block's where-and-what and the client's view, without the fix and the notes. */
function blocked(v: FirewallVerdict) {
  if (v.verdict === 'accept') return v;
  return { verdict: v.verdict, tool: v.tool, chain: v.chain, rule: v.rule, policy: v.policy ?? false, sees: v.clientSees };
}
const fixOf = (v: FirewallVerdict) => (v.verdict === 'accept' ? undefined : v.fix.command);

const NO_REPLY = { reply: 'no reply', code: 'OPEN_OR_FILTERED' };

describe('UDP on nftables', () => {
  const rs = nft('udp-forms.json');

  it('`udp dport 53 drop` drops the datagram: silence, which the client cannot tell from an open port', () => {
    expect(blocked(udp(53, rs))).toEqual({ verdict: 'drop', tool: 'nftables', chain: 'input', rule: 'udp dport 53 drop', policy: false, sees: NO_REPLY });
    expect(fixOf(udp(53, rs))).toBe('nft insert rule inet filter input udp dport 53 accept');
    // The TCP rule for 53 listed first is the one a TCP connection meets, and its fix is TCP's.
    expect(blocked(tcp(53, rs))).toMatchObject({ verdict: 'drop', rule: 'tcp dport 53 drop', sees: { reply: 'no reply', code: 'PORT_FILTERED' } });
    expect(fixOf(tcp(53, rs))).toBe('nft insert rule inet filter input tcp dport 53 accept');
    // Over loopback, the lo accept comes first.
    expect(findBlockingRules(53, rs, { protocol: 'udp' }).loopback).toMatchObject({ verdict: 'accept', by: { rule: 'iifname "lo" accept' } });
  });

  it('a bare reject answers ICMP port unreachable (closed); admin-prohibited and host-unreachable say filtered', () => {
    const r54 = udp(54, rs);
    expect(blocked(r54)).toMatchObject({ verdict: 'reject', rule: 'udp dport 54 reject', sees: { reply: 'ICMP port unreachable', code: 'PORT_CLOSED' } });
    expect(r54.verdict !== 'accept' && r54.rejectWith).toBe('icmp port-unreachable');
    expect(blocked(udp(54, rs, { family: 6 }))).toMatchObject({ sees: { reply: 'ICMPv6 port unreachable', code: 'PORT_CLOSED' } });
    expect(blocked(udp(67, rs))).toMatchObject({ verdict: 'reject', rule: 'udp dport { 67, 68 } reject with icmpx admin-prohibited', sees: { reply: 'ICMP administratively prohibited', code: 'PORT_FILTERED' } });
    expect(blocked(udp(68, rs, { family: 6 }))).toMatchObject({ sees: { reply: 'ICMPv6 administratively prohibited', code: 'PORT_FILTERED' } });
    expect(blocked(udp(162, rs))).toMatchObject({ rule: 'ip protocol udp udp dport 162 reject with icmp host-unreachable', sees: { reply: 'ICMP host unreachable', code: 'PORT_FILTERED' } });
    // `ip protocol udp` and an icmp (not icmpx) reject are IPv4 only: IPv6 reaches the policy.
    expect(blocked(udp(162, rs, { family: 6 }))).toMatchObject({ verdict: 'drop', policy: true });
    expect(blocked(udp(1050, rs))).toMatchObject({ verdict: 'reject', rule: 'udp dport 1000-1100 reject', sees: { code: 'PORT_CLOSED' } });
  });

  it('sets, verdict maps, meta l4proto sets and th dport match datagrams', () => {
    expect(udp(5353, rs)).toMatchObject({ verdict: 'accept', by: { rule: 'udp dport @udp_allowed accept' } });
    expect(udp(123, rs)).toMatchObject({ verdict: 'accept', by: { rule: 'udp dport vmap { 123 : accept, 124 : drop }' } });
    expect(blocked(udp(124, rs))).toMatchObject({ verdict: 'drop', rule: 'udp dport vmap { 123 : accept, 124 : drop }' });
    expect(udp(500, rs)).toMatchObject({ verdict: 'accept', by: { rule: 'meta l4proto { tcp, udp } th dport 500 accept' } });
    expect(udp(514, rs)).toMatchObject({ verdict: 'accept', by: { rule: 'th dport 514 accept' } });
    // `ct state new` holds for the first datagram of a flow.
    expect(blocked(udp(161, rs))).toMatchObject({ verdict: 'drop', rule: 'ct state new udp dport 161 drop' });
  });

  it('TCP-only rules pass a datagram by: tcp flags, tcp dport, reject with tcp reset', () => {
    // For TCP, the flags rule drops 5300 and the reset rejects the rest.
    expect(blocked(tcp(5300, rs))).toMatchObject({ verdict: 'drop', rule: 'tcp flags syn tcp dport 5300 drop' });
    expect(blocked(tcp(500, rs))).toMatchObject({ verdict: 'reject', rule: 'meta l4proto tcp reject with tcp reset', sees: { reply: 'TCP reset', code: 'PORT_CLOSED' } });
    // For UDP none of them applies: the chain's policy decides.
    for (const port of [5300, 7071, 9999]) {
      expect(blocked(udp(port, rs))).toEqual({ verdict: 'drop', tool: 'nftables', chain: 'input', rule: 'type filter hook input priority filter; policy drop;', policy: true, sees: NO_REPLY });
    }
  });

  it('the fix, applied for real, lets the datagram in', () => {
    expect(blocked(udp(53, nft('udp-drop-53.json')))).toMatchObject({ verdict: 'drop', rule: 'udp dport 53 drop' });
    expect(udp(53, nft('udp-drop-53.fixed.json'))).toMatchObject({ verdict: 'accept', by: { rule: 'udp dport 53 accept' } });
  });

  it('the TCP fixture: `meta l4proto { tcp, udp } th dport 53` lets both in; a UDP goto ends in a bare reject', () => {
    const sets = nft('policy-drop-sets.json');
    expect(udp(53, sets)).toMatchObject({ verdict: 'accept', by: { rule: 'meta l4proto { tcp, udp } th dport 53 accept' } });
    expect(udp(123, sets)).toMatchObject({ verdict: 'accept', by: { chain: 'udp_in', rule: 'udp dport 123 accept' } });
    const r9999 = udp(9999, sets);
    expect(blocked(r9999)).toMatchObject({ verdict: 'reject', chain: 'udp_in', rule: 'reject', sees: { code: 'PORT_CLOSED' } });
    expect(r9999.verdict !== 'accept' && r9999.path).toEqual(['input', 'udp_in']);
    // TCP's 7000-7100 reject with tcp reset does not touch UDP 7071: it goes to udp_in.
    expect(blocked(udp(7071, sets))).toMatchObject({ chain: 'udp_in', rule: 'reject' });
  });
});

describe('UDP on iptables', () => {
  const rs = ipt('udp-forms.save.txt');

  it('-p udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited: filtered from the client, in the chain UDP jumps to', () => {
    const v = udp(53, rs);
    expect(blocked(v)).toEqual({ verdict: 'reject', tool: 'iptables', chain: 'udp-in', rule: '-A udp-in -p udp -m udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited', policy: false, sees: { reply: 'ICMP administratively prohibited', code: 'PORT_FILTERED' } });
    expect(v.verdict !== 'accept' && v.path).toEqual(['INPUT', 'udp-in']);
    expect(v.verdict !== 'accept' && v.fix.argv).toEqual(['iptables', '-I', 'INPUT', '-p', 'udp', '--dport', '53', '-j', 'ACCEPT']);
    expect(blocked(tcp(53, rs))).toMatchObject({ verdict: 'drop', rule: '-A INPUT -p tcp -m tcp --dport 53 -j DROP' });
    expect(fixOf(tcp(53, rs))).toBe('iptables -I INPUT -p tcp --dport 53 -j ACCEPT');
  });

  it('REJECT kinds and what the client sees', () => {
    expect(blocked(udp(54, rs))).toMatchObject({ rule: '-A udp-in -p udp -m udp --dport 54 -j REJECT --reject-with icmp-port-unreachable', sees: { reply: 'ICMP port unreachable', code: 'PORT_CLOSED' } });
    expect(blocked(udp(162, rs))).toMatchObject({ sees: { reply: 'ICMP host unreachable', code: 'PORT_FILTERED' } });
    expect(blocked(tcp(7071, rs))).toMatchObject({ rule: '-A INPUT -p tcp -j REJECT --reject-with tcp-reset', sees: { reply: 'TCP reset', code: 'PORT_CLOSED' } });
  });

  it('-m multiport, -m udp and conntrack NEW match datagrams', () => {
    expect(blocked(udp(67, rs))).toMatchObject({ verdict: 'drop', rule: '-A udp-in -p udp -m multiport --dports 67,68,1000:1100 -j DROP', sees: NO_REPLY });
    expect(blocked(udp(1100, rs))).toMatchObject({ rule: '-A udp-in -p udp -m multiport --dports 67,68,1000:1100 -j DROP' });
    expect(udp(123, rs)).toMatchObject({ verdict: 'accept', by: { rule: '-A udp-in -p udp -m udp --dport 123 -j ACCEPT' } });
    expect(udp(4500, rs)).toMatchObject({ verdict: 'accept', by: { rule: '-A udp-in -p udp -m multiport --dports 500,4500 -j ACCEPT' } });
    expect(blocked(udp(161, rs))).toMatchObject({ rule: '-A udp-in -p udp -m udp --dport 161 -m conntrack --ctstate NEW -j DROP' });
  });

  it('--syn and --tcp-flags never match UDP; a source-port accept is a caveat, not a verdict', () => {
    expect(blocked(tcp(5300, rs))).toMatchObject({ rule: '-A INPUT -p tcp -m tcp --dport 5300 --tcp-flags FIN,SYN,RST,ACK SYN -j DROP' });
    expect(blocked(tcp(5301, rs))).toMatchObject({ rule: '-A INPUT -p tcp -m tcp --dport 5301 --tcp-flags SYN,ACK SYN -j DROP' });
    for (const port of [5300, 5301]) {
      const v = udp(port, rs);
      expect(blocked(v)).toEqual({ verdict: 'drop', tool: 'iptables', chain: 'INPUT', rule: '-P INPUT DROP', policy: true, sees: NO_REPLY });
      expect(v.caveats).toEqual([`iptables filter udp-in: "-A udp-in -p udp -m udp --sport 53 -j ACCEPT" would accept it, depending on the client's source port`]);
    }
  });

  it('ip6tables: its reject types in ICMPv6 words', () => {
    const rs6 = ipt('udp-forms.ip6.save.txt', 6);
    const v = udp(53, rs6, { family: 6 });
    expect(blocked(v)).toMatchObject({ tool: 'ip6tables', rule: '-A INPUT -p udp -m udp --dport 53 -j REJECT --reject-with icmp6-adm-prohibited', sees: { reply: 'ICMPv6 administratively prohibited', code: 'PORT_FILTERED' } });
    expect(fixOf(v)).toBe('ip6tables -I INPUT -p udp --dport 53 -j ACCEPT');
    expect(blocked(udp(54, rs6, { family: 6 }))).toMatchObject({ sees: { reply: 'ICMPv6 port unreachable', code: 'PORT_CLOSED' } });
    expect(udp(123, rs6, { family: 6 })).toMatchObject({ verdict: 'accept' });
  });

  it('the fix, applied for real, lets the datagram in; TCP never met the UDP reject', () => {
    expect(blocked(udp(53, ipt('udp-reject-53.save.txt')))).toMatchObject({ verdict: 'reject' });
    expect(tcp(53, ipt('udp-reject-53.save.txt'))).toEqual({ verdict: 'accept', caveats: [] });
    expect(udp(53, ipt('udp-reject-53.fixed.save.txt'))).toMatchObject({ verdict: 'accept', by: { rule: '-A INPUT -p udp -m udp --dport 53 -j ACCEPT' } });
  });

  it('the TCP fixture: UDP goes to its own chain, whose REJECT says port unreachable', () => {
    const v = udp(9999, ipt('nft-policy-drop.save.txt'));
    expect(blocked(v)).toMatchObject({ verdict: 'reject', chain: 'udp-in', rule: '-A udp-in -j REJECT --reject-with icmp-port-unreachable', sees: { code: 'PORT_CLOSED' } });
    expect(udp(123, ipt('nft-policy-drop.save.txt'))).toMatchObject({ verdict: 'accept', by: { rule: '-A udp-in -p udp -m udp --dport 123 -j ACCEPT' } });
  });
});

describe('UDP on ufw', () => {
  const withKernel = (): FirewallRulesets => ({
    ufw: parseUfwStatus(fixture('ufw', 'udp-rules.txt')),
    iptables: [parseIptablesSave(fixture('ufw', 'udp-rules.iptables-save.txt')), parseIptablesSave(fixture('ufw', 'udp-rules.ip6tables-save.txt'), { family: 6 })],
  });
  const alone = (): FirewallRulesets => ({ ufw: parseUfwStatus(fixture('ufw', 'udp-rules.txt')) });

  it.each([['with iptables', withKernel], ['from ufw status alone', alone]])('%s: 53/udp DENY names the ufw rule, and `ufw allow 53/udp` updates it in place', (_, rs) => {
    const v = udp(53, rs());
    expect(blocked(v)).toEqual({ verdict: 'drop', tool: 'ufw', chain: 'ufw-user-input', rule: '53/udp                     DENY IN     Anywhere', policy: false, sees: NO_REPLY });
    // `ufw insert 1 allow 53/udp` would be skipped (udp-fix-insert.txt); `ufw allow` updates it (udp-fix-update.txt).
    expect(fixOf(v)).toBe('ufw allow 53/udp');
    // TCP 53 has no rule: the default policy, with TCP's fix.
    expect(blocked(tcp(53, rs()))).toMatchObject({ rule: 'Default: deny (incoming)', policy: true });
    expect(fixOf(tcp(53, rs()))).toBe('ufw allow 53/tcp');
    // A rule without a protocol covers UDP too; an allow added after it would not win, so insert.
    expect(blocked(udp(7071, rs()))).toMatchObject({ verdict: 'drop', rule: '7071                       DENY IN     Anywhere' });
    expect(fixOf(udp(7071, rs()))).toBe('ufw insert 1 allow 7071/udp');
    expect(blocked(udp(9999, rs()))).toMatchObject({ rule: 'Default: deny (incoming)', policy: true });
    expect(fixOf(udp(9999, rs()))).toBe('ufw allow 9999/udp');
  });

  it.each([['with iptables', withKernel], ['from ufw status alone', alone]])('%s: a reject is ICMP port unreachable for UDP, a reset for TCP', (_, rs) => {
    expect(blocked(udp(54, rs()))).toMatchObject({ verdict: 'reject', rule: '54/udp                     REJECT IN   Anywhere', sees: { reply: 'ICMP port unreachable', code: 'PORT_CLOSED' } });
    expect(blocked(udp(161, rs()))).toMatchObject({ verdict: 'reject', rule: '161                        REJECT IN   Anywhere', sees: { code: 'PORT_CLOSED' } });
    expect(blocked(tcp(161, rs()))).toMatchObject({ verdict: 'reject', sees: { reply: 'TCP reset', code: 'PORT_CLOSED' } });
  });

  it('allows by protocol: 123/udp, 500 (both), 5353/udp but not 5353/tcp, a UDP range; a source rule is a caveat', () => {
    const rs = withKernel();
    expect(udp(123, rs).verdict).toBe('accept');
    expect(tcp(123, rs).verdict).toBe('drop');
    expect(udp(500, rs).verdict).toBe('accept');
    expect(tcp(500, rs).verdict).toBe('accept');
    expect(udp(5353, rs).verdict).toBe('accept');
    expect(blocked(tcp(5353, rs))).toMatchObject({ rule: '5353/tcp                   DENY IN     Anywhere' });
    expect(udp(60500, rs).verdict).toBe('accept');
    const r514 = udp(514, rs);
    expect(blocked(r514)).toMatchObject({ policy: true });
    expect(r514.caveats).toEqual([`iptables filter ufw-user-input: "-A ufw-user-input -s 10.0.0.0/8 -p udp -m udp --dport 514 -j ACCEPT" would accept it, depending on the client's address`]);
    expect(udp(514, rs, { remoteAddress: '10.9.8.7' }).verdict).toBe('accept');
    expect(blocked(udp(53, rs, { family: 6 }))).toMatchObject({ tool: 'ufw', rule: '53/udp (v6)                DENY IN     Anywhere (v6)' });
  });

  it('after the fixes were applied for real, 53/udp and 9999/udp get in', () => {
    const after: FirewallRulesets = { ufw: parseUfwStatus(fixture('ufw', 'udp-after-fixes.txt')) };
    expect(udp(53, after)).toMatchObject({ verdict: 'accept', by: { rule: '53/udp                     ALLOW IN    Anywhere' } });
    expect(udp(9999, after).verdict).toBe('accept');
  });
});

describe('UDP on firewalld', () => {
  const services = (): Record<string, FirewalldService> =>
    Object.fromEntries(['dhcpv6-client', 'ssh', 'dns', 'ntp', 'snmp', 'syslog'].map((s) => [s, parseFirewalldServiceInfo(fixture('firewalld', `info-service-${s}.txt`))]));
  const zone = () => parseFirewalldListAll(fixture('firewalld', 'udp-zone.txt'));
  const withNft = (): FirewallRulesets => ({ nft: parseNftJson(fixture('firewalld', 'udp-zone.nft.json')), firewalld: { zone: zone(), services: services() } });
  const alone = (): FirewallRulesets => ({ firewalld: { zone: zone(), services: services() } });

  it('53/udp is not let in: the zone target rejects (admin-prohibited); the fix adds 53/udp or the dns service', () => {
    const v = udp(53, withNft());
    expect(blocked(v)).toEqual({ verdict: 'reject', tool: 'firewalld', chain: 'filter_IN_public', rule: 'reject with icmpx admin-prohibited', policy: false, sees: { reply: 'ICMP administratively prohibited', code: 'PORT_FILTERED' } });
    expect(v.verdict !== 'accept' && v.fix).toEqual({
      argv: ['firewall-cmd', '--zone=public', '--add-port=53/udp'],
      command: 'firewall-cmd --zone=public --add-port=53/udp',
      note: 'runtime only: run it again with --permanent to keep it after a reload; or let the service in: firewall-cmd --zone=public --add-service=dns (53/tcp 53/udp)',
    });
    expect(v.verdict !== 'accept' && v.detail).toMatch(/^zone public \(target: default\) allows no service, port or rich rule for 53\/udp;/);
    expect(v.caveats.join('\n')).toContain('ip saddr 10.0.0.0/8 udp dport 53 accept');
    expect(udp(53, withNft(), { remoteAddress: '10.1.1.1' })).toMatchObject({ verdict: 'accept', by: { rule: 'ip saddr 10.0.0.0/8 udp dport 53 accept' } });
  });

  it.each([['with its nft table', withNft], ['from firewall-cmd --list-all alone', alone]])('%s: services and ports stand for their own protocol', (_, rs) => {
    // ntp is 123/udp only.
    expect(udp(123, rs()).verdict).toBe('accept');
    expect(blocked(tcp(123, rs()))).toMatchObject({ verdict: 'reject' });
    // 5000-5010/udp, and 7071/tcp whose UDP twin is not let in.
    expect(udp(5005, rs()).verdict).toBe('accept');
    expect(tcp(7071, rs()).verdict).toBe('accept');
    const r7071 = udp(7071, rs());
    expect(blocked(r7071)).toMatchObject({ verdict: 'reject', sees: { code: 'PORT_FILTERED' } });
    expect(fixOf(r7071)).toBe('firewall-cmd --zone=public --add-port=7071/udp');
    // The rich rule that drops 161/udp; its fix removes it.
    const r161 = udp(161, rs());
    expect(blocked(r161)).toMatchObject({ verdict: 'drop', sees: NO_REPLY });
    expect(r161.verdict !== 'accept' && r161.fix.argv).toEqual(['firewall-cmd', '--zone=public', '--remove-rich-rule=rule family="ipv4" port port="161" protocol="udp" drop']);
  });

  it('from --list-all alone the zone says it in its own words', () => {
    expect(udp(123, alone())).toMatchObject({ verdict: 'accept', by: { rule: 'services: ntp' } });
    expect(udp(5005, alone())).toMatchObject({ verdict: 'accept', by: { rule: 'ports: 5000-5010/udp' } });
    expect(blocked(udp(53, alone()))).toMatchObject({ rule: 'target: default', policy: true, sees: { reply: 'ICMP administratively prohibited', code: 'PORT_FILTERED' } });
  });

  it('after the fixes were applied for real, 53/udp gets in', () => {
    const after: FirewallRulesets = { firewalld: { zone: parseFirewalldListAll(fixture('firewalld', 'udp-after-fixes.txt')), services: services() } };
    expect(udp(53, after)).toMatchObject({ verdict: 'accept' });
  });
});

describe('UDP and the nat table', () => {
  const nat = (): FirewallRulesets => ipt('udp-dnat.save.txt');

  it("a UDP DNAT for the port is a caveat in datagrams; the TCP one beside it is not UDP's", () => {
    expect(udp(5300, nat()).caveats).toEqual([`iptables nat PREROUTING: "-A PREROUTING -p udp -m udp --dport 5300 -j DNAT --to-destination 10.0.0.2:53" rewrites the destination, so the datagram may be forwarded (e.g. to a container) past the input chains walked here`]);
    expect(udp(5301, nat()).caveats).toEqual([]);
    expect(tcp(5300, nat()).caveats).toEqual([]);
    expect(tcp(5301, nat()).caveats[0]).toMatch(/so the connection may be forwarded/);
  });

  it('findDnat, as the forward check asks it: the rule of the packet\'s own protocol', () => {
    const rules = { iptables: nat().iptables! };
    const ask = (port: number, protocol: 'tcp' | 'udp') => findDnat(rules, { port, protocol, hook: 'prerouting', dstLocal: true, dst: '10.213.9.2' });
    expect(ask(5300, 'udp')).toMatchObject({ via: 'dnat', to: { address: '10.0.0.2', port: 53 }, rule: '-A PREROUTING -p udp -m udp --dport 5300 -j DNAT --to-destination 10.0.0.2:53' });
    expect(ask(5300, 'tcp')).toBeUndefined();
    expect(ask(5301, 'udp')).toBeUndefined();
    expect(ask(5301, 'tcp')).toMatchObject({ rule: '-A PREROUTING -p tcp -m tcp --dport 5301 -j DNAT --to-destination 10.0.0.2:53' });
  });
});
