import { port, text, z } from './params.js';
import { bindVerdict } from '../analysis/bind.js';
import { endpointText } from '../net/endpoint.js';
import type { SocketTable, TcpSocket } from '../system/socket.js';
import { udpServices } from './sockets.js';
import { defineCheck, type CheckContext } from './check.js';
import { readBindInputs } from '../system/bind-source.js';
import { bindSourceOf, type BindSource } from '../analysis/bind-source.js';
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
  evidence: fields({
    listeners: e.list(e.any()),
    targetAddresses: e.list(e.str()),
    ownersHidden: e.bool(),
    note: e.str(),
    accepted: e.list(e.str()),
    missed: e.list(e.str()),
    /** Where the address comes from: a line of its configuration, or an argument of its command line. */
    bindSource: e.any(),
    /** That line, as the report's diagnosis.setting: { file, line, text }. */
    setting: e.object({ file: e.str(), line: e.num(), text: e.str() }),
    /** What to change, in words, and the command that changes it (or shows where to look). */
    bindFix: e.str(),
    bindCommand: e.list(e.str()),
  }),
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
        return { outcome: 'loopback-only', status: 'fail', summary: `${words.only}: ${where}`, command, evidence: { ...evidence, ...(await bindAdvice(listening, addresses, p, ctx)) } };
      case 'other-address':
        return { outcome: 'other-address', status: 'fail', summary: `${words.on} ${where}, ${words.notOn} ${addresses.join(', ') || p.host}`, command, evidence: { ...evidence, ...(await bindAdvice(listening, addresses, p, ctx)) } };
    }
  },
});

/** `s/.*\/LINE/` for sed: the replacement's own / & \ escaped. */
const sedReplacement = (line: string) => line.replace(/[\\/&]/g, '\\$&');

/**
 * Where the listener takes its address from, and what to change there: the line of its
 * configuration (well-known programs) or the argument of its command line, with the line or the
 * command line as it should be; where neither shows it, the command that shows its command line.
 */
async function bindAdvice(listening: readonly TcpSocket[], addresses: readonly string[], p: { port: number; host: string }, ctx: CheckContext): Promise<Record<string, unknown>> {
  const owned = listening.find((l) => l.owners?.length);
  const owner = owned?.owners?.[0];
  const or = addresses.length ? ` or ${addresses.join(', ')}` : '';
  if (!owned || !owner) {
    // Not root: which program it is cannot be seen, so neither its command line nor its files.
    return { bindFix: 'Find the program and the bind address in its configuration (often bind, listen or host): as root, this shows which program it is', bindCommand: ['ss', `-H${ctx.target.protocol === 'udp' ? 'u' : 't'}lnp`, `sport = :${p.port}`] };
  }
  const bound = endpointText(owned.local.address, owned.local.port);
  const inputs = await readBindInputs(ctx.host, owner).catch(() => undefined);
  const source: BindSource | undefined = inputs && bindSourceOf(inputs, { address: owned.local.address, port: owned.local.port });
  if (!source) {
    return {
      bindFix: `Find where ${owner.program} (pid ${owner.pid}) takes ${bound} from — its command line below, or its configuration (often bind, listen or host) — and make it listen on every address (0.0.0.0 / ::)${or}, then restart it`,
      bindCommand: ['ps', '-o', 'args=', '-p', String(owner.pid)],
    };
  }
  if (source.kind === 'argument') {
    return {
      bindSource: source,
      bindFix: `${owner.program} (pid ${owner.pid}) was started with \`${source.text}\` on its command line, which makes it listen on ${bound} only: stop it and start it again with every address (0.0.0.0 / ::)${or} in its place`,
      bindCommand: source.replaced,
    };
  }
  const key = source.replacement.split(/[\s=]/)[0];
  const what = source.commented
    ? `${source.file} line ${source.line} leaves ${key} at its default, loopback only (\`${source.text}\`, commented out)`
    : `${source.file} line ${source.line}, \`${source.text}\`, makes ${owner.program} listen on ${bound} only`;
  return {
    bindSource: source,
    setting: { file: source.file, line: source.line, text: source.text },
    bindFix: `${what}: change that line to \`${source.replacement}\` (every address${addresses.length ? `; or name ${addresses.join(', ')}` : ''}), then restart ${owner.program}${source.argument ? ` (its command line has \`${source.argument}\`, which its service takes from that file; a copy started by hand takes it from the command line alone)` : ''}`,
    bindCommand: ['sed', '-i', `${source.line}s/.*/${sedReplacement(source.replacement)}/`, source.file],
  };
}

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
