/** The reverse proxies whyport reads (src/analysis/upstream/route.ts's PROXY_PROGRAMS: knowledge imports nothing from analysis). */
export type ProxyProgram = 'nginx' | 'haproxy' | 'apache2';

/**
 * Where each reverse proxy's Debian package keeps its files, how it reads them, and how to ask it
 * for its own view: data for src/system/proxy-config.ts (which reads) and the upstream check
 * (which shows the commands and log paths). Measured on Debian 12: nginx 1.22, haproxy 2.6,
 * apache2 2.4.
 */
export interface ProxyFacts {
  program: ProxyProgram;
  package: string;
  /** The configuration the packaged unit starts the program with. */
  conf: string;
  /** Where relative paths (includes, -f) are taken from: nginx's conf prefix, apache2's ServerRoot. */
  root: string;
  /** How the configuration pulls in other files, in words for a report. */
  includes: string;
  /** The process names (comm) the program runs under. */
  processNames: readonly string[];
  /** The systemd unit of the package. */
  unit: string;
  /** Where its errors go: files first, then the journal (`journalctl -u UNIT`). */
  errorLogs: readonly string[];
  /** Its error log is (also) the journal of the unit: haproxy logs to syslog's /dev/log. */
  journal: boolean;
  /** What a person runs to see the configuration as the program reads it (before a reload, after an edit). */
  check: readonly string[];
  /** Where the program's options name another configuration, for the reader of argv. */
  options: string;
}

export const NGINX_PROXY: ProxyFacts = {
  program: 'nginx',
  package: 'nginx',
  conf: '/etc/nginx/nginx.conf',
  // `include` paths are relative to the folder of the configuration file (nginx's conf_prefix).
  root: '/etc/nginx',
  includes: '`include PATH;` (a glob allowed), relative to the folder of nginx.conf; Debian includes modules-enabled/*.conf, conf.d/*.conf and sites-enabled/*',
  processNames: ['nginx'],
  unit: 'nginx',
  errorLogs: ['/var/log/nginx/error.log'],
  journal: false,
  check: ['nginx', '-T'],
  options: '-c FILE (relative to the prefix -p, else /usr/share/nginx), -p PREFIX; the master rewrites its argv to "nginx: master process /usr/sbin/nginx -c FILE …"',
};

export const HAPROXY_PROXY: ProxyFacts = {
  program: 'haproxy',
  package: 'haproxy',
  conf: '/etc/haproxy/haproxy.cfg',
  root: '/etc/haproxy',
  includes: 'no include directive: every -f FILE|DIR is read in order (a folder: its *.cfg files, sorted); Debian passes -f $CONFIG from /etc/default/haproxy',
  processNames: ['haproxy'],
  unit: 'haproxy',
  // The packaged haproxy.cfg logs to /dev/log (the chroot's copy): the journal has it; rsyslog's
  // 49-haproxy.conf, when rsyslog is installed, also writes /var/log/haproxy.log.
  errorLogs: ['/var/log/haproxy.log'],
  journal: true,
  check: ['haproxy', '-c', '-f', '/etc/haproxy/haproxy.cfg'],
  options: '-f FILE|DIR, several allowed, read in order; -- FILE… ends the options and names more files',
};

export const APACHE_PROXY: ProxyFacts = {
  program: 'apache2',
  package: 'apache2',
  conf: '/etc/apache2/apache2.conf',
  root: '/etc/apache2',
  includes: 'Include / IncludeOptional PATH (a glob allowed), relative to ServerRoot /etc/apache2; Debian includes mods-enabled/*.load, *.conf, ports.conf, conf-enabled/*.conf and sites-enabled/*.conf; ${APACHE_…} come from /etc/apache2/envvars',
  processNames: ['apache2', 'httpd'],
  unit: 'apache2',
  errorLogs: ['/var/log/apache2/error.log'],
  journal: false,
  check: ['apache2ctl', '-S'],
  options: '-f FILE (relative to ServerRoot), -d SERVERROOT; Debian\'s apache2ctl passes -d $APACHE_CONFDIR for an instance (/etc/apache2-NAME)',
};

export const PROXY_FACTS: Readonly<Record<ProxyProgram, ProxyFacts>> = { nginx: NGINX_PROXY, haproxy: HAPROXY_PROXY, apache2: APACHE_PROXY };

/** nginx's compiled-in prefix on Debian (`nginx -V`: --prefix=/usr/share/nginx): a relative -c is taken from it. */
export const NGINX_COMPILED_PREFIX = '/usr/share/nginx';

/** The envvars file Debian's apache2ctl sources: ${APACHE_LOG_DIR} and its kin in apache2.conf come from it. */
export const APACHE_ENVVARS = '/etc/apache2/envvars';

/** apache2ctl's commands that print what apache reads: the virtual hosts by port, and the files included. */
export const APACHE_DUMP = { vhosts: ['apache2ctl', '-S'], includes: ['apache2ctl', '-t', '-D', 'DUMP_INCLUDES'] } as const;

/** The proxy a process name (comm, or argv[0]'s base name) is, or undefined. */
export function proxyProgramOf(name: string): ProxyProgram | undefined {
  const base = name.split('/').pop()!.replace(/:.*$/, '');
  for (const facts of Object.values(PROXY_FACTS)) if (facts.processNames.includes(base)) return facts.program;
  return undefined;
}

/**
 * Where a running proxy's configuration is, from its argv (pure): nginx `-c FILE -p PREFIX` (its
 * master's rewritten title `nginx: master process /usr/sbin/nginx -c …` is split on blanks),
 * haproxy every `-f FILE|DIR` (and the names after `--`), apache2 `-f FILE -d ROOT`. The Debian
 * defaults where argv names none.
 */
export function proxyConfigPaths(program: ProxyProgram, argv: readonly string[]): { files: string[]; root: string } {
  let words = [...argv];
  // nginx (and setproctitle users) rewrite argv into one string; a plain argv has no blank in argv[0].
  if (words.length > 0 && /^nginx: (master|worker) process /.test(words[0]!)) words = words.join(' ').replace(/^nginx: (master|worker) process /, '').split(/\s+/).filter(Boolean);
  const rest = words.slice(1);
  const option = (flag: string): string[] => {
    const out: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      const w = rest[i]!;
      if (w === '--') break;
      if (w === flag && rest[i + 1] !== undefined) out.push(rest[++i]!);
      else if (w.startsWith(flag) && w.length > flag.length && !w.startsWith('--')) out.push(w.slice(flag.length));
    }
    return out;
  };
  const abs = (path: string, base: string) => (path.startsWith('/') ? path : `${base.replace(/\/+$/, '')}/${path}`);
  switch (program) {
    case 'nginx': {
      const prefix = option('-p').at(-1) ?? NGINX_COMPILED_PREFIX;
      const conf = option('-c').at(-1);
      const file = conf ? abs(conf, prefix) : NGINX_PROXY.conf;
      return { files: [file], root: file.slice(0, file.lastIndexOf('/')) || '/' };
    }
    case 'haproxy': {
      const files = option('-f');
      const dd = rest.indexOf('--');
      if (dd >= 0) files.push(...rest.slice(dd + 1));
      return { files: files.length > 0 ? files.map((f) => abs(f, '/')) : [HAPROXY_PROXY.conf], root: HAPROXY_PROXY.root };
    }
    case 'apache2': {
      const root = option('-d').at(-1) ?? APACHE_PROXY.root;
      const conf = option('-f').at(-1);
      return { files: [conf ? abs(conf, root) : `${root.replace(/\/+$/, '')}/apache2.conf`], root: root.replace(/\/+$/, '') || '/' };
    }
  }
}
