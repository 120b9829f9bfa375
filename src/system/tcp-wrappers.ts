import type { Host } from '../host/host.js';
import { TCP_WRAPPERS } from '../knowledge/service-settings.js';
import { readConfigTree, type SourceLine } from './config-tree.js';

/** One access rule of hosts.allow or hosts.deny (hosts_access(5)), with hosts_options(5)'s `allow`/`deny` option. */
export interface WrapperRule {
  source: SourceLine;
  /** The daemon patterns (`sshd`, `ALL`, `sshd@10.0.0.1`), EXCEPT kept as a word. */
  daemons: string[];
  /** The client patterns, EXCEPT kept as a word. */
  clients: string[];
  /** The options after the second colon (`spawn …`, `allow`, `deny`), each trimmed. */
  options: string[];
}

/** Splits on colons that are not escaped with a backslash (hosts_options(5)) nor inside an IPv6 address's brackets. */
function splitColons(text: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let bracket = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === ':') {
      cur += ':';
      i++;
      continue;
    }
    if (c === '[') bracket = true;
    else if (c === ']' || /[\s,]/.test(c)) bracket = false;
    if (c === ':' && !bracket) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

const listWords = (text: string) => text.split(/[\s,]+/).filter(Boolean);

/**
 * Parses hosts.allow or hosts.deny (pure): `#` comments, a backslash joins a line with the next,
 * `daemon_list : client_list [ : option … ]`. A line without its two lists is in `errors`
 * (libwrap skips it with a warning).
 */
export function parseWrapperTable(file: string, text: string): { rules: WrapperRule[]; errors: SourceLine[] } {
  const rules: WrapperRule[] = [];
  const errors: SourceLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let joined = lines[i]!.replace(/\r$/, '');
    while (joined.endsWith('\\') && i + 1 < lines.length) joined = joined.slice(0, -1) + lines[++i]!.replace(/\r$/, '');
    const trimmed = joined.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const source = { file, line: start + 1, text: trimmed };
    const parts = splitColons(trimmed);
    if (parts.length < 2) {
      errors.push(source);
      continue;
    }
    const daemons = listWords(parts[0]!);
    const clients = listWords(parts[1]!);
    if (daemons.length === 0 || clients.length === 0) {
      errors.push(source);
      continue;
    }
    rules.push({ source, daemons, clients, options: parts.slice(2).map((o) => o.trim()).filter(Boolean) });
  }
  return { rules, errors };
}

export interface WrapperTables {
  allow: { rules: WrapperRule[]; errors: SourceLine[] };
  deny: { rules: WrapperRule[]; errors: SourceLine[] };
  /** What could not be read (a missing file is an empty table, as libwrap takes it). */
  problems: string[];
}

/** Reads /etc/hosts.allow and /etc/hosts.deny through the Host seam. */
export async function readWrapperTables(host: Host, paths: { allow: string; deny: string } = TCP_WRAPPERS): Promise<WrapperTables> {
  const problems: string[] = [];
  // Through readConfigTree: a stat first (never a read that blocks on a FIFO), a size bound.
  const read = async (path: string) => {
    const flat = await readConfigTree(host, path, () => undefined);
    const text = flat.snapshot.files[path];
    problems.push(...flat.problems.filter((p) => !p.endsWith('no such file')));
    return typeof text === 'string' ? parseWrapperTable(path, text) : { rules: [], errors: [] };
  };
  const [allow, deny] = await Promise.all([read(paths.allow), read(paths.deny)]);
  return { allow, deny, problems };
}

/** Whether a process's memory maps (/proc/PID/maps) hold libwrap: only a program linked with it asks hosts.allow and hosts.deny (pure). */
export function mapsHoldLibwrap(maps: string): boolean {
  return /\/libwrap\.so(\.\d+)*\s*$/m.test(maps);
}

/**
 * Whether the running daemon asks TCP wrappers at all: Debian 12's sshd is linked with libwrap,
 * later OpenSSH packages and most daemons are not. Undefined when its maps cannot be read.
 */
export async function usesTcpWrappers(host: Host, pid: number): Promise<boolean | undefined> {
  try {
    return mapsHoldLibwrap(await host.readFile(`/proc/${pid}/maps`));
  } catch {
    return undefined;
  }
}
