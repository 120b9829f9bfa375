import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { SocketOwner } from './socket.js';

export interface FindOwnersOptions {
  /** Processes to look at first (e.g. the unit's main pid, the processes the user named). */
  candidatePids?: number[];
  /** Look at every process even when each socket already has an owner (to list all holders). */
  exhaustive?: boolean;
}

export interface OwnersFound {
  /** inode → the processes found holding it. An inode with no entry: no owner was seen. */
  owners: Map<number, SocketOwner[]>;
  /** Some /proc/PID/fd could not be read (not root) and some inode stayed without an owner. */
  hidden: boolean;
}

/**
 * Which processes hold the given socket inodes, read from the `socket:[INODE]` links under
 * /proc/PID/fd. Candidate pids are looked at first, then the rest of /proc, and the scan stops as
 * soon as every inode has an owner: on a busy server a full scan reads every descriptor on the
 * machine, which is what makes `ss -p` slow. So a socket shared by several processes (a forked
 * worker) lists the ones met before the stop, unless `exhaustive` is set.
 */
export async function findOwners(inodes: Iterable<number>, opts: FindOwnersOptions = {}): Promise<OwnersFound> {
  const wanted = new Set<number>();
  for (const inode of inodes) if (Number.isInteger(inode) && inode > 0) wanted.add(inode);
  const owners = new Map<number, SocketOwner[]>();
  if (wanted.size === 0) return { owners, hidden: false };

  let denied = false;
  const complete = () => !opts.exhaustive && owners.size === wanted.size;
  const visited = new Set<number>();
  let lastYield = performance.now();

  const scan = (pid: number) => {
    visited.add(pid);
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch (err) {
      // ENOENT/ESRCH: the process ended while we looked, which is normal.
      if (isDenied(err)) denied = true;
      return;
    }
    let program: string | undefined;
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch (err) {
        if (isDenied(err)) denied = true;
        continue;
      }
      // Cheap test first: most descriptors are files and pipes.
      if (!link.startsWith('socket:[')) continue;
      const inode = Number(link.slice(8, -1));
      if (!wanted.has(inode)) continue;
      program ??= commOf(pid);
      const list = owners.get(inode) ?? [];
      list.push({ pid, program, fd: Number(fd) });
      owners.set(inode, list);
      if (complete()) return;
    }
  };

  for (const pid of opts.candidatePids ?? []) {
    if (!Number.isInteger(pid) || pid <= 0 || visited.has(pid)) continue;
    scan(pid);
    if (complete()) return { owners, hidden: false };
  }

  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    entries = [];
  }
  // Smallest descriptor tables first: a server's listener is usually met long before the tens of
  // thousands of descriptors of a busy proxy or client pool, which a pid-order walk may hit first.
  const pids = entries
    .filter((e) => /^\d+$/.test(e))
    .map((e) => ({ pid: Number(e), size: fdTableSize(Number(e)) }))
    .sort((a, b) => a.size - b.size || a.pid - b.pid)
    .map((p) => p.pid);
  for (const pid of pids) {
    if (visited.has(pid)) continue;
    scan(pid);
    if (complete()) break;
    // The reads are synchronous because they are many and tiny (async calls cost more than the
    // syscall); hand the event loop back now and then so a spinner keeps turning.
    if (performance.now() - lastYield > 20) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  }
  const hidden = denied && [...wanted].some((inode) => !owners.has(inode));
  return { owners, hidden };
}

/** FDSize from /proc/PID/status: the size of the descriptor table, a cheap upper bound on its fds. */
function fdTableSize(pid: number): number {
  try {
    const m = /\nFDSize:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}

function isDenied(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM';
}

/** The process name the kernel keeps (15 characters at most), verbatim: it may hold blanks and parentheses. */
function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
  } catch {
    return '?';
  }
}
