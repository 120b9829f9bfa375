/**
 * Where well-known programs write their own log when their distribution's package runs them: the
 * file to read when the journal says "Examine the log output", or says nothing at all (redis logs
 * to a file of its own, so a redis that cannot bind leaves only systemd's lines in the journal).
 * Kept as data: the unit check reads the first of these files that exists.
 *
 * Names may hold placeholders, matched in the unit or program name and substituted in the files:
 * `{instance}` is any text, `{version}` a version number (`15`, `8.2`); a file naming a
 * placeholder the name did not give is skipped. `{weekday}` in a file is today's abbreviated day
 * name (`Mon`), as PostgreSQL's `log_filename = 'postgresql-%a.log'` on RHEL names its files.
 */
export interface ProgramLog {
  /** The program, as a person names it. */
  name: string;
  /** systemd service names without `.service`. */
  units: string[];
  /** Process names (/proc/PID/comm, the basename of ExecStart=) or journal identifiers (`postgresql@15-main`). */
  programs: string[];
  /** Candidate files, the most likely first; Debian's spelling before RHEL's and Alpine's. */
  files: string[];
}

export const PROGRAM_LOGS: readonly ProgramLog[] = [
  // Debian, RHEL and Alpine alike.
  { name: 'nginx', units: ['nginx'], programs: ['nginx'], files: ['/var/log/nginx/error.log'] },
  // Debian's apachectl prints the startup errors (the journal has them); errors after the logs are open go here.
  { name: 'Apache (Debian, Alpine)', units: ['apache2'], programs: ['apache2', 'apachectl', 'apache2ctl'], files: ['/var/log/apache2/error.log'] },
  // Debian's multi-instance apache2@NAME reads /etc/apache2-NAME and logs to APACHE_LOG_DIR=/var/log/apache2-NAME.
  { name: 'Apache, an instance (Debian)', units: ['apache2@{instance}'], programs: [], files: ['/var/log/apache2-{instance}/error.log'] },
  { name: 'Apache (RHEL)', units: ['httpd', 'httpd@{instance}'], programs: ['httpd'], files: ['/var/log/httpd/error_log'] },
  // pg_ctlcluster starts each cluster with `pg_ctl -l /var/log/postgresql/postgresql-VERSION-CLUSTER.log`.
  {
    name: 'PostgreSQL (Debian)',
    units: ['postgresql@{version}-{instance}'],
    programs: ['postgresql@{version}-{instance}'],
    files: ['/var/log/postgresql/postgresql-{version}-{instance}.log'],
  },
  // RHEL's own package (postgresql.service) and the PGDG one (postgresql-15.service): logging_collector on, a file per weekday.
  { name: 'PostgreSQL (RHEL)', units: ['postgresql'], programs: [], files: ['/var/lib/pgsql/data/log/postgresql-{weekday}.log'] },
  { name: 'PostgreSQL (PGDG on RHEL)', units: ['postgresql-{version}'], programs: [], files: ['/var/lib/pgsql/{version}/data/log/postgresql-{weekday}.log'] },
  // Oracle's MySQL on Debian/Ubuntu; RHEL's mysql-server; Oracle's RPMs.
  { name: 'MySQL', units: ['mysql', 'mysqld'], programs: ['mysqld'], files: ['/var/log/mysql/error.log', '/var/log/mysql/mysqld.log', '/var/log/mysqld.log'] },
  // Debian's MariaDB logs to the journal unless log_error is set, then to /var/log/mysql/error.log; RHEL's to mariadb.log.
  { name: 'MariaDB', units: ['mariadb', 'mariadb@{instance}'], programs: ['mariadbd', 'mysqld'], files: ['/var/log/mysql/error.log', '/var/log/mariadb/mariadb.log'] },
  // Debian's redis.service is an alias of redis-server.service; RHEL and Alpine call it redis.
  { name: 'Redis', units: ['redis-server', 'redis'], programs: ['redis-server'], files: ['/var/log/redis/redis-server.log', '/var/log/redis/redis.log'] },
  // Debian's redis-server@NAME reads /etc/redis/redis-NAME.conf; the comment atop redis-server@.service
  // tells to set its logfile so. A copy of redis.conf left as it was still logs to the main file.
  {
    name: 'Redis, an instance (Debian)',
    units: ['redis-server@{instance}'],
    programs: [],
    files: ['/var/log/redis/redis-server-{instance}.log', '/var/log/redis/redis-server.log'],
  },
  { name: 'PHP-FPM (Debian)', units: ['php{version}-fpm'], programs: ['php-fpm{version}'], files: ['/var/log/php{version}-fpm.log'] },
  { name: 'PHP-FPM (RHEL)', units: ['php-fpm'], programs: ['php-fpm'], files: ['/var/log/php-fpm/error.log'] },
  { name: 'PgBouncer (Debian)', units: ['pgbouncer'], programs: ['pgbouncer'], files: ['/var/log/postgresql/pgbouncer.log'] },
  // Debian's package ships an rsyslog rule for it; without rsyslog it logs to the journal only.
  { name: 'HAProxy', units: ['haproxy'], programs: ['haproxy'], files: ['/var/log/haproxy.log'] },
  { name: 'lighttpd', units: ['lighttpd'], programs: ['lighttpd'], files: ['/var/log/lighttpd/error.log'] },
  { name: 'Squid', units: ['squid'], programs: ['squid'], files: ['/var/log/squid/cache.log'] },
  { name: 'MongoDB', units: ['mongod'], programs: ['mongod'], files: ['/var/log/mongodb/mongod.log'] },
  // The file is named after cluster.name, "elasticsearch" unless changed.
  { name: 'Elasticsearch', units: ['elasticsearch'], programs: [], files: ['/var/log/elasticsearch/elasticsearch.log'] },
  { name: 'Cassandra', units: ['cassandra'], programs: [], files: ['/var/log/cassandra/system.log'] },
  { name: 'Mosquitto', units: ['mosquitto'], programs: ['mosquitto'], files: ['/var/log/mosquitto/mosquitto.log'] },
  { name: 'Grafana', units: ['grafana-server'], programs: ['grafana', 'grafana-server'], files: ['/var/log/grafana/grafana.log'] },
  // Debian's packages, then Zabbix's own.
  { name: 'Zabbix agent', units: ['zabbix-agent'], programs: ['zabbix_agentd'], files: ['/var/log/zabbix-agent/zabbix_agentd.log', '/var/log/zabbix/zabbix_agentd.log'] },
  { name: 'Zabbix agent 2', units: ['zabbix-agent2'], programs: ['zabbix_agent2'], files: ['/var/log/zabbix/zabbix_agent2.log'] },
  { name: 'Zabbix server', units: ['zabbix-server'], programs: ['zabbix_server'], files: ['/var/log/zabbix-server/zabbix_server.log', '/var/log/zabbix/zabbix_server.log'] },
  // exim writes why it cannot run to its panic log.
  { name: 'Exim', units: ['exim4', 'exim'], programs: ['exim4', 'exim'], files: ['/var/log/exim4/paniclog', '/var/log/exim4/mainlog', '/var/log/exim/paniclog', '/var/log/exim/main.log'] },
  // Through rsyslog: mail.log on Debian, maillog on RHEL. Debian's postfix.service is a wrapper over postfix@-.service.
  { name: 'Postfix', units: ['postfix', 'postfix@{instance}'], programs: ['master'], files: ['/var/log/mail.log', '/var/log/maillog'] },
  { name: 'OpenSSH', units: ['ssh', 'sshd'], programs: ['sshd'], files: ['/var/log/auth.log', '/var/log/secure'] },
  { name: 'CUPS', units: ['cups'], programs: ['cupsd'], files: ['/var/log/cups/error_log'] },
  { name: 'Samba', units: ['smbd', 'smb'], programs: ['smbd'], files: ['/var/log/samba/log.smbd'] },
];

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * The files a unit's program may have written its own log to, most likely first, placeholders
 * filled from the unit name (`postgresql@15-main` → `/var/log/postgresql/postgresql-15-main.log`).
 * The unit decides; the program name (`nginx`, a journal identifier) is used only when no entry
 * knows the unit. Pure: nothing is read; [] when neither is known.
 */
