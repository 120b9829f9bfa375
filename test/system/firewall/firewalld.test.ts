import { describe, expect, it } from 'vitest';
import { parseFirewalldListAll, parseFirewalldServiceInfo, parseRichRule } from '../../../src/system/firewall/firewalld.js';
import { fixture } from './fixtures.js';

describe('parseFirewalldListAll', () => {
  it('reads the default public zone', () => {
    expect(parseFirewalldListAll(fixture('firewalld', 'public-default.txt'))).toEqual({
      name: 'public',
      active: false,
      target: 'default',
      interfaces: [],
      sources: [],
      services: ['dhcpv6-client', 'ssh'],
      ports: [],
      protocols: [],
      sourcePorts: [],
      forwardPorts: [],
      masquerade: false,
      icmpBlocks: [],
      richRules: [],
      notes: [],
    });
  });

  it('reads an active zone with ports, ranges, rich rules and forward ports on their own lines', () => {
    const z = parseFirewalldListAll(fixture('firewalld', 'public-ports.txt'));
    expect(z).toMatchObject({
      name: 'public',
      active: true,
      interfaces: ['wptfw0'],
      services: ['dhcpv6-client', 'http', 'https', 'ssh'],
      ports: [
        { ports: [8443, 8443], protocol: 'tcp' },
        { ports: [7000, 7010], protocol: 'tcp' },
        { ports: [5353, 5353], protocol: 'udp' },
      ],
      protocols: ['gre'],
      sourcePorts: [{ ports: [1024, 2048], protocol: 'tcp' }],
      forwardPorts: ['port=8080:proto=tcp:toport=80:toaddr='],
      masquerade: true,
      icmpBlocks: ['echo-request'],
    });
    // firewalld lists rich rules in no stable order.
    expect([...z.richRules].sort((a, b) => a.text.localeCompare(b.text))).toEqual([
      { text: 'rule family="ipv4" port port="7072" protocol="tcp" reject', family: 'ipv4', port: { ports: [7072, 7072], protocol: 'tcp' }, action: 'reject', other: [] },
      { text: 'rule family="ipv4" source address="10.0.0.0/8" port port="7071" protocol="tcp" accept', family: 'ipv4', source: { address: '10.0.0.0/8', invert: false }, port: { ports: [7071, 7071], protocol: 'tcp' }, action: 'accept', other: [] },
      { text: 'rule family="ipv6" source address="fd00::/8" service name="postgresql" accept', family: 'ipv6', source: { address: 'fd00::/8', invert: false }, service: 'postgresql', action: 'accept', other: [] },
    ]);
  });

  it('keeps the warning printed before a default zone that is not the active one', () => {
    const z = parseFirewalldListAll(fixture('firewalld', 'drop-zone.txt'));
    expect(z).toMatchObject({ name: 'drop', target: 'DROP', active: false });
    expect(z.notes[0]).toMatch(/default zone \('drop'\)/);
    expect(parseFirewalldListAll(fixture('firewalld', 'trusted-zone.txt')).target).toBe('ACCEPT');
  });

  it('refuses what firewall-cmd prints when it cannot list', () => {
    expect(() => parseFirewalldListAll(fixture('firewalld', 'not-running.stderr.txt'))).toThrow(/not firewall-cmd/);
    expect(() => parseFirewalldListAll(fixture('firewalld', 'nonroot.stderr.txt'))).toThrow(/not firewall-cmd/);
  });
});

describe('parseFirewalldServiceInfo', () => {
  it('reads the ports of a service', () => {
    expect(parseFirewalldServiceInfo(fixture('firewalld', 'info-service-http.txt'))).toEqual({ name: 'http', ports: [{ ports: [80, 80], protocol: 'tcp' }], protocols: [], sourcePorts: [], includes: [] });
    expect(parseFirewalldServiceInfo(fixture('firewalld', 'info-service-dhcpv6-client.txt')).ports).toEqual([{ ports: [546, 546], protocol: 'udp' }]);
  });
});

describe('parseRichRule', () => {
  it('reads inverted sources, reject types, limits and elements it only names', () => {
    expect(parseRichRule('rule family="ipv4" source not address="192.168.1.0/24" port port="5432" protocol="tcp" reject type="icmp-admin-prohibited"')).toMatchObject({
      source: { address: '192.168.1.0/24', invert: true },
      action: 'reject',
      rejectType: 'icmp-admin-prohibited',
    });
    expect(parseRichRule('rule service name="ssh" log prefix="ssh " level="info" accept limit value="3/m"')).toMatchObject({ service: 'ssh', action: 'accept', limit: '3/m', other: ['log prefix="ssh " level="info"'] });
    expect(parseRichRule('rule priority="-10" forward-port port="80" protocol="tcp" to-port="8080"')).toMatchObject({ priority: -10, other: ['forward-port port="80" protocol="tcp" to-port="8080"'] });
  });
});
