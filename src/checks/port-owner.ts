import { port, text, z } from './params.js';
import { isNamedProcess } from '../system/processes.js';
import { normaliseUnit, unitOfPid } from '../system/systemd.js';
import { defineCheck } from './check.js';

/** Does the expected program hold the port, or another one (PORT_TAKEN)? */
export const portOwner = defineCheck({
  description: 'Whether the expected program owns the listening socket',
  outcomes: ['expected', 'other', 'hidden', 'none'],
  params: z.object({ port: port(), process: text() }),
  describe: (p) => `ss -Htlnp 'sport = :${p.port}'  (is it ${p.process}?)`,
  async run(p, ctx) {
    const table = await ctx.facts.socketTable(p.port);
    const command = `ss -Htlnp 'sport = :${p.port}'`;
    const listening = table.sockets.filter((s) => s.state === 'LISTEN' && s.local.port === p.port);
    const owners = listening.flatMap((s) => s.owners ?? []);
    if (listening.length === 0) return { outcome: 'none', status: 'fail', summary: `nothing listens on port ${p.port}`, command, evidence: {} };
    if (owners.length === 0) {
      return {
        outcome: 'hidden',
        status: 'info',
        summary: table.ownersHidden
          ? `the owner of port ${p.port} is hidden: whyport is not root, so other users' processes cannot be seen`
          : `no process could be found holding port ${p.port}`,
        command: table.ownersHidden ? `sudo ${command}` : command,
        evidence: { ownersHidden: table.ownersHidden },
      };
    }
    const matched: typeof owners = [];
    // The name may be the program's (nginx) or its service's (a node app run by webapp.service).
    const unit = normaliseUnit(p.process);
    for (const o of owners) if ((await isNamedProcess(o.pid, o.program, p.process)) || (await unitOfPid(o.pid)) === unit) matched.push(o);
    const evidence = { expected: p.process, owners: dedupe(owners) };
    const who = dedupe(owners).map((o) => `${o.program} (pid ${o.pid})`).join(', ');
    if (matched.length > 0) return { outcome: 'expected', status: 'pass', summary: `${p.process} holds port ${p.port} (${who})`, command, evidence };
    return { outcome: 'other', status: 'fail', summary: `port ${p.port} is held by ${who}, not by ${p.process}`, command, evidence };
  },
});

function dedupe<T extends { pid: number }>(list: T[]): T[] {
  const seen = new Set<number>();
  return list.filter((o) => !seen.has(o.pid) && seen.add(o.pid));
}
