import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HostError, type FileInfo, type Host, type HostIdentity, type InterfaceAddress, type ResolvedAddress } from './host.js';
import type { CommandResult, Runner, RunOptions } from './runner.js';
import { HostScans } from './scan.js';
import { SnapshotFs } from './snapshot-fs.js';
import { shellCommandLine } from './shell-quote.js';
import { REMOTE_SCRIPTS } from './remote-scripts.js';
import type { SshTarget } from './ssh-target.js';
import { sshFailure } from './ssh-errors.js';
import type { ProbeOutcome, ProbeResult } from './tcp-connect.js';
import { talkOverShell } from './tcp-talk-remote.js';
import { udpSendTimes, type UdpProbeOutcome, type UdpProbeResult } from './udp-probe.js';

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

/** What the server said about itself when whyport first reached it (one remote command). */
export interface ServerFacts {
  identity: HostIdentity;
  /** The user the commands run as there (root with --sudo). */
  user: string | undefined;
  interfaces: InterfaceAddress[];
  systemd: boolean;
  /** The programs found on PATH there, of those whyport may use. */
  tools: Set<string>;
  /** $SSH_CONNECTION as the server saw it: the client's address and port, the server's address and port. */
  connection: { client: string; clientPort: number; server: string; serverPort: number } | undefined;
  /** The server's uptime in µs when it answered, and this process's clock then (for monotonicUs). */
  uptimeUs: number;
  atLocalMs: number;
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
 * argv once for the remote shell (shell-quote.ts) and counts the commands run.
 */
export class SshSession {
  #dir: string | undefined;
  #controlPath = '';
  #open = false;
  #closed = false;
  #opening: Promise<ServerFacts> | undefined;
  readonly #preloaded = new Map<string, CommandResult>();
  /** The boundary of the /proc snapshot that may go with the first round trip (procSnapshotArgv). */
  readonly bootBoundary = randomBytes(9).toString('hex');
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
    this.facts = parsePreflight(`${head}${r.stdout}`);
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
      ...this.#signal(options.signal),
    });
    // env says 127 for a program it cannot find, timeout 124 when it had to stop the command.
    const missing = r.exitCode === 127 && /env: .*No such file or directory/.test(r.stderr);
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
  async execBatch(items: readonly { argv: readonly string[]; options?: RunOptions }[]): Promise<CommandResult[]> {
    return (await this.#batch(items)).results;
  }

  async #batch(items: readonly { argv: readonly string[]; options?: RunOptions }[], before: readonly string[] = [], connecting = false): Promise<{ results: CommandResult[]; head: string }> {
    const b = randomBytes(9).toString('hex');
    const lines = ['b=$1'];
    let total = 0;
    items.forEach(({ argv, options = {} }, i) => {
      const timeoutMs = options.timeoutMs ?? 5_000;
      total += timeoutMs;
      lines.push(`printf '\\0%s %d\\0' "$b" ${i}; printf '\\0%s %d\\0' "$b" ${i} >&2`);
      lines.push(`${shellCommandLine(bounded(argv, timeoutMs, options.env))} </dev/null`);
      lines.push(`printf '\\0%s rc %d %d\\0' "$b" ${i} $?`);
    });
    const started = performance.now();
    const r = await this.exec(['sh', '-s', '--', b], { timeoutMs: total + 1_000, input: `${lines.join('\n')}\n` }, before, connecting);
    this.log.pop();
    this.log.push(`sh -s <batch> ${items.map((it) => showRemote(it.argv)).join(' ; ')}`);
    const durationMs = Math.round(performance.now() - started);
    const split = (text: string) => {
      const parts = new Map<number, string>();
      const re = new RegExp(`\\x00${b} (\\d+)\\x00`, "g");
      const marks = [...text.matchAll(re)];
      marks.forEach((m, k) => {
        const from = m.index! + m[0].length;
        const to = k + 1 < marks.length ? marks[k + 1]!.index! : text.length;
        parts.set(Number(m[1]), text.slice(from, to));
      });
      return parts;
    };
    const outs = split(r.stdout);
    const errs = split(r.stderr);
    const first = r.stdout.indexOf(`\0${b} `);
    const head = first < 0 ? r.stdout : r.stdout.slice(0, first);
    const results = items.map(({ argv }, i) => {
      let out = outs.get(i) ?? '';
      const rc = new RegExp(`\\x00${b} rc ${i} (\\d+)\\x00`).exec(out);
      out = rc ? out.slice(0, rc.index) : out;
      const exitCode = rc ? Number(rc[1]) : null;
      // exec already dropped sshd's debug lines from the whole stderr.
      const stderr = errs.get(i) ?? (rc ? '' : r.stderr);
      const missing = exitCode === 127 && /env: .*No such file or directory/.test(stderr);
      return { argv, exitCode, stdout: out, stderr, missing, timedOut: exitCode === 124 || (rc === null && r.timedOut), durationMs };
    });
    return { results, head };
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

/**
 * argv under a remote timeout, with the C locale and no pager: `timeout -k 1 N env … argv`. A fixed
 * PATH with the sbin directories: a non-root login's PATH often lacks them (nft, ss, iptables).
 */
function bounded(argv: readonly string[], timeoutMs: number, env: Record<string, string> = {}): string[] {
  const vars = Object.entries({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '', PAGER: 'cat', ...env });
  return ['timeout', '-k', '1', `${Math.max(1, Math.ceil(timeoutMs / 1000))}`, 'env', ...vars.map(([k, v]) => `${k}=${v}`), ...argv];
}

/** The one /proc snapshot every batched scan of a diagnosis reads (remote-scripts.ts, `proc`). */
export function procSnapshotArgv(boundary: string): string[] {
  return ['sh', '-c', REMOTE_SCRIPTS.proc, 'sh', boundary, 'comm cmdline children fd cgroup netns'];
}

/** A remote command as the log shows it: whyport's scripts by name, other commands as typed. */
function showRemote(argv: readonly string[]): string {
  if (argv[0] === 'sh' && argv[1] === '-c') {
    const name = Object.entries(REMOTE_SCRIPTS).find(([, text]) => text === argv[2])?.[0] ?? 'script';
    return `sh -c <${name}> ${argv.slice(4).filter((a) => !/^[0-9a-f]{18}$/.test(a)).join(' ')}`.trim();
  }
  return shellCommandLine(argv);
}

function parsePreflight(out: string): ServerFacts {
  const [head = '', ip = ''] = out.split('\n--ip\n');
  const kv = new Map<string, string[]>();
  for (const line of head.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i), [...(kv.get(line.slice(0, i)) ?? []), line.slice(i + 1)]);
  }
  const one = (k: string) => kv.get(k)?.[0] ?? '';
  const uid = Number(one('uid'));
  const conn = one('ssh').trim().split(/\s+/);
  const uptime = Number(one('uptime').split(/\s+/)[0]);
  return {
    identity: {
      hostname: one('hostname') || 'server',
      uid: Number.isInteger(uid) && one('uid') !== '' ? uid : undefined,
      root: one('uid') === '0',
      // od -tx2 of the bytes 'a','b': 6261 on a little-endian machine.
      byteOrder: one('order') === '6162' ? 'BE' : 'LE',
      ...(conn.length === 4 ? { via: { client: conn[0]!, server: conn[2]! } } : {}),
    },
    user: one('user') || undefined,
    interfaces: parseIpAddr(ip),
    systemd: one('systemd') === '1',
    tools: new Set(kv.get('tool') ?? []),
    connection: conn.length === 4 ? { client: conn[0]!, clientPort: Number(conn[1]), server: conn[2]!, serverPort: Number(conn[3]) } : undefined,
    uptimeUs: Number.isFinite(uptime) ? Math.round(uptime * 1e6) : 0,
    atLocalMs: performance.now(),
  };
}

