/**
 * What the orchestrator (in the machine's own namespace) makes and must undo: namespaces, temp
 * dirs, child processes; the commands it runs to set things up, and the timing harness it starts
 * inside a namespace.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import type { MeasureConfig } from '../measure.js';
import { log, SELF } from './common.js';
import type { CaseResult } from './timing.js';

interface Resources {
  /** Network namespaces this run made (never one it did not). */
  namespaces: string[];
  tmps: string[];
  children: ChildProcess[];
}

export const res: Resources = { namespaces: [], tmps: [], children: [] };
let cleanedUp = false;

/** Still running: a zombie counts as gone (the event loop, which reaps it, is not running during cleanup). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM, up to 5 s to go, then SIGKILL; synchronous. */
function killAndWait(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5_000;
  while (pids.some(alive) && Date.now() < deadline) spawnSync('sleep', ['0.05'], { timeout: 1_000 });
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Kills our own helpers (and sshd) by pid, then whatever they left running in our namespaces (an
 * ssh master of a whyport killed mid-run, an sshd session), by the pids `ip netns pids` gives; then
 * deletes the namespaces and temp dirs. Synchronous: also runs from 'exit'.
 */
export function cleanup(): void {
  if (cleanedUp) return;
  cleanedUp = true;
  killAndWait(res.children.flatMap((c) => (c.pid !== undefined && c.exitCode === null && c.signalCode === null ? [c.pid] : [])));
  const left = res.namespaces.flatMap((ns) => {
    const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5_000 });
    return r.status === 0 ? r.stdout.split('\n').filter(Boolean).map(Number).filter((pid) => pid !== process.pid) : [];
  });
  if (left.length > 0) killAndWait(left);
  for (const ns of [...res.namespaces].reverse()) {
    const r = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) log(`bench: could not delete namespace ${ns}: ${r.error?.message ?? r.stderr.trim()}`);
  }
  for (const dir of res.tmps) rmSync(dir, { recursive: true, force: true });
}

export function must(argv: string[], timeoutMs = 30_000): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

export function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore', timeout: 5_000 }).status === 0;
}

/** Makes a namespace with lo up, and remembers it for cleanup. */
export function addNamespace(ns: string): string {
  must(['ip', 'netns', 'add', ns]);
  res.namespaces.push(ns);
  must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  return ns;
}

/** Starts a helper inside the namespace and waits for the line starting with `ready`. */
export function startHelper(ns: string, argv: string[], onLine: (line: string) => void, timeoutMs: number): Promise<{ child: ChildProcess; ready: string }> {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
  res.children.push(child);
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${argv.join(' ')}: not ready after ${timeoutMs / 1000} s`)), timeoutMs);
    child.on('error', (e) => reject(e));
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')} exited early (${sig ?? `exit ${code}`})`));
    });
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ready')) {
          clearTimeout(timer);
          resolve({ child, ready: line });
        } else if (line.startsWith('error')) {
          clearTimeout(timer);
          reject(new Error(`${argv.join(' ')}: ${line}`));
        } else onLine(line);
      }
    });
  });
}

/** Runs the timing harness inside the namespace; its results come back as JSON on stdout. */
export function measureInNamespace(ns: string, config: MeasureConfig, timeoutMs: number): Promise<CaseResult[]> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, SELF, '__measure', JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  res.children.push(child);
  const out: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  let timedOut = false;
  // What it was running when killed is left in the namespace; cleanup() finds it there.
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      if (timedOut) return reject(new Error(`the timing harness did not finish in ${Math.round(timeoutMs / 1000)} s`));
      if (code !== 0) return reject(new Error(`the timing harness failed (${sig ?? `exit ${code}`})`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as CaseResult[]);
      } catch (e) {
        reject(new Error(`the timing harness printed no results: ${(e as Error).message}`));
      }
    });
  });
}

/** Stops children of ours by pid (SIGTERM, SIGKILL after 5 s), waits for their exit, and forgets them. */
export async function stopChildren(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const hard = setTimeout(() => c.kill('SIGKILL'), 5_000);
          c.once('exit', () => {
            clearTimeout(hard);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  res.children = res.children.filter((c) => !children.includes(c));
}

/** Deletes namespaces of ours (after their processes are gone) and forgets them. */
export function dropNamespaces(names: string[]): void {
  for (const ns of names) must(['ip', 'netns', 'del', ns], 10_000);
  res.namespaces = res.namespaces.filter((n) => !names.includes(n));
}

