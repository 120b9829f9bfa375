import { pattern, textThat, z } from './params.js';
import { defineCheck } from './check.js';
import { e, fields } from './evidence.js';
import { firstMatchingLine, shownLine } from '../analysis/lines.js';
import { vetRegex } from '../text/safe-regex.js';
import { showCommand } from '../text/command.js';
import { fileState, FILE_CONTENT_MAX_BYTES, type FileState } from '../system/file-state.js';
import { passwdUsers, type PasswdUser } from '../system/passwd.js';

/** The kinds a playbook may ask for; `symlink` is the path itself, the others what it points to (as `test -f`). */
export const FILE_KINDS = ['file', 'dir', 'socket', 'fifo', 'symlink'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

export interface FileParams {
  path: string;
  kind?: FileKind | undefined;
  mode?: string | undefined;
  maxMode?: string | undefined;
  owner?: string | undefined;
  olderThan?: string | undefined;
  contains?: string | undefined;
  pidfile?: boolean | undefined;
}

/** What the file step read: the file, and the host's accounts when an owner is to be named. */
export interface FileReadings {
  state: FileState;
  users: PasswdUser[];
}

const OCTAL = /^0?[0-7]{3,4}$/;
const DURATION = /^(\d+)\s*(s|m|min|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

const octalMode = () => textThat((v) => (OCTAL.test(v) ? undefined : `'${v}' is not a file mode: write it in octal, like 0640 or 755`));

/**
 * A file of the playbook's (a pidfile, a config, a socket, a heartbeat): whether it exists, its
 * kind, mode, owner and age, a regular expression on its content, and a pidfile's process alive.
 */
export const file = defineCheck({
  description:
    "Whether a file is there as it should be (on the server with vantage: server): its kind, mode (exact, or no more than maxMode), owner, age (olderThan: modified longer ago than 10m, 2h, 1d), a line of its content (its last MiB) matching a regular expression, and for a pidfile whether its process is alive",
  outcomes: ['ok', 'missing', 'wrong-kind', 'wrong-mode', 'wrong-owner', 'stale', 'unreadable', 'no-match', 'dead-pid'],
  params: z.object({
    path: textThat((v) => (v.startsWith('/') ? undefined : `'${v}' is not an absolute path (the file is looked for on the host diagnosed, from no directory of its own)`)),
    kind: z.optional(z.enum(FILE_KINDS, { error: (i) => `'${String(i.input)}' is not a kind of file whyport tells: ${FILE_KINDS.join(', ')}` })),
    mode: z.optional(octalMode()),
    maxMode: z.optional(octalMode()),
    owner: z.optional(textThat((v) => (v.trim() === '' ? 'the owner is a user name or a uid' : undefined))),
    olderThan: z.optional(textThat((v) => (DURATION.test(v.trim()) ? undefined : `'${v}' is not an age: write a number and a unit, like 30s, 10m, 2h or 1d`))),
    contains: z.optional(pattern()),
    pidfile: z.optional(z.boolean()),
  }),
  evidence: fields({
    path: e.str(),
    kind: e.str(),
    link: e.bool(),
    mode: e.str(),
    owner: e.str(),
    uid: e.num(),
    size: e.num(),
    mtime: e.str(),
    ageSeconds: e.num(),
    line: e.str(),
    lineNumber: e.num(),
    pid: e.num(),
    alive: e.bool(),
    error: e.str(),
  }),
  describe: (p) => showCommand(['stat', '-c', '%F %a %U %y', p.path]),
  prefetch: (p) => [{ reader: fileState, key: { path: p.path, content: p.contains !== undefined || p.pidfile === true, pidfile: p.pidfile === true } }],
  async read(p, ctx): Promise<FileReadings> {
    const content = p.contains !== undefined || p.pidfile === true;
    // The accounts name the owner in the evidence, asked or not (over ssh in the same round trip as the stat).
    const [state, users] = await Promise.all([ctx.facts.read(fileState, { path: p.path, content, pidfile: p.pidfile === true }), ctx.facts.read(passwdUsers, undefined)]);
    return { state, users };
  },
  decide: (r, p) => decideFile(r, p),
});

/** The kind as the playbook names it, of what the path points to; `other` for a device. */
function kindOf(info: NonNullable<FileState['info']>): string {
  if (info.kind === 'file') return 'file';
  if (info.kind === 'directory') return 'dir';
  return info.special ?? 'other';
}

const KIND_WORDS: Record<string, string> = { file: 'a regular file', dir: 'a directory', socket: 'a socket', fifo: 'a FIFO', symlink: 'a symbolic link', char: 'a character device', block: 'a block device', other: 'not a regular file' };

/** "0640": permission bits as `stat -c %a` prints them, with the leading 0 of octal. */
export function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/** How long ago, in words: 45 s, 12 min, 3 h 5 min, 2 d 4 h. */
export function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h${s % 3600 >= 60 ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86_400)} d${s % 86_400 >= 3600 ? ` ${Math.floor((s % 86_400) / 3600)} h` : ''}`;
}

/** An age a playbook writes (30s, 10m, 2h, 1d) in ms. */
export function durationMs(text: string): number {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
}

/**
 * The pure decision of the file step, the first failure in this order: missing, wrong-kind,
 * wrong-mode, wrong-owner, stale (modified longer ago than olderThan), unreadable (its content was
 * needed), no-match (no line matches `contains`), dead-pid (a pidfile naming no live process);
 * else ok.
 */
export function decideFile(r: FileReadings, p: FileParams) {
  const { state } = r;
  const path = p.path;
  const statCmd = showCommand(['stat', '-c', '%F %a %U %y', path]);
  const result = <O extends string>(outcome: O, summary: string, evidence: object, cmd = statCmd) => ({ outcome, status: outcome === 'ok' ? ('pass' as const) : ('fail' as const), summary, command: cmd, evidence: { path, ...evidence } });
  const info = state.info;
  if (!info) return result('missing', `${path} does not exist (or whyport cannot see it from here)`, {});

  const kind = kindOf(info);
  const uid = info.uid;
  const owner = uid === undefined ? undefined : (r.users.find((u) => u.uid === uid)?.name ?? String(uid));
  const ageMs = state.now - info.mtimeMs;
  const found = {
    kind,
    ...(info.link ? { link: true } : {}),
    ...(info.mode !== undefined ? { mode: octal(info.mode) } : {}),
    ...(owner !== undefined ? { owner } : {}),
    ...(uid !== undefined ? { uid } : {}),
    size: info.size,
    mtime: new Date(info.mtimeMs).toISOString(),
    ageSeconds: Math.max(0, Math.round(ageMs / 1000)),
  };
  const described = `${KIND_WORDS[kind]}${found.mode ? ` ${found.mode}` : ''}${owner !== undefined ? ` of ${owner}` : ''}, ${info.size} byte${info.size === 1 ? '' : 's'}, modified ${ageText(ageMs)} ago`;

  if (p.kind !== undefined && (p.kind === 'symlink' ? !info.link : kind !== p.kind)) {
    const is = p.kind === 'symlink' ? `not a symbolic link (${KIND_WORDS[kind]})` : `${info.link ? 'a link to ' : ''}${KIND_WORDS[kind]}, not ${KIND_WORDS[p.kind]}`;
    return result('wrong-kind', `${path} is ${is}`, found);
  }
  const wanted = (m: string) => parseInt(m, 8);
  if (p.mode !== undefined && (info.mode === undefined || (info.mode & 0o7777) !== wanted(p.mode))) {
    return result('wrong-mode', `${path} has mode ${found.mode ?? 'unknown'}, not ${octal(wanted(p.mode))}`, found);
  }
  if (p.maxMode !== undefined && (info.mode === undefined || (info.mode & ~wanted(p.maxMode) & 0o7777) !== 0)) {
    return result('wrong-mode', `${path} has mode ${found.mode ?? 'unknown'}, which allows more than ${octal(wanted(p.maxMode))}`, found);
  }
  if (p.owner !== undefined) {
    const want = p.owner.trim();
    const right = /^\d+$/.test(want) ? uid === Number(want) : owner === want;
    if (!right) return result('wrong-owner', `${path} belongs to ${owner === undefined ? 'an unknown owner' : owner === String(uid) ? `uid ${uid}` : `${owner} (uid ${uid})`}, not ${want}`, found);
  }
  if (p.olderThan !== undefined && ageMs > durationMs(p.olderThan)) {
    return result('stale', `${path} was last modified ${ageText(ageMs)} ago (${found.mtime}), longer ago than ${p.olderThan.trim()}`, found);
  }

  const content = state.content;
  let matched: { line: string; lineNumber: number } | undefined;
  if (p.contains !== undefined || p.pidfile) {
    if (!content || 'error' in content) return result('unreadable', `cannot read ${path}: ${content && 'error' in content ? content.error : 'not read'}`, { ...found, ...(content && 'error' in content ? { error: content.error } : {}) });
    if (p.contains !== undefined) {
      const vetted = vetRegex(p.contains);
      const hit = 'regex' in vetted ? firstMatchingLine([content.text], vetted.regex) : undefined;
      const part = content.start > 0 ? `the last ${FILE_CONTENT_MAX_BYTES / 1024 / 1024} MiB of ` : '';
      if (!hit) return result('no-match', `no line of ${part}${path} matches /${p.contains}/`, found, showCommand(['grep', '-nE', '--', p.contains, path]));
      // A line number counts from the start only when the whole file was read.
      matched = { line: shownLine(hit.line), ...(content.start === 0 ? { lineNumber: hit.number } : { lineNumber: 0 }) };
    }
    if (p.pidfile) {
      const pid = state.pid;
      if (!pid) return result('dead-pid', `${path} holds no pid`, { ...found, ...(matched ?? {}), alive: false }, showCommand(['cat', '--', path]));
      if (!pid.alive) return result('dead-pid', `${path} names pid ${pid.pid}, which is not running (a stale pidfile)`, { ...found, ...(matched ?? {}), pid: pid.pid, alive: false }, showCommand(['ps', '-p', String(pid.pid)]));
    }
  }
  const also = [
    ...(matched ? [`${matched.lineNumber ? `line ${matched.lineNumber}` : 'a line'} matches /${p.contains}/: ${matched.line.trim()}`] : []),
    ...(state.pid?.alive ? [`pid ${state.pid.pid} is running`] : []),
  ];
  const evidence = { ...found, ...(matched ? { line: matched.line, ...(matched.lineNumber ? { lineNumber: matched.lineNumber } : {}) } : {}), ...(state.pid ? { pid: state.pid.pid, alive: state.pid.alive } : {}) };
  return result('ok', `${path}: ${described}${also.length ? `; ${also.join('; ')}` : ''}`, evidence);
}
