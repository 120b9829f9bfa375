import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { BUILT_IN, PACKAGE_ROOT, builtInFiles } from '../paths.js';

// `npm run sea` (after `npm run build`): whyport as one file for servers without Node.js, with
// Node's single executable applications. A CommonJS bundle of src/bin/sea-entry.ts (a SEA runs one CommonJS
// script; dist/cli.js stays the ESM build with its lazy chunks), the built-in files as SEA assets
// under their paths in the package (src/paths.ts reads them there), V8's code cache made at build,
// injected with postject into a copy of this node. Only for this machine's architecture: a SEA is
// a node binary with the script inside, and there is no node binary of another architecture here.

type Esbuild = typeof import('esbuild');
interface Postject {
  inject(file: string, resource: string, data: Buffer, opts: { sentinelFuse: string }): Promise<void>;
}

/** The fuse node looks for to know a blob was injected (node's docs, "Single executable applications"). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const EXTERNAL_TIMEOUT_MS = 120_000;

const requireHere = createRequire(import.meta.url);
const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
const work = join(PACKAGE_ROOT, 'dist', 'sea');
const output = join(PACKAGE_ROOT, 'dist', `whyport-linux-${process.arch}`);

if (process.platform !== 'linux') fail(`single executables are built for Linux only (this is ${process.platform})`);
const assets = [BUILT_IN.schema, BUILT_IN.help, ...builtInFiles(BUILT_IN.playbooks).filter((f) => f.endsWith('.yaml')).map((f) => `${BUILT_IN.playbooks}/${f}`), ...builtInFiles(BUILT_IN.compiledPlaybooks).map((f) => `${BUILT_IN.compiledPlaybooks}/${f}`)];
for (const a of assets) if (!existsSync(join(PACKAGE_ROOT, a))) fail(`${a} is missing: run npm run build first (npm run sea does)`);
if (!assets.some((a) => a.startsWith(`${BUILT_IN.compiledPlaybooks}/`))) fail(`${BUILT_IN.compiledPlaybooks} is empty: run npm run build first`);

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const main = join(work, 'whyport.cjs');
await (requireHere('esbuild') as Esbuild).build({
  entryPoints: [join(PACKAGE_ROOT, 'src', 'bin', 'sea-entry.ts')],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  outfile: main,
  logLevel: 'warning',
  // paths.ts reads import.meta only outside the single executable.
  logOverride: { 'empty-import-meta': 'silent' },
  define: { WHYPORT_VERSION: JSON.stringify(version), WHYPORT_SEA_ASSETS: JSON.stringify(assets) },
});

const blob = join(work, 'whyport.blob');
const config = join(work, 'sea-config.json');
writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets: Object.fromEntries(assets.map((a) => [a, join(PACKAGE_ROOT, a)])) }, null, 2) + '\n');
run(process.execPath, ['--experimental-sea-config', config]);

// Into a copy of this node: stripped of its symbols and debug sections when binutils' strip is
// here (a Debian node carries ~13 MB of them; the program does not read them), then the blob.
const partial = `${output}.partial`;
rmSync(partial, { force: true });
let stripped = false;
try {
  run('strip', ['-o', partial, process.execPath]);
  stripped = true;
} catch {
  copyFileSync(process.execPath, partial);
}
// LIEF inside postject warns about each of node's many .note sections it cannot name
// (nodejs/postject#83); the injection is sound. Its other messages still show.
const warn = console.warn;
console.warn = (...args: unknown[]) => void (/^warning: Can't find string offset for section name/.test(String(args[0])) || warn(...args));
try {
  await (requireHere('postject') as Postject).inject(partial, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
} finally {
  console.warn = warn;
}
chmodSync(partial, 0o755);
const said = execFileSync(partial, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
if (said !== version) fail(`the built executable says its version is '${said}', not ${version}`);
renameSync(partial, output);
rmSync(work, { recursive: true, force: true });

const mb = (statSync(output).size / 1e6).toFixed(1);
process.stdout.write(`${relative(process.cwd(), output)}: ${mb} MB, whyport ${version} on node ${process.version} (${process.arch}${stripped ? ', stripped' : ''}), assets: ${assets.join(', ')}\n`);
if (process.arch === 'x64') process.stdout.write('arm64: not built (a single executable is a node binary of its architecture, and this machine has only its own)\n');

/** An external command of the build, with a timeout; its output only on failure. */
function run(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { timeout: EXTERNAL_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

function fail(message: string): never {
  process.stderr.write(`sea: ${message}\n`);
  process.exit(1);
}
