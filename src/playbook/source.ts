import { mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { formatLintError, PlaybookError, UsageError } from '../errors.js';
import { BUILT_IN, COMPILED_PLAYBOOK_DIR, builtInFiles, builtInStale, builtInText, othersMayChange } from '../paths.js';
import type { Playbook } from './schema.js';
import type { OtherPlaybooks } from './follow.js';
import { readUserFile, UserFileError } from '../host/user-file.js';

/**
 * Where a playbook comes from and how it is loaded: a built-in name (`default`) or a file, the
 * precompiled JSON the build writes for the built-ins, and validation for everything else. The one
 * way in is `openPlaybook`. It imports the YAML parser and the validator only when it must: a
 * diagnosis with a built-in playbook never loads them (a third of whyport's start-up otherwise).
 */

/** Where a --playbook value (a built-in name or a file path) points. */
interface Located {
  /** A file path, or for a built-in its path in the package (src/paths.ts reads it). */
  file: string;
  /** How messages name it: `playbooks/default.yaml`, or the path as given. */
  display: string;
  /** The built-in's name; undefined for a file. */
  name?: string;
}

/** A built-in name, or a path: from the working directory, or (`from`, a playbook file) from that playbook's directory. */
function locate(ref: string, from?: Located): Located {
  const looksLikePath = /[\/\\]/.test(ref) || /\.ya?ml$/i.test(ref);
  if (!looksLikePath) {
    const file = `${BUILT_IN.playbooks}/${ref}.yaml`;
    if (builtInFiles(BUILT_IN.playbooks).includes(`${ref}.yaml`)) return { file, display: file, name: ref };
  }
  if (from && !from.name) return { file: resolve(dirname(from.file), ref), display: join(dirname(from.display), ref) };
  return { file: resolve(ref), display: ref };
}

/** The built-in playbook as validated at build time, unless its YAML was edited since. */
function precompiled(where: Located): Playbook | undefined {
  if (!where.name) return undefined;
  const json = `${BUILT_IN.compiledPlaybooks}/${where.name}.json`;
  if (builtInStale(json, where.file)) return undefined;
  const text = builtInText(json);
  return text === undefined ? undefined : (JSON.parse(text) as Playbook);
}

export interface OpenOptions {
  /** Only a precompiled built-in (undefined otherwise): for the early start, which must not parse YAML. */
  precompiledOnly?: boolean;
  /** Never the precompiled JSON: read and validate the YAML (`playbook validate`, so warnings show). */
  fresh?: boolean;
}

/**
 * Opens a playbook by built-in name or file path, validated: the precompiled JSON of a built-in
 * when it is current, else the YAML read and checked. Throws PlaybookError (file:line:col) for a
 * bad or unreadable playbook.
 */
export async function openPlaybook(ref: string): Promise<Playbook>;
export async function openPlaybook(ref: string, opts: OpenOptions & { precompiledOnly: true }): Promise<Playbook | undefined>;
export async function openPlaybook(ref: string, opts: OpenOptions): Promise<Playbook>;
export async function openPlaybook(ref: string, opts: OpenOptions = {}): Promise<Playbook | undefined> {
  return open(locate(ref), opts, []);
}

/**
 * Opens one playbook, and first the other playbooks its steps walk (`playbook:`), so that it is
 * validated with them: a step that walks a playbook that does not load, does not validate, or
 * walks this one back (`chain`: the files being opened) is a problem of this playbook, at the
 * step's `playbook:`.
 */
async function open(where: Located, opts: OpenOptions, chain: readonly string[]): Promise<Playbook | undefined> {
  const ready = opts.fresh ? undefined : precompiled(where);
  if (ready || opts.precompiledOnly) return ready;
  if (!where.name) refuseIfOthersMayChange(where);
  let text: string;
  try {
    // A file path: a regular file of at most 1 MB, never a device or a FIFO (user-file.ts).
    text = where.name ? builtInText(where.file) ?? '' : await readUserFile(where.file);
  } catch (err) {
    const why = err instanceof UserFileError ? err.reason : String((err as NodeJS.ErrnoException).code ?? err);
    throw new PlaybookError([{ file: where.display, line: 1, col: 1, field: '', message: `cannot read the playbook: ${why}`, severity: 'error', hint: 'give a path to a .yaml file, or the name of a built-in playbook (whyport playbook list)' }]);
  }
  const [{ parsePlaybook, playbookRefs }, { checkCatalog }] = await Promise.all([import('./load.js'), import('../checks/index.js')]);
  const others: Record<string, OtherPlaybooks[string]> = {};
  for (const ref of playbookRefs(text)) others[ref] = await openOther(ref, where, [...chain, where.file]);
  return parsePlaybook(text, where.display, checkCatalog(), others);
}

async function openOther(ref: string, from: Located, chain: readonly string[]): Promise<OtherPlaybooks[string]> {
  const where = locate(ref, from);
  if (chain.includes(where.file)) {
    return where.file === from.file
      ? { error: `'${ref}' is this same playbook`, hint: 'leave out `playbook:` to walk this same playbook' }
      : { error: `'${ref}' walks this playbook in turn (${[...chain.slice(chain.indexOf(where.file)), where.file].join(' → ')})`, hint: 'playbooks may not walk each other in a circle' };
  }
  try {
    return (await open(where, {}, chain))!;
  } catch (err) {
    if (!(err instanceof PlaybookError)) throw err;
    const first = err.problems.find((p) => p.severity === 'error') ?? err.problems[0]!;
    const more = err.problems.length > 1 ? ` (and ${err.problems.length - 1} more)` : '';
    return { error: `playbook '${ref}' cannot be walked: ${formatLintError(first)}${more}`, hint: `see whyport playbook validate ${where.display}` };
  }
}

/**
 * A playbook file runs commands (its `command` steps, its fixes): refused when a user other than
 * this one and root could change it, or replace it through a folder on its way from / (the rule of
 * the code cache, paths.ts othersMayChange). A file that cannot be found is left to the read, which
 * says so, as it does what is not a regular file.
 */
function refuseIfOthersMayChange(where: Located): void {
  let path: string;
  try {
    path = realpathSync(where.file);
    // A device, a FIFO, a folder: the read refuses it, in its own words.
    if (!statSync(path).isFile()) return;
  } catch {
    return;
  }
  for (let p = path; ; p = dirname(p)) {
    let why: string | undefined;
    try {
      why = othersMayChange(statSync(p));
    } catch {
      return;
    }
    if (why) {
      const what = p === path ? 'it' : `its folder ${p}`;
      const fix = why.startsWith('is owned') ? 'copy it to a file of your own' : `chmod go-w ${p}, or move the playbook where only you can change it`;
      throw new UsageError(`refusing the playbook ${where.display}: ${what} ${why}, and a playbook runs commands — ${fix}`);
    }
    if (p === dirname(p)) return;
  }
}

/** The built-in playbooks: name, file (its path in the package) and first description line, for `playbook list`. */
export function builtInPlaybooks(): { name: string; file: string; description: string }[] {
  return builtInFiles(BUILT_IN.playbooks)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => {
      const file = `${BUILT_IN.playbooks}/${f}`;
      const description = /^description:\s*(.+)$/m.exec(builtInText(file) ?? '')?.[1]?.replace(/^(["'])(.*)\1$/, '$2').replace(/^[>|-]\s*/, '') ?? '';
      return { name: f.replace(/\.yaml$/, ''), file, description };
    });
}

/** The YAML of a built-in playbook, to copy and adapt; undefined when there is none by that name. */
export function builtInPlaybookText(name: string): string | undefined {
  const where = locate(name);
  return where.name ? builtInText(where.file) : undefined;
}

/** Validates every built-in playbook and stores it as JSON for `openPlaybook` (run at build). */
export async function precompileBuiltIns(): Promise<void> {
  mkdirSync(COMPILED_PLAYBOOK_DIR, { recursive: true });
  for (const { name } of builtInPlaybooks()) {
    const pb = await openPlaybook(name, { fresh: true });
    writeFileSync(join(COMPILED_PLAYBOOK_DIR, `${name}.json`), JSON.stringify(pb) + '\n');
  }
}
