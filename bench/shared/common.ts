/** What every part of the bench shares: where whyport's build is, progress lines on stderr, settings from the environment. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bench's own entry (dist/bench/bench.js, everything is bundled into it): helpers are this file again, picked by argv[2]. */
export const SELF = fileURLToPath(import.meta.url);
const DIST = fileURLToPath(new URL('..', import.meta.url));
// What `whyport` runs once installed (package.json "bin"): the CommonJS entry, which starts sooner than dist/cli.js.
export const CLI = join(DIST, 'cli.cjs');

export const log = (s: string) => void process.stderr.write(`${s}\n`);
/** A progress line rewritten in place on a terminal; elsewhere only the last one is kept (see `endStatus`). */
export const status = (s: string) => void (process.stderr.isTTY ? process.stderr.write(`\r  ${s}   `) : (lastStatus = s));
let lastStatus = '';
export const endStatus = () => void process.stderr.write(process.stderr.isTTY ? '\n' : lastStatus ? `  ${lastStatus}\n` : '');

export function intEnv(name: string, fallback: number, min: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, not ${JSON.stringify(v)}`);
  return n;
}

/** Exits when the parent goes away (its end of our stdin closes), so no helper outlives a killed bench. */
export function exitWithParent(): void {
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
