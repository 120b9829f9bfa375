import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { showCommand } from './runner.js';

export interface ProcessInfo {
  pid: number;
  /** The command line as `pgrep -a` prints it. */
  commandLine: string;
}

export interface ProcessLookup {
  processes: ProcessInfo[];
  /** What a person would type to see the same: pgrep. */
  command: string;
}

/**
 * Processes whose name matches, with pgrep's semantics: the name is a pattern matched against the
 * process name, which the kernel truncates to 15 characters, so a longer one is matched against
 * the full command line (pgrep -f). /proc is read in-process — the same data pgrep reads, without
 * starting a program per name. whyport's own process and its parent are left out, as they may
 * carry the name in their argv.
 */
export function findProcesses(name: string): ProcessLookup {
  const full = name.length > 15;
  const argv = full ? ['pgrep', '-a', '-f', name] : ['pgrep', '-a', name];
  let pattern: RegExp;
  try {
    pattern = new RegExp(name);
  } catch {
    pattern = new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
  const own = new Set([process.pid, process.ppid]);
  const processes: ProcessInfo[] = [];
  for (const pid of procPids()) {
    if (own.has(pid)) continue;
    try {
      const comm = commOf(pid);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replaceAll('\0', ' ');
      // pgrep -f skips kernel threads (empty command line), as here.
      if (full ? cmdline !== '' && pattern.test(cmdline) : pattern.test(comm)) processes.push({ pid, commandLine: cmdline || comm });
    } catch {
      // The process ended while we looked; that is normal.
    }
  }
  return { processes, command: showCommand(argv) };
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
  return procPids().filter((pid) => {
    try {
      return commOf(pid) === comm;
    } catch {
      return false; // gone
    }
  });
}

/** Every pid in /proc ([] when /proc cannot be read). */
function procPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((e) => e.charCodeAt(0) <= 57) // digits: the other entries are not processes
      .map(Number);
  } catch {
    return [];
  }
}

/** /proc/PID/comm without its newline; throws when the process is gone. */
function commOf(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
}
