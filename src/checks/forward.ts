import { port, text, z } from './params.js';
import { defineCheck, type CheckContext, type DecideContext } from './check.js';
import { e, fields } from './evidence.js';
import { endpointText } from '../net/endpoint.js';
import { isLoopback, normalizeAddress } from '../net/address.js';
import { forwardOf, listenersAt, proxyOf, dnatOf, type PortHolder } from '../analysis/forwarding.js';
import { inodesOf, nameNamespace, namespaceRef, udpReceiversOn } from '../analysis/namespaces.js';
import { containerNameOf, namespaceCommands, otherNamespaceAddresses, otherNamespacesOf, type NamespaceView } from '../system/namespaces.js';
import { udpSocketsIn } from '../system/namespace-udp.js';
import { socketOwnersOf } from '../system/owners.js';
import type { TcpSocket } from '../system/socket.js';
import type { SocketOwnersFound } from '../host/host.js';
import type { KernelRulesets } from '../analysis/firewall/base-chains.js';
import { findBindArgument } from '../analysis/bind-source.js';
import { argvOfPid } from '../system/processes.js';
import { natRulesOf } from '../system/facts.js';
import { readOf } from '../system/reader.js';
import { showCommand } from '../system/runner.js';

/** What the forward step reads: the nat rules and the target's addresses, the holders of the port, and the destination's namespace. */
export interface ForwardReadings {
  nat: KernelRulesets;
  /** The target's addresses (none when it does not resolve). */
  addresses: string[];
  /** When no DNAT rule takes the port: the processes holding it, each with its command line, up to the first proxy. */
  holders: PortHolder[];
  /** Where the forward's destination address lives, once the forward names one (read only then). */
  destination?: DestinationReadings;
}

/** The namespace whose interfaces hold the destination address: none (another machine), this one, or another. */
export type DestinationReadings =
  | { found: false }
  | {
      found: true;
      /** Another namespace of this host; absent: this host's own. */
      view?: NamespaceView;
      /** Its container's own name, from the runtime. */
      containerName?: string;
      /** Its sockets of the target's protocol. */
      sockets: TcpSocket[];
      /** Who holds the sockets on the destination port (those a forwarded packet reaches, else the others). */
      owners?: SocketOwnersFound;
      /** The holder's argv, when it listens only where forwarded packets do not reach. */
      argv?: string[];
    };

/**
 * Does something forward the port elsewhere — a DNAT rule (Docker's DOCKER chain, Podman's
 * netavark, kube-proxy) or a userland proxy holding it (docker-proxy, socat) — and what is at the
 * other end: a listener every address reaches, one on loopback only, or nothing? For UDP the rule
 * must name UDP (Docker publishes `-p 53:53/udp` as `-p udp --dport 53 -j DNAT`), and the
 * listener is a bound socket that is not connected to one peer.
 */
export const forward = defineCheck({
  description: 'Follow a DNAT rule or a proxy on the port to its destination, and look for the listener there (in whichever network namespace owns the address)',
  outcomes: ['reaches', 'loopback-only', 'nothing', 'off-host', 'none'],
  params: z.object({ port: port(), host: text() }),
  evidence: fields({
    forward: e.object({ via: e.str(), to: e.str(), rule: e.str() }),
    chain: e.str(),
    tool: e.str(),
    destination: e.str(),
    namespace: e.object({ kind: e.str(), name: e.str(), pid: e.num() }),
    where: e.str(),
    listeners: e.list(e.str()),
    otherPorts: e.list(e.num()),
    otherPortsText: e.str(),
    program: e.str(),
    pid: e.num(),
    note: e.str(),
    /** What a person types to see what listens at the other end, with the namespace's real pid. */
    look: e.list(e.str()),
    /** Inside, the argument of the program's command line that keeps it on loopback, and what to start it with. */
    bindFix: e.str(),
  }),
  describe: (p) => `looking for a DNAT rule or a proxy that forwards port ${p.port}`,
  prefetch: () => [readOf(natRulesOf, undefined, { onlyForLocalTarget: true })],
  async read(p, ctx): Promise<ForwardReadings> {
    const protocol = ctx.target.protocol;
    const [nat, res] = await Promise.all([ctx.facts.natRules(), ctx.facts.resolve(p.host)]);
    const addresses = res.ok ? res.addresses.map((a) => a.address) : [];
    const holders: PortHolder[] = [];
    if (!dnatOf(nat, addresses, p.port, protocol)) {
      for (const pid of await holdersOf(p.port, ctx)) {
        const holder = { pid, argv: await ctx.facts.read(argvOfPid, pid) };
        holders.push(holder);
        if (proxyOf(holder, p.port, protocol)) break;
      }
    }
    const readings: ForwardReadings = { nat, addresses, holders };
    const to = forwardOf(nat, addresses, holders, p.port, protocol)?.to;
    if (to) readings.destination = await destinationOf(to, p.port, ctx);
    return readings;
  },
  decide: (r, p, at) => decideForward(r, p, at),
});

