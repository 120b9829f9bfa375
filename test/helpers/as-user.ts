import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Running things as another user (nobody) from tests run as root. The checkout may sit under a
 * directory only root can enter (a clone in /root, or under `mktemp -d`, which is mode 700), so
 * nothing that user runs is taken from the checkout: it is copied first into a fresh directory
 * every user can read.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// Found on disk rather than on PATH, which under a version manager's shims may not hold it.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** argv prefix that runs a command as nobody:nogroup, without root's supplementary groups. */
export const AS_NOBODY: readonly string[] = [SETPRIV ?? 'setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];

/** Why nothing can be run as nobody here, or undefined when it can: not root, or no setpriv. */
export function asNobodySkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'only root can run a command as nobody (run the tests as root, e.g. in .ci/run)';
  if (!SETPRIV) return 'setpriv (util-linux) is missing: apt-get install -y util-linux';
  return undefined;
}

const made = new Set<string>();

// If the test process ends without its afterAll, still remove the copies (exit handlers are synchronous).
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** Whether every user may pass through dir and each folder above it. */
function enterableByAll(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === dirname(d)) return true;
  }
}

/**
 * A fresh directory that every user can enter and read (mkdtemp makes it 0700): under the temp
 * dir, or under /tmp when TMPDIR points somewhere others cannot reach (a folder in /root, say).
 * The caller removes it, or it goes when the test process exits.
 */
export function readableTempDir(prefix: string): string {
  const base = enterableByAll(tmpdir()) ? tmpdir() : '/tmp';
  const dir = mkdtempSync(join(base, prefix));
  chmodSync(dir, 0o755);
  made.add(dir);
  return dir;
}

/** Makes everything under dir readable (and directories enterable) by everyone, whatever root's umask was. */
function openUp(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      chmodSync(path, 0o755);
      openUp(path);
    } else if (entry.isFile()) {
      chmodSync(path, 0o644);
    }
  }
}

/** The built CLI copied where another user can run it. */
export interface BuiltCopy {
  /** argv that runs the copy as nobody: setpriv …, node, the copy's dist/cli.js. */
  readonly nobodyArgv: readonly string[];
  /**
   * The working directory to run it in (the copy's own). Never the checkout's: from a directory
   * it cannot enter, every command whyport starts fails to spawn.
   */
  readonly cwd: string;
  /** Why nobody cannot run the copy (tried for real), or undefined when it can. */
  readonly nobodySkipReason: string | undefined;
  /** Deletes the copy. Safe to call twice. */
  remove(): void;
}

/**
 * Copies the built CLI into a fresh world-readable directory: dist/ but the single executable (the
 * start-up entry, its CommonJS bundle, dist/playbooks/ and dist/help.txt), and beside it
 * package.json and playbooks/, by which the bundle finds its package root (src/paths.ts).
 * Timestamps are kept, since a compiled playbook older than its YAML is ignored. Then runs the copy
 * as nobody once, so whatever still stands in nobody's way (no setpriv, a node it cannot execute)
 * becomes a skip reason rather than a failure.
 */
export function copyBuiltCli(): BuiltCopy {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) throw new Error(`${join(ROOT, 'dist', 'cli.js')} is missing: run npm run build first (npm test does)`);
  const dir = readableTempDir('whyport-as-user-');
  // Not the single executable (dist/whyport-linux-*, ~90 MB): the copy runs the bundle with node.
  const sea = (src: string) => !/[\\/]dist[\\/]whyport-linux-[^\\/]*$/.test(src);
  for (const part of ['dist', 'playbooks', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true, preserveTimestamps: true, filter: sea });
  openUp(dir);
  const cli = join(dir, 'dist', 'cli.js');
  return {
    nobodyArgv: [...AS_NOBODY, process.execPath, cli],
    cwd: dir,
    nobodySkipReason: nobodyCannotRun(cli, dir),
    remove() {
      rmSync(dir, { recursive: true, force: true });
      made.delete(dir);
    },
  };
}

function nobodyCannotRun(cli: string, cwd: string): string | undefined {
  const unavailable = asNobodySkipReason();
  if (unavailable) return unavailable;
  const asNobody = (args: string[]) => spawnSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), ...args], { cwd, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const why = (r: ReturnType<typeof asNobody>) => r.error?.message ?? r.stderr.split('\n').find((l) => /error|denied/i.test(l))?.trim() ?? `exit ${r.status}`;
  const node = asNobody([process.execPath, '-e', '']);
  if (node.error || node.status !== 0) return `nobody cannot execute node (${process.execPath}): ${why(node)}; install node where every user can run it`;
  const copy = asNobody([process.execPath, cli, '--version']);
  if (copy.error || copy.status !== 0) return `nobody cannot run the copy of the build in ${cwd}: ${why(copy)}; is every folder above it open to every user?`;
  return undefined;
}
