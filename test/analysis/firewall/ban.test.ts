import { describe, expect, it } from 'vitest';
import { banListOf, fail2banJails, unbanArgv, unbanNote } from '../../../src/analysis/firewall/ban.js';
import { findBlockingRules, type FirewallRulesets } from '../../../src/analysis/firewall/verdict.js';
import { parseBanTimes } from '../../../src/system/fail2ban.js';
import { parseIptablesSave } from '../../../src/system/firewall/iptables.js';
import { parseNftJson } from '../../../src/system/firewall/nft.js';
import { fixture } from '../../system/firewall/fixtures.js';

// Rulesets made by the real fail2ban package (1.0.2, its iptables-multiport and nftables-multiport
// actions, two addresses banned in a jail on ports 80 and 443) and by sshguard's own firewall
// backends (2.4.2): test/fixtures/fail2ban/capture.sh, test/fixtures/sshguard/capture.sh.

const f2bIptables = (): FirewallRulesets => ({ iptables: [parseIptablesSave(fixture('fail2ban', 'iptables-multiport/iptables-save.txt'), { family: 4 })] });
const f2bNft = (): FirewallRulesets => ({ nft: parseNftJson(fixture('fail2ban', 'nftables-multiport/nft.json')) });
const sgNft = (): FirewallRulesets => ({ nft: parseNftJson(fixture('sshguard', 'nft-sets.json')) });
const sgIptables = (): FirewallRulesets => ({ iptables: [parseIptablesSave(fixture('sshguard', 'iptables.iptables-save.txt'), { family: 4 })] });

