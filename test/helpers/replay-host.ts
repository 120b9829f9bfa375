import { probeTcp } from '../../src/host/tcp-connect.js';
import { probeUdp } from '../../src/host/udp-probe.js';
import { talkTcp, type TalkResult } from '../../src/host/tcp-talk.js';
import { isLoopback } from '../../src/net/address.js';
import { HostError, type DnsAnswer, type FileInfo, type Host, type HostIdentity, type InterfaceAddress, type ResolvedAddress } from '../../src/host/host.js';
import { HostScans, type ScanFs } from '../../src/host/scan.js';
import type { CommandResult } from '../../src/system/runner.js';

/** A reply for one command line; 'missing' when the tool is not installed there. */
export type Reply = { stdout?: string; stderr?: string; exitCode?: number } | 'missing';

/** A captured server: what its files, links, commands and resolver said. */
export interface CapturedHost {
  /** path → text. Directories are the parents of these paths (and of links), listed from them. */
  files?: Record<string, string>;
  /** path → target (`/proc/41/fd/3` → `socket:[5501]`, `/lib` → `usr/lib`). */
  links?: Record<string, string>;
  /** Paths whose reads fail with EACCES (another user's /proc/PID/fd as non-root). */
  denied?: string[];
  /** argv joined by spaces → what it printed; anything else is not installed. */
  commands?: Record<string, Reply>;
  interfaces?: InterfaceAddress[];
  /** name → its addresses, or the getaddrinfo code it failed with. */
  names?: Record<string, ResolvedAddress[] | { code: string }>;
  nameservers?: string[];
  /** `server name` → the A and AAAA answers. */
  dns?: Record<string, { a: DnsAnswer; aaaa: DnsAnswer }>;
  identity?: Partial<HostIdentity>;
  monotonicUs?: number;
  /** `address port` → what talks there came back with, in order (captures of a real server); loopback is talked to for real. */
  talks?: Record<string, Omit<TalkResult, 'address' | 'port'>[]>;
  /** whyport's pid on the captured host (its /proc/PID/ns/net is the own namespace). */
  ownPid?: number;
  /** path → what stat said of it beyond kind and size (mode, uid, mtimeMs, special, link), laid over the file's or directory's own. */
  stats?: Record<string, Partial<FileInfo>>;
}

/**
 * A Host that serves a captured server, for tests: files, directories and links from the capture,
 * commands by argv, names and identity as recorded. The batched scans are the real ones
 * (src/host/scan.ts) over the captured files, so a test exercises the same pid walk and
 * unit-file scan as the local host. `calls` lists every host call, in order.
 */
