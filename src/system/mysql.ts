import { posix } from 'node:path';
import type { Host } from '../host/host.js';
import { MYSQL } from '../knowledge/service-settings.js';
import { readConfigTree, type ConfigSnapshot, type FlatConfig, type IncludeRule, type SourceLine } from './config-tree.js';

/** One account of mysql.user: who may connect from where (Host is a pattern: `%`, `10.0.0.%`, `10.0.0.0/255.255.255.0`, a name). */
export interface MysqlAccount {
  user: string;
  host: string;
}

/** The client's batch-mode escapes (-B): \t \n \\ \0, and NULL for a NULL. */
function unescapeBatch(field: string): string {
  return field.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n', '0': '\0', '\\': '\\' })[c] ?? c);
}

/** The rows of `mariadb -N -B -e "SELECT User,Host FROM mysql.user"` (pure; a row that is not two fields is left out). */
export function parseAccounts(stdout: string): MysqlAccount[] {
  const out: MysqlAccount[] = [];
  for (const line of stdout.split('\n')) {
    const fields = line.replace(/\r$/, '').split('\t');
    if (fields.length !== 2) continue;
    out.push({ user: unescapeBatch(fields[0]!), host: unescapeBatch(fields[1]!) });
  }
  return out;
}

/** The accounts, or why they could not be read (the client's own first line: `ERROR 1698 (28000): Access denied …`). */
export type AccountsReading = { accounts: MysqlAccount[]; command: string[] } | { error: string; command: string[] };

/** The argv that lists the accounts as root through the server's unix socket (Debian's root@localhost authenticates by unix_socket). */
export function accountsArgv(client: string, socket?: string): string[] {
  return [client, '-N', '-B', ...(socket ? [`--socket=${socket}`] : []), '-e', MYSQL.accountsQuery];
}

/**
 * Lists the server's accounts through the Host seam: `mariadb` (or `mysql` where only that is
 * installed) as the user whyport runs as, over the unix socket (`socket` when given, else the
 * client's configured one). Never sends a password.
 */
export async function readMysqlAccounts(host: Host, opts: { socket?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<AccountsReading> {
  let last: AccountsReading | undefined;
  for (const client of MYSQL.clients) {
    const argv = accountsArgv(client, opts.socket);
    const r = await host.run(argv, { timeoutMs: opts.timeoutMs ?? 5000, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (r.missing) {
      last ??= { error: `neither ${MYSQL.clients.join(' nor ')} (the client) is installed`, command: argv };
      continue;
    }
    if (r.timedOut) return { error: `${client} did not answer within ${opts.timeoutMs ?? 5000} ms`, command: argv };
    if (r.exitCode !== 0) {
      const line = r.stderr.split('\n').find((l) => l.trim() !== '')?.trim() ?? `${client} exited with status ${r.exitCode}`;
      return { error: line, command: argv };
    }
    return { accounts: parseAccounts(r.stdout), command: argv };
  }
  return last!;
}

/** One option of an option file: its group, its name with `_` for `-` (both spellings are one option), its value (undefined for a bare `skip-name-resolve`). */
export interface MysqlOption {
  group: string;
  name: string;
  value: string | undefined;
  source: SourceLine;
}

/** `!include FILE` and `!includedir DIR` (its files ending in .cnf, sorted) of my.cnf. */
export const mysqlIncludeRule: IncludeRule = (text) => {
  const m = /^!(include|includedir)\s+(.+?)\s*$/.exec(text);
  if (!m) return undefined;
  const path = posix.resolve('/', m[2]!);
  if (m[1] === 'include') return { kind: 'file', path };
  return { kind: 'dir', dir: path, keep: (n) => n.endsWith('.cnf') && !n.startsWith('.'), optional: true };
};

/** The options of laid-out option files, each under its group (pure): `[group]`, `name = value`, `name`, comments `#` and `;`. */
export function parseMyCnf(lines: readonly SourceLine[]): { options: MysqlOption[]; errors: SourceLine[] } {
  const options: MysqlOption[] = [];
  const errors: SourceLine[] = [];
  let group = '';
  let file = '';
  for (const source of lines) {
    // A group ends with its file: an included file starts in no group until it names one.
    if (source.file !== file) [file, group] = [source.file, ''];
    const text = source.text;
    if (text === '' || text.startsWith('#') || text.startsWith(';') || text.startsWith('!')) continue;
    const header = /^\[([^\]]*)\]/.exec(text);
    if (header) {
      group = header[1]!.trim().toLowerCase();
      continue;
    }
    const m = /^([A-Za-z0-9][\w.-]*)\s*(?:=\s*(.*))?$/.exec(text);
    if (!m || group === '') {
      errors.push(source);
      continue;
    }
    let value = m[2];
    if (value !== undefined) {
      const quoted = /^(["'])(.*?)\1/.exec(value);
      const comment = value.search(/\s#/);
      value = quoted ? quoted[2]! : (comment < 0 ? value : value.slice(0, comment)).trim();
    }
    options.push({ group, name: m[1]!.replace(/-/g, '_').toLowerCase(), value, source });
  }
  return { options, errors };
}

export interface MysqlConfReading {
  root?: string;
  flat?: FlatConfig;
  options: MysqlOption[];
  problems: string[];
}

/** Reads the server's option files as Debian lays them out (my.cnf and its !includedir chains) through the Host seam. */
export async function readMysqlConf(host: Host, snapshot?: ConfigSnapshot): Promise<MysqlConfReading> {
  const infos = await host.stat(MYSQL.confs);
  const root = MYSQL.confs.find((_, i) => infos[i]?.kind === 'file');
  if (!root) return { options: [], problems: [`none of ${MYSQL.confs.join(', ')} exists`] };
  const flat = await readConfigTree(host, root, mysqlIncludeRule, snapshot);
  return { root, flat, options: parseMyCnf(flat.lines).options, problems: flat.problems };
}