/** The pure decision of the forward step. */
export function decideForward(r: ForwardReadings, p: { port: number }, at: DecideContext) {
  const protocol = at.target.protocol;
  const command = `iptables -t nat -S; nft list ruleset | grep -n 'dnat\\|redirect'; ss ${protocol === 'udp' ? '-Hulnp' : '-Htlnp'} 'sport = :${p.port}'`;
  const fwd = forwardOf(r.nat, r.addresses, r.holders, p.port, protocol);
  if (!fwd) {
    return { outcome: 'none' as const, status: 'info' as const, summary: `no DNAT rule or proxy forwards port ${p.port}`, command, evidence: {} };
  }
  const via = fwd.via === 'dnat' ? `${fwd.tool === 'nftables' ? 'nftables' : fwd.tool} rule \`${fwd.rule}\` (${fwd.chain})` : `${fwd.program} (${fwd.rule})`;
  const ref = { via: fwd.via, to: fwd.to ? endpointText(fwd.to.address, fwd.to.port) : '?', rule: fwd.rule };
  const base = { forward: ref, ...(fwd.via === 'dnat' ? { chain: fwd.chain, tool: fwd.tool } : {}), ...(fwd.via === 'dnat' && fwd.note ? { note: fwd.note } : {}) };
  if (!fwd.to) {
    return { outcome: 'off-host' as const, status: 'info' as const, summary: `port ${p.port} is forwarded by ${via}, whose destination its command line does not say`, command, evidence: base };
  }
  const dest = fwd.to;
  const destination = endpointText(dest.address, dest.port);
  const owner = r.destination;
  const traffic = protocol === 'udp' ? 'datagrams' : 'connections';
  if (!owner?.found) {
    return { outcome: 'off-host' as const, status: 'info' as const, summary: `port ${p.port} is forwarded to ${destination} by ${via}: no network namespace of this host has that address, so it is another machine`, command, evidence: { ...base, destination } };
  }
  const { listeners, covering } = listenersAt(owner.sockets, dest, protocol);
  const named = owner.view ? nameNamespace(owner.view) : undefined;
  const view = named && owner.containerName ? { ...named, name: owner.containerName } : named;
  const where = view ? (view.kind === 'container' ? `container ${view.name}` : `network namespace ${view.name}`) : 'this host itself';
  const ns = view ? { namespace: namespaceRef(view) } : {};
  const cmd = view ? `${command}; ${namespaceCommands(view, dest.port, protocol)}` : command;
  const ss = ['ss', protocol === 'udp' ? '-Hulnp' : '-Htlnp', `sport = :${dest.port}`];
  const look = view ? ['nsenter', '-t', String(view.pid), '-n', ...ss] : ss;
  const h = owner.owners?.owners[0]?.holders[0];
  const listed = (socks: TcpSocket[]) => socks.map((l) => endpointText(l.local.address, l.local.port));
  if (covering.length) {
    return {
      outcome: 'reaches' as const,
      status: 'pass' as const,
      summary: `port ${p.port} is forwarded to ${destination} (${where}) by ${via}, and ${h ? `${h.program} (pid ${h.pid})` : 'a program'} listens there on ${listed(covering).join(', ')}`,
      command: cmd,
      evidence: { ...base, destination, ...ns, where, listeners: listed(covering), ...(h ? { program: h.program, pid: h.pid } : {}) },
    };
  }
  if (listeners.length) {
    // The container's files are not this host's: only its command line (read from /proc here) is looked at.
    const arg = h ? findBindArgument(owner.argv ?? [], { address: listeners[0]!.local.address, port: listeners[0]!.local.port }) : undefined;
    const bindFix = h && arg ? `Inside, ${h.program} (pid ${h.pid}) was started with \`${arg.text}\` on its command line: start it again with 0.0.0.0 (every address of the container) in its place — \`${showCommand(arg.replaced.slice(0, 1))} … ${showCommand(arg.replaced.slice(arg.index, arg.index + 1))}\` — then see where it listens` : undefined;
    return {
      outcome: 'loopback-only' as const,
      status: 'fail' as const,
      summary: `port ${p.port} is forwarded to ${destination} (${where}) by ${via}, but there ${h ? `${h.program} (pid ${h.pid})` : 'the program'} listens on ${listed(listeners).join(', ')} only, which forwarded ${traffic} never reach`,
      command: cmd,
      evidence: { ...base, destination, ...ns, where, listeners: listed(listeners), look, ...(h ? { program: h.program, pid: h.pid } : {}), ...(bindFix ? { bindFix } : {}) },
    };
  }
  // A UDP socket on a port of the ephemeral range (Linux's default 32768-60999) is a client's, not a service.
  const serving = (s: TcpSocket) => (protocol === 'udp' ? s.state === 'CLOSE' && (s.local.port < 32768 || s.local.port > 60999) : s.state === 'LISTEN');
  const otherPorts = [...new Set(owner.sockets.filter((s) => serving(s) && !isLoopback(s.local.address)).map((s) => s.local.port))].sort((a, b) => a - b);
  const otherPortsText = otherPorts.length ? `it listens on ${otherPorts.join(', ')} instead` : 'nothing listens there on any port';
  return {
    outcome: 'nothing' as const,
    status: 'fail' as const,
    summary: `port ${p.port} is forwarded to ${destination} (${where}) by ${via}, but nothing listens on port ${dest.port} there: ${otherPortsText}`,
    command: cmd,
    evidence: { ...base, destination, ...ns, where, listeners: [], otherPorts, otherPortsText, look },
  };
}

