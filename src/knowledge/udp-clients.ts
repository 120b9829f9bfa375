/**
 * Programs that open UDP sockets as clients: a socket of theirs bound to a port of the ephemeral
 * range is the port the kernel gave them for their side of a query (dig's to 53, ntpdate's to
 * 123), not a service anyone should reach. Names as /proc/PID/comm shows them (cut to 15 bytes).
 */
export const UDP_CLIENT_PROGRAMS: ReadonlySet<string> = new Set([
  // DNS
  'dig', 'nslookup', 'host', 'drill', 'kdig', 'delv', 'dnsperf', 'resperf',
  // NTP
  'ntpdate', 'sntp', 'ntpdig', 'rdate',
  // SNMP
  'snmpget', 'snmpwalk', 'snmpbulkwalk', 'snmpgetnext', 'snmpset', 'snmptable',
  // Anything else people send UDP with
  'nc', 'ncat', 'netcat', 'nc.openbsd', 'nc.traditional', 'nmap', 'traceroute', 'mtr', 'mtr-packet', 'tftp', 'curl',
]);
