import { posix } from 'node:path';
import { errorCode, type Host } from '../host/host.js';
import { GLOB, wildcardMatches } from '../text/wildcard.js';

/** One line of a configuration file, where it is: what `diagnosis.setting` names. */
export interface SourceLine {
  file: string;
  /** 1-based. */
  line: number;
  /** The line as written, trimmed. */
  text: string;
}

/** What one line pulls in: a file, or the names of a folder that a filter keeps (a glob's last part, `*.conf`, `.cnf`). */
export type Inclusion =
  | { kind: 'file'; path: string; optional?: boolean }
  | { kind: 'dir'; dir: string; keep: (name: string) => boolean; optional?: boolean };

/** How a format includes: for one line of `file` (its number and text), what it pulls in, or undefined for an ordinary line. */
export type IncludeRule = (text: string, file: string) => Inclusion | undefined;

/** The files and folders read so far: a text, or why it could not be read. */
export interface ConfigSnapshot {
  files: Record<string, string | { error: string }>;
  dirs: Record<string, string[] | { error: string }>;
}

/** A configuration with its includes laid out in the order the program reads it. */
export interface FlatConfig {
  /** Every line in reading order, an include's lines in place of the include line (which is kept too, first). */
  lines: SourceLine[];
  /** The files read, in order, each once. */
  files: string[];
  /** What could not be read, each in one sentence (a missing optional include is not one). */
  problems: string[];
  /** Files and folders the snapshot does not have yet: the reader reads them and lays out again. */
  wanted: { files: string[]; dirs: string[] };
}

/** A program nests includes a few deep at most; more is a loop the program would refuse too. */
const MAX_DEPTH = 10;
const MAX_FILES = 200;
const MAX_LINES = 200_000;

/** `*.conf`, `?`, `[ab]` as a test of one name (a glob's last part; no `/` inside). */
export function globTest(pattern: string): (name: string) => boolean {
  if (!pattern.includes('[')) return (name) => !name.startsWith('.') && wildcardMatches(pattern, name, GLOB);
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += re.endsWith('[^/]*') ? '' : '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  try {
    const compiled = new RegExp(`^${re}$`);
    return (name) => !name.startsWith('.') && compiled.test(name);
  } catch {
    return (name) => name === pattern;
  }
}

