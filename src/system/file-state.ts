import { errorCode, type FileInfo } from '../host/host.js';
import { defineReader } from './reader.js';

/** The most of a file's content whyport reads to match an expression: its last MiB (a log's latest lines). */
export const FILE_CONTENT_MAX_BYTES = 1024 * 1024;

/** Which file, and what of it beyond its stat: its content (for an expression), the process its pid names (a pidfile). */
export interface FileStateKey {
  path: string;
  content: boolean;
  pidfile: boolean;
}

/** A file's text as read: the last FILE_CONTENT_MAX_BYTES of it (`start` > 0 when cut), or why it could not be read. */
export type FileContent = { text: string; start: number } | { error: string; code: string | undefined };

/** A file as the host sees it: its stat (following links), and what was asked of its content. */
export interface FileState {
  path: string;
  /** undefined: it does not exist, or cannot be stat'ed (a directory on the way whyport may not enter). */
  info: FileInfo | undefined;
  content?: FileContent;
  /** A pidfile's pid (the first number in it), and whether /proc/PID exists there; undefined when it holds none. */
  pid?: { pid: number; alive: boolean };
  /** When it was read (ms since the epoch, this machine's clock): the file's age is measured from here. */
  now: number;
}

/**
 * A file of the playbook's (the `file` check), read through the host (the server's over --ssh):
 * stat, then only when asked and when it is a regular file, its last MiB (read at an offset, never
 * blocking on a FIFO), and for a pidfile whether the process it names is alive.
 */
export const fileState = defineReader<FileStateKey, FileState>({
  name: 'file',
  key: (k) => `${k.content ? 'c' : '-'}${k.pidfile ? 'p' : '-'} ${k.path}`,
  calls: (k) => [{ stat: [k.path] }],
  async read(k, s) {
    const [info] = await s.host.stat([k.path]).catch(() => [undefined]);
    const state: FileState = { path: k.path, info, now: Date.now() };
    if (!info || !(k.content || k.pidfile)) return state;
    if (info.kind !== 'file') {
      state.content = { error: info.kind === 'directory' ? 'it is a directory' : 'not a regular file', code: 'ENOTREG' };
      return state;
    }
    try {
      state.content = await s.host.readFileTail(k.path, FILE_CONTENT_MAX_BYTES);
    } catch (err) {
      const code = errorCode(err);
      state.content = { error: code === 'EACCES' || code === 'EPERM' ? 'permission denied' : ((err as Error).message || String(code)), code };
      return state;
    }
    if (k.pidfile) {
      const pid = pidOfPidfile(state.content.text);
      if (pid !== undefined) {
        const [proc] = await s.host.stat([`/proc/${pid}`]).catch(() => [undefined]);
        state.pid = { pid, alive: proc?.kind === 'directory' };
      }
    }
    return state;
  },
});

/** The pid a pidfile holds: its first word when that is a whole number above 0 (`1234\n`, `1234 extra`). */
export function pidOfPidfile(text: string): number | undefined {
  const m = /^\s*(\d{1,10})(?:\s|$)/.exec(text);
  const pid = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(pid) && pid > 0 && pid <= 4_194_304 ? pid : undefined;
}
