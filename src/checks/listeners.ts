import { port, text, z } from './params.js';
import { bindVerdict } from '../analysis/bind.js';
import { endpointText } from '../net/endpoint.js';
import type { TcpSocket } from '../system/socket.js';
import { defineCheck } from './check.js';
import { e, fields } from './evidence.js';

/** Who listens on the port, on which address and family, and whether that reaches the target. */
export const listeners = defineCheck({
  description: 'Listeners on the port: bind address, family, dual-stack, owner',
  outcomes: ['covers', 'loopback-only', 'other-address', 'none', 'error'],
  params: z.object({ port: port(), host: text() }),
  evidence: fields({ listeners: e.list(e.any()), targetAddresses: e.list(e.str()), ownersHidden: e.bool(), note: e.str(), accepted: e.list(e.str()), missed: e.list(e.str()) }),
  describe: (p) => `ss -Htlnp 'sport = :${p.port}'`,
  async run(p, ctx) {
    const command = `ss -Htlnp 'sport = :${p.port}'`;
    let table;
    try {
      table = await ctx.facts.socketTable(p.port);
    } catch (err) {
      return { outcome: 'error', status: 'fail', summary: `could not read the socket table: ${(err as Error).message}`, command, evidence: {} };
    }
    const res = await ctx.facts.resolve(p.host);
    const addresses = res.ok ? res.addresses.map((a) => a.address) : [];
    const listening = table.sockets.filter((s) => s.state === 'LISTEN' && s.local.port === p.port);
    const evidence = {
      listeners: listening.map(describeListener),
      targetAddresses: addresses,
      ownersHidden: table.ownersHidden,
      ...(table.ownersHidden ? { note: 'owners of other users’ sockets are hidden: run whyport as root to see them' } : {}),
    };
    const where = listening.map((l) => `${endpointText(l.local.address, l.local.port)}${ownerText(l, table.ownersHidden)}`).join(', ');
    const v = bindVerdict(listening, addresses);
    switch (v.kind) {
      case 'none':
        return { outcome: 'none', status: 'fail', summary: `nothing listens on port ${p.port}`, command, evidence };
      case 'covers':
        return {
          outcome: 'covers',
          status: v.missed.length ? 'fail' : 'pass',
          summary: `listening on ${where}${v.missed.length ? `; not reachable on ${v.missed.join(', ')}` : ''}`,
          command,
          evidence: { ...evidence, accepted: v.accepted, missed: v.missed },
        };
      case 'loopback-only':
        return { outcome: 'loopback-only', status: 'fail', summary: `listening only on loopback: ${where}`, command, evidence };
      case 'other-address':
        return { outcome: 'other-address', status: 'fail', summary: `listening on ${where}, not on ${addresses.join(', ') || p.host}`, command, evidence };
    }
  },
});

/** A listener as evidence: where it is bound and who owns it. */
export function describeListener(l: TcpSocket) {
  return {
    address: l.local.address,
    port: l.local.port,
    family: l.family,
    ...(l.dualStack !== undefined ? { dualStack: l.dualStack } : {}),
    ...(l.local.device ? { device: l.local.device } : {}),
    acceptQueue: l.recvQ,
    backlog: l.sendQ,
    owners: l.owners ?? null,
  };
}

function ownerText(l: TcpSocket, hidden: boolean): string {
  if (l.owners && l.owners.length) return ` (${[...new Set(l.owners.map((o) => `${o.program}[${o.pid}]`))].join(', ')})`;
  return hidden ? ' (owner hidden: not root)' : '';
}