/** `ip -o addr show`: `2: eth0    inet 10.0.0.5/24 brd … scope global eth0\ …`. */
export function parseIpAddr(text: string): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+(inet6?)\s+([0-9A-Fa-f.:]+)(?:\/\d+)?\s/.exec(line);
    if (!m) continue;
    out.push({ name: m[1]!, address: m[3]!, family: m[2] === 'inet6' ? 6 : 4, internal: m[1] === 'lo' });
  }
  return out;
}

function hostError(path: string, r: CommandResult): HostError {
  const e = r.stderr;
  const code = /No such file|not found/i.test(e) ? 'ENOENT' : /Permission denied/i.test(e) ? 'EACCES' : /Is a directory/i.test(e) ? 'EISDIR' : /Not a directory/i.test(e) ? 'ENOTDIR' : r.timedOut ? 'ETIMEDOUT' : 'EIO';
  const why = e.trim().split('\n').pop() || `exit status ${r.exitCode}`;
  return new HostError(`${path}: ${why}`, code);
}

/** Splits the NUL-framed output of the remote scripts into sections by their boundary. */
function sections(out: string, boundary: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const parts = out.split(`\0${boundary} `);
  for (const part of parts.slice(1)) {
    const nul = part.indexOf('\0');
    const name = part.slice(0, nul);
    map.set(name, part.slice(nul + 1).split('\0').filter((r) => r !== ''));
  }
  return map;
}

