/**
 * Where the settings that turn a client away live, as Debian's packages install them, and how
 * each program is told to read them again. Kept as data: src/system/*.ts read these paths,
 * src/analysis/*.ts decide.
 */

/** PostgreSQL (postgresql-common): one folder per cluster, /etc/postgresql/VERSION/CLUSTER/postgresql.conf. */
export const POSTGRES = {
  package: 'postgresql',
  confRoot: '/etc/postgresql',
  confName: 'postgresql.conf',
  defaultPort: 5432,
  /** pg_hba.conf's own include directives (PostgreSQL 16), relative to the including file. */
  hbaIncludeSuffix: '.conf',
  /** The method a line added for a client gets when the file's own host lines name no password method. */
  defaultMethod: 'scram-sha-256',
  /** pg_hba.conf is read again on reload, not only on restart. */
  reload: (version?: string, cluster?: string): string[][] =>
    version && cluster ? [['pg_ctlcluster', version, cluster, 'reload'], ['systemctl', 'reload', `postgresql@${version}-${cluster}`]] : [['systemctl', 'reload', 'postgresql']],
} as const;

/** Redis (redis-server): the unit starts `redis-server /etc/redis/redis.conf`; an instance unit redis-server@NAME reads redis-NAME.conf. */
export const REDIS = {
  package: 'redis-server',
  conf: '/etc/redis/redis.conf',
  instanceConf: (name: string) => `/etc/redis/redis-${name}.conf`,
  /** Without a line, protected mode is on (Redis 3.2 and later). */
  protectedModeDefault: true,
  restart: (instance?: string): string[] => ['systemctl', 'restart', instance ? `redis-server@${instance}` : 'redis-server'],
} as const;

/** MariaDB / MySQL (mariadb-server, default-mysql-server): my.cnf includes conf.d and mariadb.conf.d. */
export const MYSQL = {
  package: 'mariadb-server',
  /** The first that exists is read (the alternatives link my.cnf to mariadb.cnf). */
  confs: ['/etc/mysql/my.cnf', '/etc/mysql/mariadb.cnf'],
  /** The groups mariadbd reads its options from (MariaDB 10.11: [mysqld] [server] [mariadb] [mariadbd] and the versioned ones). */
  serverGroups: ['mysqld', 'server', 'mariadb', 'mariadbd', 'client-server', 'mysqld-10.11', 'mariadb-10.11', 'server-10.11'],
  /** The clients that talk to the server as root through its unix socket (Debian's root@localhost is unix_socket). */
  clients: ['mariadb', 'mysql'],
  /** The accounts' host patterns: every account, roles included (a role's Host is empty in MariaDB). */
  accountsQuery: 'SELECT User,Host FROM mysql.user',
  restart: ['systemctl', 'restart', 'mariadb'],
} as const;

/** TCP wrappers (libwrap0): read on every connection, so a change needs no reload. */
export const TCP_WRAPPERS = {
  allow: '/etc/hosts.allow',
  deny: '/etc/hosts.deny',
  /** Debian's daemons linked with libwrap that are asked by this name (argv[0]'s base name). */
  daemons: { sshd: 'sshd' } as Record<string, string>,
} as const;

/** OpenSSH server (openssh-server): sshd_config with `Include /etc/ssh/sshd_config.d/*.conf`. */
export const SSHD = {
  package: 'openssh-server',
  config: '/etc/ssh/sshd_config',
  binary: '/usr/sbin/sshd',
  /** Relative Include paths are taken from here (sshd(8): ~/.ssh for users, /etc/ssh for the server). */
  includeBase: '/etc/ssh',
  /** sshd's compiled-in MaxStartups (start:rate:full). */
  maxStartupsDefault: '10:30:100',
  reload: ['systemctl', 'reload', 'ssh'],
  /** The privilege separation folder `sshd -T` insists on (created by the unit's RuntimeDirectory). */
  privsepDir: '/run/sshd',
} as const;

/** nginx (nginx-common): nginx.conf includes conf.d/*.conf and sites-enabled/*; relative paths are under the prefix /etc/nginx. */
export const NGINX = {
  package: 'nginx',
  conf: '/etc/nginx/nginx.conf',
  prefix: '/etc/nginx',
  defaultPorts: { http: 80, https: 443 },
  reload: ['systemctl', 'reload', 'nginx'],
  /** Checks the configuration before a reload. */
  test: ['nginx', '-t'],
} as const;
