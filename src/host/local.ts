import { constants, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { mkdir, open, readdir, readFile, readlink, rmdir } from 'node:fs/promises';
import { lookup as getaddrinfo, Resolver } from 'node:dns/promises';
import { endianness, hostname, networkInterfaces, userInfo } from 'node:os';
import { DEFAULT_COMMAND_TIMEOUT_MS, execaRunner } from './runner.js';
import type { EarlyReads } from './early-reads.js';
import { HostError, type DnsAnswer, type FileInfo, type Host } from './host.js';
import { HostScans, type ScanFs } from './scan.js';
import { probeTcp } from './tcp-connect.js';
import { probeUdp } from './udp-probe.js';
import { talkTcp } from './tcp-talk.js';

// The machine whyport runs on. With the runner's execa import, the only code that reads this
// machine (node:fs, node:os, node:dns); checks and readers see the Host interface only.

/** This machine's files for the batched scans: synchronous, as they are many and tiny. */
export const localFs: ScanFs = {
  readdir: (path) => readdirSync(path),
  readFile: (path) => readFileSync(path, 'utf8'),
  readlink: (path) => readlinkSync(path),
  stat: (path) => fileInfo(statSync(path)),
  realpath: (path) => realpathSync(path),
};

const scans = new HostScans(localFs, [process.pid, process.ppid]);

/** The local host: commands through execa, files through node:fs, names through the system resolver. */
export const localHost: Host = {
  run: (argv, options = {}) => execaRunner.run(argv, options),
  readFile: (path) => readFile(path, 'utf8'),
  readFileTail,
  // r+: the file must exist (tracefs control files); nothing is created by mistake.
  writeFile: async (path, text) => {
    const handle = await open(path, 'r+');
    try {
      await handle.write(text);
    } finally {
      await handle.close();
    }
  },
  makeDir: (path) => mkdir(path),
  removeDir: (path) => rmdir(path),
  listDir: (path) => readdir(path),
  readLink: (path) => readlink(path),
  async stat(paths) {
    return paths.map((p) => {
      try {
        const info = fileInfo(statSync(p));
        return lstatSync(p).isSymbolicLink() ? { ...info, link: true } : info;
      } catch {
        return undefined;
      }
    });
  },
  async networkInterfaces() {
    return Object.entries(networkInterfaces()).flatMap(([name, list]) =>
      (list ?? []).map((a) => ({ name, address: a.address.split('%')[0]!, family: a.family === 'IPv6' ? (6 as const) : (4 as const), internal: a.internal })),
    );
  },
  async lookup(name, opts) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HostError(`no answer from the resolver within ${opts.timeoutMs} ms`, 'ETIMEOUT')), opts.timeoutMs);
    });
    try {
      const found = await Promise.race([getaddrinfo(name, { all: true, verbatim: true }), timeout]);
      return found.map((f) => ({ address: f.address, family: f.family === 6 ? (6 as const) : (4 as const) }));
    } finally {
      clearTimeout(timer);
    }
  },
  async nameservers() {
    return new Resolver().getServers();
  },
  async queryNameservers(servers, name, opts) {
    return Promise.all(
      servers.map(async (server) => {
        const resolver = new Resolver({ timeout: opts.timeoutMs, tries: 1 });
        resolver.setServers([server]);
        const [a, aaaa] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
        const answer = (r: PromiseSettledResult<string[]>): DnsAnswer =>
          r.status === 'fulfilled' ? { addresses: r.value } : { code: String((r.reason as NodeJS.ErrnoException).code) };
        return { server, a: answer(a), aaaa: answer(aaaa) };
      }),
    );
  },
  async identity() {
    const uid = process.getuid?.();
    const user = loginName();
    return { hostname: hostname(), uid, root: uid === 0, byteOrder: endianness(), ...(user ? { user } : {}) };
  },
  connectTcp: probeTcp,
  probeUdp,
  talk: talkTcp,
  // node:tls and node:crypto load only when a walk reaches a TLS port (~5 ms of every start otherwise).
  probeTls: async (...args) => (await import('./tls-probe.js')).probeTls(...args),
  async monotonicUs() {
    // process.hrtime is CLOCK_MONOTONIC on Linux.
    return Number(process.hrtime.bigint() / 1000n);
  },
  socketOwners: (inodes, opts) => scans.socketOwners(inodes, opts),
  processes: async (query) => scans.processes(query),
  descendants: async (pid) => scans.descendants(pid),
  socketInodes: async (pids) => scans.socketInodes(pids),
  cgroups: async (pids) => scans.cgroups(pids),
  netNamespaces: async () => scans.netNamespaces(process.pid),
  unitFiles: async (dirs, opts) => scans.unitFiles(dirs, opts),
};

function fileInfo(s: Stats): FileInfo {
  const special = s.isSocket() ? 'socket' : s.isFIFO() ? 'fifo' : s.isCharacterDevice() ? 'char' : s.isBlockDevice() ? 'block' : undefined;
  return {
    kind: s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other',
    size: s.size,
    mtimeMs: s.mtimeMs,
    ino: s.ino,
    ...(special ? { special } : {}),
    mode: s.mode & 0o7777,
    uid: s.uid,
    gid: s.gid,
  };
}

async function readFileTail(path: string, bytes: number): Promise<{ text: string; start: number }> {
  // O_NONBLOCK: opening a FIFO someone put at the path must not hang the diagnosis.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new HostError(`${path} is not a regular file`, 'ENOTREG');
    const start = Math.max(0, info.size - Math.max(0, Math.floor(bytes)));
    const buffer = Buffer.alloc(info.size - start);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled);
      if (bytesRead === 0) break; // truncated while we read (logrotate's copytruncate)
      filled += bytesRead;
    }
    return { text: buffer.subarray(0, filled).toString('utf8'), start };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

const LOCAL = new WeakSet<Host>([localHost]);

/**
 * The local host taking the reads the start-up entry began (host/early.ts): a command or a file
 * already started is not run or read twice. Without them, localHost itself.
 */
export function localHostWith(early: EarlyReads | undefined): Host {
  if (!early) return localHost;
  const host: Host = {
    ...localHost,
    run: (argv, options = {}) => early.take(argv, options, DEFAULT_COMMAND_TIMEOUT_MS) ?? localHost.run(argv, options),
    readFile: (path) => early.takeFile(path) ?? localHost.readFile(path),
  };
  LOCAL.add(host);
  return host;
}

/** The host is this machine (local reads cost no round trip). */
export function isLocalHost(host: Host): boolean {
  return LOCAL.has(host);
}

/** The name of the user this process runs as, or undefined where none can be found (a uid without a passwd entry). */
function loginName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}