/** A path that may end in a glob, as an inclusion: a folder's matching names, or one file. */
export function pathInclusion(path: string, optional = false): Inclusion {
  const base = posix.basename(path);
  if (/[*?[]/.test(base)) return { kind: 'dir', dir: posix.dirname(path), keep: globTest(base), optional: true };
  return { kind: 'file', path, ...(optional ? { optional } : {}) };
}

/**
 * Lays out a configuration and its includes in reading order from what the snapshot holds (pure):
 * includes are expanded where they stand, a folder's names sorted; a file that includes itself
 * (directly or not) is read once. Names the files and folders still to read in `wanted`.
 */
export function flattenConfig(root: string, snapshot: ConfigSnapshot, rule: IncludeRule): FlatConfig {
  const out: FlatConfig = { lines: [], files: [], problems: [], wanted: { files: [], dirs: [] } };
  const wantFile = new Set<string>();
  const wantDir = new Set<string>();
  const visit = (path: string, depth: number, stack: readonly string[], optional: boolean): void => {
    if (stack.includes(path) || out.files.length >= MAX_FILES || out.lines.length >= MAX_LINES) return;
    const text = snapshot.files[path];
    if (text === undefined) {
      wantFile.add(path);
      return;
    }
    if (typeof text !== 'string') {
      if (!(optional && text.error.includes('no such file'))) out.problems.push(text.error);
      return;
    }
    out.files.push(path);
    const lines = text.split('\n');
    for (let i = 0; i < lines.length && out.lines.length < MAX_LINES; i++) {
      const line = lines[i]!.replace(/\r$/, '').trim();
      out.lines.push({ file: path, line: i + 1, text: line });
      let inclusion: Inclusion | undefined;
      try {
        inclusion = rule(line, path);
      } catch {
        inclusion = undefined;
      }
      if (!inclusion) continue;
      if (depth >= MAX_DEPTH) {
        out.problems.push(`${path}:${i + 1}: includes nested deeper than ${MAX_DEPTH}, not followed`);
        continue;
      }
      if (inclusion.kind === 'file') {
        visit(inclusion.path, depth + 1, [...stack, path], inclusion.optional ?? false);
        continue;
      }
      const names = snapshot.dirs[inclusion.dir];
      if (names === undefined) {
        wantDir.add(inclusion.dir);
        continue;
      }
      if (!Array.isArray(names)) {
        if (!(inclusion.optional && names.error.includes('no such file'))) out.problems.push(names.error);
        continue;
      }
      for (const name of [...names].sort()) {
        if (inclusion.keep(name)) visit(posix.join(inclusion.dir, name), depth + 1, [...stack, path], true);
      }
    }
  };
  visit(root, 0, [], false);
  out.wanted = { files: [...wantFile], dirs: [...wantDir] };
  return out;
}

/** Configuration files are small; a larger one is not read (a wrong path, a device). */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** `cannot read PATH: no such file` and its kin, as the log reader words them. */
export function readProblem(path: string, err: unknown): string {
  switch (errorCode(err)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return `cannot read ${path}: no such file`;
    case 'EACCES':
    case 'EPERM':
      return `cannot read ${path}: permission denied (whyport reads it as root)`;
    case 'EISDIR':
      return `cannot read ${path}: it is a folder`;
    default:
      return `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * Reads a configuration and everything it includes through the Host seam, a round of reads per
 * level of includes (each round one batch), and lays it out (flattenConfig). Never throws: what
 * cannot be read is in `problems`.
 */
export async function readConfigTree(host: Host, root: string, rule: IncludeRule, snapshot: ConfigSnapshot = { files: {}, dirs: {} }): Promise<FlatConfig & { snapshot: ConfigSnapshot }> {
  for (let round = 0; ; round++) {
    const flat = flattenConfig(root, snapshot, rule);
    if (round > MAX_DEPTH + 1 || (flat.wanted.files.length === 0 && flat.wanted.dirs.length === 0)) return { ...flat, snapshot };
    // The folders are listed in the same turn as the stat of the files: over ssh, one round trip.
    const [infos] = await Promise.all([
      host.stat(flat.wanted.files).catch(() => flat.wanted.files.map(() => undefined)),
      ...flat.wanted.dirs.map(async (dir) => {
        snapshot.dirs[dir] = await host.listDir(dir).catch((err: unknown) => ({ error: readProblem(dir, err) }));
      }),
    ]);
    await Promise.all(
      flat.wanted.files.map(async (path, i) => {
        const info = infos[i];
        if (info && info.kind !== 'file') snapshot.files[path] = { error: `cannot read ${path}: ${info.kind === 'directory' ? 'it is a folder' : 'not a regular file'}` };
        else if (info && info.size > MAX_FILE_BYTES) snapshot.files[path] = { error: `cannot read ${path}: larger than ${MAX_FILE_BYTES} bytes` };
        else snapshot.files[path] = await host.readFile(path).catch((err: unknown) => ({ error: readProblem(path, err) }));
      }),
    );
  }
}

/**
 * The words of a line split as a shell-like configuration does (sshd, redis, pg_hba): blanks
 * separate, double quotes (and single quotes when `single`) group, a backslash escapes inside
 * double quotes; a `#` outside quotes starts a comment. `quoted` says which words had quotes.
 */
export function splitWords(line: string, opts: { single?: boolean; comment?: boolean } = {}): { words: string[]; quoted: boolean[] } {
  const words: string[] = [];
  const quoted: boolean[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length || (opts.comment !== false && line[i] === '#')) break;
    let word = '';
    let q = false;
    while (i < line.length && !/\s/.test(line[i]!)) {
      const c = line[i]!;
      if (c === '"' || (opts.single && c === "'")) {
        q = true;
        i++;
        while (i < line.length && line[i] !== c) {
          if (line[i] === '\\' && c === '"' && i + 1 < line.length) i++;
          word += line[i]!;
          i++;
        }
        i++;
      } else {
        word += c;
        i++;
      }
    }
    words.push(word);
    quoted.push(q);
  }
  return { words, quoted };
}
