import { posix } from 'node:path';
import type { Host } from '../host/host.js';
import { HAPROXY_PROXY, proxyConfigPaths, type ProxyProgram } from '../knowledge/proxies.js';
import { flattenConfig, pathInclusion, readConfigTree, type ConfigSnapshot, type IncludeRule, type SourceLine } from './config-tree.js';
import { nginxIncludeRule, parseNginx, type NginxDirective } from './nginx-conf.js';
import { defineReader } from './reader.js';
import { showCommand } from './runner.js';

/** Which proxy, and the argv it runs with (/proc/PID/cmdline's words, or the rewritten title of nginx's master as one word). */
export interface ProxyConfigKey {
  program: ProxyProgram;
  argv: readonly string[];
}

/** A reverse proxy's configuration as the program reads it. */
export interface ProxyConfigReading {
  program: ProxyProgram;
  /** 'dump': the program's own dump (`nginx -T`); 'files': the files read and laid out here. */
  source: 'dump' | 'files';
  /** What was run, as a person types it (`nginx -T`, `haproxy -c -f /etc/haproxy/haproxy.cfg`). */
  command?: string[];
  /** The configuration's files, in the order the program reads them. */
  files: string[];
  /** Every line, includes laid out in place; what the parsers of src/analysis/upstream/ take. */
  lines: SourceLine[];
  /** nginx only: the lines parsed into directives (nginxRoutes takes them). */
  directives?: NginxDirective[];
  /** haproxy only: what `haproxy -c` said (undefined when it could not be run). */
  valid?: { ok: boolean; output: string };
  /** What could not be read or run, each one sentence. */
  problems: string[];
}

/** nginx -T's header of each file it dumps. */
const DUMP_HEADER = /^# configuration file (\/.*):$/;

/**
 * The files of an `nginx -T` dump (pure): each `# configuration file PATH:` line starts one,
 * whose text runs to the next header less the newline nginx adds after it. The first is the
 * main configuration. Folders are listed from the files dumped: nginx read exactly those.
 */
export function parseNginxDump(dump: string): { root: string | undefined; files: string[]; snapshot: ConfigSnapshot } {
  const snapshot: ConfigSnapshot = { files: {}, dirs: {} };
  const files: string[] = [];
  const lines = dump.split('\n');
  let current: { path: string; lines: string[] } | undefined;
  const close = () => {
    if (!current) return;
    // nginx writes a newline after each file's text; the split before the next header took it.
    snapshot.files[current.path] ??= current.lines.join('\n');
    if (!files.includes(current.path)) files.push(current.path);
  };
  for (const line of lines) {
    const m = DUMP_HEADER.exec(line);
    if (m) {
      close();
      current = { path: m[1]!, lines: [] };
    } else current?.lines.push(line);
  }
  // The dump ends with the last file's text and nginx's newline: the split left one '' more.
  if (current?.lines.at(-1) === '') current.lines.pop();
  close();
  for (const f of files) {
    const dir = posix.dirname(f);
    const names = (snapshot.dirs[dir] ??= []) as string[];
    names.push(posix.basename(f));
  }
  return { root: files[0], files, snapshot };
}

/** The nginx binary of argv (`/usr/sbin/nginx`, also inside the master's rewritten title), else `nginx`. */
function nginxBinary(argv: readonly string[]): string {
  const first = argv[0]?.replace(/^nginx: (master|worker) process /, '').split(/\s+/)[0] ?? '';
  return first.startsWith('/') && first.endsWith('/nginx') ? first : 'nginx';
}

/** `-c FILE -p PREFIX` as the process was given them, for nginx -T. */
function nginxOptions(argv: readonly string[]): string[] {
  const words = argv.length === 1 ? argv[0]!.replace(/^nginx: (master|worker) process /, '').split(/\s+/) : [...argv];
  const out: string[] = [];
  for (let i = 1; i < words.length; i++) {
    if ((words[i] === '-c' || words[i] === '-p') && words[i + 1] !== undefined) out.push(words[i]!, words[++i]!);
  }
  return out;
}

/**
 * nginx's configuration: `nginx -T` (with the process's -c and -p) when it succeeds — its dump is
 * what nginx read, split back into its files so lines are the files' own — else the files read
 * through their includes (readConfigTree). Never throws.
 */
export async function readNginxProxyConfig(host: Host, argv: readonly string[], timeoutMs: number): Promise<ProxyConfigReading> {
  const { files: [conf], root } = proxyConfigPaths('nginx', argv);
  const command = [nginxBinary(argv), '-T', ...nginxOptions(argv)];
  const problems: string[] = [];
  const r = await host.run(command, { timeoutMs }).catch(() => undefined);
  if (r && r.exitCode === 0 && DUMP_HEADER.test(r.stdout.split('\n', 1)[0] ?? '')) {
    const dump = parseNginxDump(r.stdout);
    const snapshot = dump.snapshot;
    const rule = nginxIncludeRule(root);
    // A glob folder that holds no dumped file is empty for nginx: list it so, without a read.
    let flat = flattenConfig(dump.root!, snapshot, rule);
    for (let round = 0; round < 12 && flat.wanted.dirs.length > 0; round++) {
      for (const d of flat.wanted.dirs) snapshot.dirs[d] = [];
      flat = flattenConfig(dump.root!, snapshot, rule);
    }
    for (const f of flat.wanted.files) problems.push(`${f} is included but not in nginx -T's dump`);
    const parsed = parseNginx(flat.lines);
    return { program: 'nginx', source: 'dump', command, files: flat.files, lines: flat.lines, directives: parsed.directives, problems: [...problems, ...flat.problems, ...parsed.errors] };
  }
  const why = !r ? 'could not be run' : r.missing ? 'is not installed' : r.timedOut ? `did not finish in ${timeoutMs} ms` : `failed${firstLine(r.stderr) ? `: ${firstLine(r.stderr)}` : ` (exit ${r.exitCode})`}`;
  problems.push(`${showCommand(command)} ${why}; read ${conf} and its includes instead`);
  const flat = await readConfigTree(host, conf!, nginxIncludeRule(root));
  const parsed = parseNginx(flat.lines);
  return { program: 'nginx', source: 'files', files: flat.files, lines: flat.lines, directives: parsed.directives, problems: [...problems, ...flat.problems, ...parsed.errors] };
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => /emerg|alert|error|ALERT|\bAH\d+/.test(l)) ??
    text.split('\n').find((l) => l.trim() !== '') ??
    ''
  ).trim();
}

