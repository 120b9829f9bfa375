import { text, z } from './params.js';
import { initScriptsOf, type InitScript } from '../system/init-scripts.js';
import { closestProgram, installedProgram, type ProcessInfo } from '../system/processes.js';
import { defineCheck } from './check.js';
import { e, fields } from './evidence.js';

/** What the process step reads: the processes of the name, and when there are none, how this host would start it. */
export interface ProcessReadings {
  processes: ProcessInfo[];
  /** What a person types to see the same (pgrep -af NAME). */
  command: string;
  /** systemd runs as init: its units (the next steps) say how the program is started, not an init script. */
  systemd: boolean;
  /** The sysvinit/OpenRC scripts that start it (looked for only when it is not running and systemd does not run). */
  initScripts: InitScript[];
  /** A running program whose name is close to the one given, when that one is neither running nor installed. */
  suggestion?: string;
}

/** Is the expected program running at all (pgrep, and a program an interpreter runs by its script's name)? */
export const processCheck = defineCheck({
  description: 'Whether a process of that name is running (pgrep semantics; a script an interpreter runs by its name: python3 /srv/myapp.py is myapp); when not, how this host would start it (an init script where systemd does not run)',
  outcomes: ['running', 'not-running', 'init-script'],
  // Older playbooks name only not-running: a program an init script starts is still not running.
  refines: { 'init-script': 'not-running' },
  params: z.object({ name: text() }),
  evidence: fields({
    name: e.str(),
    pids: e.list(e.num()),
    processes: e.list(e.any()),
    initScript: e.str(),
    start: e.list(e.str()),
    kernelLog: e.list(e.str()),
    suggestion: e.str(),
  }),
  describe: (p) => `pgrep -a ${p.name}`,
  async read(p, ctx): Promise<ProcessReadings> {
    const found = await ctx.facts.processes(p.name);
    const readings: ProcessReadings = { processes: found.processes, command: found.command, systemd: true, initScripts: [] };
    if (found.processes.length > 0) return readings;
    readings.systemd = await ctx.facts.systemdRunning();
    if (!readings.systemd) readings.initScripts = await ctx.facts.read(initScriptsOf, p.name);
    if (readings.initScripts.length === 0 && !(await ctx.facts.read(installedProgram, p.name))) {
      const hint = closestProgram(p.name, await ctx.facts.programNames().catch(() => []));
      if (hint) readings.suggestion = hint;
    }
    return readings;
  },
  decide: (r, p) => ({ ...decideProcess(r, p), command: r.command }),
});

/** The pure decision of the process step. */
export function decideProcess(r: ProcessReadings, p: { name: string }) {
  const name = p.name;
  const pids = r.processes.map((x) => x.pid);
  if (r.processes.length > 0) {
    const n = r.processes.length;
    return {
      outcome: 'running' as const,
      status: 'pass' as const,
      summary: `${name} is running: ${n === 1 ? 'pid' : `${n} processes, pids`} ${pids.slice(0, 5).join(', ')}${n > 5 ? ', …' : ''}`,
      evidence: { name, pids, processes: r.processes.slice(0, 10) },
    };
  }
  // Where the kernel says whom it killed: the journal where systemd runs, else the ring buffer
  // (an OOM kill is an error line: "Out of memory: Killed process 812 (sshd)").
  const kernelLog = r.systemd ? ['journalctl', '-k', '--grep', name, '-n', '20', '--no-pager'] : ['dmesg', '--ctime', '--level=err,warn'];
  const base = { name, pids, processes: [], kernelLog };
  const script = r.initScripts[0];
  if (script) {
    return {
      outcome: 'init-script' as const,
      status: 'fail' as const,
      summary: `no process named ${name} is running; ${script.path} starts it (this host's init is not systemd)`,
      evidence: { ...base, initScript: script.name, start: script.start },
    };
  }
  const hint = r.suggestion ? ` — did you mean ${r.suggestion}? (it runs; no program named ${name} is installed)` : '';
  return {
    outcome: 'not-running' as const,
    status: 'fail' as const,
    summary: `no process named ${name} is running${hint}`,
    evidence: { ...base, ...(r.suggestion ? { suggestion: r.suggestion } : {}) },
  };
}
