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
}

/** What the server said about itself when whyport first reached it (one remote command). */
export interface ServerFacts {
  identity: HostIdentity;
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
  readonly #dir: string;
  readonly #controlPath: string;
  #open = false;
  #closed = false;
  /** Remote commands run so far (the master connection runs none). */
  commands = 0;
  facts: ServerFacts | undefined;

  constructor(
    readonly settings: SshSettings,
    private readonly local: Runner,
  ) {
    // Short and private: a unix socket path has ~100 bytes, and nobody else may connect to it.
    this.#dir = mkdtempSync(join(tmpdir(), 'whyport-ssh-'));
    this.#controlPath = join(this.#dir, '%C');
  }

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

  /** Connects (authenticating once) and asks the server about itself. Throws SshError with one line. */
  async open(): Promise<ServerFacts> {
    if (this.#closed) throw new SshError('the ssh connection was already closed');
    const started = performance.now();
    // -f -N: background once authenticated, run no command; ControlPersist bounds a master that
    // outlives whyport (killed without a chance to close it) to a minute of idleness.
    const master = await this.local.run(this.sshArgv(['-o', 'ControlMaster=yes', '-o', 'ControlPersist=60', '-f', '-N']), {
      timeoutMs: this.settings.connectTimeoutMs + SSH_SLACK_MS,
    });
    if (master.missing) throw new SshError('there is no ssh client on this machine (install openssh-client)');
    if (master.timedOut || master.exitCode !== 0) throw new SshError(sshFailure(this.label, master, Math.round(performance.now() - started)));
    this.#open = true;
    // $SSH_CONNECTION is read before sudo, which would drop it.
    const r = await this.exec(['sh', '-c', REMOTE_SCRIPTS.preflight, 'sh'], { timeoutMs: this.settings.connectTimeoutMs }, ['sh', '-c', REMOTE_SCRIPTS.connection, 'sh']);
    if (r.exitCode !== 0) {
      throw new SshError(sshFailure(this.label, r, 0, { sudo: this.settings.sudo, preflight: true }));
    }
    this.facts = parsePreflight(r.stdout);
    return this.facts;
  }

  /** Runs argv on the server: quoted once, under `timeout` there, with the C locale (and sudo -n with --sudo). */
  async exec(argv: readonly string[], options: RunOptions = {}, before: readonly string[] = []): Promise<CommandResult> {
    if (!this.#open) throw new SshError('internal: the ssh connection is not open');
    const timeoutMs = options.timeoutMs ?? 5_000;
    // A fixed PATH with the sbin directories: a non-root login's PATH often lacks them (nft, ss, iptables).
    const env = Object.entries({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '', PAGER: 'cat', ...options.env }).map(([k, v]) => `${k}=${v}`);
    const words = [
      ...before,
      ...(this.settings.sudo ? ['sudo', '-n', '--'] : []),
      'timeout', '-k', '1', `${Math.max(1, Math.ceil(timeoutMs / 1000))}`,
      'env', ...env, ...argv,
    ];
    this.commands++;
    const r = await this.local.run([...this.sshArgv(['-o', 'ControlMaster=no']), shellCommandLine(words)], {
      timeoutMs: timeoutMs + SSH_SLACK_MS,
      ...(options.input !== undefined ? { input: options.input } : {}),
    });
    // env says 127 for a program it cannot find, timeout 124 when it had to stop the command.
    const missing = r.exitCode === 127 && /env: .*No such file or directory/.test(r.stderr);
    return { ...r, argv, missing, timedOut: r.timedOut || r.exitCode === 124 };
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
    rmSync(this.#dir, { recursive: true, force: true });
  }
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
    },
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

/**
 * The server as a Host. Commands and single reads are one remote command each; the batched scans
 * (socket owners, processes, descendants, sockets of pids, cgroups, unit files) are one remote
 * script each, whose output (/proc files framed by NULs) feeds the very scan code the local host
 * runs (scan.ts), over a snapshot of those files.
 */
export function sshHost(session: SshSession): Host {
  const facts = () => {
    if (!session.facts) throw new SshError('internal: the ssh connection is not open');
    return session.facts;
  };
  const script = async (name: keyof typeof REMOTE_SCRIPTS, args: readonly string[], timeoutMs = 10_000) => {
    const boundary = randomBytes(9).toString('hex');
    const r = await session.exec(['sh', '-c', REMOTE_SCRIPTS[name], 'sh', boundary, ...args], { timeoutMs });
    if (r.exitCode !== 0 && !r.stdout.includes(boundary)) throw hostError(name, r);
    return { sections: sections(r.stdout, boundary), boundary };
  };
  const procScans = async (parts: string, pids: readonly number[] = []) => {
    const wanted = pids.filter((p) => Number.isInteger(p) && p > 0);
    const { sections: s, boundary } = await script('proc', [parts, ...wanted.map(String)]);
    return new HostScans(SnapshotFs.fromProc(s, boundary, wanted));
  };

  return {
    run: (argv, options) => session.exec(argv, options),
    async readFile(path) {
      const r = await session.exec(['cat', '--', path]);
      if (r.exitCode !== 0) throw hostError(path, r);
      return r.stdout;
    },
    async readFileTail(path, bytes) {
      const r = await session.exec(['sh', '-c', REMOTE_SCRIPTS.tail, 'sh', path, String(Math.max(0, Math.floor(bytes)))]);
      if (r.exitCode === 3) throw new HostError(`${path} is not a regular file`, 'ENOTREG');
      if (r.exitCode !== 0) throw hostError(path, r);
      const nl = r.stdout.indexOf('\n');
      const size = Number(r.stdout.slice(0, nl));
      const text = r.stdout.slice(nl + 1);
      return { text, start: Math.max(0, size - Buffer.byteLength(text)) };
    },
    async listDir(path) {
      const r = await session.exec(['ls', '-A1', '--', path]);
      if (r.exitCode !== 0) throw hostError(path, r);
      return r.stdout.split('\n').filter(Boolean);
    },
    async readLink(path) {
      const r = await session.exec(['readlink', '--', path]);
      if (r.exitCode !== 0) throw hostError(path, r.stderr ? r : { ...r, stderr: 'No such file or not a link' });
      return r.stdout.replace(/\n$/, '');
    },
    async stat(paths) {
      // The server's systemd marker was read on connecting: no round trip for it.
      if (paths.length === 1 && paths[0] === '/run/systemd/system') return [facts().systemd ? { kind: 'directory', size: 0, mtimeMs: 0 } : undefined];
      if (paths.length === 0) return [];
      const r = await session.exec(['sh', '-c', REMOTE_SCRIPTS.stat, 'sh', ...paths]);
      const lines = r.stdout.split('\n');
      return paths.map((_, i): FileInfo | undefined => {
        const m = /^(\S+) (\d+) (\d+)$/.exec(lines[i] ?? '');
        if (!m) return undefined;
        return { kind: m[1] === 'f' ? 'file' : m[1] === 'd' ? 'directory' : 'other', size: Number(m[2]), mtimeMs: Number(m[3]) * 1000 };
      });
    },
    async networkInterfaces() {
      return facts().interfaces;
    },
    async lookup(name, opts) {
      const r = await session.exec(['getent', 'ahosts', name], { timeoutMs: opts.timeoutMs });
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
      return facts().identity;
    },
    async monotonicUs() {
      // The server's clock when it answered, moved on by the time passed here: no round trip.
      const f = facts();
      return f.uptimeUs + Math.round((performance.now() - f.atLocalMs) * 1000);
    },
    async socketOwners(inodes, opts) {
      return (await procScans('comm fd')).socketOwners(inodes, opts);
    },
    async processes(query) {
      return (await procScans('comm cmdline')).processes(query);
    },
    async descendants(pid) {
      return (await procScans('children')).descendants(pid);
    },
    async socketInodes(pids) {
      if (pids.length === 0) return [];
      return (await procScans('fd', pids)).socketInodes(pids);
    },
    async cgroups(pids) {
      if (pids.length === 0) return [];
      return (await procScans('cgroup', pids)).cgroups(pids);
    },
    async unitFiles(dirs, opts) {
      const { sections: s } = await script('units', [String(opts.maxBytes), ...dirs]);
      return new HostScans(SnapshotFs.fromUnitFiles(s)).unitFiles(dirs, opts);
    },
  };
}
