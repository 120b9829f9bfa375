import { port, text, z } from './params.js';
import { bindVerdict } from '../analysis/bind.js';
import { endpointText } from '../net/endpoint.js';
import type { SocketTable, TcpSocket } from '../system/socket.js';
import { udpServices } from './sockets.js';
import { defineCheck } from './check.js';
import { e, fields } from './evidence.js';

/** How the summaries say it: a TCP socket listens, a UDP one is bound. */
const WORDS = {
  tcp: { none: (port: number) => `nothing listens on port ${port}`, on: 'listening on', only: 'listening only on loopback', notOn: 'not on' },
  udp: { none: (port: number) => `nothing is bound to UDP port ${port}`, on: 'bound to', only: 'bound only to loopback', notOn: 'not to' },
};

/** Who listens on the port, on which address and family, and whether that reaches the target. */
export const listeners = defineCheck({
  description: 'Listeners on the port (for UDP: the bound sockets): bind address, family, dual-stack, owner',
  outcomes: ['covers', 'loopback-only', 'other-address', 'none', 'error'],
  params: z.object({ port: port(), host: text() }),
  evidence: fields({ listeners: e.list(e.any()), targetAddresses: e.list(e.str()), ownersHidden: e.bool(), note: e.str(), accepted: e.list(e.str()), missed: e.list(e.str()) }),
  describe: (p, ctx) => listenersCommand(p.port, ctx.target.protocol),
  async run(p, ctx) {
    const protocol = ctx.target.protocol;
    const command = listenersCommand(p.port, protocol);
    let table: SocketTable;
    let listening: TcpSocket[];
    try {
      // For UDP what a datagram to the port reaches: a bound, unconnected socket that is not a
      // client's ephemeral port. ss prints v6only for UDP wildcards too, so dual-stack is read as
      // for TCP (netstat and /proc do not show it: Linux's dual-stack default is assumed).
      if (protocol === 'udp') ({ table, services: listening } = await udpServices(ctx, p.port));
      else {
        table = await ctx.facts.socketTable(p.port);
        listening = table.sockets.filter((s) => s.state === 'LISTEN' && s.local.port === p.port);
      }
    } catch (err) {
      return { outcome: 'error', status: 'fail', summary: `could not read the ${protocol === 'udp' ? 'UDP ' : ''}socket table: ${(err as Error).message}`, command, evidence: {} };
    }
    const res = await ctx.facts.resolve(p.host);
    const addresses = res.ok ? res.addresses.map((a) => a.address) : [];
    const evidence = {
      listeners: listening.map(describeListener),
      targetAddresses: addresses,
      ownersHidden: table.ownersHidden,
      ...(table.ownersHidden ? { note: 'owners of other users’ sockets are hidden: run whyport as root to see them' } : {}),
    };
    const words = WORDS[protocol];
    const where = listening.map((l) => `${endpointText(l.local.address, l.local.port)}${ownerText(l, table.ownersHidden)}`).join(', ');
    const v = bindVerdict(listening, addresses);
    switch (v.kind) {
      case 'none':
        return { outcome: 'none', status: 'fail', summary: words.none(p.port), command, evidence };
      case 'covers':
        return {
          outcome: 'covers',
          status: v.missed.length ? 'fail' : 'pass',
          summary: `${words.on} ${where}${v.missed.length ? `; not reachable on ${v.missed.join(', ')}` : ''}`,
          command,
          evidence: { ...evidence, accepted: v.accepted, missed: v.missed },
        };
      case 'loopback-only':
        return { outcome: 'loopback-only', status: 'fail', summary: `${words.only}: ${where}`, command, evidence };
      case 'other-address':
        return { outcome: 'other-address', status: 'fail', summary: `${words.on} ${where}, ${words.notOn} ${addresses.join(', ') || p.host}`, command, evidence };
    }
  },
});

function listenersCommand(port: number, protocol: 'tcp' | 'udp'): string {
  return protocol === 'udp' ? `ss -Hulnp 'sport = :${port}'` : `ss -Htlnp 'sport = :${port}'`;
}

/** A listener as evidence: where it is bound and who owns it; a UDP socket's queue, buffer and drops. */
export function describeListener(l: TcpSocket) {
  return {
    address: l.local.address,
    port: l.local.port,
    family: l.family,
    ...(l.dualStack !== undefined ? { dualStack: l.dualStack } : {}),
    ...(l.local.device ? { device: l.local.device } : {}),
    ...(l.protocol === 'udp' ? { queued: l.rmemAlloc ?? l.recvQ, rcvbuf: l.rcvbuf ?? null, drops: l.drops ?? null } : { acceptQueue: l.recvQ, backlog: l.sendQ }),
    owners: l.owners ?? null,
  };
}

function ownerText(l: TcpSocket, hidden: boolean): string {
  if (l.owners && l.owners.length) return ` (${[...new Set(l.owners.map((o) => `${o.program}[${o.pid}]`))].join(', ')})`;
  return hidden ? ' (owner hidden: not root)' : '';
}
