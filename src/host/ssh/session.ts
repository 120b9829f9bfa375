import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandResult, Runner, RunOptions } from '../runner.js';
import { shellCommandLine } from '../shell-quote.js';
import type { SshTarget } from '../ssh-target.js';
import { sshFailure } from './failure.js';
import { batchScript, bounded, missingProgram, newBoundary, showRemote, splitBatch, type BatchItem } from './framing.js';
import { parsePreflight, type ServerFacts } from './preflight.js';
import { REMOTE_SCRIPTS } from './remote-scripts.js';

/** How to reach the server: the checked `--ssh` destination and what goes with it. */
export interface SshSettings {
  target: SshTarget;
  /** `--ssh-option KEY=VALUE`, each passed as `-o KEY=VALUE`, after whyport's own. */
  options: readonly string[];
  /** Run every remote command under `sudo -n` (never asks for a password). */
  sudo: boolean;
  /** BatchMode=yes: never ask for a password or a passphrase (stdin is not a TTY). */
  batchMode: boolean;
  /** How long connecting and authenticating may take. */
  connectTimeoutMs: number;
  /** Commands to run in the first round trip with the preflight; `run` of the same argv then takes the result. */
  preload?: readonly (readonly string[])[];
  /** Ctrl-C: every ssh process of the session (the master's connect too) is killed when it aborts. */
  signal?: AbortSignal;
}

/** A failure to reach or use the server, worded for one line of the report. */
export class SshError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshError';
  }
}

// Extra seconds the local ssh client gets beyond a remote command's own timeout (the remote
// `timeout` ends the command; this ends a connection that hangs).
const SSH_SLACK_MS = 3_000;

/**
 * One multiplexed ssh connection to the server for one diagnosis (ControlMaster in a private
 * directory, closed and removed by close()). Every remote command goes through `exec`, which quotes
 * argv once for the remote shell (shell-quote.ts), bounds it there (framing.ts) and counts the
 * commands run; `execBatch` sends several in one round trip (turns.ts gathers those of one turn).
 * When settings.signal aborts (Ctrl-C), every ssh process of the session ends, the master's too.
 */
export class SshSession {
  #dir: string | undefined;
  #controlPath = '';
  #open = false;
  #closed = false;
  #opening: Promise<ServerFacts> | undefined;
  readonly #preloaded = new Map<string, CommandResult>();
  /** The boundary of the /proc snapshot that may go with the first round trip (procSnapshotArgv). */
  readonly bootBoundary = newBoundary();
  /** Remote commands run so far (the master connection runs none). */
  commands = 0;
  /** Each remote command as run (the script name for whyport's own scripts), in order. */
  readonly log: string[] = [];
  facts: ServerFacts | undefined;

  constructor(
    readonly settings: SshSettings,
    private readonly local: Runner,
  ) {}

  /** The server as the report names it. */
  get label(): string {
    const t = this.settings.target;
    return `${t.destination}${t.port ? `:${t.port}` : ''}`;
  }

  /** ssh's argv up to and including the destination, with whyport's options then the user's. */
  sshArgv(extra: readonly string[]): string[] {
    const s = this.settings;
    const o = (kv: string) => ['-o', kv];
    return [
      'ssh',
      '-T',
      ...o(`BatchMode=${s.batchMode ? 'yes' : 'no'}`),
      ...o(`ConnectTimeout=${Math.max(1, Math.ceil(s.connectTimeoutMs / 1000))}`),
      ...o(`ControlPath=${this.#controlPath}`),
      ...extra,
      ...(s.target.port ? ['-p', String(s.target.port)] : []),
      ...s.options.flatMap(o),
      '--',
      s.target.destination,
    ];
  }

  /**
   * Connects (authenticating once) and asks the server about itself; every later call shares the
   * one connection attempt. Rejects with an SshError of one line.
   */
  open(): Promise<ServerFacts> {
    this.#opening ??= this.#connect();
    return this.#opening;
  }

