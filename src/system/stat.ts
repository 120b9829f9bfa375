import type { FileInfo } from '../host/host.js';

/** The file type bits of a raw st_mode (S_IFMT) → what FileInfo.special names. */
const SPECIAL: Record<number, FileInfo['special']> = { 0o140000: 'socket', 0o010000: 'fifo', 0o020000: 'char', 0o060000: 'block' };

/**
 * What the stat script of the ssh host (host/ssh/remote-scripts.ts, `stat`) printed for `count`
 * paths: a line each, in order, `KIND SIZE MTIME RAWMODE UID GID LINK` (f, d or o; `stat -L -c
 * '%s %Y %f %u %g'`, seconds, the raw mode in hex; `l` for a symbolic link, else `-`) or `-` where
 * the path cannot be stat'ed; undefined for those. Lines of older scripts, `KIND SIZE MTIME`, parse too.
 */
export function fileInfosOfStatLines(text: string, count: number): (FileInfo | undefined)[] {
  const lines = text.split('\n');
  return Array.from({ length: count }, (_, i): FileInfo | undefined => {
    const m = /^(\S+) (\d+) (\d+)(?: ([0-9a-f]+) (\d+) (\d+))?(?: ([l-]))?$/.exec(lines[i] ?? '');
    if (!m) return undefined;
    const info: FileInfo = { kind: m[1] === 'f' ? 'file' : m[1] === 'd' ? 'directory' : 'other', size: Number(m[2]), mtimeMs: Number(m[3]) * 1000 };
    if (m[4] !== undefined) {
      const raw = parseInt(m[4], 16);
      const special = SPECIAL[raw & 0o170000];
      if (special) info.special = special;
      info.mode = raw & 0o7777;
      info.uid = Number(m[5]);
      info.gid = Number(m[6]);
    }
    if (m[7] === 'l') info.link = true;
    return info;
  });
}
