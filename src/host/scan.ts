import type { FileInfo, NetNamespace, ProcessInfo, ProcessQuery, ProcessSockets, SocketOwnersFound, SocketOwnersOptions, UnitFileText } from './host.js';
import type { SocketOwner } from './host.js';
import { isProgram, mayRunScript, scriptOf } from '../knowledge/program-names.js';

/**
 * The few synchronous reads the batched host scans are made of. The local host gives node:fs;
 * the replaying test host gives a captured server's files. Every method throws an error with an
 * errno `code` (ENOENT, EACCES, …) as node:fs does.
 */
export interface ScanFs {
  readdir(path: string): string[];
  readFile(path: string): string;
  readlink(path: string): string;
  /** Follows links. */
  stat(path: string): FileInfo;
  realpath(path: string): string;
}

/**
 * The batched Host operations, done where the files are: the /proc pid walk, the comm reader, the
 * descriptor scan and the unit-file scan exist here once. Synchronous reads on purpose: they are
 * many and tiny, and an awaited read costs more than the syscall.
 */
export class HostScans {
  constructor(
    private readonly fs: ScanFs,
    /** Processes never reported as matches (whyport itself and its parent, which may carry the name in their argv). */
    private readonly ownPids: readonly number[] = [],
  ) {}

  /** Every pid in /proc ([] when /proc cannot be read). */
  pids(): number[] {
    try {
      return this.fs
        .readdir('/proc')
        .filter((e) => e.charCodeAt(0) <= 57 && /^\d+$/.test(e)) // digits: the other entries are not processes
        .map(Number);
    } catch {
      return [];
    }
  }

  /** The process name the kernel keeps (15 characters at most), verbatim: it may hold blanks and parentheses. undefined when gone. */
  comm(pid: number): string | undefined {
    try {
      return this.fs.readFile(`/proc/${pid}/comm`).replace(/\n$/, '');
    } catch {
      return undefined;
    }
  }

  /**
   * See Host.processes: pgrep's semantics over /proc, and a program an interpreter runs answers
   * to its script's name too (`myapp` is `python3 /srv/myapp.py`: knowledge/program-names.ts).
   */
  processes(query: ProcessQuery): ProcessInfo[] {
    const { name, match } = query;
    let pattern: RegExp;
    try {
      pattern = new RegExp(name);
    } catch {
      pattern = new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    }
    const exact = name.slice(0, 15);
    const own = new Set(this.ownPids);
    const out: ProcessInfo[] = [];
    for (const pid of this.pids()) {
      if (own.has(pid)) continue;
      const comm = this.comm(pid);
      if (comm === undefined) continue; // ended while we looked: normal
      // The exact match reads a command line only where it may name a script (an interpreter's):
      // it is the quick look for likely socket owners.
      const argv = match !== 'exact' || mayRunScript(comm) ? this.argv(pid) : undefined;
      if (argv === null) continue; // ended while we looked
      const cmdline = argv?.join(' ') ?? '';
      const found = (): ProcessInfo => {
        const script = argv ? scriptOf(comm, argv) : undefined;
        return { pid, commandLine: cmdline || this.commandLine(pid) || comm, name: comm, ...(script ? { script } : {}) };
      };
      if (match === 'exact') {
        if (comm === exact || (argv !== undefined && isProgram(name, comm, argv))) out.push(found());
        continue;
      }
      // pgrep -f skips kernel threads (empty command line), as here. By name, pgrep would match
      // them too (`pgrep unbound` finds kworker/u8:0-events_unbound), but no program the user names
      // is a part of a kernel thread's name: one counts only by its whole name (nfsd's threads are nfsd).
      if (cmdline === '' && match === 'name' && comm !== exact) continue;
      if (match === 'full' ? cmdline !== '' && pattern.test(cmdline) : pattern.test(comm) || (cmdline !== '' && isProgram(name, comm, argv!))) out.push(found());
    }
    return out;
  }

