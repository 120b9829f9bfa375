/**
 * Services firewalld ships for common UDP ports, with the ports their definitions list: read from
 * /usr/lib/firewalld/services/*.xml of firewalld 1.3.3 (Debian 12); `firewall-cmd --info-service`
 * of dns, ntp, snmp and syslog is in test/fixtures/firewalld. Kept as data, like the rest of
 * src/knowledge/. Services that open more than ports (ipsec: esp, ah) are left out.
 */
export const FIREWALLD_UDP_SERVICES: Readonly<Record<number, { name: string; ports: string }>> = {
  53: { name: 'dns', ports: '53/tcp 53/udp' },
  67: { name: 'dhcp', ports: '67/udp' },
  69: { name: 'tftp', ports: '69/udp' },
  123: { name: 'ntp', ports: '123/udp' },
  161: { name: 'snmp', ports: '161/tcp 161/udp' },
  514: { name: 'syslog', ports: '514/udp' },
  1194: { name: 'openvpn', ports: '1194/udp' },
  5353: { name: 'mdns', ports: '5353/udp' },
  51820: { name: 'wireguard', ports: '51820/udp' },
};