/** The processes holding the port here: its TCP listeners, or the sockets bound to it for UDP. */
async function holdersOf(portNumber: number, ctx: CheckContext): Promise<number[]> {
  if (ctx.target.protocol === 'udp') {
    const inodes = inodesOf(udpReceiversOn(await ctx.facts.read(udpSocketsIn, undefined), portNumber));
    if (!inodes.length) return [];
    return [...new Set((await ctx.facts.read(socketOwnersOf, inodes)).owners.flatMap((o) => o.holders.map((h) => h.pid)))];
  }
  const table = await ctx.facts.socketTable(portNumber).catch(() => undefined);
  return [...new Set((table?.sockets ?? []).filter((s) => s.state === 'LISTEN' && s.local.port === portNumber).flatMap((s) => (s.owners ?? []).map((o) => o.pid)))];
}

/** Reads the namespace whose interfaces hold the destination address (this one, another, or none), and who listens there. */
async function destinationOf(to: { address: string; port: number }, portNumber: number, ctx: CheckContext): Promise<DestinationReadings> {
  const bare = normalizeAddress(to.address);
  const protocol = ctx.target.protocol;
  let found: Extract<DestinationReadings, { found: true }>;
  // A REDIRECT, or a DNAT to another port of this host, stays in this namespace.
  if (await ctx.facts.isLocalAddress(bare)) {
    found = { found: true, sockets: protocol === 'udp' ? await ctx.facts.read(udpSocketsIn, undefined) : ((await ctx.facts.socketTable(portNumber).catch(() => undefined))?.sockets ?? []) };
  } else {
    const { views } = await ctx.facts.read(otherNamespacesOf, 'tcp');
    const addresses = await ctx.facts.read(otherNamespaceAddresses, undefined);
    const i = addresses.findIndex((list) => list.map(normalizeAddress).includes(bare));
    if (i < 0) return { found: false };
    const view = views[i]!;
    // The namespace views carry TCP sockets; for UDP, its own UDP sockets are read once it is known.
    found = { found: true, view, sockets: protocol === 'udp' ? await ctx.facts.read(udpSocketsIn, view.pid) : view.sockets };
    const name = await ctx.facts.read(containerNameOf, nameNamespace(view).container);
    if (name) found.containerName = name;
  }
  const { listeners, covering } = listenersAt(found.sockets, to, protocol);
  const asked = covering.length ? covering : listeners;
  if (asked.length) {
    found.owners = await ctx.facts.read(socketOwnersOf, inodesOf(asked));
    const h = found.owners.owners[0]?.holders[0];
    // The container's files are not this host's: only its command line (read from /proc here) is looked at.
    if (!covering.length && h) found.argv = await ctx.facts.read(argvOfPid, h.pid);
  }
  return found;
}
