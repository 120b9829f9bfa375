import { text, z } from './params.js';
import { defineCheck } from './check.js';
import { e, fields } from './evidence.js';

/** Is the expected program running at all (pgrep)? */
export const processCheck = defineCheck({
  description: 'Whether a process of that name is running (pgrep semantics)',
  outcomes: ['running', 'not-running'],
  params: z.object({ name: text() }),
  evidence: fields({ name: e.str(), pids: e.list(e.num()), processes: e.list(e.any()) }),
  describe: (p) => `pgrep -a ${p.name}`,
  async run(p, ctx) {
    const found = await ctx.facts.processes(p.name);
    const evidence = { name: p.name, pids: found.processes.map((x) => x.pid), processes: found.processes.slice(0, 10) };
    if (found.processes.length === 0) return { outcome: 'not-running', status: 'fail', summary: `no process named ${p.name} is running`, command: found.command, evidence };
    const n = found.processes.length;
    return {
      outcome: 'running',
      status: 'pass',
      summary: `${p.name} is running: ${n === 1 ? 'pid' : `${n} processes, pids`} ${found.processes.slice(0, 5).map((x) => x.pid).join(', ')}${n > 5 ? ', …' : ''}`,
      command: found.command,
      evidence,
    };
  },
});
