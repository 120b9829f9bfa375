import { z } from 'zod';
import type { TcpSocket } from '../system/socket.js';
import { endpointText } from '../system/bind.js';
import { defineCheck } from './check.js';

const EXAMPLES_PER_STATE = 3;

/** The port in every state — the `netstat -an | grep PORT` step — counted per state with examples. */
export const sockets = defineCheck({
  description: 'Every TCP socket on the port, in every state',
  outcomes: ['listening', 'recent', 'none', 'error'],
  params: z.object({ port: z.coerce.number().int().min(1).max(65535) }),
  describe: (p) => `ss -Htan '( sport = :${p.port} or dport = :${p.port} )'`,
  async run(p, ctx) {
    let table;
    try {
      table = await ctx.facts.socketTable(p.port);
    } catch (err) {
      return { outcome: 'error', status: 'fail', summary: `could not read the socket table: ${(err as Error).message}`, command: `ss -Htan '( sport = :${p.port} or dport = :${p.port} )'`, evidence: {} };
    }
    const counts = countStates(table.sockets);
    const examples: Record<string, string[]> = {};
    for (const s of table.sockets) {
      const list = (examples[s.state] ??= []);
      if (list.length < EXAMPLES_PER_STATE) list.push(`${endpointText(s.local.address, s.local.port)} ↔ ${endpointText(s.peer.address, s.peer.port)}`);
    }
    const evidence = { source: table.source, counts, examples, total: table.sockets.length, notices: table.notices };
    const tally = Object.entries(counts).map(([state, n]) => `${n} ${state}`).join(', ');
    if (counts.LISTEN) {
      return { outcome: 'listening', status: 'pass', summary: `port ${p.port}: ${tally}`, command: table.command, evidence };
    }
    if (table.sockets.length > 0) {
      return {
        outcome: 'recent',
        status: 'fail',
        summary: `no listener on port ${p.port}, but ${tally}: something used this port recently`,
        command: table.command,
        evidence,
      };
    }
    return { outcome: 'none', status: 'fail', summary: `no socket on port ${p.port} in any state`, command: table.command, evidence };
  },
});

/** Sockets per state, LISTEN first, then by count. */
export function countStates(list: readonly TcpSocket[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of list) counts[s.state] = (counts[s.state] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a, x], [b, y]) => Number(b === 'LISTEN') - Number(a === 'LISTEN') || y - x));
}