describe('fail2ban and sshguard rules, judged for a known client', () => {
  it("fail2ban's iptables-multiport: the banned client is rejected by its f2b chain; another client gets in", () => {
    const v = findBlockingRules(80, f2bIptables(), { remoteAddress: '10.0.0.7' }).remote;
    expect(v).toMatchObject({ verdict: 'reject', tool: 'iptables', table: 'filter', chain: 'f2b-nginx-http-auth', rule: '-A f2b-nginx-http-auth -s 10.0.0.7/32 -j REJECT --reject-with icmp-port-unreachable', path: ['INPUT', 'f2b-nginx-http-auth'] });
    expect(v.verdict !== 'accept' && banListOf(v)).toEqual({ by: 'fail2ban', jail: 'nginx-http-auth' });
    expect(findBlockingRules(80, f2bIptables(), { remoteAddress: '10.0.0.8' }).remote).toMatchObject({ verdict: 'accept' });
    // Port 22 is not the jail's: no jump to its chain.
    expect(findBlockingRules(22, f2bIptables(), { remoteAddress: '10.0.0.7' }).remote).toMatchObject({ verdict: 'accept' });
  });

  it('fail2ban with no client known: the port is let in, and each ban is a source rule that would reject', () => {
    const v = findBlockingRules(80, f2bIptables()).remote;
    expect(v.verdict).toBe('accept');
    expect(v.sourceRules).toEqual([
      { tool: 'iptables', table: 'filter', chain: 'f2b-nginx-http-auth', rule: '-A f2b-nginx-http-auth -s 192.0.2.44/32 -j REJECT --reject-with icmp-port-unreachable', verdict: 'reject', from: ['192.0.2.44/32'] },
      { tool: 'iptables', table: 'filter', chain: 'f2b-nginx-http-auth', rule: '-A f2b-nginx-http-auth -s 10.0.0.7/32 -j REJECT --reject-with icmp-port-unreachable', verdict: 'reject', from: ['10.0.0.7/32'] },
    ]);
    // Over loopback no ban applies.
    expect(findBlockingRules(80, f2bIptables()).loopback.sourceRules).toBeUndefined();
  });

  it("fail2ban's nftables-multiport: its own table and set, the jail named by the set", () => {
    const v = findBlockingRules(443, f2bNft(), { remoteAddress: '192.0.2.44' }).remote;
    expect(v).toMatchObject({ verdict: 'reject', tool: 'nftables', table: 'inet f2b-table', chain: 'f2b-chain' });
    expect(v.verdict !== 'accept' && v.rule).toContain('@addr-set-nginx-http-auth');
    expect(v.verdict !== 'accept' && banListOf(v)).toEqual({ by: 'fail2ban', jail: 'nginx-http-auth' });
    expect(findBlockingRules(443, f2bNft(), { remoteAddress: '198.51.100.1' }).remote.verdict).toBe('accept');
    const anyone = findBlockingRules(443, f2bNft()).remote;
    expect(anyone.verdict).toBe('accept');
    expect(anyone.sourceRules).toMatchObject([{ table: 'inet f2b-table', verdict: 'reject', from: ['10.0.0.7', '192.0.2.44'] }]);
  });

  it('the jails of a ruleset, from either action', () => {
    expect(fail2banJails(f2bIptables())).toEqual(['nginx-http-auth']);
    expect(fail2banJails(f2bNft())).toEqual(['nginx-http-auth']);
    expect(fail2banJails(sgNft())).toEqual([]);
  });

  it("sshguard's nft-sets backend (table ip sshguard, set attackers) and its iptables chain", () => {
    const n = findBlockingRules(22, sgNft(), { remoteAddress: '10.0.0.7' }).remote;
    expect(n).toMatchObject({ verdict: 'drop', tool: 'nftables', table: 'ip sshguard', chain: 'blacklist', rule: 'ip saddr @attackers drop' });
    expect(n.verdict !== 'accept' && banListOf(n)).toEqual({ by: 'sshguard' });
    expect(n.verdict !== 'accept' && unbanArgv({ by: 'sshguard', address: '10.0.0.7' }, n)).toEqual(['nft', 'delete', 'element', 'ip', 'sshguard', 'attackers', '{ 10.0.0.7/32 }']);
    const i = findBlockingRules(22, sgIptables(), { remoteAddress: '10.0.0.7' }).remote;
    expect(i).toMatchObject({ verdict: 'drop', chain: 'sshguard', rule: '-A sshguard -s 10.0.0.7/32 -j DROP' });
    expect(i.verdict !== 'accept' && banListOf(i)).toEqual({ by: 'sshguard' });
    expect(i.verdict !== 'accept' && unbanArgv({ by: 'sshguard', address: '10.0.0.7' }, i)).toEqual(['iptables', '-D', 'sshguard', '-s', '10.0.0.7/32', '-j', 'DROP']);
  });

  it("another table's rule is no ban", () => {
    expect(banListOf({ tool: 'nftables', table: 'inet filter', chain: 'input', rule: 'ip saddr 10.0.0.7 drop' })).toBeUndefined();
    expect(banListOf({ tool: 'iptables', table: 'filter', chain: 'INPUT', rule: '-A INPUT -s 10.0.0.7/32 -j DROP' })).toBeUndefined();
    // iptables-ipset: the ipset names the jail.
    expect(banListOf({ tool: 'iptables', table: 'filter', chain: 'INPUT', rule: '-A INPUT -p tcp -m multiport --dports 80 -m set --match-set f2b-nginx-http-auth src -j REJECT --reject-with icmp-port-unreachable' })).toEqual({ by: 'fail2ban', jail: 'nginx-http-auth' });
  });

  it("lifting a ban: fail2ban's own command, and ignoreip to keep it from coming back", () => {
    expect(unbanArgv({ by: 'fail2ban', jail: 'nginx-http-auth', address: '10.0.0.7' }, { tool: 'iptables', table: 'filter' })).toEqual(['fail2ban-client', 'set', 'nginx-http-auth', 'unbanip', '10.0.0.7']);
    expect(unbanNote({ by: 'fail2ban', jail: 'nginx-http-auth', address: '10.0.0.7' })).toContain('`ignoreip` in /etc/fail2ban/jail.local');
  });
});

describe('fail2ban-client get JAIL banip --with-time', () => {
  it('reads each ban and since when, as the real client prints them', () => {
    expect(parseBanTimes(fixture('fail2ban', 'iptables-multiport/banip-with-time.txt'))).toEqual([
      { address: '10.0.0.7', since: '2026-12-06 20:52:59', seconds: 600, until: '2026-12-06 21:02:59' },
      { address: '192.0.2.44', since: '2026-12-06 20:53:00', seconds: 600, until: '2026-12-06 21:03:00' },
    ]);
    expect(parseBanTimes('')).toEqual([]);
    // Without --with-time the addresses come on one line: not of this form, nothing read.
    expect(parseBanTimes(fixture('fail2ban', 'iptables-multiport/banip.txt'))).toEqual([]);
  });
});