/** haproxy has no include: every -f is one file, or a folder's *.cfg files in name order. */
const NO_INCLUDES: IncludeRule = () => undefined;

/**
 * haproxy's configuration: each -f FILE|DIR of argv in order (a folder: its `*.cfg`, sorted), and
 * `haproxy -c` on the same files to say whether haproxy accepts them (it takes ~40 ms). Never throws.
 */
export async function readHaproxyConfig(host: Host, argv: readonly string[], timeoutMs: number): Promise<ProxyConfigReading> {
  const { files: paths } = proxyConfigPaths('haproxy', argv);
  const problems: string[] = [];
  const infos = await host.stat(paths).catch(() => paths.map(() => undefined));
  const files: string[] = [];
  for (const [i, p] of paths.entries()) {
    if (infos[i]?.kind === 'directory') {
      const names = await host.listDir(p).catch(() => undefined);
      if (!names) problems.push(`cannot list ${p}`);
      else files.push(...names.filter((n) => n.endsWith('.cfg') && !n.startsWith('.')).sort().map((n) => posix.join(p, n)));
    } else files.push(p);
  }
  const lines: SourceLine[] = [];
  const read: string[] = [];
  for (const f of files) {
    const flat = await readConfigTree(host, f, NO_INCLUDES);
    lines.push(...flat.lines);
    read.push(...flat.files);
    problems.push(...flat.problems);
  }
  const binary = argv[0]?.startsWith('/') && argv[0].endsWith('/haproxy') ? argv[0] : HAPROXY_PROXY.check[0]!;
  const command = [binary, '-c', ...paths.flatMap((p) => ['-f', p])];
  const r = await host.run(command, { timeoutMs }).catch(() => undefined);
  const valid = r && !r.missing && !r.timedOut && r.exitCode !== null ? { ok: r.exitCode === 0, output: `${r.stdout}${r.stderr}`.trim() } : undefined;
  return { program: 'haproxy', source: 'files', ...(valid ? { command, valid } : {}), files: read, lines, problems };
}

/** `export NAME=value` lines of Debian's envvars, with $SUFFIX (empty for /etc/apache2, `-NAME` for /etc/apache2-NAME) expanded. */
export function parseEnvvars(text: string, root: string): Record<string, string> {
  const env: Record<string, string> = { SUFFIX: root.startsWith('/etc/apache2-') ? `-${root.slice('/etc/apache2-'.length)}` : '', APACHE_CONFDIR: root };
  for (const line of text.split('\n')) {
    const m = /^\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|'([^']*)'|(\S*))\s*$/.exec(line);
    if (!m) continue;
    const raw = m[3] ?? m[4] ?? m[5] ?? '';
    env[m[1]!] = raw.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (all, name: string) => env[name] ?? all);
  }
  return env;
}

/** Apache's `Include`/`IncludeOptional PATH` (caseless, quoted or not, a glob allowed), relative to ServerRoot, ${VAR} from envvars. */
export function apacheIncludeRule(root: string, env: Readonly<Record<string, string>> = {}): IncludeRule {
  return (text) => {
    const m = /^(Include|IncludeOptional)\s+("([^"]*)"|'([^']*)'|(\S+))\s*$/i.exec(text);
    if (!m) return undefined;
    const raw = (m[3] ?? m[4] ?? m[5]!).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (all, name: string) => env[name] ?? all);
    return pathInclusion(posix.resolve(root, raw), m[1]!.toLowerCase() === 'includeoptional');
  };
}

/** apache2's configuration: apache2.conf (or -f) and its Include/IncludeOptional files, as apache2 lays them out. Never throws. */
export async function readApacheConfig(host: Host, argv: readonly string[]): Promise<ProxyConfigReading> {
  const { files: [conf], root } = proxyConfigPaths('apache2', argv);
  const envText = await host.readFile(posix.join(root, 'envvars')).catch(() => undefined);
  const env = envText !== undefined ? parseEnvvars(envText, root) : {};
  const flat = await readConfigTree(host, conf!, apacheIncludeRule(root, env));
  return { program: 'apache2', source: 'files', files: flat.files, lines: flat.lines, problems: flat.problems };
}

/** A reverse proxy's configuration, read once per diagnosis for each program and argv. */
export const proxyConfigOf = defineReader<ProxyConfigKey, ProxyConfigReading>({
  name: 'reverse proxy configuration',
  key: (k) => `${k.program}\0${k.argv.join('\0')}`,
  read: (k, { host, timeoutMs }) => {
    switch (k.program) {
      case 'nginx':
        return readNginxProxyConfig(host, k.argv, timeoutMs);
      case 'haproxy':
        return readHaproxyConfig(host, k.argv, timeoutMs);
      case 'apache2':
        return readApacheConfig(host, k.argv);
    }
  },
});
