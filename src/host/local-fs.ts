import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import type { FileInfo } from './host.js';
import type { ScanFs } from './scan.js';

// Apart from local.ts so the start-up entry (early.ts) can walk /proc with the very scan code the
// local host runs, without loading the rest of it.

/** This machine's files for the batched scans: synchronous, as they are many and tiny. */
export const localFs: ScanFs = {
  readdir: (path) => readdirSync(path),
  readFile: (path) => readFileSync(path, 'utf8'),
  readlink: (path) => readlinkSync(path),
  stat: (path) => fileInfo(statSync(path)),
  realpath: (path) => realpathSync(path),
};

export function fileInfo(s: Stats): FileInfo {
  return { kind: s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other', size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
}