  async #connect(): Promise<ServerFacts> {
    if (this.#closed) throw new SshError('the ssh connection was already closed');
    const started = performance.now();
    // Short and private: a unix socket path has ~100 bytes, and nobody else may connect to it.
    this.#dir = mkdtempSync(join(tmpdir(), 'whyport-ssh-'));
    this.#controlPath = join(this.#dir, '%C');
    // -f -N: background once authenticated, run no command; ControlPersist bounds a master that
    // outlives whyport (killed without a chance to close it) to a minute of idleness.
    const master = await this.local.run(this.sshArgv(['-o', 'ControlMaster=yes', '-o', 'ControlPersist=60', '-f', '-N']), {
      timeoutMs: this.settings.connectTimeoutMs + SSH_SLACK_MS,
      ...this.#signal(),
    });
    if (this.settings.signal?.aborted) throw new SshError('interrupted (Ctrl-C) while connecting');
    if (master.missing) throw new SshError('there is no ssh client on this machine (install openssh-client)');
    if (master.timedOut || master.exitCode !== 0) throw new SshError(sshFailure(this.label, master, Math.round(performance.now() - started)));
    this.#open = true;
    // One round trip: who and what the server is, and the reads every diagnosis starts with.
    // $SSH_CONNECTION is read before sudo, which would drop it.
    const preload = this.settings.preload ?? [];
    const items = [{ argv: ['sh', '-c', REMOTE_SCRIPTS.preflight, 'sh'], options: { timeoutMs: this.settings.connectTimeoutMs } }, ...preload.map((argv) => ({ argv }))];
    const { results, head } = await this.#batch(items, ['sh', '-c', REMOTE_SCRIPTS.connection, 'sh'], true);
    const r = results[0]!;
    if (r.exitCode !== 0) {
      throw new SshError(sshFailure(this.label, r, 0, { sudo: this.settings.sudo, preflight: true }));
    }
    preload.forEach((argv, i) => this.#preloaded.set(JSON.stringify(argv), results[i + 1]!));
    this.facts = parsePreflight(`${head}${r.stdout}`, performance.now());
    return this.facts;
  }

  /** The result of a command the first round trip already ran (settings.preload), once. */
  takePreloaded(argv: readonly string[]): CommandResult | undefined {
    const key = JSON.stringify(argv);
    const r = this.#preloaded.get(key);
    this.#preloaded.delete(key);
    return r;
  }

  /** Runs argv on the server: quoted once, under `timeout` there, with the C locale (and sudo -n with --sudo). */
  async exec(argv: readonly string[], options: RunOptions = {}, before: readonly string[] = [], connecting = false): Promise<CommandResult> {
    if (!connecting) await this.open();
    if (this.#closed) throw new SshError('the ssh connection was closed');
    const timeoutMs = options.timeoutMs ?? 5_000;
    const words = [...before, ...(this.settings.sudo ? ['sudo', '-n', '--'] : []), ...bounded(argv, timeoutMs, options.env)];
    this.commands++;
    this.log.push(showRemote(argv));
    const r = await this.local.run([...this.sshArgv(['-o', 'ControlMaster=no']), shellCommandLine(words)], {
      timeoutMs: timeoutMs + SSH_SLACK_MS,
      ...(options.input !== undefined ? { input: options.input } : {}),
      ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
      ...this.#signal(options.signal),
    });
    // env says 127 for a program it cannot find, timeout 124 when it had to stop the command.
    const missing = missingProgram(r.exitCode, r.stderr);
    // An sshd that logs at DEBUG to its stderr (-e) sends those lines down the channel too.
    const stderr = r.stderr.replace(/^debug\d: [^\n]*\r\n/gm, '');
    return { ...r, stderr, argv, missing, timedOut: r.timedOut || r.exitCode === 124 };
  }

  /**
   * Runs several commands in one round trip: a script on the stdin of `sh -s` runs them one after
   * the other, each under its own timeout, and frames each one's stdout, stderr and exit status
   * with a random boundary (so no output can pass for a frame). The script holds each argv quoted
   * once (shell-quote.ts) and nothing else of the caller's.
   */
  async execBatch(items: readonly BatchItem[]): Promise<CommandResult[]> {
    return (await this.#batch(items)).results;
  }

  async #batch(items: readonly BatchItem[], before: readonly string[] = [], connecting = false): Promise<{ results: CommandResult[]; head: string }> {
    const b = newBoundary();
    const { script, timeoutMs } = batchScript(items);
    const started = performance.now();
    const r = await this.exec(['sh', '-s', '--', b], { timeoutMs: timeoutMs + 1_000, input: script }, before, connecting);
    this.log.pop();
    this.log.push(`sh -s <batch> ${items.map((it) => showRemote(it.argv)).join(' ; ')}`);
    return splitBatch(items, r, b, Math.round(performance.now() - started));
  }

  /** The signal a local ssh process is killed by: the caller's, else the session's. */
  #signal(signal?: AbortSignal): { signal?: AbortSignal } {
    const s = signal ?? this.settings.signal;
    return s ? { signal: s } : {};
  }

  /** Closes the master connection and removes the private directory. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#open) await this.local.run(this.sshArgv(['-O', 'exit']), { timeoutMs: 3_000 }).catch(() => undefined);
    this.closeSync();
  }

  /** What can still be done on the way out (a signal): remove the directory; the master then ends itself. */
  closeSync(): void {
    this.#closed = true;
    // Removing the socket makes the master unreachable; ControlPersist ends it within a minute.
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}