export function programLogFiles(unit: string, program?: string, opts: { now?: Date } = {}): string[] {
  const weekday = WEEKDAYS[(opts.now ?? new Date()).getDay()]!;
  const name = unit.trim().replace(/\.service$/, '');
  let files = candidates(name, (p) => p.units, weekday);
  if (files.length === 0 && program !== undefined) {
    // `/usr/sbin/nginx`, `nginx[41]` and `nginx` are the same program.
    const bare = program.trim().replace(/\[\d+\]$/, '').split('/').pop() ?? '';
    files = candidates(bare, (p) => p.programs, weekday);
  }
  return [...new Set(files)];
}

function candidates(name: string, names: (p: ProgramLog) => string[], weekday: string): string[] {
  if (name === '') return [];
  const files: string[] = [];
  for (const entry of PROGRAM_LOGS) {
    for (const pattern of names(entry)) {
      const values = matchName(pattern, name);
      if (!values) continue;
      for (const file of entry.files) {
        const path = fill(file, { ...values, weekday });
        if (path !== undefined) files.push(path);
      }
    }
  }
  return files;
}

// The placeholder values when `name` fits `pattern`, e.g. postgresql@{version}-{instance} on postgresql@15-main.
function matchName(pattern: string, name: string): Record<string, string> | undefined {
  const source = pattern
    .split(/(\{\w+\})/)
    .map((part) => {
      const placeholder = /^\{(\w+)\}$/.exec(part)?.[1];
      if (placeholder === 'version') return '(?<version>\\d+(?:\\.\\d+)*)';
      if (placeholder) return `(?<${placeholder}>.+)`;
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  const m = new RegExp(`^${source}$`).exec(name);
  return m ? { ...m.groups } : undefined;
}

// undefined when the file needs a value the name did not give, or a value would leave its directory.
function fill(file: string, values: Record<string, string>): string | undefined {
  let ok = true;
  const path = file.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined || value.includes('/') || value === '..' || value === '.') ok = false;
    return value ?? '';
  });
  return ok ? path : undefined;
}
