import type { FileInfo } from '../host/host.js';

/**
 * What the stat script of the ssh host (host/ssh/remote-scripts.ts, `stat`) printed for `count`
 * paths: a line each, in order, `KIND SIZE MTIME` (f, d or o; `stat -L -c '%s %Y'`, seconds) or
 * `-` where the path cannot be stat'ed; undefined for those.
 */
export function fileInfosOfStatLines(text: string, count: number): (FileInfo | undefined)[] {
  const lines = text.split('\n');
  return Array.from({ length: count }, (_, i): FileInfo | undefined => {
    const m = /^(\S+) (\d+) (\d+)$/.exec(lines[i] ?? '');
    if (!m) return undefined;
    return { kind: m[1] === 'f' ? 'file' : m[1] === 'd' ? 'directory' : 'other', size: Number(m[2]), mtimeMs: Number(m[3]) * 1000 };
  });
}
