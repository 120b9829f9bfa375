import { HostError, type Host } from '../host.js';
import type { CommandResult } from '../runner.js';
import { HostScans } from '../scan.js';
import { SnapshotFs } from '../snapshot-fs.js';
import { udpSendTimes } from '../udp-probe.js';
import { talkOverShell } from './talk.js';
import { addressesOfAhosts } from '../../system/getent.js';
import { tcpConnectOfBash, udpProbeOfBash } from '../../system/bash-sockets.js';
import { fileInfosOfStatLines } from '../../system/stat.js';
import { fileErrno } from '../../system/strerror.js';
import { newBoundary, sections } from './framing.js';
import { REMOTE_SCRIPTS } from './remote-scripts.js';
import type { SshSession } from './session.js';
import { turnBatchingRunner } from './turns.js';

/** The one remote command a stat of these paths is (so the first round trip can carry one ahead of time). */
export function statArgv(paths: readonly string[]): string[] {
  return ['sh', '-c', REMOTE_SCRIPTS.stat, 'sh', ...paths];
}

/** The one /proc snapshot every batched scan of a diagnosis reads (remote-scripts.ts, `proc`). */
export function procSnapshotArgv(boundary: string): string[] {
  return ['sh', '-c', REMOTE_SCRIPTS.proc, 'sh', boundary, 'comm cmdline children fd cgroup netns'];
}

function hostError(path: string, r: CommandResult): HostError {
  const why = r.stderr.trim().split('\n').pop() || `exit status ${r.exitCode}`;
  return new HostError(`${path}: ${why}`, fileErrno(r.stderr, r.timedOut));
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
    async writeFile(path, text) {
      const r = await run(['sh', '-c', REMOTE_SCRIPTS.write, 'sh', path, text]);
      if (r.exitCode !== 0) throw hostError(path, r);
    },
    async makeDir(path) {
      const r = await run(['mkdir', '--', path]);
      if (r.exitCode !== 0) throw hostError(path, r);
    },
    async removeDir(path) {
      const r = await run(['rmdir', '--', path]);
      if (r.exitCode !== 0) throw hostError(path, r);
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
      if (paths.length === 0) return [];
      // The preflight stat-ed a few paths readers start with (PREFLIGHT_STAT_PATHS): no round trip for them.
      const { stats } = await facts();
      if (paths.every((p) => stats.has(p))) return paths.map((p) => stats.get(p));
      const r = await run(statArgv(paths));
      return fileInfosOfStatLines(r.stdout, paths.length);
    },
    async networkInterfaces() {
      return (await facts()).interfaces;
    },
    async lookup(name, opts) {
      const r = await run(['getent', 'ahosts', name], { timeoutMs: opts.timeoutMs });
      if (r.timedOut) throw new HostError(`no answer from the server's resolver within ${opts.timeoutMs} ms`, 'ETIMEOUT');
      if (r.exitCode === 2) throw new HostError(`${name} does not resolve on the server`, 'ENOTFOUND');
      if (r.exitCode !== 0) throw new HostError(`getent ahosts ${name} on the server: ${r.stderr.trim() || `exit status ${r.exitCode}`}`, 'EAI_AGAIN');
      return addressesOfAhosts(r.stdout);
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
      return { address, port, ...tcpConnectOfBash(r), durationMs };
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
      const { outcome, errno, tries } = udpProbeOfBash(r);
      return { address, port, outcome, ...(errno ? { errno } : {}), durationMs, tries, payload };
    },
    // One remote bash per talk (talk.ts), not batched: its timing is the finding.
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