/** bash's words for a socket error on /dev/tcp or /dev/udp (strerror), as the errno a local socket would give. */
const SOCKET_ERRORS: readonly (readonly [RegExp, string])[] = [
  [/Connection refused/, 'ECONNREFUSED'],
  [/No route to host/, 'EHOSTUNREACH'],
  [/Network is unreachable/, 'ENETUNREACH'],
  [/Cannot assign requested address/, 'EADDRNOTAVAIL'],
];

function socketErrno(stderr: string): string | undefined {
  return SOCKET_ERRORS.find(([words]) => words.test(stderr))?.[1];
}

/**
 * The server as a Host. Commands and single reads are one remote command each; the batched scans
 * (socket owners, processes, descendants, sockets of pids, cgroups, unit files) are one remote
 * script each, whose output (/proc files framed by NULs) feeds the very scan code the local host
 * runs (scan.ts), over a snapshot of those files.
 */
export function sshHost(session: SshSession): Host {
  const facts = () => session.open();
  const script = async (name: keyof typeof REMOTE_SCRIPTS, args: readonly string[], timeoutMs = 10_000) => {
    const boundary = randomBytes(9).toString('hex');
    const r = await run(['sh', '-c', REMOTE_SCRIPTS[name], 'sh', boundary, ...args], { timeoutMs });
    if (r.exitCode !== 0 && !r.stdout.includes(boundary)) throw hostError(name, r);
    return { sections: sections(r.stdout, boundary), boundary };
  };
  // One snapshot of /proc (names, command lines, children, socket descriptors, cgroups of every
  // process) serves every batched scan of this host: one round trip, however many programs the
  // guesses look for. A host is made per diagnosis, so a re-check after a fix reads afresh.
  // The first one usually came with the first round trip (procSnapshotArgv in settings.preload).
  let snapshot: Promise<{ scans: HostScans; self: number }> | undefined;
  const snap = () =>
    (snapshot ??= (async () => {
      await session.open();
      let boundary = session.bootBoundary;
      let r = session.takePreloaded(procSnapshotArgv(boundary));
      if (!r) {
        boundary = randomBytes(9).toString('hex');
        r = await run(procSnapshotArgv(boundary), { timeoutMs: 10_000 });
      }
      if (r.exitCode !== 0 && !r.stdout.includes(boundary)) throw hostError('proc', r);
      const fs = SnapshotFs.fromProc(sections(r.stdout, boundary), boundary);
      return { scans: new HostScans(fs), self: fs.self ?? 0 };
    })());
  const procScans = async () => (await snap()).scans;

  // Commands asked for in the same turn of the event loop (a check's Promise.all) go together in
  // one round trip.
  let queue: { argv: readonly string[]; options: RunOptions; resolve: (r: CommandResult) => void; reject: (e: unknown) => void }[] = [];
  const flush = () => {
    const items = queue;
    queue = [];
    if (items.length === 1) {
      const [one] = items;
      session.exec(one!.argv, one!.options).then(one!.resolve, one!.reject);
      return;
    }
    session.execBatch(items).then(
      (results) => items.forEach((it, i) => it.resolve(results[i]!)),
      (err: unknown) => items.forEach((it) => it.reject(err)),
    );
  };
  const run = async (argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> => {
    if (options.input !== undefined) return session.exec(argv, options);
    await session.open();
    const preloaded = session.takePreloaded(argv);
    if (preloaded) return preloaded;
    return new Promise((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ argv, options, resolve, reject });
    });
  };

  return {
    run,
    async readFile(path) {
      const r = await run(['cat', '--', path]);
      if (r.exitCode !== 0) throw hostError(path, r);
      return r.stdout;
    },
    async readFileTail(path, bytes) {
      const r = await run(['sh', '-c', REMOTE_SCRIPTS.tail, 'sh', path, String(Math.max(0, Math.floor(bytes)))]);
      if (r.exitCode === 3) throw new HostError(`${path} is not a regular file`, 'ENOTREG');
      if (r.exitCode !== 0) throw hostError(path, r);
      const nl = r.stdout.indexOf('\n');
      const size = Number(r.stdout.slice(0, nl));
      const text = r.stdout.slice(nl + 1);
      return { text, start: Math.max(0, size - Buffer.byteLength(text)) };
    },
    async listDir(path) {
      const r = await run(['ls', '-A1', '--', path]);
      if (r.exitCode !== 0) throw hostError(path, r);
      return r.stdout.split('\n').filter(Boolean);
    },
    async readLink(path) {
      const r = await run(['readlink', '-v', '--', path]);
      if (r.exitCode !== 0) throw hostError(path, r.stderr ? r : { ...r, stderr: 'No such file or not a link' });
      return r.stdout.replace(/\n$/, '');
    },
    async stat(paths) {
      // The server's systemd marker was read on connecting: no round trip for it.
      if (paths.length === 1 && paths[0] === '/run/systemd/system') return [(await facts()).systemd ? { kind: 'directory', size: 0, mtimeMs: 0 } : undefined];
      if (paths.length === 0) return [];
      const r = await run(['sh', '-c', REMOTE_SCRIPTS.stat, 'sh', ...paths]);
      const lines = r.stdout.split('\n');
      return paths.map((_, i): FileInfo | undefined => {
        const m = /^(\S+) (\d+) (\d+)$/.exec(lines[i] ?? '');
        if (!m) return undefined;
        return { kind: m[1] === 'f' ? 'file' : m[1] === 'd' ? 'directory' : 'other', size: Number(m[2]), mtimeMs: Number(m[3]) * 1000 };
      });
    },
    async networkInterfaces() {
      return (await facts()).interfaces;
    },
    async lookup(name, opts) {
      const r = await run(['getent', 'ahosts', name], { timeoutMs: opts.timeoutMs });
      if (r.timedOut) throw new HostError(`no answer from the server's resolver within ${opts.timeoutMs} ms`, 'ETIMEOUT');
      if (r.exitCode === 2) throw new HostError(`${name} does not resolve on the server`, 'ENOTFOUND');
      if (r.exitCode !== 0) throw new HostError(`getent ahosts ${name} on the server: ${r.stderr.trim() || `exit status ${r.exitCode}`}`, 'EAI_AGAIN');
      const seen = new Set<string>();
      const out: ResolvedAddress[] = [];
      for (const line of r.stdout.split('\n')) {
        const address = line.split(/\s+/)[0] ?? '';
        if (!address || seen.has(address)) continue;
        seen.add(address);
        out.push({ address, family: address.includes(':') ? 6 : 4 });
      }
      return out;
    },
    async nameservers() {
      const text = await this.readFile('/etc/resolv.conf').catch(() => '');
      return text.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => Boolean(s));
    },
    async queryNameservers(servers) {
      // Asking each nameserver directly needs a DNS client on the server (dig is not stock);
      // the server's walk never reaches the resolver step (it starts once the name resolved).
      return servers.map((server) => ({ server, a: { code: 'ENOTSUP' }, aaaa: { code: 'ENOTSUP' } }));
    },
    async identity() {
      return (await facts()).identity;
    },
    async connectTcp(address, port, timeoutMs) {
      const started = performance.now();
      const r = await session.exec(['sh', '-c', REMOTE_SCRIPTS.connect, 'sh', address, String(port), (timeoutMs / 1000).toFixed(1)], { timeoutMs: timeoutMs + 2_000 });
      const durationMs = Math.round(performance.now() - started);
      const e = r.stderr;
      const result = (outcome: ProbeOutcome, errno?: string): ProbeResult => ({ address, port, outcome, ...(errno ? { errno } : {}), durationMs });
      if (r.exitCode === 0) return result('connected');
      if (r.exitCode === 124 || /timed out/i.test(e)) return result('timeout', 'ETIMEDOUT');
      const errno = socketErrno(e);
      if (errno) return result(errno === 'ECONNREFUSED' ? 'refused' : 'unreachable', errno);
      return result('error', r.exitCode === 9 ? 'no bash on the server' : e.trim().split('\n').pop() || `exit status ${r.exitCode}`);
    },
    async probeUdp(address, port, opts) {
      // bash cannot write an empty datagram (printf of nothing writes nothing): a newline goes instead.
      const empty = !opts.payload || opts.payload.length === 0;
      const hex = empty ? '0a' : Buffer.from(opts.payload!).toString('hex');
      const payload = empty ? 'newline' : (opts.payloadName ?? 'custom');
      const times = udpSendTimes(opts.timeoutMs);
      const waits = times.map((at, i) => ((times[i + 1] ?? opts.timeoutMs) - at) / 1000);
      const started = performance.now();
      const r = await session.exec(['sh', '-c', REMOTE_SCRIPTS.udp, 'sh', address, String(port), (opts.timeoutMs / 1000).toFixed(3), hex, waits.map((w) => w.toFixed(3)).join(' ')], {
        timeoutMs: opts.timeoutMs + 2_000,
      });
      const durationMs = Math.round(performance.now() - started);
      const tries = r.stdout.split('\n').filter((l) => l === 'sent').length;
      const e = r.stderr;
      const result = (outcome: UdpProbeOutcome, errno?: string): UdpProbeResult => ({ address, port, outcome, ...(errno ? { errno } : {}), durationMs, tries, payload });
      if (r.exitCode === 0 && /^reply$/m.test(r.stdout)) return result('reply');
      if (r.exitCode === 5 || r.exitCode === 124) return result('silent');
      const errno = socketErrno(e);
      if (errno) return result(errno === 'ECONNREFUSED' ? 'refused' : 'unreachable', errno);
      if (/Operation not permitted/.test(e)) return result('error', 'EPERM');
      // A read that fails so is ICMPv6's "administratively prohibited"; a connect, a prohibit route.
      if (/Permission denied/.test(e)) return result(r.exitCode === 4 ? 'unreachable' : 'error', 'EACCES');
      if (/Invalid argument/.test(e)) return result('error', 'EINVAL');
      return result('error', r.exitCode === 9 ? 'no bash on the server' : e.trim().split('\n').pop() || `exit status ${r.exitCode}`);
    },
    // One remote bash per talk (tcp-talk-remote.ts), not batched: its timing is the finding.
    talk: (address, port, opts) => talkOverShell((argv, o) => session.exec(argv, o), address, port, opts),
    async monotonicUs() {
      // The server's clock when it answered, moved on by the time passed here: no round trip.
      const f = await facts();
      return f.uptimeUs + Math.round((performance.now() - f.atLocalMs) * 1000);
    },
    async socketOwners(inodes, opts) {
      return (await procScans()).socketOwners(inodes, opts);
    },
    async processes(query) {
      return (await procScans()).processes(query);
    },
    async descendants(pid) {
      return (await procScans()).descendants(pid);
    },
    async socketInodes(pids) {
      if (pids.length === 0) return [];
      return (await procScans()).socketInodes(pids);
    },
    async cgroups(pids) {
      if (pids.length === 0) return [];
      return (await procScans()).cgroups(pids);
    },
    async netNamespaces() {
      const { scans, self } = await snap();
      return scans.netNamespaces(self);
    },
    async unitFiles(dirs, opts) {
      const { sections: s } = await script('units', [String(opts.maxBytes), ...dirs]);
      return new HostScans(SnapshotFs.fromUnitFiles(s)).unitFiles(dirs, opts);
    },
  };
}
