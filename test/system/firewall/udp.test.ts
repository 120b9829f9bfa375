import { describe, expect, it } from 'vitest';
import { parseFirewalldListAll, parseFirewalldServiceInfo } from '../../../src/system/firewall/firewalld.js';
import { parseIptablesSave } from '../../../src/system/firewall/iptables.js';
import { parseNftJson } from '../../../src/system/firewall/nft.js';
import { parseUfwStatus } from '../../../src/system/firewall/ufw.js';
import { fixture } from './fixtures.js';

// The parsers on the UDP fixtures (the UDP sections of each folder's capture.sh): protocols kept as the
// tools print them, so the walk can tell a datagram's rule from a connection's.

describe('UDP rules as the parsers read them', () => {
  it('ufw status verbose: N/udp, a port without protocol (both), a UDP range, a source', () => {
    const s = parseUfwStatus(fixture('ufw', 'udp-rules.txt'));
    if (!s.active) throw new Error('expected active');
    const rule = (text: string) => s.rules.find((r) => r.text.replace(/\s+/g, ' ') === text);
    expect(rule('53/udp DENY IN Anywhere')).toMatchObject({ action: 'deny', to: { ports: [[53, 53]], protocol: 'udp' }, v6: false });
    expect(rule('54/udp REJECT IN Anywhere')).toMatchObject({ action: 'reject', to: { protocol: 'udp' } });
    expect(rule('7071 DENY IN Anywhere')!.to).toEqual({ ports: [[7071, 7071]] });
    expect(rule('60000:61000/udp ALLOW IN Anywhere')!.to).toEqual({ ports: [[60000, 61000]], protocol: 'udp' });
    expect(rule('514/udp ALLOW IN 10.0.0.0/8')).toMatchObject({ to: { ports: [[514, 514]], protocol: 'udp' }, from: { address: '10.0.0.0/8' } });
    expect(rule('53/udp (v6) DENY IN Anywhere (v6)')).toMatchObject({ v6: true, to: { protocol: 'udp' } });
    expect(s.rules).toHaveLength(21);
  });

  it("ufw's user chains in iptables-save: one rule per protocol for a port without one", () => {
    const chain = parseIptablesSave(fixture('ufw', 'udp-rules.iptables-save.txt')).tables.find((t) => t.name === 'filter')!.chains.find((c) => c.name === 'ufw-user-input')!;
    const for7071 = chain.rules.filter((r) => r.text.includes('--dport 7071'));
    expect(for7071.map((r) => r.matches.find((m) => m.kind === 'dport'))).toEqual([
      { kind: 'dport', protocol: 'tcp', ports: [[7071, 7071]], negate: false },
      { kind: 'dport', protocol: 'udp', ports: [[7071, 7071]], negate: false },
    ]);
    expect(chain.rules.find((r) => r.text.includes('--dport 54'))!.action).toEqual({ kind: 'reject', with: 'icmp-port-unreachable' });
  });

  it('firewall-cmd --info-service: the UDP ports of dns, ntp, snmp and syslog', () => {
    const ports = (name: string) => parseFirewalldServiceInfo(fixture('firewalld', `info-service-${name}.txt`)).ports;
    expect(ports('dns')).toEqual([{ ports: [53, 53], protocol: 'tcp' }, { ports: [53, 53], protocol: 'udp' }]);
    expect(ports('ntp')).toEqual([{ ports: [123, 123], protocol: 'udp' }]);
    expect(ports('snmp')).toEqual([{ ports: [161, 161], protocol: 'tcp' }, { ports: [161, 161], protocol: 'udp' }]);
    expect(ports('syslog')).toEqual([{ ports: [514, 514], protocol: 'udp' }]);
  });

  it('firewall-cmd --list-all: UDP ports and a UDP rich rule', () => {
    const z = parseFirewalldListAll(fixture('firewalld', 'udp-zone.txt'));
    expect(z.ports).toEqual([{ ports: [5000, 5010], protocol: 'udp' }, { ports: [7071, 7071], protocol: 'tcp' }]);
    expect(z.services).toEqual(['dhcpv6-client', 'ntp', 'ssh']);
    expect(z.richRules.map((r) => [r.port, r.service, r.action])).toEqual([
      [undefined, 'dns', 'accept'],
      [{ ports: [161, 161], protocol: 'udp' }, undefined, 'drop'],
    ]);
    expect(parseFirewalldListAll(fixture('firewalld', 'udp-after-fixes.txt')).ports).toContainEqual({ ports: [53, 53], protocol: 'udp' });
  });

  it('nft -j: udp dport, meta l4proto and th dport keep their protocol', () => {
    const input = parseNftJson(fixture('nft', 'udp-forms.json')).tables[0]!.chains.find((c) => c.name === 'input')!;
    const rule = (text: string) => input.rules.find((r) => r.text === text)!;
    expect(rule('udp dport 53 drop').matches).toEqual([{ kind: 'dport', protocol: 'udp', ports: [[53, 53]], negate: false }]);
    expect(rule('meta l4proto { tcp, udp } th dport 500 accept').matches).toEqual([
      { kind: 'protocol', protocols: ['tcp', 'udp'], negate: false },
      { kind: 'dport', protocol: 'th', ports: [[500, 500]], negate: false },
    ]);
    expect(rule('meta l4proto tcp reject with tcp reset')).toMatchObject({ matches: [{ kind: 'protocol', protocols: ['tcp'], negate: false }], action: { kind: 'reject', with: 'tcp reset' } });
    expect(rule('udp dport 54 reject').action).toEqual({ kind: 'reject' });
  });
});
