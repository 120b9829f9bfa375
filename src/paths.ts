import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
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
 * directory ($XDG_CACHE_HOME/whyport/VERSION/, by default ~/.cache/whyport/VERSION/).
 */
export function builtInPath(file: string, version: string): string {
  if (!seaAssets) return join(PACKAGE_ROOT, file);
  const copy = join(cacheDir(version), file);
  const text = builtInText(file) ?? '';
  if (!existsSync(copy) || readFileSync(copy, 'utf8') !== text) {
    mkdirSync(dirname(copy), { recursive: true });
    writeFileSync(copy, text);
  }
  return copy;
}

/** whyport's cache directory for one version; an XDG_CACHE_HOME that is not absolute is ignored, as the XDG spec asks. */
export function cacheDir(version: string): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache');
  return join(base, 'whyport', version);
}
