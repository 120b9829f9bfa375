import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import type { Runner } from './runner.js';
import { showCommand } from './runner.js';

export interface ProcessInfo {
  pid: number;
  /** The command line as `pgrep -a` prints it. */
  commandLine: string;
}

export interface ProcessLookup {
  processes: ProcessInfo[];
  command: string;
  /** pgrep was missing and /proc was read instead. */
  viaProc: boolean;
}

/**
 * Processes whose name matches, with pgrep's semantics (a pattern against the process name, which
 * the kernel truncates to 15 characters: longer names are matched against the full command line).
 * whyport's own process and its ancestors are left out, as they may carry the name in their argv.
 */
export async function findProcesses(runner: Runner, name: string, opts: { timeoutMs: number }): Promise<ProcessLookup> {
  const argv = name.length > 15 ? ['pgrep', '-a', '-f', name] : ['pgrep', '-a', name];
  const res = await runner.run(argv, { timeoutMs: opts.timeoutMs });
  const own = new Set([process.pid, process.ppid]);
  if (!res.missing && (res.exitCode === 0 || res.exitCode === 1)) {
    const processes = res.stdout
      .split('\n')
      .map((line) => /^(\d+)\s+(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ pid: Number(m[1]), commandLine: m[2]! }))
      .filter((p) => !own.has(p.pid));
    return { processes, command: showCommand(argv), viaProc: false };
  }
  return { processes: await scanProc(name, own), command: showCommand(argv), viaProc: true };
}

async function scanProc(name: string, own: Set<number>): Promise<ProcessInfo[]> {
  const out: ProcessInfo[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || own.has(pid)) continue;
    try {
      const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      if (name.length > 15 ? cmdline.includes(name) : comm.includes(name)) out.push({ pid, commandLine: cmdline || `[${comm}]` });
    } catch {
      // The process ended while we looked; that is normal.
    }
  }
  return out;
}

/** The short program name of a pid (/proc/PID/comm), or undefined when it is gone. */
export async function programOf(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** The argv of a pid (/proc/PID/cmdline), or [] when it is gone or hidden. */
export async function argvOf(pid: number): Promise<string[]> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Whether a process is the one the user named: its name (comm, truncated to 15 characters by the
 * kernel), or the base name of a word of its command line (`node /opt/myapp/myapp.js` is myapp).
 */
export async function isNamedProcess(pid: number, program: string, name: string): Promise<boolean> {
  if (program === name || (name.length > 15 && name.startsWith(program))) return true;
  const argv = await argvOf(pid);
  return argv.slice(0, 3).some((w) => {
    const base = w.split('/').pop()!;
    return base === name || base.replace(/\.(js|mjs|py|rb|jar|pl|sh)$/, '') === name;
  });
}

/** The inodes of the sockets a process holds, or 'hidden' when its descriptors cannot be read. */
export async function socketInodesOf(pid: number): Promise<Set<number> | 'hidden' | 'gone'> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EACCES' ? 'hidden' : 'gone';
  }
  const inodes = new Set<number>();
  await Promise.all(
    fds.map(async (fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(Number(m[1]));
      } catch {
        // closed meanwhile
      }
    }),
  );
  return inodes;
}

/** The pid and its descendants (a service's workers hold its sockets too). */
export async function withDescendants(pid: number): Promise<number[]> {
  const out = [pid];
  for (let i = 0; i < out.length && out.length < 512; i++) {
    try {
      const tasks = await readdir(`/proc/${out[i]}/task`);
      for (const t of tasks) {
        const children = (await readFile(`/proc/${out[i]}/task/${t}/children`, 'utf8').catch(() => '')).trim();
        for (const c of children.split(/\s+/).filter(Boolean)) out.push(Number(c));
      }
    } catch {
      // gone
    }
  }
  return [...new Set(out)];
}

/**
 * Pids whose process name (comm) is `name`, read from /proc in-process: a few milliseconds, so the
 * owner lookup can look at the likely processes first without waiting for pgrep.
 */
export function pidsNamed(name: string): number[] {
  const comm = name.slice(0, 15);
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.charCodeAt(0) > 57) continue; // not a pid
    try {
      if (readFileSync(`/proc/${e}/comm`, 'utf8').replace(/\n$/, '') === comm) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}
