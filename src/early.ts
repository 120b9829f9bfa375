import { spawn } from 'node:child_process';
import type { CommandResult } from './host/runner.js';
import { socketTableArgv, udpSocketTableArgv } from './system/socket-argv.js';

// The first command of a diagnosis — the port's socket table, the slowest read on a busy server —
// started by the start-up entry (src/start.ts) before whyport's bundle is even read, so it runs on
// another core while node compiles and sets up the walk. The local runner takes its result the
// first time the walk asks for that very argv, with that very timeout (takeEarly); a command line
// this cannot read for sure starts nothing, and the walk runs the command itself as always. The
// entry and the bundle are separate scripts, so the one table they share hangs on globalThis.

const KEY = Symbol.for('whyport.early');
interface Started {
  timeoutMs: number;
  result: Promise<CommandResult>;
}
function started(): Map<string, Started> {
  const g = globalThis as { [KEY]?: Map<string, Started> };
  return (g[KEY] ??= new Map());
}

// What the diagnosis command line (src/args.ts) takes; anything else starts nothing.
const WITH_VALUE = new Set(['-p', '--process', '-s', '--service', '--timeout']);
const FLAGS = new Set(['--json', '--markdown', '-y', '--yes', '--no-color', '-v', '--verbose', '-u', '--udp']);
const DEFAULT_TIMEOUT_MS = 3_000;
const SUBCOMMANDS = new Set(['explain', 'baseline', 'playbook', 'checks', 'completion', '__complete', 'help']);

/**
 * The socket-table command a plain diagnosis (`whyport HOST PORT[/udp] [--process P] …`, the
 * built-in playbook, this machine) runs first, with the timeout it runs it with; undefined for
 * anything else (subcommands, --playbook, --ssh, --watch, --fix, service names, odd input).
 */
export function earlyCommand(args: readonly string[]): { argv: string[]; timeoutMs: number } | undefined {
  const positionals: string[] = [];
  let udpFlag = false;
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (WITH_VALUE.has(name)) {
      const value = name === a ? args[++i] : a.slice(eq + 1);
      if (value === undefined) return undefined;
      if (name === '--timeout') {
        if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 600_000) return undefined;
        timeoutMs = Number(value);
      }
    } else if (FLAGS.has(a)) {
      if (a === '-u' || a === '--udp') udpFlag = true;
    } else {
      return undefined;
    }
  }
  if (SUBCOMMANDS.has(positionals[0] ?? '')) return undefined;
  let port: string | undefined;
  if (positionals.length === 2) port = positionals[1];
  else if (positionals.length === 1) port = /^(?:\[[^\]]+\]|[^:]+):([^:]+)$/.exec(positionals[0]!)?.[1];
  const m = port === undefined ? null : /^(\d{1,5})(?:\/(tcp|udp))?$/i.exec(port);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) return undefined;
  const written = m[2]?.toLowerCase();
  if (written === 'tcp' && udpFlag) return undefined;
  const n = Number(m[1]);
  return { argv: written === 'udp' || udpFlag ? udpSocketTableArgv(n) : socketTableArgv(n), timeoutMs };
}

/** Starts the command a diagnosis of `args` runs first, if there is one for sure (earlyCommand). */
export function startEarly(args: readonly string[]): void {
  const c = earlyCommand(args);
  if (c) started().set(JSON.stringify(c.argv), { timeoutMs: c.timeoutMs, result: runEarly(c.argv, c.timeoutMs) });
}

/** The early result for exactly this command and timeout, once; undefined otherwise. */
export function takeEarly(argv: readonly string[], options: { timeoutMs?: number; input?: string; env?: Record<string, string> }, defaultTimeoutMs: number): Promise<CommandResult> | undefined {
  if (options.input !== undefined || options.env !== undefined) return undefined;
  const key = JSON.stringify(argv);
  const s = started().get(key);
  if (!s || s.timeoutMs !== (options.timeoutMs ?? defaultTimeoutMs)) return undefined;
  started().delete(key);
  return s.result;
}

/** As the runner runs a command (src/host/runner.ts): argv only, C locale, cwd /, a timeout, a non-zero exit as data. */
function runEarly(argv: readonly string[], timeoutMs: number): Promise<CommandResult> {
  const began = performance.now();
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let missing = false;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '', PAGER: 'cat' },
      windowsHide: true,
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', (e: NodeJS.ErrnoException) => {
      missing = e.code === 'ENOENT';
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({
        argv,
        exitCode: timedOut || missing || typeof code !== 'number' ? null : code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        missing,
        timedOut,
        durationMs: Math.round(performance.now() - began),
      });
    });
  });
}
