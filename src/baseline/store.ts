import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { readUserFile, UserFileError } from '../host/user-file.js';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import * as z from 'zod/mini';
import { UsageError } from '../errors.js';
import { BASELINE_VERSION, type Baseline } from './model.js';

/**
 * Where the baseline lives unless --file says otherwise: /var/lib/whyport for root (system
 * state), else the XDG state directory ($XDG_STATE_HOME, by default ~/.local/state).
 */
export function defaultBaselineFile(opts: { uid: number | undefined; env: NodeJS.ProcessEnv; home?: string }): string {
  if (opts.uid === 0) return '/var/lib/whyport/baseline.json';
  // The XDG spec says a relative XDG_STATE_HOME is invalid and must be ignored.
  const xdg = opts.env.XDG_STATE_HOME;
  const state = xdg && xdg.startsWith('/') ? xdg : join(opts.home ?? homedir(), '.local', 'state');
  return join(state, 'whyport', 'baseline.json');
}

// Unknown fields are dropped, not refused: a later whyport may add some without a new version.
const listenerSchema = z.object({
  protocol: z.enum(['tcp', 'udp']),
  address: z.string().check(z.minLength(1)),
  port: z.int().check(z.minimum(0), z.maximum(65535)),
  family: z.enum(['inet', 'inet6']),
  device: z.optional(z.string().check(z.minLength(1))),
  program: z.optional(z.string()),
  unit: z.optional(z.string()),
});

const baselineSchema = z.object({
  whyport: z.literal('baseline'),
  version: z.literal(BASELINE_VERSION),
  host: z.string(),
  savedAt: z.iso.datetime({ offset: true }),
  listeners: z.array(listenerSchema),
});

/** How to make a baseline, for the hints of errors that leave the user without one. */
function saveHint(file: string, defaultFile: string | undefined): string {
  return `create one with: whyport baseline save${file === defaultFile ? '' : ` --file ${file}`}`;
}

/**
 * Reads and checks a baseline file's text. Every problem is a UsageError saying what is wrong
 * with which file and how to get a good one; the file itself is never touched.
 */
export function parseBaseline(text: string, file: string, defaultFile?: string): Baseline {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    // Never the parser's message: it quotes the text, and the file may be anything (/etc/shadow).
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message)?.[1] ?? (/end of JSON input/.test(message) ? String(text.length) : undefined);
    throw new UsageError(
      `${file} is not a whyport baseline: it is not valid JSON${at === undefined ? '' : ` (${lineCol(text, Number(at))})`}`,
      `move it aside and ${saveHint(file, defaultFile)}`,
    );
  }
  const head = (typeof data === 'object' && data !== null ? data : {}) as { whyport?: unknown; version?: unknown };
  if (head.whyport !== 'baseline') {
    throw new UsageError(`${file} is not a whyport baseline (no "whyport": "baseline" field)`, `check the path, or ${saveHint(file, defaultFile)}`);
  }
  if (typeof head.version === 'number' && head.version > BASELINE_VERSION) {
    throw new UsageError(
      `${file} was written by a newer whyport (baseline format version ${head.version}; this whyport reads version ${BASELINE_VERSION})`,
      'upgrade whyport, or save a baseline of your own elsewhere with --file',
    );
  }
  const parsed = z.safeParse(baselineSchema, data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new UsageError(`${file} is a corrupt whyport baseline${where}: ${issue?.message ?? 'invalid'}`, `move it aside and ${saveHint(file, defaultFile)}`);
  }
  return parsed.data as Baseline;
}

/** A baseline is whyport's own file, larger than a playbook on a busy host (every listener), still bounded. */
const BASELINE_MAX_BYTES = 8 * 1024 * 1024;

/** `line L, column C` of a character offset, for a JSON error that must not quote the text. */
function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/** Reads the baseline at `file`; a missing, unreadable or corrupt file is a UsageError with a way out. */
export async function loadBaseline(file: string, defaultFile?: string): Promise<Baseline> {
  let text: string;
  try {
    // Regular files of at most 1 MB only: never a device or a FIFO (user-file.ts).
    text = await readUserFile(file, BASELINE_MAX_BYTES);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`no baseline at ${file}`, saveHint(file, defaultFile));
    if (code === 'EACCES' || code === 'EPERM') throw new UsageError(`cannot read the baseline ${file}: permission denied`, 'run as the user who saved it (root for the default file of root), or pass --file');
    if (code === 'EISDIR') throw new UsageError(`the baseline ${file} is a directory`, 'pass the path of a file with --file');
    throw new UsageError(`cannot read the baseline ${file}: ${err instanceof UserFileError ? err.reason : (err as Error).message}`, 'pass the path of a baseline file with --file');
  }
  return parseBaseline(text, file, defaultFile);
}

/** Test seam: called once the new content is written and synced, before it replaces the old file. */
export interface SaveHooks {
  beforeRename?: (tempFile: string) => void | Promise<void>;
}

/**
 * Writes the baseline atomically: a temporary file in the same directory (so the rename cannot
 * cross filesystems), written and fsync'd, renamed over the old file, then the directory fsync'd so
 * the rename itself survives a crash. Readers see the old file or the new one, never half of one;
 * a run killed before the rename leaves the old baseline as it was. Temporary files left by such
 * runs are removed by the next save.
 */
export async function saveBaseline(file: string, baseline: Baseline, hooks: SaveHooks = {}): Promise<void> {
  const path = resolve(file);
  const dir = dirname(path);
  const name = basename(path);
  try {
    // 0700 as the XDG spec asks for state directories; /var/lib/whyport needs no more for root.
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw writeError(path, err);
  }
  await removeStaleTemps(dir, name);

  const temp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let renamed = false;
  try {
    const handle = await open(temp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(baseline, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await hooks.beforeRename?.(temp);
    await rename(temp, path);
    renamed = true;
    await syncDirectory(dir);
  } catch (err) {
    if (!renamed) await unlink(temp).catch(() => {});
    if (err instanceof UsageError) throw err;
    throw writeError(path, err);
  }
}

function writeError(file: string, err: unknown): UsageError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') {
    return new UsageError(`cannot write the baseline ${file}: ${e.code === 'EROFS' ? 'read-only filesystem' : 'permission denied'}`, 'run as root, or choose a writable file with --file');
  }
  return new UsageError(`cannot write the baseline ${file}: ${e.message ?? String(err)}`, 'the old baseline, if any, is unchanged');
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await handle.sync();
  } catch (err) {
    // Some filesystems cannot fsync a directory; the rename is done either way.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR') throw err;
  } finally {
    await handle.close();
  }
}

/** Removes `.NAME.PID.RANDOM.tmp` files whose writer is no longer running (killed mid-save). */
async function removeStaleTemps(dir: string, name: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  const prefix = `.${name}.`;
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.tmp')) continue;
    const m = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(entry.slice(prefix.length));
    if (!m || isRunning(Number(m[1]))) continue;
    await unlink(join(dir, entry)).catch(() => {});
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
