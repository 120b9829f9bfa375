import { closeSync, constants, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where whyport's own files come from: the built-in playbooks, the JSON the build compiled them
 * to, the JSON Schema, the help text. Run from the work tree or installed by npm they are files of
 * the package folder; in the single executable (`npm run sea`, src/tools/sea.ts) there is no such
 * folder and they are its SEA assets, keyed by the same paths relative to the package root.
 * Everything that reads a built-in file at run time asks here, so both work alike.
 */

/** The built-in files, as paths relative to the package root (and as the single executable's asset keys). */
export const BUILT_IN = {
  playbooks: 'playbooks',
  schema: 'playbooks/playbook.schema.json',
  compiledPlaybooks: 'dist/playbooks',
  help: 'dist/help.txt',
} as const;

// Defined by the single executable's bundle only: the keys of the assets it carries.
declare const WHYPORT_SEA_ASSETS: readonly string[] | undefined;

const seaAssets: readonly string[] | undefined = typeof WHYPORT_SEA_ASSETS === 'undefined' ? undefined : WHYPORT_SEA_ASSETS;

/** True in the single executable, where the built-in files are assets rather than files. */
export const IN_SINGLE_EXECUTABLE = seaAssets !== undefined;

/**
 * The package root: the nearest folder above this module with a package.json. Searched rather than
 * fixed, because the module sits in src/ under vitest and in a bundle chunk of dist/ when built.
 * In the single executable (which has no package folder) the executable's folder.
 */
function packageRoot(): string {
  if (seaAssets) return dirname(process.execPath);
  // A CommonJS bundle has no import.meta, but __filename.
  const here = dirname(typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'playbooks'))) return dir;
    dir = dirname(dir);
  }
  return resolve(here, '..');
}

export const PACKAGE_ROOT = packageRoot();
/** The build tools write here (src/tools/emit-schema.ts); at run time read through builtInText. */
export const PLAYBOOK_DIR = join(PACKAGE_ROOT, BUILT_IN.playbooks);
export const SCHEMA_FILE = join(PACKAGE_ROOT, BUILT_IN.schema);
/** Built-in playbooks validated at build time, so a diagnosis need not parse YAML (src/playbook/source.ts). */
export const COMPILED_PLAYBOOK_DIR = join(PACKAGE_ROOT, BUILT_IN.compiledPlaybooks);

/** The single executable's assets (node:sea), loaded only there. */
function sea(): typeof import('node:sea') {
  return process.getBuiltinModule('node:sea');
}

/** The text of a built-in file ('playbooks/default.yaml'); undefined when there is none. */
export function builtInText(file: string): string | undefined {
  if (seaAssets) return seaAssets.includes(file) ? sea().getAsset(file, 'utf8') : undefined;
  try {
    return readFileSync(join(PACKAGE_ROOT, file), 'utf8');
  } catch {
    return undefined;
  }
}

/** The names of the built-in files in a folder ('playbooks' → ['default.yaml', …]), sorted. */
export function builtInFiles(dir: string): string[] {
  if (seaAssets) return seaAssets.filter((k) => dirname(k) === dir).map((k) => k.slice(dir.length + 1)).sort();
  try {
    return readdirSync(join(PACKAGE_ROOT, dir)).sort();
  } catch {
    return [];
  }
}

/**
 * Whether a file the build made from another is older than its source (a playbook's YAML edited
 * since the build), or missing. The single executable's assets were made together: never stale.
 */
export function builtInStale(file: string, source: string): boolean {
  if (seaAssets) return !seaAssets.includes(file);
  try {
    return statSync(join(PACKAGE_ROOT, file)).mtimeMs < statSync(join(PACKAGE_ROOT, source)).mtimeMs;
  } catch {
    return true;
  }
}

/**
 * A path on disk of a built-in file, for programs that want a file (yaml-language-server reads the
 * schema): the package's file, or for the single executable a copy it writes into whyport's cache
 * directory ($XDG_CACHE_HOME/whyport/VERSION/, by default ~/.cache/whyport/VERSION/); undefined
 * when there is no private cache directory to write it to.
 */
export function builtInPath(file: string, version: string): string | undefined {
  if (!seaAssets) return join(PACKAGE_ROOT, file);
  const dir = cacheDir(version);
  if (!dir) return undefined;
  const copy = join(dir, file);
  const text = builtInText(file) ?? '';
  try {
    if (readFileSync(copy, 'utf8') === text) return copy;
  } catch {
    // not written yet
  }
  mkdirSync(dirname(copy), { recursive: true, mode: 0o700 });
  return writePrivately(copy, text) ? copy : undefined;
}

/**
 * whyport's cache directory for one version, made (0700) when missing; an XDG_CACHE_HOME that is
 * not absolute is ignored, as the XDG spec asks. Undefined when it cannot be made, or when another
 * user could change what is in it: the code cache in it is run as code (src/bin/bin.ts), and root
 * with another user's HOME (sudo keeps it on some systems) must neither read that user's files
 * nor write where that user could point it elsewhere.
 */
export function cacheDir(version: string): string | undefined {
  try {
    const xdg = process.env.XDG_CACHE_HOME;
    const base = xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache');
    const dir = join(base, 'whyport', version);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const chain = [dirname(base), base, join(base, 'whyport'), dir];
    return chain.every(onlyMine) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** A directory (not a link) owned by this user or root that no one else may write to (or, like /tmp, sticky). */
function onlyMine(dir: string): boolean {
  const s = lstatSync(dir);
  return s.isDirectory() && othersMayChange(s) === undefined;
}

/**
 * Why a user other than this one and root could change what is at a path, by its stat: it is
 * another's, or its group or everyone may write to it (a sticky directory excepted: in /tmp no one
 * may replace another's file); undefined when no one else can. The rule for what whyport runs as
 * code or as its steps: the code cache, a playbook.
 */
export function othersMayChange(s: { uid: number; mode: number; isDirectory(): boolean }): string | undefined {
  const me = process.geteuid?.() ?? 0;
  if (s.uid !== me && s.uid !== 0) return `is owned by uid ${s.uid}, not by you or root`;
  if ((s.mode & 0o022) === 0 || (s.isDirectory() && (s.mode & 0o1000) !== 0)) return undefined;
  return `is writable by ${(s.mode & 0o002) !== 0 ? 'every user' : 'its group'} (mode ${(s.mode & 0o7777).toString(8).padStart(4, '0')})`;
}

/** A file of this user's that no one else may write to, read through one descriptor (so what is checked is what is read); undefined otherwise. */
export function readPrivately(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const s = fstatSync(fd);
    if (!s.isFile() || s.uid !== (process.geteuid?.() ?? 0) || (s.mode & 0o022) !== 0) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes a file through a new temp file (never through a link or over another's file), then renames it into place; false when that fails. */
export function writePrivately(file: string, data: string | Uint8Array): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data, { flag: 'wx', mode: 0o600 });
    renameSync(tmp, file);
    return true;
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // never made
    }
    return false;
  }
}
