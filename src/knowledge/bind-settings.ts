/**
 * Where well-known programs take the address they listen on from, as their Debian packages
 * install them: the configuration files they read (in that order; `*` stands for any name in the
 * last folder, or one version folder as in /etc/postgresql/15/main), the setting, and what it is
 * written as to listen on every address. Kept as data; src/analysis/bind-source.ts finds the line.
 */
export interface BindSetting {
  /** Process names (/proc/PID/comm) of the program. */
  programs: readonly string[];
  /** The Debian package that installs the files. */
  package: string;
  /** The configuration files it reads, in order. */
  files: readonly string[];
  /** The setting's name as written in the file (matched without regard to case when `caseless`). */
  key: string;
  /** Other spellings of the key (MariaDB reads bind_address as bind-address). */
  aliases?: readonly string[];
  caseless?: boolean;
  /** How the value is written: `KEY VALUE…` (space), `KEY = VALUE` (equals), or an option line `-l VALUE` (flag). */
  syntax: 'space' | 'equals' | 'flag';
  /** The value that listens on every address: an address, or '' where leaving the address out does (`listen 80`). */
  anyAddress: string;
  /** The value names `ADDRESS:PORT` (nginx's listen, Apache's Listen): only a line for this port counts. */
  withPort?: boolean;
  /** When no line sets it, the program listens on loopback only (a commented-out line shows that default). */
  loopbackByDefault?: boolean;
  /** Comment characters of the file. */
  comments: string;
}

export const BIND_SETTINGS: readonly BindSetting[] = [
  { programs: ['redis-server'], package: 'redis-server', files: ['/etc/redis/redis.conf'], key: 'bind', syntax: 'space', anyAddress: '0.0.0.0', comments: '#' },
  // Debian starts postgres with -c config_file=/etc/postgresql/VERSION/CLUSTER/postgresql.conf; that path comes first when seen.
  { programs: ['postgres', 'postmaster'], package: 'postgresql', files: ['/etc/postgresql/*/main/postgresql.conf'], key: 'listen_addresses', syntax: 'equals', anyAddress: "'*'", loopbackByDefault: true, comments: '#' },
  {
    programs: ['mariadbd', 'mysqld'],
    package: 'mariadb-server',
    files: ['/etc/mysql/my.cnf', '/etc/mysql/mariadb.cnf', '/etc/mysql/mariadb.conf.d/*', '/etc/mysql/conf.d/*', '/etc/mysql/mysql.conf.d/*'],
    key: 'bind-address',
    aliases: ['bind_address'],
    syntax: 'equals',
    anyAddress: '0.0.0.0',
    comments: '#;',
  },
  { programs: ['nginx'], package: 'nginx', files: ['/etc/nginx/nginx.conf', '/etc/nginx/conf.d/*', '/etc/nginx/sites-enabled/*'], key: 'listen', syntax: 'space', anyAddress: '', withPort: true, comments: '#' },
  { programs: ['sshd'], package: 'openssh-server', files: ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/*'], key: 'ListenAddress', caseless: true, syntax: 'space', anyAddress: '0.0.0.0', comments: '#' },
  { programs: ['apache2', 'httpd'], package: 'apache2', files: ['/etc/apache2/ports.conf', '/etc/apache2/sites-enabled/*'], key: 'Listen', caseless: true, syntax: 'space', anyAddress: '', withPort: true, comments: '#' },
  // Debian runs memcached through systemd-memcached-wrapper, which turns each line of this file into an option.
  { programs: ['memcached'], package: 'memcached', files: ['/etc/memcached.conf'], key: '-l', syntax: 'flag', anyAddress: '0.0.0.0', comments: '#' },
];

/** The bind setting of a program by its process name, if it is one whyport knows. */
export function bindSettingOf(program: string): BindSetting | undefined {
  return BIND_SETTINGS.find((s) => s.programs.includes(program));
}
