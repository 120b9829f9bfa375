import { port, text, z } from './params.js';
import { bindVerdict } from '../analysis/bind.js';
import { udpServices } from '../analysis/udp-sockets.js';
import { endpointText } from '../net/endpoint.js';
import type { SocketTable, TcpSocket } from '../system/socket.js';
import { resolution, socketTableOf } from '../system/facts.js';
import { udpPortOf } from '../system/udp-port.js';
import { readOf } from '../system/reader.js';
import { defineCheck, type CheckContext } from './check.js';
import { bindInputsOf, type BindInputs } from '../system/bind-source.js';
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
  describe: (p, at) => listenersCommand(p.port, at.target.protocol),
  prefetch: (p, at) => [readOf(socketTableOf, { port: p.port, protocol: at.target.protocol }), readOf(resolution, p.host)],
  async read(p, ctx): Promise<ListenersReadings> {
    const protocol = ctx.target.protocol;
    let table: SocketTable;
    let listening: TcpSocket[];
    try {
      ({ table, listening } = await readListening(ctx, p.port));
    } catch (err) {
      return { protocol, error: (err as Error).message };
    }
    const res = await ctx.facts.resolve(p.host);
    const addresses = res.ok ? res.addresses.map((a) => a.address) : [];
    const r: ListenersReadings = { protocol, table, listening, addresses };
    const kind = bindVerdict(listening, addresses).kind;
    // Where the address comes from is read only for a listener that misses the target.
    const owner = listening.find((l) => l.owners?.length)?.owners?.[0];
    if ((kind === 'loopback-only' || kind === 'other-address') && owner) r.bindInputs = await ctx.facts.read(bindInputsOf, { pid: owner.pid, program: owner.program });
    return r;
  },
  decide(r, p) {
    const { protocol } = r;
    const command = listenersCommand(p.port, protocol);
    if ('error' in r) return { outcome: 'error', status: 'fail', summary: `could not read the ${protocol === 'udp' ? 'UDP ' : ''}socket table: ${r.error}`, command, evidence: {} };
    const { table, listening, addresses } = r;
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
        return { outcome: 'loopback-only', status: 'fail', summary: `${words.only}: ${where}`, command, evidence: { ...evidence, ...bindAdvice(r, p) } };
      case 'other-address':
        return { outcome: 'other-address', status: 'fail', summary: `${words.on} ${where}, ${words.notOn} ${addresses.join(', ') || p.host}`, command, evidence: { ...evidence, ...bindAdvice(r, p) } };
    }
  },
});

/** What the listeners step reads: the port's listeners (for UDP its bound service sockets), the target's addresses, and where a missing listener takes its address from. */
export type ListenersReadings =
  | { protocol: 'tcp' | 'udp'; error: string }
  | {
      protocol: 'tcp' | 'udp';
      table: SocketTable;
      listening: TcpSocket[];
      /** What the host name resolves to ([] when it does not). */
      addresses: string[];
      /** The first owned listener's command line and configuration, when the listeners miss the target. */
      bindInputs?: BindInputs | undefined;
    };

/**
 * The sockets a connection to the port reaches: TCP's LISTEN sockets; for UDP a bound, unconnected
 * socket that is not a client's ephemeral port. ss prints v6only for UDP wildcards too, so
 * dual-stack is read as for TCP (netstat and /proc do not show it: Linux's dual-stack default is assumed).
 */
async function readListening(ctx: CheckContext, port: number): Promise<{ table: SocketTable; listening: TcpSocket[] }> {
  if (ctx.target.protocol === 'udp') {
    const reading = await ctx.facts.read(udpPortOf, port);
    return { table: reading.table, listening: udpServices(reading, port) };
  }
  const table = await ctx.facts.socketTable(port);
  return { table, listening: table.sockets.filter((s) => s.state === 'LISTEN' && s.local.port === port) };
}

/** `s/.*\/LINE/` for sed: the replacement's own / & \ escaped. */
const sedReplacement = (line: string) => line.replace(/[\\/&]/g, '\\$&');

/**
 * Where the listener takes its address from, and what to change there: the line of its
 * configuration (well-known programs) or the argument of its command line, with the line or the
 * command line as it should be; where neither shows it, the command that shows its command line.
 */
function bindAdvice(r: { protocol: 'tcp' | 'udp'; listening: readonly TcpSocket[]; addresses: readonly string[]; bindInputs?: BindInputs | undefined }, p: { port: number; host: string }) {
  const { listening, addresses } = r;
  const owned = listening.find((l) => l.owners?.length);
  const owner = owned?.owners?.[0];
  const or = addresses.length ? ` or ${addresses.join(', ')}` : '';
  if (!owned || !owner) {
    // Not root: which program it is cannot be seen, so neither its command line nor its files.
    return { bindFix: 'Find the program and the bind address in its configuration (often bind, listen or host): as root, this shows which program it is', bindCommand: ['ss', `-H${r.protocol === 'udp' ? 'u' : 't'}lnp`, `sport = :${p.port}`] };
  }
  const bound = endpointText(owned.local.address, owned.local.port);
  const inputs = r.bindInputs;
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
