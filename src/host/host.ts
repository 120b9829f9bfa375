import type { Runner } from './runner.js';
import type { ProbeResult } from './tcp-connect.js';
import type { UdpProbeOptions, UdpProbeResult } from './udp-probe.js';
import type { TalkOptions, TalkResult } from './tcp-talk.js';
import type { TlsHandshake, TlsProbeOptions } from './tls-probe.js';

/** A process holding a socket: found by the descriptor scan. */
export interface SocketOwner {
  pid: number;
  program: string;
  fd?: number;
}

/**
 * One machine, as whyport sees it. Everything the checks and readers learn about a host comes
 * through this interface (InSpec's Train `connection`, goss's `system.System`): the local machine
 * today (src/host/local.ts), a server over ssh or a container next. Every method is async and
 * every answer is plain data (JSON-able), so an implementation may ship a call to another machine
 * and back.
 *
 * Failed reads reject with a HostError whose `code` is the errno name (ENOENT, EACCES, …), as
 * node:fs does, so callers word "no such file" and "permission denied" the same on every host.
 *
 * The batched methods (socketOwners … unitFiles) take the whole batch in one call: over ssh each
 * call is a round trip, and each of them may read hundreds of files. An implementation runs the
 * batch where the files are (in-process locally, one remote command over ssh).
 */
export interface Host extends Runner {
  /** Runs argv (never a shell) with a timeout; a non-zero exit is data (the Runner contract). */
  // run(argv, options) is inherited from Runner.

  /** The whole text of a file (utf8). */
  readFile(path: string): Promise<string>;
  /**
   * The last `bytes` bytes of a regular file, read at an offset (a log can be gigabytes), without
   * blocking on a FIFO. Rejects with code ENOTREG for anything but a regular file.
   */
  readFileTail(path: string, bytes: number): Promise<FileTail>;
  /**
   * Writes `text` to an existing file, as `echo TEXT > PATH` would (no create, no truncate of
   * anything else): the one write whyport makes, to a control file of its own trace instance
   * under tracefs. Rejects with the errno name as code.
   */
  writeFile(path: string, text: string): Promise<void>;
  /** Makes a directory, and removes an empty one (a tracefs instance is made and removed so). Never aborted: a cleanup must run to its end. */
  makeDir(path: string): Promise<void>;
  removeDir(path: string): Promise<void>;
  /** The names in a directory, unsorted. */
  listDir(path: string): Promise<string[]>;
  /** What a symbolic link points to (`socket:[1234]` for a descriptor). */
  readLink(path: string): Promise<string>;
  /** What each path is, following links, in the order asked; undefined where it cannot be stat'ed. */
  stat(paths: readonly string[]): Promise<(FileInfo | undefined)[]>;

  /** Every address of every interface (bare, without zone ids), loopback included. */
  networkInterfaces(): Promise<InterfaceAddress[]>;
  /**
   * Resolves a name the way every program on that host does (getaddrinfo: files, then DNS), both
   * families, in the resolver's order. Rejects with code ENOTFOUND, EAI_AGAIN, ETIMEOUT (no answer
   * within timeoutMs), …
   */
  lookup(name: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<ResolvedAddress[]>;
  /** The nameservers of that host's /etc/resolv.conf, as its resolver would ask them. */
  nameservers(): Promise<string[]>;
  /** Asks each server directly for the A and AAAA records of a name (one batch, each with its own short timeout). */
  queryNameservers(servers: readonly string[], name: string, opts: { timeoutMs: number }): Promise<NameserverReply[]>;
  /** Who whyport runs as there, the machine's name, and how its kernel orders bytes in /proc/net/tcp. */
  identity(): Promise<HostIdentity>;
  /** One TCP connect from that host to a literal address (what `nc -vz` would say there). */
  connectTcp(address: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult>;
  /**
   * One UDP probe from that host to a literal address (what `nc -vzu` would try there): the payload
   * sent with retries until a reply, an ICMP error, or `timeoutMs` of silence.
   */
  probeUdp(address: string, port: number, opts: UdpProbeOptions): Promise<UdpProbeResult>;
  /**
   * One TCP conversation from that host to a literal address, after the handshake: each step sends
   * its bytes and reads until its answer is complete (a line, or what arrives at once), bounded in
   * time (`waitMs` a step), bytes (`maxBytes`) and by the signal; how the connection ended and when.
   */
  talk(address: string, port: number, opts: TalkOptions): Promise<TalkResult>;
  /**
   * One TLS handshake from that host with node's TLS (verification off, every problem collected):
   * only where whyport itself runs. Elsewhere readers run `openssl s_client` through `run`.
   */
  probeTls?(address: string, port: number, opts: TlsProbeOptions): Promise<TlsHandshake>;
  /** The host's CLOCK_MONOTONIC in µs: systemd's *TimestampMonotonic are on that clock, not on whyport's. */
  monotonicUs(): Promise<number>;

  /**
   * Which processes hold the given socket inodes (their `socket:[INODE]` links under
   * /proc/PID/fd): candidate pids first, then every process, smallest descriptor tables first,
   * stopping once each inode has an owner unless `exhaustive`.
   */
  socketOwners(inodes: readonly number[], opts?: SocketOwnersOptions): Promise<SocketOwnersFound>;
  /**
   * Processes by name with pgrep's semantics: `name` is a pattern matched against the process name
   * (comm), or against the whole command line (`full`, pgrep -f, skipping kernel threads), or
   * equal to the name cut to 15 characters (`exact`). By `name` and `exact`, a program an
   * interpreter runs also answers to its script's name (`myapp` is `python3 /srv/myapp.py`,
   * knowledge/program-names.ts). whyport's own processes are left out.
   */
  processes(query: ProcessQuery): Promise<ProcessInfo[]>;
  /** The pid and all its descendants (a service's workers), pid first. */
  descendants(pid: number): Promise<number[]>;
  /** The socket inodes each process holds, 'hidden' when its descriptors cannot be read, 'gone' when it ended. */
  socketInodes(pids: readonly number[]): Promise<ProcessSockets[]>;
  /**
   * Every network namespace that has a process in it, read-only from /proc (no setns, nothing
   * entered): one entry per namespace, with the names /run/netns gives it. Processes whose
   * namespace cannot be read (not root) are left out.
   */
  netNamespaces(): Promise<NetNamespace[]>;
  /** The /proc/PID/cgroup text of each pid (undefined when it is gone), in the order asked. */
  cgroups(pids: readonly number[]): Promise<(string | undefined)[]>;
  /**
   * Every unit file and `*.d/*.conf` drop-in of the unit directories, in the order given, each
   * directory once (merged-/usr systems link two of them), files sorted by name; files that are
   * not regular or larger than `maxBytes` are left out.
   */
  unitFiles(dirs: readonly string[], opts: { suffixes: readonly string[]; maxBytes: number }): Promise<UnitFileText[]>;
}

/** A failed read on a host: `code` is the errno name, as node:fs gives it. */
export class HostError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'HostError';
  }
}

