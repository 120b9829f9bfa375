import { port, z } from './params.js';
import { endpointText } from '../net/endpoint.js';
import { listenersOf } from '../system/socket-query.js';
import { descendantsOf, socketInodesOf } from '../system/processes.js';
import type { ProcessSockets } from '../host/host.js';
import type { TcpSocket } from '../system/socket.js';
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
  describe: (p, at) => `ss -H${at.target.protocol === 'udp' ? 'u' : 't'}lnp | grep ${p.name ? p.name : `pid=${p.pid}`}`,
  async read(p, ctx): Promise<ProcessListenersReadings> {
    const protocol = ctx.target.protocol;
    let pids: number[] = [];
    let byPid = false;
    if (p.pid) {
      pids = await ctx.facts.read(descendantsOf, p.pid);
    } else if (p.name) {
      const found = await ctx.facts.processes(p.name);
      pids = found.processes.map((x) => x.pid);
      // ss -p shows the process name: a program an interpreter runs shows as python3, node, java…
      byPid = found.processes.some((x) => x.name !== undefined && x.name !== p.name!.slice(0, 15));
    }
    if (pids.length === 0) return { protocol, pids, byPid, sockets: [], listeners: [] };
    const sockets = await ctx.facts.read(socketInodesOf, pids);
    const listeners = (await ctx.facts.read(listenersOf, protocol)).sockets;
    return { protocol, pids, byPid, sockets, listeners };
  },
  decide(r, p) {
    const udp = r.protocol === 'udp';
    const { pids } = r;
    const label = p.pid ? `pid ${p.pid}` : p.name ? p.name : 'the process';
    const grep = p.name && !r.byPid ? `'"${p.name}"'` : p.name ? `-E 'pid=(${pids.slice(0, 8).join('|')}),'` : `pid=${p.pid}`;
    const command = `ss -H${udp ? 'u' : 't'}lnp | grep ${grep}`;
    if (pids.length === 0) return { outcome: 'not-running', status: 'fail', summary: `${label} is not running`, command, evidence: { pids } };

    const inodes = new Set<number>();
    let hidden = false;
    for (const { inodes: held } of r.sockets) {
      if (held === 'hidden') hidden = true;
      else if (held !== 'gone') for (const i of held) inodes.add(i);
    }
    const mine = r.listeners.filter((s) => s.inode !== undefined && inodes.has(s.inode));
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

/** What the process-listeners step reads: the process's pids, the sockets they hold, and the host's listeners. */
export interface ProcessListenersReadings {
  protocol: 'tcp' | 'udp';
  /** The pid and its descendants, or the processes of the name ([] when none runs). */
  pids: number[];
  /** Some process of the name shows another process name (an interpreter's): ss's output is grepped by pid. */
  byPid: boolean;
  /** The socket inodes each pid holds ('hidden' without root, 'gone' when it ended). */
  sockets: ProcessSockets[];
  /** Every listening socket of the host (bound, for UDP), without owners. */
  listeners: TcpSocket[];
}
