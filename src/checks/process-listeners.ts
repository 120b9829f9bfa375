import { port, z } from './params.js';
import { endpointText } from '../net/endpoint.js';
import { readListeners } from '../system/socket-query.js';
import { defineCheck } from './check.js';
import { e, fields } from './evidence.js';

/** Where a process listens, to catch it listening on another port than expected. */
export const processListeners = defineCheck({
  description: 'The ports a process (by name, or by pid and its children) listens on (for UDP: is bound to)',
  outcomes: ['this-port', 'other-ports', 'none', 'hidden', 'not-running'],
  params: z.object({
    port: port(),
    name: z.optional(z.string()),
    // '' when the unit has no main pid (the placeholder rendered nothing).
    pid: z.optional(z.union([z.literal(''), z.coerce.number().check(z.int(), z.minimum(0))])),
  }),
  evidence: fields({ pids: e.list(e.num()), ports: e.list(e.num()), listeners: e.list(e.str()) }),
  describe: (p, ctx) => `ss -H${ctx.target.protocol === 'udp' ? 'u' : 't'}lnp | grep ${p.name ? p.name : `pid=${p.pid}`}`,
  async run(p, ctx) {
    const udp = ctx.target.protocol === 'udp';
    let pids: number[] = [];
    let label: string;
    // ss -p shows the process name: a program an interpreter runs shows as python3, node, java…
    let byPid = false;
    if (p.pid) {
      pids = await ctx.host.descendants(p.pid);
      label = `pid ${p.pid}`;
    } else if (p.name) {
      const found = await ctx.facts.processes(p.name);
      pids = found.processes.map((x) => x.pid);
      label = p.name;
      byPid = found.processes.some((x) => x.name !== undefined && x.name !== p.name!.slice(0, 15));
    } else {
      label = 'the process';
    }
    const grep = p.name && !byPid ? `'"${p.name}"'` : p.name ? `-E 'pid=(${pids.slice(0, 8).join('|')}),'` : `pid=${p.pid}`;
    const command = `ss -H${udp ? 'u' : 't'}lnp | grep ${grep}`;
    if (pids.length === 0) return { outcome: 'not-running', status: 'fail', summary: `${label} is not running`, command, evidence: { pids } };

    const inodes = new Set<number>();
    let hidden = false;
    for (const { inodes: r } of await ctx.host.socketInodes(pids)) {
      if (r === 'hidden') hidden = true;
      else if (r !== 'gone') for (const i of r) inodes.add(i);
    }
    const table = await readListeners(ctx.host, { timeoutMs: ctx.timeoutMs, ...(udp ? { protocol: 'udp' as const } : {}) });
    const mine = table.sockets.filter((s) => s.inode !== undefined && inodes.has(s.inode));
    const ports = [...new Set(mine.map((s) => s.local.port))].sort((a, b) => a - b);
    const evidence = { pids, ports, listeners: mine.map((s) => endpointText(s.local.address, s.local.port)) };
    if (mine.some((s) => s.local.port === p.port)) {
      return { outcome: 'this-port', status: 'pass', summary: udp ? `${label} is bound to UDP port ${p.port}` : `${label} listens on port ${p.port}`, command, evidence };
    }
    if (mine.length > 0) {
      const where = evidence.listeners.join(', ');
      return { outcome: 'other-ports', status: 'fail', summary: udp ? `${label} is bound to UDP ${where} — not to port ${p.port}` : `${label} listens on ${where} — not on port ${p.port}`, command, evidence };
    }
    if (hidden) {
      return { outcome: 'hidden', status: 'info', summary: `cannot see the sockets of ${label}: whyport is not root`, command: `sudo ${command}`, evidence };
    }
    const running = `${label} runs (pid ${pids.slice(0, 5).join(', ')})`;
    return { outcome: 'none', status: 'fail', summary: udp ? `${running} but is bound to no UDP port` : `${running} but listens on no TCP port`, command, evidence };
  },
});
