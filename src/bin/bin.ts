#!/usr/bin/env node
import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { BUILT_IN, builtInText, cacheDir, readPrivately, writePrivately } from '../paths.js';
import { startEarly } from './early.js';
import { flagsForWords } from '../cli/argv-words.js';

// dist/cli.cjs, the command npm installs (and dist/cli.js, the same as an ES module, for `node
// dist/cli.js`; a CommonJS entry starts ~7 ms sooner): it runs whyport (dist/whyport.cjs, one
// CommonJS bundle of src/bin/sea-entry.ts) through V8's code cache. Node 20 cannot cache the compiled code of ES modules (no
// module.enableCompileCache before 22.1), and compiling whyport's modules was most of what it did
// before the first host scan; a vm.Script takes the bytes V8 wrote after an earlier run and skips
// the compilation. The cache lives in whyport's cache directory, one file per kind of command (a
// subcommand compiles a fraction of what a diagnosis does), named after the node that made it and
// the bundle's size and time, so a rebuilt or upgraded whyport or another node never reads
// another's bytes; V8 itself rejects bytes from another version or with other flags.

declare const WHYPORT_VERSION: string;

// `whyport help` and `whyport version` as their flags (src/cli/argv-words.ts; main() reads them the same).
const argv = flagsForWords(process.argv.slice(2));
// --help and --version need none of whyport's code: the help is the text commander printed at build.
const help = argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h') ? builtInText(BUILT_IN.help) : undefined;
if (help !== undefined) process.stdout.write(help);
else if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) process.stdout.write(`${WHYPORT_VERSION}\n`);
else {
  // The socket table of a plain diagnosis starts now, on another core, while the bundle loads.
  const early = startEarly(argv);
  const bundle = loadBundle(join(dirname(typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url)), 'whyport.cjs'));
  bundle?.run(process.argv.slice(2), early);
}

/** Loads the bundle as Node would require it, compiled from the code cache when there is one. */
function loadBundle(bundle: string): typeof import('./bundle.js') | undefined {
  let source: string;
  try {
    source = readFileSync(bundle, 'utf8');
  } catch (err) {
    process.stderr.write(`whyport: cannot read ${bundle} (${(err as NodeJS.ErrnoException).code ?? String(err)})\n  hint: the installation is incomplete: install whyport again\n`);
    process.exitCode = 2;
    return undefined;
  }
  const { size, mtimeMs } = statSync(bundle);
  const dir = cacheDir(WHYPORT_VERSION);
  const key = `${process.version}-${process.arch}-${size}-${Math.trunc(mtimeMs)}`;
  const file = dir && join(dir, `${key}-${commandKind(argv)}.v8cache`);
  // None yet, not readable or not only ours: compile, and write one at exit.
  const cachedData = file ? readPrivately(file) : undefined;
  // Node's own CommonJS wrapper, so the bundle sees what a required module would.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  if (dir && file && (!cachedData || script.cachedDataRejected)) process.once('exit', () => saveCache(script, dir, file, key));
  const module = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return module.exports as typeof import('./bundle.js');
}

/** The kinds of command that compile different parts of whyport: each subcommand, and a diagnosis. */
function commandKind(args: readonly string[]): string {
  const first = args[0] ?? '';
  if (first === '__complete') return 'completion';
  return ['baseline', 'explain', 'completion', 'playbook', 'checks'].includes(first) ? first : 'diagnose';
}

/**
 * Writes what V8 compiled in this run, which after the run includes the functions compiled on
 * their first call (a temp file, then renamed: another whyport may be reading it), and drops the
 * caches of other builds and nodes. A cache that cannot be written only costs speed.
 */
function saveCache(script: Script, dir: string, file: string, key: string): void {
  if (!writePrivately(file, script.createCachedData())) return;
  try {
    for (const f of readdirSync(dir)) if (f.endsWith('.v8cache') && !f.startsWith(key)) unlinkSync(join(dir, f));
  } catch {
    // another whyport removed them first
  }
}