/** The errno name of a failed host read (ENOENT, EACCES, …), or undefined. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export interface FileTail {
  text: string;
  /** The offset `text` starts at: 0 when it is the whole file. */
  start: number;
}

export interface FileInfo {
  kind: 'file' | 'directory' | 'other';
  size: number;
  mtimeMs: number;
  /** The inode (a named network namespace's file under /run/netns is the namespace's inode). */
  ino?: number;
  /** What `other` is: a socket, a FIFO, a character or block device (of the link's target, as the rest). */
  special?: 'socket' | 'fifo' | 'char' | 'block';
  /** The path itself is a symbolic link (what is described is its target). */
  link?: boolean;
  /** The permission bits, set-id and sticky bits included (0o7777 at most). */
  mode?: number;
  uid?: number;
  gid?: number;
}

/** One network namespace of the host, as its processes show it (/proc/PID/ns/net → `net:[INODE]`). */
export interface NetNamespace {
  inode: number;
  /** Processes in it, smallest pid first (the first is the one whose /proc/PID/net is read). */
  pids: number[];
  /** whyport's own namespace (the host's, unless whyport itself runs in a container). */
  own: boolean;
  /** Its names under /run/netns (`ip netns add NAME`), if any. */
  names: string[];
}

export interface InterfaceAddress {
  name: string;
  address: string;
  family: 4 | 6;
  internal: boolean;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** What one query asked of one nameserver: the addresses, or c-ares's code (ENOTFOUND, ENODATA, ECONNREFUSED, ETIMEOUT, …). */
export type DnsAnswer = { addresses: string[] } | { code: string };

export interface NameserverReply {
  server: string;
  a: DnsAnswer;
  aaaa: DnsAnswer;
}

export interface HostIdentity {
  hostname: string;
  /** undefined where there are no uids. */
  uid: number | undefined;
  root: boolean;
  /** How /proc/net/tcp prints addresses: 32-bit words in the kernel's byte order. */
  byteOrder: 'LE' | 'BE';
  /** The name of the user whyport runs as there, where it is known (this machine's). */
  user?: string;
  /** A host reached over ssh: whyport's connection as that host sees it (the client's address, its own). */
  via?: { client: string; server: string };
}

export interface SocketOwnersOptions {
  /** Processes to look at first (the unit's main pid, the processes the user named). */
  candidatePids?: readonly number[];
  /** Look at every process even when each socket already has an owner (to list all holders). */
  exhaustive?: boolean;
}

export interface SocketOwnersFound {
  /** The inodes an owner was found for, each with the processes seen holding it. */
  owners: { inode: number; holders: SocketOwner[] }[];
  /** Some /proc/PID/fd could not be read (not root) and some inode stayed without an owner. */
  hidden: boolean;
}

export interface ProcessQuery {
  name: string;
  match: 'name' | 'full' | 'exact';
}

export interface ProcessInfo {
  pid: number;
  /** The command line as `pgrep -a` prints it; the process name for a kernel thread. */
  commandLine: string;
  /** The process name (comm). */
  name?: string;
  /** The script, jar or module an interpreter runs (`/srv/myapp.py`), when it runs one. */
  script?: string;
}

export interface ProcessSockets {
  pid: number;
  inodes: number[] | 'hidden' | 'gone';
}

export interface UnitFileText {
  /** The unit the text belongs to (`nginx.service`, also for its drop-ins). */
  unit: string;
  path: string;
  text: string;
}