export function replayHost(captured: CapturedHost): Host & { calls: string[] } {
  const files = captured.files ?? {};
  const links = captured.links ?? {};
  const denied = new Set(captured.denied ?? []);
  const calls: string[] = [];
  const dirs = new Map<string, Set<string>>();
  for (const path of [...Object.keys(files), ...Object.keys(links)]) {
    let child = path;
    for (let parent = dirname(path); ; child = parent, parent = dirname(parent)) {
      if (!dirs.has(parent)) dirs.set(parent, new Set());
      dirs.get(parent)!.add(child.slice(child.lastIndexOf('/') + 1));
      if (parent === '/') break;
    }
  }
  const fail = (code: string, path: string): never => {
    throw new HostError(`${code}: ${path}`, code);
  };
  // Follows links in every component, as the kernel does.
  const resolve = (path: string, depth = 0): string => {
    if (depth > 16) fail('ELOOP', path);
    const parts = path.split('/').filter(Boolean);
    let at = '';
    for (let i = 0; i < parts.length; i++) {
      at = `${at}/${parts[i]}`;
      const target = links[at];
      if (target !== undefined && !target.startsWith('socket:') && !target.startsWith('pipe:')) {
        const base = target.startsWith('/') ? target : `${dirname(at)}/${target}`.replace(/^\/\//, '/');
        return resolve([base, ...parts.slice(i + 1)].join('/'), depth + 1);
      }
    }
    return at || '/';
  };
  const fs: ScanFs = {
    readdir(path) {
      if (denied.has(path)) fail('EACCES', path);
      const entries = dirs.get(resolve(path));
      return entries ? [...entries] : fail('ENOENT', path);
    },
    readFile(path) {
      if (denied.has(path)) fail('EACCES', path);
      const real = resolve(path);
      if (dirs.has(real)) fail('EISDIR', path);
      return files[real] ?? fail('ENOENT', path);
    },
    readlink(path) {
      if (denied.has(path)) fail('EACCES', path);
      return links[path] ?? fail('EINVAL', path);
    },
    stat(path): FileInfo {
      const real = resolve(path);
      const more = { ...captured.stats?.[real], ...(real !== path && links[path] !== undefined ? { link: true } : {}) };
      if (files[real] !== undefined) return { kind: 'file', size: Buffer.byteLength(files[real]), mtimeMs: 0, ...more };
      if (dirs.has(real)) return { kind: 'directory', size: 0, mtimeMs: 0, ...more };
      return fail('ENOENT', path);
    },
    realpath(path) {
      const real = resolve(path);
      return files[real] !== undefined || dirs.has(real) ? real : fail('ENOENT', path);
    },
  };
  const scans = new HostScans(fs);
  const log = <T>(call: string, value: () => T): Promise<Awaited<T>> => {
    calls.push(call);
    try {
      return Promise.resolve(value()) as Promise<Awaited<T>>;
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return {
    calls,
    async run(argv) {
      const key = argv.join(' ');
      calls.push(key);
      const r = captured.commands?.[key] ?? 'missing';
      const base: CommandResult = { argv, exitCode: null, stdout: '', stderr: '', missing: false, timedOut: false, durationMs: 1 };
      if (r === 'missing') return { ...base, missing: true };
      return { ...base, exitCode: r.exitCode ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    readFile: (path) => log(`readFile ${path}`, () => fs.readFile(path)),
    readFileTail: (path, bytes) =>
      log(`readFileTail ${path}`, () => {
        const text = fs.readFile(path);
        const buffer = Buffer.from(text);
        const start = Math.max(0, buffer.length - bytes);
        return { text: buffer.subarray(start).toString('utf8'), start };
      }),
    // A captured host is read, never written: a write is logged and refused as a read-only file system would.
    writeFile: (path) => log(`writeFile ${path}`, () => Promise.reject(Object.assign(new Error(`${path}: Read-only file system`), { code: 'EROFS' }))),
    makeDir: (path) => log(`makeDir ${path}`, () => Promise.reject(Object.assign(new Error(`${path}: Read-only file system`), { code: 'EROFS' }))),
    removeDir: (path) => log(`removeDir ${path}`, () => Promise.reject(Object.assign(new Error(`${path}: Read-only file system`), { code: 'EROFS' }))),
    listDir: (path) => log(`listDir ${path}`, () => fs.readdir(path)),
    readLink: (path) => log(`readLink ${path}`, () => fs.readlink(path)),
    stat: (paths) =>
      log(`stat ${paths.join(' ')}`, () =>
        paths.map((p) => {
          try {
            return fs.stat(p);
          } catch {
            return undefined;
          }
        }),
      ),
    networkInterfaces: () => log('networkInterfaces', () => captured.interfaces ?? [{ name: 'lo', address: '127.0.0.1', family: 4 as const, internal: true }]),
    lookup: (name) =>
      log(`lookup ${name}`, () => {
        const r = captured.names?.[name];
        if (r === undefined) return fail('ENOTFOUND', name);
        return 'code' in r ? fail(r.code, name) : r;
      }),
    nameservers: () => log('nameservers', () => captured.nameservers ?? []),
    queryNameservers: (servers, name) =>
      log(`queryNameservers ${servers.join(',')} ${name}`, () =>
        servers.map((server) => ({ server, ...(captured.dns?.[`${server} ${name}`] ?? { a: { code: 'ETIMEOUT' }, aaaa: { code: 'ETIMEOUT' } }) })),
      ),
    identity: () => log('identity', () => ({ hostname: 'replayed', uid: 0, root: true, byteOrder: 'LE' as const, ...captured.identity })),
    monotonicUs: () => log('monotonicUs', () => captured.monotonicUs ?? 0),
    // Loopback is real (a test's own listener or UDP socket); any other address is refused, as by a port nobody
    // holds, so a replay never sends a packet off this machine. Not logged: calls lists what was read.
    connectTcp: (address, port, timeoutMs) =>
      isLoopback(address) ? probeTcp(address, port, timeoutMs) : Promise.resolve({ address, port, outcome: 'refused' as const, errno: 'ECONNREFUSED', durationMs: 0 }),
    probeUdp: (address, port, opts) =>
      isLoopback(address)
        ? probeUdp(address, port, opts)
        : Promise.resolve({ address, port, outcome: 'refused' as const, errno: 'ECONNREFUSED', durationMs: 0, tries: 1, payload: opts.payloadName ?? 'empty' }),
    // A captured talk when there is one; loopback for real; any other address refused, as connectTcp.
    talk: (address, port, opts) => {
      const next = captured.talks?.[`${address} ${port}`]?.shift();
      if (next) return log(`talk ${address} ${port}`, () => ({ address, port, ...next }));
      return isLoopback(address) ? talkTcp(address, port, opts) : Promise.resolve({ address, port, outcome: 'refused' as const, errno: 'ECONNREFUSED', answers: [], durationMs: 0 });
    },
    socketOwners: (inodes, opts) => log(`socketOwners ${inodes.join(',')}`, () => scans.socketOwners(inodes, opts)),
    processes: (query) => log(`processes ${query.match} ${query.name}`, () => scans.processes(query)),
    descendants: (pid) => log(`descendants ${pid}`, () => scans.descendants(pid)),
    socketInodes: (pids) => log(`socketInodes ${pids.join(',')}`, () => scans.socketInodes(pids)),
    cgroups: (pids) => log(`cgroups ${pids.join(',')}`, () => scans.cgroups(pids)),
    netNamespaces: () => log('netNamespaces', () => scans.netNamespaces(captured.ownPid ?? 0)),
    unitFiles: (dirs, opts) => log(`unitFiles ${dirs.join(',')}`, () => scans.unitFiles(dirs, opts)),
  };
}

function dirname(path: string): string {
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}
