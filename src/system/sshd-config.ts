import { posix } from 'node:path';
import type { Host } from '../host/host.js';
import { SSHD } from '../knowledge/service-settings.js';
import { pathInclusion, readConfigTree, splitWords, type ConfigSnapshot, type FlatConfig, type IncludeRule, type SourceLine } from './config-tree.js';

/** The effective configuration `sshd -T` prints: lower-case keyword → its values, one per line it printed (ListenAddress, HostKey repeat). */
export type SshdEffective = Map<string, string[]>;

/** Parses `sshd -T` (pure): `keyword value…` per line. */
export function parseSshdT(stdout: string): SshdEffective {
  const out: SshdEffective = new Map();
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    const m = /^([a-z][a-z0-9]*)(?:\s+(.*))?$/.exec(line);
    if (!m) continue;
    const list = out.get(m[1]!) ?? [];
    list.push(m[2] ?? '');
    out.set(m[1]!, list);
  }
  return out;
}

/** The client a `-C` connection specification describes: what Match blocks are decided by. */
export interface SshdConnection {
  user: string;
  addr: string;
  host?: string;
  laddr?: string;
  lport?: number;
}

/** `sshd -T` (with `-f CONFIG`, and `-C` for one client's effective configuration, Match blocks applied). */
export function sshdTArgv(opts: { config?: string; connection?: SshdConnection; binary?: string } = {}): string[] {
  const c = opts.connection;
  const spec = c ? [`user=${c.user}`, `host=${c.host ?? ''}`, `addr=${c.addr}`, ...(c.laddr ? [`laddr=${c.laddr}`] : []), ...(c.lport ? [`lport=${c.lport}`] : [])].join(',') : undefined;
  return [opts.binary ?? SSHD.binary, '-T', ...(opts.config ? ['-f', opts.config] : []), ...(spec ? ['-C', spec] : [])];
}

/** The effective configuration, or sshd's own first line of why not (`Missing privilege separation directory: /run/sshd`, a bad line). */
export type SshdTReading = { effective: SshdEffective; command: string[] } | { error: string; command: string[] };

/** Runs `sshd -T` through the Host seam (root only: it reads the host keys). */
export async function readSshdEffective(host: Host, opts: { config?: string; connection?: SshdConnection; binary?: string; timeoutMs?: number } = {}): Promise<SshdTReading> {
  const command = sshdTArgv(opts);
  const r = await host.run(command, { timeoutMs: opts.timeoutMs ?? 5000 });
  if (r.missing) return { error: `${command[0]} is not installed`, command };
  if (r.exitCode !== 0) {
    const line = r.stderr.split('\n').find((l) => l.trim() !== '')?.trim() ?? `sshd -T exited with status ${r.exitCode}`;
    // As another user than root sshd cannot read its host keys and stops there.
    return { error: /no hostkeys available/.test(line) ? `${line} (sshd -T reads the host keys: run whyport as root)` : line, command };
  }
  return { effective: parseSshdT(r.stdout), command };
}

/** A keyword line of sshd_config: `Keyword value…` or `Keyword=value…`, the keyword lower-cased. */
export function sshdLine(text: string): { keyword: string; args: string[] } | undefined {
  if (text === '' || text.startsWith('#')) return undefined;
  const m = /^([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+|$)(.*)$/.exec(text);
  if (!m) return undefined;
  return { keyword: m[1]!.toLowerCase(), args: splitWords(m[2]!).words };
}

/** sshd_config's `Include` (globs; relative paths are under /etc/ssh). Several paths on one line are not followed past the first. */
export function sshdIncludeRule(base: string = SSHD.includeBase): IncludeRule {
  return (text) => {
    const l = sshdLine(text);
    if (!l || l.keyword !== 'include' || l.args.length === 0) return undefined;
    return pathInclusion(posix.resolve(base, l.args[0]!));
  };
}

/** A keyword line of sshd_config laid out with its includes: where it is, and whether a Match block holds it. */
export interface SshdKeywordLine {
  source: SourceLine;
  keyword: string;
  args: string[];
  /** Inside a Match block (which lasts to the next Match or the end of its file). */
  inMatch: boolean;
}

/** The keyword lines of a laid-out sshd_config, in reading order (pure). */
export function sshdKeywordLines(lines: readonly SourceLine[]): SshdKeywordLine[] {
  const out: SshdKeywordLine[] = [];
  let inMatch = false;
  let file = '';
  for (const source of lines) {
    if (source.file !== file) [file, inMatch] = [source.file, false];
    const parsed = sshdLine(source.text);
    if (!parsed) continue;
    if (parsed.keyword === 'match') inMatch = true;
    out.push({ source, ...parsed, inMatch });
  }
  return out;
}

export interface SshdConfigReading {
  path: string;
  flat: FlatConfig;
  keywords: SshdKeywordLine[];
  problems: string[];
}

/** Reads sshd_config and the files it includes through the Host seam. */
export async function readSshdConfig(host: Host, path: string = SSHD.config, snapshot?: ConfigSnapshot): Promise<SshdConfigReading> {
  const flat = await readConfigTree(host, path, sshdIncludeRule(), snapshot);
  return { path, flat, keywords: sshdKeywordLines(flat.lines), problems: flat.problems };
}
