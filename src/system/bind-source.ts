import type { Host } from '../host/host.js';
import { bindSettingOf, type BindSetting } from '../knowledge/bind-settings.js';
import { argvOf } from './processes.js';
import { defineReader } from './reader.js';

/** What says where a listener's address comes from: its owner's command line, and its configuration files when whyport knows the program. */
export interface BindInputs {
  program: string;
  pid: number;
  argv: string[];
  spec?: BindSetting;
  /** The configuration files that exist, in the order the program reads them. */
  files: { path: string; text: string }[];
}

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
 * Reads what says where a listener's address comes from: the owner's command line, and for a
 * program whose configuration whyport knows (redis, PostgreSQL, MariaDB, nginx, sshd, Apache,
 * memcached) its files — a configuration file named on its command line first (Debian's postgres
 * has `config_file=/etc/postgresql/15/main/postgresql.conf`). analysis/bind-source.ts decides.
 */
export async function readBindInputs(host: Host, owner: { pid: number; program: string }): Promise<BindInputs> {
  const argv = await argvOf(host, owner.pid);
  const spec = bindSettingOf(owner.program);
  if (!spec) return { program: owner.program, pid: owner.pid, argv, files: [] };
  const named = argv.map((w) => w.replace(/^[\w-]*=/, '')).filter((w) => /^\/\S+(\.conf|\.cnf|_config)$/.test(w));
  const patterns = [...new Set([...named, ...spec.files])];
  const paths = (await Promise.all(patterns.map((p) => (p.includes('*') ? expand(host, p) : [p])))).flat();
  const infos = await host.stat(paths);
  const readable = paths.filter((_, i) => infos[i]?.kind === 'file' && infos[i]!.size <= MAX_CONFIG_BYTES);
  const files = (await Promise.all(readable.map(async (path) => ({ path, text: await host.readFile(path).catch(() => '') })))).filter((f) => f.text !== '');
  return { program: owner.program, pid: owner.pid, argv, spec, files };
}

/** What says where a listener's address comes from (readBindInputs), once per owner; undefined when it could not be read. */
export const bindInputsOf = defineReader<{ pid: number; program: string }, BindInputs | undefined>({
  name: 'bind inputs',
  key: ({ pid, program }) => `${pid} ${program}`,
  read: (owner, s) => readBindInputs(s.host, owner).catch(() => undefined),
});
