import { describe, expect, it } from 'vitest';
import { legacyTablesPresent, parseIptablesSave } from '../../../src/system/firewall/iptables.js';
import { fixture } from './fixtures.js';

describe('parseIptablesSave', () => {
  it('reads iptables -S: policies, one rule, the filter table by default', () => {
    const r = parseIptablesSave(fixture('iptables', 'nft-drop-port.S.txt'));
    expect(r).toMatchObject({ family: 4, backend: 'unknown', format: 'rules' });
    const [filter] = r.tables;
    expect(filter!.name).toBe('filter');
    const input = filter!.chains.find((c) => c.name === 'INPUT')!;
    expect(input).toMatchObject({ builtin: true, hook: 'input', priority: 0, policy: 'accept' });
    expect(input.rules).toEqual([
      {
        text: '-A INPUT -p tcp -m tcp --dport 7071 -j DROP',
        args: ['-p', 'tcp', '-m', 'tcp', '--dport', '7071', '-j', 'DROP'],
        matches: [
          { kind: 'protocol', protocols: ['tcp'], negate: false },
          { kind: 'dport', protocol: 'tcp', ports: [[7071, 7071]], negate: false },
        ],
        action: { kind: 'drop' },
      },
    ]);
  });

  it('reads iptables-save of the nf_tables backend: every table, the backend from the header', () => {
    const r = parseIptablesSave(fixture('iptables', 'nft-policy-drop.save.txt'));
    expect(r).toMatchObject({ family: 4, backend: 'nf_tables', format: 'save' });
    expect(r.tables.map((t) => t.name)).toEqual(['raw', 'filter', 'nat']);
    expect(r.tables[0]!.chains.find((c) => c.name === 'PREROUTING')).toMatchObject({ hook: 'prerouting', priority: -300 });
    expect(r.tables[2]!.chains.find((c) => c.name === 'PREROUTING')!.rules[0]!.action).toEqual({ kind: 'nat', text: '-j DNAT --to-destination 10.0.0.2:80' });
  });

  it.each([
    ['nft-policy-drop.save.txt', 'nf_tables'],
    ['legacy-policy-drop.save.txt', 'legacy'],
    ['legacy-policy-drop.S.txt', 'unknown'],
    ['nft-policy-drop.S.txt', 'unknown'],
  ])('reads every kind of rule in %s (%s backend)', (name, backend) => {
    const r = parseIptablesSave(fixture('iptables', name));
    expect(r.backend).toBe(backend);
    const filter = r.tables.find((t) => t.name === 'filter')!;
    const input = filter.chains.find((c) => c.name === 'INPUT')!;
    expect(input.policy).toBe('drop');
    expect(filter.chains.map((c) => `${c.name}:${c.builtin}`)).toEqual(['INPUT:true', 'FORWARD:true', 'OUTPUT:true', 'services:false', 'ssh-guard:false', 'udp-in:false']);
    const rule = (text: string) => filter.chains.flatMap((c) => c.rules).find((x) => x.text === text)!;
    expect(rule('-A INPUT -i lo -j ACCEPT')).toMatchObject({ matches: [{ kind: 'iif', names: ['lo'], negate: false }], action: { kind: 'accept' } });
    expect(rule('-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT').matches).toEqual([{ kind: 'ctstate', states: ['related', 'established'], negate: false }]);
    expect(rule('-A INPUT -p tcp -m multiport --dports 22,80,443,8000:8010 -j ACCEPT').matches[1]).toEqual({ kind: 'dport', protocol: 'tcp', ports: [[22, 22], [80, 80], [443, 443], [8000, 8010]], negate: false });
    expect(rule('-A INPUT -p tcp -m tcp --dport 7000:7100 -j REJECT --reject-with tcp-reset')).toMatchObject({ matches: [{}, { ports: [[7000, 7100]] }], action: { kind: 'reject', with: 'tcp-reset' } });
    expect(rule('-A INPUT -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m state --state NEW -j DROP').matches).toEqual([
      { kind: 'protocol', protocols: ['tcp'], negate: false },
      { kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'ack'], set: ['syn'], op: 'eq', negate: true },
      { kind: 'ctstate', states: ['new'], negate: false },
    ]);
    expect(rule('-A INPUT -p tcp -m tcp --dport 22 -m limit --limit 3/min -j LOG --log-prefix "ssh: "').action).toEqual({ kind: 'continue' });
    expect(rule('-A INPUT -p tcp -j services').action).toEqual({ kind: 'jump', chain: 'services' });
    expect(rule('-A INPUT -p udp -g udp-in').action).toEqual({ kind: 'goto', chain: 'udp-in' });
    expect(rule('-A INPUT -m addrtype --dst-type BROADCAST -j DROP').matches).toEqual([{ kind: 'dsttype', types: ['BROADCAST'], negate: false }]);
    // A comment with spaces is one word, and changes nothing.
    expect(rule('-A INPUT -m comment --comment "log the rest" -j LOG --log-prefix "input drop: "')).toMatchObject({ matches: [], args: ['-m', 'comment', '--comment', 'log the rest', '-j', 'LOG', '--log-prefix', 'input drop: '] });
    expect(rule('-A services ! -s 192.168.1.0/24 -p tcp -m tcp --dport 5432 -j REJECT --reject-with icmp-admin-prohibited').matches[0]).toEqual({ kind: 'saddr', prefixes: ['192.168.1.0/24'], negate: true });
    expect(rule('-A services ! -i lo -p tcp -m tcp --dport 6379 -j REJECT --reject-with icmp-port-unreachable').matches[0]).toEqual({ kind: 'iif', names: ['lo'], negate: true });
    expect(rule('-A services -p tcp -m tcp --dport 9000 -j RETURN').action).toEqual({ kind: 'return' });
    expect(rule('-A ssh-guard -m recent --update --seconds 60 --hitcount 4 --name ssh --mask 255.255.255.255 --rsource -j DROP').matches.every((m) => m.kind === 'other')).toBe(true);
    expect(rule('-A udp-in -j REJECT --reject-with icmp-port-unreachable').action).toEqual({ kind: 'reject', with: 'icmp-port-unreachable' });
  });

  it('reads ip6tables-save: family from the header, IPv6 prefixes and reject types', () => {
    const r = parseIptablesSave(fixture('iptables', 'ip6-policy-drop.save.txt'));
    expect(r).toMatchObject({ family: 6, backend: 'nf_tables' });
    expect(r.tables[0]!.family).toBe('ip6');
    const input = r.tables[0]!.chains[0]!;
    expect(input.rules.at(-2)!.matches[0]).toEqual({ kind: 'saddr', prefixes: ['fd00::/8'], negate: false });
    expect(input.rules.at(-1)!.action).toEqual({ kind: 'reject', with: 'icmp6-adm-prohibited' });
    expect(input.rules[2]!.matches).toEqual([{ kind: 'protocol', protocols: ['ipv6-icmp'], negate: false }]);
  });

  it('takes the family of ip6tables -S output from the caller', () => {
    const r = parseIptablesSave(fixture('iptables', 'ip6-policy-drop.S.txt'), { family: 6 });
    expect(r.tables[0]!.family).toBe('ip6');
  });

  it('reads empty output: -S still lists policies, save prints nothing', () => {
    expect(parseIptablesSave(fixture('iptables', 'nft-empty.S.txt')).tables[0]!.chains.map((c) => c.policy)).toEqual(['accept', 'accept', 'accept']);
    expect(parseIptablesSave(fixture('iptables', 'nft-empty.save.txt')).tables).toEqual([]);
  });

  it('reads the chains ufw builds', () => {
    const r = parseIptablesSave(fixture('ufw', 'active-rules.iptables-save.txt'));
    const filter = r.tables[0]!;
    expect(filter.chains.filter((c) => c.name.startsWith('ufw-')).length).toBe(32);
    const notLocal = filter.chains.find((c) => c.name === 'ufw-not-local')!;
    expect(notLocal.rules[0]).toMatchObject({ matches: [{ kind: 'dsttype', types: ['LOCAL'] }], action: { kind: 'return' } });
  });
});

describe('legacyTablesPresent', () => {
  it('spots the warning the nf_tables tools print when legacy tables exist', () => {
    expect(legacyTablesPresent(fixture('iptables', 'nft-beside-legacy.save.stderr.txt'))).toBe(true);
    expect(legacyTablesPresent(fixture('iptables', 'nft-beside-legacy.S.stderr.txt'))).toBe(true);
    expect(legacyTablesPresent('')).toBe(false);
  });
});
