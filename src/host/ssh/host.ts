import { HostError, type FileInfo, type Host, type ResolvedAddress } from '../host.js';
import type { CommandResult } from '../runner.js';
import { HostScans } from '../scan.js';
import { SnapshotFs } from '../snapshot-fs.js';
import type { ProbeOutcome, ProbeResult } from '../tcp-connect.js';
import { udpSendTimes, type UdpProbeOutcome, type UdpProbeResult } from '../udp-probe.js';
import { newBoundary, sections } from './framing.js';
import { REMOTE_SCRIPTS } from './remote-scripts.js';
import type { SshSession } from './session.js';
import { turnBatchingRunner } from './turns.js';

/** The one /proc snapshot every batched scan of a diagnosis reads (remote-scripts.ts, `proc`). */
export function procSnapshotArgv(boundary: string): string[] {
  return ['sh', '-c', REMOTE_SCRIPTS.proc, 'sh', boundary, 'comm cmdline children fd cgroup netns'];
}

function hostError(path: string, r: CommandResult): HostError {
  const e = r.stderr;
  const code = /No such file|not found/i.test(e) ? 'ENOENT' : /Permission denied/i.test(e) ? 'EACCES' : /Is a directory/i.test(e) ? 'EISDIR' : /Not a directory/i.test(e) ? 'ENOTDIR' : r.timedOut ? 'ETIMEDOUT' : 'EIO';
  const why = e.trim().split('\n').pop() || `exit status ${r.exitCode}`;
  return new HostError(`${path}: ${why}`, code);
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
    const boundary = newBoundary();
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
        boundary = newBoundary();
        r = await run(procSnapshotArgv(boundary), { timeoutMs: 10_000 });
      }
      if (r.exitCode !== 0 && !r.stdout.includes(boundary)) throw hostError('proc', r);
      const fs = SnapshotFs.fromProc(sections(r.stdout, boundary), boundary);
      return { scans: new HostScans(fs), self: fs.self ?? 0 };
    })());
  const procScans = async () => (await snap()).scans;

  // Commands asked for in the same turn of the event loop (a check's Promise.all) go together in
  // one round trip.
  const { run } = turnBatchingRunner(session);

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
