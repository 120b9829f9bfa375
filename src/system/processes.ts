import type { Host, ProcessInfo } from '../host/host.js';
import { showCommand } from './runner.js';

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
  return { processes, command: showCommand(argv) };
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
 * kernel), or the base name of a word of its command line (`node /opt/myapp/myapp.js` is myapp).
 */
export async function isNamedProcess(host: Host, pid: number, program: string, name: string): Promise<boolean> {
  if (program === name || (name.length > 15 && name.startsWith(program))) return true;
  const argv = await argvOf(host, pid);
  return argv.slice(0, 3).some((w) => {
    const base = w.split('/').pop()!;
    return base === name || base.replace(/\.(js|mjs|py|rb|jar|pl|sh)$/, '') === name;
  });
}

/**
 * Pids whose process name (comm) is `name` (cut to 15 characters): a few milliseconds, so the
 * owner lookup can look at the likely processes first without waiting for pgrep.
 */
export async function pidsNamed(host: Host, name: string): Promise<number[]> {
  return (await host.processes({ name, match: 'exact' })).map((p) => p.pid);
}
