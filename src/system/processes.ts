import type { Host, ProcessInfo, ProcessSockets } from '../host/host.js';
import { closest, distance } from 'fastest-levenshtein';
import { showCommand } from './runner.js';
import { isProgram, scriptNames } from '../knowledge/program-names.js';
import { defineReader } from './reader.js';

export type { ProcessInfo } from '../host/host.js';

export interface ProcessLookup {
  processes: ProcessInfo[];
  /** What a person would type to see the same: pgrep. */
  command: string;
}

/**
 * Processes whose name matches, with pgrep's semantics: the name is a pattern matched against the
 * process name, which the kernel truncates to 15 characters, so a longer one is matched against
 * the full command line (pgrep -f). One host call: the host reads /proc where it is, the same data
 * pgrep reads, without starting a program per name.
 */
export async function findProcesses(host: Host, name: string): Promise<ProcessLookup> {
  const full = name.length > 15;
  const argv = full ? ['pgrep', '-a', '-f', name] : ['pgrep', '-a', name];
  const processes = await host.processes({ name, match: full ? 'full' : 'name' });
  // Found by the script an interpreter runs: pgrep finds those by their command line (-f).
  const byScript = !full && processes.some((p) => p.name !== undefined && !p.name.includes(name));
  return { processes, command: showCommand(byScript ? ['pgrep', '-a', '-f', name] : argv) };
}

/** The argv of a pid (/proc/PID/cmdline), or [] when it is gone or hidden. */
export async function argvOf(host: Host, pid: number): Promise<string[]> {
  try {
    return (await host.readFile(`/proc/${pid}/cmdline`)).split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Whether a process is the one the user named: its name (comm, truncated to 15 characters by the
 * kernel), argv[0], or the script an interpreter runs (`node /opt/myapp/myapp.js` is myapp),
 * by the one matcher every step uses (knowledge/program-names.ts).
 */
export async function isNamedProcess(host: Host, pid: number, program: string, name: string): Promise<boolean> {
  if (isProgram(name, program, [])) return true;
  return isProgram(name, program, await argvOf(host, pid));
}

/**
 * The names of the programs running (process names, and the scripts interpreters run), sorted:
 * what a did-you-mean offers for a name that matches nothing. Kernel threads are left out.
 */
export async function runningProgramNames(host: Host): Promise<string[]> {
  const all = await host.processes({ name: '', match: 'name' });
  const names = new Set<string>();
  for (const p of all) {
    if (p.name) names.add(p.name);
    if (p.script) for (const n of scriptNames(p.script)) names.add(n);
  }
  return [...names].sort();
}

/**
 * Pids whose process name (comm) is `name` (cut to 15 characters): a few milliseconds, so the
 * owner lookup can look at the likely processes first without waiting for pgrep.
 */
export async function pidsNamed(host: Host, name: string): Promise<number[]> {
  return (await host.processes({ name, match: 'exact' })).map((p) => p.pid);
}

/** Where a program the user names may be installed: a name found in none of them is likely a typo. */
export const PROGRAM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Whether a program of that name is installed (in one of PROGRAM_DIRS), in one host call. */
export async function isInstalled(host: Host, name: string): Promise<boolean> {
  if (name.includes('/')) return false;
  return (await host.stat(PROGRAM_DIRS.map((d) => `${d}/${name}`))).some((f) => f?.kind === 'file');
}

/** The running program whose name is closest to `name`, when one is close enough to be a typo of it. */
export function closestProgram(name: string, running: readonly string[]): string | undefined {
  const candidates = running.filter((r) => r !== name);
  if (candidates.length === 0 || name === '') return undefined;
  const best = closest(name, candidates);
  return distance(name, best) <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Whether a program of that name is installed in the usual program folders, once per diagnosis. */
export const installedProgram = defineReader<string, boolean>({ name: 'installed program', key: (n) => n, read: (name, s) => isInstalled(s.host, name).catch(() => true) });

/** The argv of a pid (argvOf), once per diagnosis: what says which script an interpreter runs. */
export const argvOfPid = defineReader<number, string[]>({ name: 'command line', key: (pid) => String(pid), read: (pid, s) => argvOf(s.host, pid) });

/** The pid and all its descendants (a service's workers), pid first, once per diagnosis. */
export const descendantsOf = defineReader<number, number[]>({ name: 'descendants', key: (pid) => String(pid), read: (pid, s) => s.host.descendants(pid) });

/** The socket inodes each process holds ('hidden', 'gone'), in one host call, once per diagnosis for that set of pids. */
export const socketInodesOf = defineReader<readonly number[], ProcessSockets[]>({ name: 'socket inodes', key: (pids) => pids.join(','), read: (pids, s) => s.host.socketInodes(pids) });
