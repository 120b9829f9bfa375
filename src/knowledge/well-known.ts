/**
 * Which programs and systemd units usually sit on well-known ports. Kept as data: the guesses
 * offered at prompts and used with --yes come from here.
 */
export interface WellKnownPort {
  port: number;
  name: string;
  programs: string[];
  units: string[];
}

export const WELL_KNOWN_PORTS: readonly WellKnownPort[] = [
  { port: 21, name: 'ftp', programs: ['vsftpd', 'proftpd', 'pure-ftpd'], units: ['vsftpd', 'proftpd'] },
  { port: 22, name: 'ssh', programs: ['sshd'], units: ['ssh', 'sshd'] },
  { port: 25, name: 'smtp', programs: ['master', 'exim4', 'exim', 'sendmail'], units: ['postfix', 'exim4'] },
  { port: 53, name: 'domain', programs: ['named', 'unbound', 'systemd-resolve', 'dnsmasq', 'pdns_server'], units: ['named', 'bind9', 'unbound', 'systemd-resolved', 'dnsmasq'] },
  { port: 80, name: 'http', programs: ['nginx', 'apache2', 'httpd', 'caddy', 'lighttpd', 'haproxy'], units: ['nginx', 'apache2', 'httpd', 'caddy', 'lighttpd', 'haproxy'] },
  { port: 110, name: 'pop3', programs: ['dovecot'], units: ['dovecot'] },
  { port: 111, name: 'sunrpc', programs: ['rpcbind'], units: ['rpcbind'] },
  { port: 143, name: 'imap2', programs: ['dovecot'], units: ['dovecot'] },
  { port: 389, name: 'ldap', programs: ['slapd'], units: ['slapd'] },
  { port: 443, name: 'https', programs: ['nginx', 'apache2', 'httpd', 'caddy', 'haproxy'], units: ['nginx', 'apache2', 'httpd', 'caddy', 'haproxy'] },
  { port: 465, name: 'submissions', programs: ['master', 'exim4'], units: ['postfix', 'exim4'] },
  { port: 587, name: 'submission', programs: ['master', 'exim4'], units: ['postfix', 'exim4'] },
  { port: 631, name: 'ipp', programs: ['cupsd'], units: ['cups'] },
  { port: 993, name: 'imaps', programs: ['dovecot'], units: ['dovecot'] },
  { port: 995, name: 'pop3s', programs: ['dovecot'], units: ['dovecot'] },
  { port: 1433, name: 'ms-sql-s', programs: ['sqlservr'], units: ['mssql-server'] },
  { port: 1521, name: 'oracle', programs: ['tnslsnr'], units: [] },
  { port: 2049, name: 'nfs', programs: ['nfsd'], units: ['nfs-server'] },
  { port: 2181, name: 'zookeeper', programs: ['java'], units: ['zookeeper'] },
  { port: 2375, name: 'docker', programs: ['dockerd'], units: ['docker'] },
  { port: 3000, name: 'grafana', programs: ['grafana', 'grafana-server', 'node'], units: ['grafana-server'] },
  { port: 3306, name: 'mysql', programs: ['mysqld', 'mariadbd'], units: ['mysql', 'mariadb'] },
  { port: 3389, name: 'ms-wbt-server', programs: ['xrdp'], units: ['xrdp'] },
  { port: 5432, name: 'postgresql', programs: ['postgres'], units: ['postgresql'] },
  { port: 5672, name: 'amqp', programs: ['beam.smp'], units: ['rabbitmq-server'] },
  { port: 6379, name: 'redis', programs: ['redis-server'], units: ['redis-server', 'redis'] },
  { port: 8080, name: 'http-alt', programs: ['java', 'tomcat', 'jenkins', 'nginx', 'node'], units: ['tomcat9', 'tomcat10', 'jenkins'] },
  { port: 8443, name: 'https-alt', programs: ['java', 'nginx'], units: ['tomcat9', 'tomcat10'] },
  { port: 9000, name: 'php-fpm', programs: ['php-fpm', 'php-fpm8.2'], units: ['php8.2-fpm'] },
  { port: 9090, name: 'prometheus', programs: ['prometheus'], units: ['prometheus'] },
  { port: 9092, name: 'kafka', programs: ['java'], units: ['kafka'] },
  { port: 9100, name: 'node-exporter', programs: ['node_exporter', 'prometheus-node-exporter'], units: ['prometheus-node-exporter'] },
  { port: 9200, name: 'elasticsearch', programs: ['java'], units: ['elasticsearch'] },
  { port: 11211, name: 'memcache', programs: ['memcached'], units: ['memcached'] },
  { port: 27017, name: 'mongodb', programs: ['mongod'], units: ['mongod'] },
];

/** The well-known entry of a port, if any. */
export function wellKnown(port: number): WellKnownPort | undefined {
  return WELL_KNOWN_PORTS.find((w) => w.port === port);
}
