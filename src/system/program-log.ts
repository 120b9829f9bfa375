import { join } from 'node:path';
import { errorCode, type Host } from '../host/host.js';
import { programLogFiles } from '../knowledge/program-logs.js';
import { defineReader } from './reader.js';

/** The last lines of a log file, or why it could not be read. */
export type LogTail = { path: string; lines: string[] } | { path: string; error: string; code: string | undefined };

/** The end of a program's own log, from the first candidate file that could be read. */
export type ProgramLogTail =
  /** Its last lines, as the program wrote them (analysis/program-log.ts picks the informative ones). */
  | { path: string; lines: string[] }
  /** The file is there but could not be read (permission denied, not a regular file…). */
  | { path: string; lines: []; error: string };

// Enough for the last hundreds of lines of any log; a log file can be gigabytes.
const DEFAULT_MAX_BYTES = 64 * 1024;

/**
 * The last lines of a log file, reading only its last `maxBytes` (default 64 KiB) at an offset,
 * never the whole file; the first line, cut in the middle, is dropped. Never throws: a missing or
 * unreadable file, or one that is not a regular file, comes back as an error sentence.
 */
export async function readLogTail(host: Host, path: string, opts: { maxBytes?: number } = {}): Promise<LogTail> {
  const maxBytes = Math.max(0, Math.floor(opts.maxBytes ?? DEFAULT_MAX_BYTES));
  try {
    // One byte more than asked for, to see whether the first byte kept starts a line.
    const tail = await host.readFileTail(path, maxBytes + 1);
    let text = tail.text;
    if (tail.start > 0) {
      const newline = text.indexOf('\n');
      text = newline < 0 ? '' : text.slice(newline + 1);
    }
    return { path, lines: splitLines(text) };
  } catch (err) {
    return readError(path, err);
  }
}

/**
 * The end of the unit's program's own log file: tries the known files of the unit (or the
 * program, see programLogFiles) in order and returns the last lines of the first one that exists
 * and can be read, with its path for the report ("from /var/log/…"). When files exist but none
 * can be read, the first of them comes back with its error; undefined when none exists or the
 * program is not known. `root` reads a host whose / is there (a container's, a test's).
 */
export async function programLogTail(host: Host, unit: string, program?: string, opts: { maxBytes?: number; root?: string; now?: Date } = {}): Promise<ProgramLogTail | undefined> {
  let unreadable: ProgramLogTail | undefined;
  for (const path of programLogFiles(unit, program, opts.now ? { now: opts.now } : {})) {
    const tail = await readLogTail(host, opts.root ? join(opts.root, path) : path, opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes });
    if ('lines' in tail) return { path, lines: tail.lines };
    if (tail.code !== 'ENOENT' && tail.code !== 'ENOTDIR') unreadable ??= { path, lines: [], error: tail.error.replace(tail.path, path) };
  }
  return unreadable;
}

function splitLines(text: string): string[] {
  // NUL runs are what a crash or power loss leaves in a log file that was being appended to.
  const lines = text.replace(/\0+/g, '').split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function readError(path: string, err: unknown): LogTail {
  const code = errorCode(err);
  switch (code) {
    case 'ENOTREG':
      return { path, error: `cannot read ${path}: not a regular file`, code: undefined };
    case 'ENOENT':
    case 'ENOTDIR':
      return { path, error: `cannot read ${path}: no such file`, code };
    case 'EACCES':
    case 'EPERM':
      return { path, error: `cannot read ${path}: permission denied; run whyport as root, or as a member of the file's group (adm on Debian)`, code };
    case 'EISDIR':
      return { path, error: `cannot read ${path}: it is a directory`, code };
    default:
      return { path, error: `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, code };
  }
}

/** The end of the unit's program's own log (programLogTail), once per diagnosis. */
export const programLogOf = defineReader<{ unit: string; program: string | undefined }, ProgramLogTail | undefined>({
  name: 'program log',
  key: ({ unit, program }) => `${unit}\n${program ?? ''}`,
  read: ({ unit, program }, s) => programLogTail(s.host, unit, program),
});