  /** See Host.descendants: /proc/PID/task/TID/children, breadth first, at most 512. */
  descendants(pid: number): number[] {
    const out = [pid];
    for (let i = 0; i < out.length && out.length < 512; i++) {
      try {
        for (const t of this.fs.readdir(`/proc/${out[i]}/task`)) {
          let children = '';
          try {
            children = this.fs.readFile(`/proc/${out[i]}/task/${t}/children`).trim();
          } catch {
            // thread gone
          }
          for (const c of children.split(/\s+/).filter(Boolean)) out.push(Number(c));
        }
      } catch {
        // gone
      }
    }
    return [...new Set(out)];
  }

  /** See Host.socketInodes. */
  socketInodes(pids: readonly number[]): ProcessSockets[] {
    return pids.map((pid) => {
      let fds: string[];
      try {
        fds = this.fs.readdir(`/proc/${pid}/fd`);
      } catch (err) {
        return { pid, inodes: isDenied(err) ? 'hidden' : 'gone' };
      }
      const inodes = new Set<number>();
      for (const fd of fds) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(this.fs.readlink(`/proc/${pid}/fd/${fd}`));
          if (m) inodes.add(Number(m[1]));
        } catch {
          // closed meanwhile
        }
      }
      return { pid, inodes: [...inodes] };
    });
  }

  /**
   * See Host.netNamespaces. One readlink per process (the cost of a pid walk); `ownPid` is whyport's
   * (or its remote shell's) process, whose namespace is the own one.
   */
  netNamespaces(ownPid: number): NetNamespace[] {
    const byInode = new Map<number, NetNamespace>();
    let own: number | undefined;
    try {
      own = nsInode(this.fs.readlink(`/proc/${ownPid}/ns/net`));
    } catch {
      // unknown: no namespace is marked own
    }
    for (const pid of this.pids().sort((a, b) => a - b)) {
      let inode: number | undefined;
      try {
        inode = nsInode(this.fs.readlink(`/proc/${pid}/ns/net`));
      } catch {
        continue; // gone, or not ours to read
      }
      if (inode === undefined) continue;
      let ns = byInode.get(inode);
      if (!ns) {
        ns = { inode, pids: [], own: inode === own, names: [] };
        byInode.set(inode, ns);
      }
      if (ns.pids.length < 8) ns.pids.push(pid);
    }
    let names: string[] = [];
    try {
      names = this.fs.readdir('/run/netns').sort();
    } catch {
      // no named namespaces
    }
    for (const name of names) {
      try {
        const ino = this.fs.stat(`/run/netns/${name}`).ino;
        if (ino !== undefined) byInode.get(ino)?.names.push(name);
      } catch {
        // a stale name
      }
    }
    return [...byInode.values()];
  }

  /** See Host.cgroups. */
  cgroups(pids: readonly number[]): (string | undefined)[] {
    return pids.map((pid) => {
      if (!Number.isInteger(pid) || pid <= 0) return undefined;
      try {
        return this.fs.readFile(`/proc/${pid}/cgroup`);
      } catch {
        return undefined;
      }
    });
  }

  /**
   * See Host.socketOwners. On a busy server a full scan reads every descriptor on the machine,
   * which is what makes `ss -p` slow; stopping at the last owner, with the likely processes and
   * the small descriptor tables first, usually reads a fraction of them.
   */
  async socketOwners(inodes: readonly number[], opts: SocketOwnersOptions = {}): Promise<SocketOwnersFound> {
    const wanted = new Set<number>();
    for (const inode of inodes) if (Number.isInteger(inode) && inode > 0) wanted.add(inode);
    const owners = new Map<number, SocketOwner[]>();
    const found = (hidden: boolean): SocketOwnersFound => ({ owners: [...owners].map(([inode, holders]) => ({ inode, holders })), hidden });
    if (wanted.size === 0) return found(false);

    let denied = false;
    const complete = () => !opts.exhaustive && owners.size === wanted.size;
    const visited = new Set<number>();
    let lastYield = performance.now();

    const scan = (pid: number) => {
      visited.add(pid);
      let fds: string[];
      try {
        fds = this.fs.readdir(`/proc/${pid}/fd`);
      } catch (err) {
        // ENOENT/ESRCH: the process ended while we looked, which is normal.
        if (isDenied(err)) denied = true;
        return;
      }
      let program: string | undefined;
      for (const fd of fds) {
        let link: string;
        try {
          link = this.fs.readlink(`/proc/${pid}/fd/${fd}`);
        } catch (err) {
          if (isDenied(err)) denied = true;
          continue;
        }
        // Cheap test first: most descriptors are files and pipes.
        if (!link.startsWith('socket:[')) continue;
        const inode = Number(link.slice(8, -1));
        if (!wanted.has(inode)) continue;
        program ??= this.comm(pid) ?? '?';
        const list = owners.get(inode) ?? [];
        list.push({ pid, program, fd: Number(fd) });
        owners.set(inode, list);
        if (complete()) return;
      }
    };

    for (const pid of opts.candidatePids ?? []) {
      if (!Number.isInteger(pid) || pid <= 0 || visited.has(pid)) continue;
      scan(pid);
      if (complete()) return found(false);
    }

    // Smallest descriptor tables first: a server's listener is usually met long before the tens of
    // thousands of descriptors of a busy proxy or client pool, which a pid-order walk may hit first.
    const pids = this.pids()
      .map((pid) => ({ pid, size: this.fdTableSize(pid) }))
      .sort((a, b) => a.size - b.size || a.pid - b.pid)
      .map((p) => p.pid);
    for (const pid of pids) {
      if (visited.has(pid)) continue;
      scan(pid);
      if (complete()) break;
      // Hand the event loop back now and then so a spinner keeps turning.
      if (performance.now() - lastYield > 20) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    return found(denied && [...wanted].some((inode) => !owners.has(inode)));
  }

  /** See Host.unitFiles. */
  unitFiles(dirs: readonly string[], opts: { suffixes: readonly string[]; maxBytes: number }): UnitFileText[] {
    const suffix = new RegExp(`\\.(${opts.suffixes.join('|')})$`);
    const out: UnitFileText[] = [];
    const seen = new Set<string>();
    const list = (dir: string) => {
      try {
        return this.fs.readdir(dir).sort();
      } catch {
        return [];
      }
    };
    // [] for anything that is not a readable regular file of sane size: masks (→ /dev/null), dangling links.
    const read = (unit: string, path: string) => {
      try {
        const info = this.fs.stat(path);
        if (info.kind === 'file' && info.size <= opts.maxBytes) out.push({ unit, path, text: this.fs.readFile(path) });
      } catch {
        // unreadable: not a guess
      }
    };
    for (const dir of dirs) {
      let real: string;
      try {
        real = this.fs.realpath(dir);
      } catch {
        continue;
      }
      // On merged-/usr systems (Debian 12) /lib/systemd/system and /usr/lib/systemd/system are one dir.
      if (seen.has(real)) continue;
      seen.add(real);
      for (const entry of list(dir)) {
        if (suffix.test(entry)) read(entry, `${dir}/${entry}`);
        else if (entry.endsWith('.d') && suffix.test(entry.slice(0, -2))) {
          for (const f of list(`${dir}/${entry}`)) if (f.endsWith('.conf')) read(entry.slice(0, -2), `${dir}/${entry}/${f}`);
        }
      }
    }
    return out;
  }

  /** FDSize from /proc/PID/status: the size of the descriptor table, a cheap upper bound on its fds. */
  private fdTableSize(pid: number): number {
    try {
      const m = /\nFDSize:\s*(\d+)/.exec(this.fs.readFile(`/proc/${pid}/status`));
      return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
    } catch {
      return Number.MAX_SAFE_INTEGER;
    }
  }

  /** The argv words of a pid ([] for a kernel thread), null when it is gone. */
  private argv(pid: number): string[] | null {
    try {
      return this.fs.readFile(`/proc/${pid}/cmdline`).split('\0').filter((w, i, all) => w !== '' || i < all.length - 1);
    } catch {
      return null;
    }
  }

  private commandLine(pid: number): string {
    try {
      return this.fs.readFile(`/proc/${pid}/cmdline`).replace(/\0+$/, '').replaceAll('\0', ' ');
    } catch {
      return '';
    }
  }
}

function isDenied(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

/** The inode of `net:[4026531840]`. */
function nsInode(link: string): number | undefined {
  const m = /^net:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}
