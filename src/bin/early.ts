import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { COMMAND_ENV, type CommandResult } from '../host/runner.js';
import { socketTableArgv, tcpInUse, udpSocketTableArgv } from '../host/socket-argv.js';
import { COMPLETE_WORD, DIAGNOSE_OPTIONS, optionWords, SUBCOMMANDS, splitHostPort } from '../cli/words.js';
import type { EarlyReads } from '../host/early-reads.js';

// The slowest reads of a diagnosis on a busy server, started by the start-up entry (src/bin/bin.ts)
// before whyport's bundle is even read, so they run on other cores while node compiles and sets up
// the walk: the port's socket table (ss), and for an address of this machine the other network
// namespaces' TCP tables (/proc/PID/net/tcp, each a walk of the socket hash all namespaces share).
// The local host takes a result the first time the walk asks for that very command with that very
// timeout (EarlyReads.take), or that very file (takeFile); a command line this cannot read for sure
// starts nothing, and the walk reads for itself as always. The entry hands the reads it started to
// the bundle's run() as an argument (src/bin/bundle.ts), and main gives them to the local host.

interface Started {
  timeoutMs: number;
  result: Promise<CommandResult>;
  /** Kills the command if it still runs (Ctrl-C). */
  stop(): void;
}

/** The reads the start-up entry began for this run, each handed to the local host once. */
export class EarlyStart implements EarlyReads {
  readonly #started = new Map<string, Started>();
  readonly #files = new Map<string, Promise<string>>();

  /** Records a command begun early (startEarly). */
  begin(argv: readonly string[], timeoutMs: number): void {
    this.#started.set(JSON.stringify(argv), { timeoutMs, ...runEarly(argv, timeoutMs) });
  }

  /** Records a file read begun early (startEarly). */
  beginFile(path: string): void {
    const read = readFile(path, 'utf8');
    read.catch(() => {}); // the walk's own read says why, if it still wants it
    this.#files.set(path, read);
  }

  /** The early result for exactly this command and timeout, once; undefined otherwise. */
  take(argv: readonly string[], options: { timeoutMs?: number; input?: string; env?: Record<string, string>; signal?: AbortSignal }, defaultTimeoutMs: number): Promise<CommandResult> | undefined {
    if (options.input !== undefined || options.env !== undefined) return undefined;
    const key = JSON.stringify(argv);
    const s = this.#started.get(key);
    if (!s || s.timeoutMs !== (options.timeoutMs ?? defaultTimeoutMs)) return undefined;
    this.#started.delete(key);
    if (options.signal?.aborted) s.stop();
    else options.signal?.addEventListener('abort', s.stop, { once: true });
    return s.result;
  }

  /** The early read of exactly this file, once; undefined otherwise. */
  takeFile(path: string): Promise<string> | undefined {
    const read = this.#files.get(path);
    if (read) this.#files.delete(path);
    return read;
  }

