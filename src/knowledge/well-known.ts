/**
 * Which programs and systemd units usually sit on well-known ports. Kept as data: the guesses
 * offered at prompts and used with --yes come from here, and so does `whyport explain PORT|NAME`.
 *
 * `programs` are process names as the kernel keeps them (/proc/PID/comm, what pgrep and ss -p
 * show, at most 15 characters: systemd-resolved runs as "systemd-resolve"); `units` are systemd
 * service names without ".service", Debian's spelling first.
 */
export interface WellKnownPort {
  port: number;
  /** The service name, as /etc/services spells it where it lists the port. */
  name: string;
  /** What the port is for, in a few words. */
  description: string;
  programs: string[];
  units: string[];
  /** The protocols it is served over; TCP alone when not given. */
  protocols?: readonly ('tcp' | 'udp')[];
}

export const WELL_KNOWN_PORTS: readonly WellKnownPort[] = [
  { port: 21, name: 'ftp', description: 'FTP file transfer (control connection)', programs: ['vsftpd', 'proftpd', 'pure-ftpd'], units: ['vsftpd', 'proftpd', 'pure-ftpd'] },
  { port: 22, name: 'ssh', description: 'SSH remote login', programs: ['sshd'], units: ['ssh', 'sshd'] },
  { port: 23, name: 'telnet', description: 'Telnet remote login (unencrypted)', programs: ['telnetd', 'in.telnetd', 'inetd'], units: ['inetd'] },
  // Postfix's listener is its "master" process; smtpd children handle the connections.
  { port: 25, name: 'smtp', description: 'SMTP mail transfer between servers', programs: ['master', 'exim4', 'exim', 'sendmail'], units: ['postfix', 'exim4', 'sendmail'] },
  { port: 53, name: 'domain', description: 'DNS name service', programs: ['named', 'unbound', 'systemd-resolve', 'dnsmasq', 'pdns_server', 'pdns_recursor', 'coredns'], units: ['named', 'bind9', 'unbound', 'systemd-resolved', 'dnsmasq', 'pdns', 'pdns-recursor'], protocols: ['tcp', 'udp'] },
  { port: 67, name: 'bootps', description: 'DHCP server (BOOTP)', programs: ['dhcpd', 'kea-dhcp4', 'dnsmasq'], units: ['isc-dhcp-server', 'kea-dhcp4-server', 'dnsmasq'], protocols: ['udp'] },
  { port: 69, name: 'tftp', description: 'TFTP file transfer (network boot)', programs: ['in.tftpd', 'dnsmasq'], units: ['tftpd-hpa', 'dnsmasq'], protocols: ['udp'] },
  { port: 80, name: 'http', description: 'HTTP, the web without TLS', programs: ['nginx', 'apache2', 'httpd', 'caddy', 'lighttpd', 'haproxy', 'traefik', 'varnishd', 'envoy'], units: ['nginx', 'apache2', 'httpd', 'caddy', 'lighttpd', 'haproxy', 'traefik', 'varnish'] },
  { port: 123, name: 'ntp', description: 'NTP time service', programs: ['chronyd', 'ntpd', 'systemd-timesyn'], units: ['chrony', 'chronyd', 'ntpsec', 'ntp', 'systemd-timesyncd'], protocols: ['udp'] },
  { port: 110, name: 'pop3', description: 'POP3 mail retrieval', programs: ['dovecot'], units: ['dovecot'] },
  { port: 111, name: 'sunrpc', description: 'RPC port mapper (NFS v3 and older)', programs: ['rpcbind'], units: ['rpcbind'] },
  { port: 139, name: 'netbios-ssn', description: 'SMB file sharing over NetBIOS', programs: ['smbd'], units: ['smbd', 'smb'] },
  { port: 143, name: 'imap2', description: 'IMAP mail access', programs: ['dovecot'], units: ['dovecot'] },
  { port: 161, name: 'snmp', description: 'SNMP monitoring agent', programs: ['snmpd'], units: ['snmpd'], protocols: ['udp', 'tcp'] },
  { port: 389, name: 'ldap', description: 'LDAP directory', programs: ['slapd'], units: ['slapd'] },
  { port: 443, name: 'https', description: 'HTTPS, the web over TLS (on UDP: HTTP/3 over QUIC)', programs: ['nginx', 'apache2', 'httpd', 'caddy', 'lighttpd', 'haproxy', 'traefik', 'envoy'], units: ['nginx', 'apache2', 'httpd', 'caddy', 'lighttpd', 'haproxy', 'traefik'], protocols: ['tcp', 'udp'] },
  { port: 445, name: 'microsoft-ds', description: 'SMB file sharing (Samba, Windows shares)', programs: ['smbd'], units: ['smbd', 'smb'] },
  { port: 465, name: 'submissions', description: 'mail submission over TLS', programs: ['master', 'exim4'], units: ['postfix', 'exim4'] },
  { port: 500, name: 'isakmp', description: 'IPsec key exchange (IKE)', programs: ['charon', 'pluto', 'racoon'], units: ['strongswan', 'strongswan-starter', 'ipsec'], protocols: ['udp'] },
  { port: 514, name: 'syslog', description: 'syslog over the network', programs: ['rsyslogd', 'syslog-ng'], units: ['rsyslog', 'syslog-ng'], protocols: ['udp'] },
  { port: 587, name: 'submission', description: 'mail submission by mail clients', programs: ['master', 'exim4'], units: ['postfix', 'exim4'] },
  { port: 631, name: 'ipp', description: 'IPP printing (CUPS)', programs: ['cupsd'], units: ['cups'] },
  { port: 636, name: 'ldaps', description: 'LDAP directory over TLS', programs: ['slapd'], units: ['slapd'] },
  { port: 873, name: 'rsync', description: 'rsync daemon', programs: ['rsync'], units: ['rsync'] },
  { port: 993, name: 'imaps', description: 'IMAP mail access over TLS', programs: ['dovecot'], units: ['dovecot'] },
  { port: 995, name: 'pop3s', description: 'POP3 mail retrieval over TLS', programs: ['dovecot'], units: ['dovecot'] },
  { port: 1194, name: 'openvpn', description: 'OpenVPN', programs: ['openvpn'], units: ['openvpn', 'openvpn-server@server'], protocols: ['udp', 'tcp'] },
  { port: 1433, name: 'ms-sql-s', description: 'Microsoft SQL Server', programs: ['sqlservr'], units: ['mssql-server'] },
  { port: 1521, name: 'oracle', description: 'Oracle database listener', programs: ['tnslsnr'], units: [] },
  { port: 1812, name: 'radius', description: 'RADIUS authentication', programs: ['freeradius', 'radiusd'], units: ['freeradius'], protocols: ['udp'] },
  { port: 1883, name: 'mqtt', description: 'MQTT message broker', programs: ['mosquitto', 'beam.smp', 'emqx'], units: ['mosquitto', 'emqx'] },
  { port: 2049, name: 'nfs', description: 'NFS file sharing (served by the kernel)', programs: ['nfsd'], units: ['nfs-server', 'nfs-kernel-server'] },
  { port: 2181, name: 'zookeeper', description: 'ZooKeeper coordination', programs: ['java'], units: ['zookeeper'] },
  { port: 2375, name: 'docker', description: 'Docker API without TLS', programs: ['dockerd'], units: ['docker'] },
  { port: 2376, name: 'docker-s', description: 'Docker API over TLS', programs: ['dockerd'], units: ['docker'] },
  { port: 2379, name: 'etcd-client', description: 'etcd key-value store (clients)', programs: ['etcd'], units: ['etcd'] },
  { port: 3000, name: 'grafana', description: 'Grafana dashboards (and many Node.js apps)', programs: ['grafana', 'grafana-server', 'node'], units: ['grafana-server'] },
  { port: 3128, name: 'squid', description: 'Squid HTTP proxy', programs: ['squid'], units: ['squid'] },
  { port: 3306, name: 'mysql', description: 'MySQL / MariaDB database', programs: ['mysqld', 'mariadbd'], units: ['mysql', 'mariadb', 'mysqld'] },
  { port: 3389, name: 'ms-wbt-server', description: 'RDP remote desktop', programs: ['xrdp'], units: ['xrdp'] },
  { port: 4369, name: 'epmd', description: 'Erlang port mapper (RabbitMQ, CouchDB)', programs: ['epmd'], units: ['epmd'] },
  { port: 5432, name: 'postgresql', description: 'PostgreSQL database', programs: ['postgres'], units: ['postgresql'] },
  { port: 5060, name: 'sip', description: 'SIP telephony signalling', programs: ['asterisk', 'kamailio', 'opensips'], units: ['asterisk', 'kamailio'], protocols: ['udp', 'tcp'] },
  { port: 5353, name: 'mdns', description: 'multicast DNS (.local names)', programs: ['avahi-daemon', 'systemd-resolve'], units: ['avahi-daemon', 'systemd-resolved'], protocols: ['udp'] },
  { port: 5601, name: 'kibana', description: 'Kibana dashboards', programs: ['node'], units: ['kibana'] },
  { port: 5672, name: 'amqp', description: 'AMQP message broker (RabbitMQ)', programs: ['beam.smp'], units: ['rabbitmq-server'] },
  { port: 5900, name: 'vnc', description: 'VNC remote desktop', programs: ['Xvnc', 'x11vnc', 'vncserver'], units: [] },
  { port: 6379, name: 'redis', description: 'Redis key-value store', programs: ['redis-server', 'valkey-server'], units: ['redis-server', 'redis', 'valkey-server'] },
  { port: 6443, name: 'kube-apiserver', description: 'Kubernetes API server', programs: ['kube-apiserver', 'k3s-server', 'k3s'], units: ['kube-apiserver', 'k3s'] },
  { port: 8080, name: 'http-alt', description: 'alternative HTTP (application servers, proxies)', programs: ['java', 'tomcat', 'jenkins', 'nginx', 'node'], units: ['tomcat9', 'tomcat10', 'jenkins'] },
  { port: 8086, name: 'influxdb', description: 'InfluxDB time-series database', programs: ['influxd'], units: ['influxdb'] },
  { port: 8200, name: 'vault', description: 'HashiCorp Vault', programs: ['vault'], units: ['vault'] },
  { port: 8443, name: 'https-alt', description: 'alternative HTTPS (application servers)', programs: ['java', 'nginx'], units: ['tomcat9', 'tomcat10'] },
  { port: 8500, name: 'consul', description: 'HashiCorp Consul (HTTP API)', programs: ['consul'], units: ['consul'] },
  { port: 9000, name: 'php-fpm', description: 'PHP FastCGI (php-fpm)', programs: ['php-fpm', 'php-fpm8.2'], units: ['php8.2-fpm'] },
  { port: 9042, name: 'cassandra', description: 'Cassandra database (CQL)', programs: ['java'], units: ['cassandra'] },
  { port: 9090, name: 'prometheus', description: 'Prometheus monitoring', programs: ['prometheus'], units: ['prometheus'] },
  { port: 9092, name: 'kafka', description: 'Kafka message broker', programs: ['java'], units: ['kafka'] },
  { port: 9093, name: 'alertmanager', description: 'Prometheus Alertmanager', programs: ['alertmanager', 'prometheus-alertmanager'], units: ['prometheus-alertmanager', 'alertmanager'] },
  { port: 9100, name: 'node-exporter', description: 'Prometheus node exporter', programs: ['node_exporter', 'prometheus-node-exporter'], units: ['prometheus-node-exporter'] },
  { port: 9200, name: 'elasticsearch', description: 'Elasticsearch / OpenSearch (HTTP)', programs: ['java'], units: ['elasticsearch', 'opensearch'] },
  { port: 10050, name: 'zabbix-agent', description: 'Zabbix agent', programs: ['zabbix_agentd', 'zabbix_agent2'], units: ['zabbix-agent', 'zabbix-agent2'] },
  { port: 10051, name: 'zabbix-trapper', description: 'Zabbix server', programs: ['zabbix_server'], units: ['zabbix-server'] },
  // memcached serves UDP only when started with -U PORT (off by default since 1.5.6).
  { port: 11211, name: 'memcache', description: 'memcached cache', programs: ['memcached'], units: ['memcached'], protocols: ['tcp', 'udp'] },
  { port: 15672, name: 'rabbitmq-mgmt', description: 'RabbitMQ management (web UI and API)', programs: ['beam.smp'], units: ['rabbitmq-server'] },
  { port: 27017, name: 'mongodb', description: 'MongoDB database', programs: ['mongod'], units: ['mongod'] },
  // The kernel serves WireGuard: no process holds its socket.
  { port: 51820, name: 'wireguard', description: 'WireGuard VPN (served by the kernel: no process holds the socket)', programs: [], units: ['wg-quick@wg0'], protocols: ['udp'] },
];

/** The protocols of an entry (TCP when it names none). */
export function protocolsOf(w: WellKnownPort): readonly ('tcp' | 'udp')[] {
  return w.protocols ?? ['tcp'];
}

/** The well-known entry of a port over a protocol (TCP by default), if any. */
export function wellKnown(port: number, protocol: 'tcp' | 'udp' = 'tcp'): WellKnownPort | undefined {
  return WELL_KNOWN_PORTS.find((w) => w.port === port && protocolsOf(w).includes(protocol));
}

/**
 * The ports a program or unit usually sits on (`nginx` → 80, 443, 8080, 8443), matching the
 * programs and units (with or without ".service"), case-insensitive.
 */
export function portsOfProgram(name: string): WellKnownPort[] {
  const n = name.trim().toLowerCase().replace(/\.service$/, '');
  if (!n) return [];
  return WELL_KNOWN_PORTS.filter((w) => w.programs.some((p) => p.toLowerCase() === n) || w.units.some((u) => u.toLowerCase() === n));
}
