import type { Host } from '../host/host.js';
import { findBindArgument, findBindSetting, type BoundAt, type SettingLine } from '../analysis/bind-source.js';
import { bindSettingOf } from '../knowledge/bind-settings.js';
import { argvOf } from './processes.js';

/** Where the address a program listens on comes from, as far as whyport can see it. */
export type BindSource =
  | ({ kind: 'setting'; program: string; pid: number; argument?: string } & SettingLine)
  | { kind: 'argument'; program: string; pid: number; text: string; argv: string[]; replaced: string[] };

/** Configuration files are small; anything larger is not one worth reading here. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Paths with `*` segments, expanded on the host (names sorted, as the programs include them). */
async function expand(host: Host, pattern: string): Promise<string[]> {
  const parts = pattern.split('/').filter(Boolean);
  let paths = [''];
  for (const part of parts) {
    if (part !== '*') {
      paths = paths.map((p) => `${p}/${part}`);
      continue;
    }
    const next: string[] = [];
    for (const p of paths) {
      const names = await host.listDir(p || '/').catch(() => [] as string[]);
      next.push(...names.filter((n) => !n.startsWith('.')).sort().map((n) => `${p}/${n}`));
    }
    paths = next;
  }
  return paths;
}

/**
 * Reads where a listener's address comes from: for a program whose configuration whyport knows
 * (redis, PostgreSQL, MariaDB, nginx, sshd, Apache, memcached), the line of its files that sets it
 * — a configuration file named on its command line first (Debian's postgres has
 * `config_file=/etc/postgresql/15/main/postgresql.conf`); else an argument of its command line that
 * names the address. Undefined when neither shows it.
 */
export async function readBindSource(host: Host, owner: { pid: number; program: string }, at: BoundAt): Promise<BindSource | undefined> {
  const argv = await argvOf(host, owner.pid);
  const spec = bindSettingOf(owner.program);
  if (spec) {
    const named = argv.map((w) => w.replace(/^[\w-]*=/, '')).filter((w) => /^\/\S+(\.conf|\.cnf|_config)$/.test(w));
    const patterns = [...new Set([...named, ...spec.files])];
    const paths = (await Promise.all(patterns.map((p) => (p.includes('*') ? expand(host, p) : [p])))).flat();
    const infos = await host.stat(paths);
    const readable = paths.filter((_, i) => infos[i]?.kind === 'file' && infos[i]!.size <= MAX_CONFIG_BYTES);
    const files = (await Promise.all(readable.map(async (path) => ({ path, text: await host.readFile(path).catch(() => '') })))).filter((f) => f.text !== '');
    const setting = findBindSetting(spec, files, at);
    // An options file (memcached's) becomes the command line of the service: both show the address,
    // and a copy started by hand has only the argument, so both are named.
    const arg = spec.syntax === 'flag' ? findBindArgument(argv, at) : undefined;
    if (setting) return { kind: 'setting', program: owner.program, pid: owner.pid, ...setting, ...(arg ? { argument: arg.text } : {}) };
  }
  const arg = findBindArgument(argv, at);
  if (arg) return { kind: 'argument', program: owner.program, pid: owner.pid, text: arg.text, argv, replaced: arg.replaced };
  return undefined;
}