  /** The files whose reading began and has not been taken yet. */
  filesPending(): string[] {
    return [...this.#files.keys()];
  }

  /** Kills every early command still running that the walk has not taken (Ctrl-C before it asked). */
  stop(): void {
    for (const s of this.#started.values()) s.stop();
    this.#started.clear();
  }
}

// What the diagnosis command line takes (src/cli/words.ts, the table commander is given too): the
// options that leave the first reads as they are; anything else starts nothing.
const EARLY = DIAGNOSE_OPTIONS.filter((o) => o.early).map(optionWords);
const WITH_VALUE = new Set(EARLY.filter((o) => o.value === 'required').flatMap((o) => o.names));
const FLAGS = new Set(EARLY.filter((o) => o.value === 'none').flatMap((o) => o.names));
const DEFAULT_TIMEOUT_MS = Number(DIAGNOSE_OPTIONS.find((o) => o.flags.startsWith('--timeout'))!.default);
const NOT_A_HOST = new Set<string>([...SUBCOMMANDS, COMPLETE_WORD, 'help']);

/**
 * The socket-table command a plain diagnosis (`whyport HOST PORT[/udp] [--process P] …`, the
 * built-in playbook, this machine) runs first, with the timeout it runs it with; undefined for
 * anything else (subcommands, --playbook, --ssh, --watch, --fix, service names, odd input).
 */
export function earlyCommand(args: readonly string[]): { argv: string[]; timeoutMs: number; host: string; protocol: 'tcp' | 'udp' } | undefined {
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
  if (NOT_A_HOST.has(positionals[0] ?? '')) return undefined;
  let port: string | undefined;
  let host: string | undefined;
  if (positionals.length === 2) [host, port] = positionals;
  else if (positionals.length === 1) ({ host, port } = splitHostPort(positionals[0]!) ?? {});
  const m = port === undefined ? null : /^(\d{1,5})(?:\/(tcp|udp))?$/i.exec(port);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) return undefined;
  const written = m[2]?.toLowerCase();
  if (written === 'tcp' && udpFlag) return undefined;
  const n = Number(m[1]);
  const protocol = written === 'udp' || udpFlag ? 'udp' : 'tcp';
  return { argv: protocol === 'udp' ? udpSocketTableArgv(n) : socketTableArgv(n), timeoutMs, host: host!.replace(/^\[|\]$/g, ''), protocol };
}

/** Starts the reads a diagnosis of `args` makes first, if there are some for sure (earlyCommand). */
export function startEarly(args: readonly string[]): EarlyStart | undefined {
  const c = earlyCommand(args);
  if (!c) return undefined;
  const early = new EarlyStart();
  early.begin(c.argv, c.timeoutMs);
  // A TCP port of this machine: the walk looks in the other namespaces when nothing here listens.
  if (c.protocol === 'tcp' && isOwnLiteral(c.host)) for (const path of otherNamespaceTables()) early.beginFile(path);
  return early;
}

/** A literal address of this machine (or localhost): a name would need the resolver. */
function isOwnLiteral(host: string): boolean {
  if (host === 'localhost') return true;
  if (!isIP(host)) return false;
  if (host.startsWith('127.') || host === '::1') return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === host));
}

/**
 * Early reads at most: libuv's thread pool has 4 threads, and the bundle's own reads (its code
 * cache, the playbook) must not queue behind a host's many namespaces; the walk reads the rest.
 */
export const EARLY_FILES = 4;

/**
 * The TCP tables the namespaces step will read (src/system/namespaces.ts): of each network
 * namespace but this one, its smallest pid's /proc/PID/net/tcp and tcp6, where sockstat counts
 * any socket of that family; the first EARLY_FILES of them. Nothing when /proc cannot be walked.
 */
function otherNamespaceTables(): string[] {
  try {
    const own = readlinkSync('/proc/self/ns/net');
    const seen = new Set([own]);
    const out: string[] = [];
    const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).sort((a, b) => a - b);
    for (const pid of pids) {
      let ns: string;
      try {
        ns = readlinkSync(`/proc/${pid}/ns/net`);
      } catch {
        continue;
      }
      if (seen.has(ns)) continue;
      seen.add(ns);
      for (const [file, stat, label] of [['tcp', 'sockstat', 'TCP'], ['tcp6', 'sockstat6', 'TCP6']] as const) {
        let counts = '';
        try {
          counts = readFileSync(`/proc/${pid}/net/${stat}`, 'utf8');
        } catch {
          // unreadable: the walk decides
        }
        if (tcpInUse(counts, label) !== 0) out.push(`/proc/${pid}/net/${file}`);
        if (out.length === EARLY_FILES) return out;
      }
    }
    return out;
  } catch {
    return [];
  }
}

/** As the runner runs a command (src/host/runner.ts): argv only, C locale, cwd /, a timeout, a non-zero exit as data. */
function runEarly(argv: readonly string[], timeoutMs: number): { result: Promise<CommandResult>; stop(): void } {
  const began = performance.now();
  let stop = () => {};
  const result = new Promise<CommandResult>((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let missing = false;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...COMMAND_ENV },
      windowsHide: true,
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
    let ended = false;
    stop = () => {
      if (!ended) child.kill('SIGKILL');
    };
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', (e: NodeJS.ErrnoException) => {
      missing = e.code === 'ENOENT';
    });
    child.once('close', (code) => {
      ended = true;
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
  return { result, stop: () => stop() };
}
