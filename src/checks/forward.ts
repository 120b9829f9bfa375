import { port, text, z } from './params.js';
import { defineCheck, type CheckContext } from './check.js';
import { e, fields } from './evidence.js';
import { endpointText } from '../net/endpoint.js';
import { isLoopback, isWildcard, normalizeAddress } from '../net/address.js';
import { findDnat, type DnatForward } from '../analysis/forward.js';
import { proxyForward, type ProxyForward } from '../analysis/proxy.js';
import { containerName, namespaceCommands, otherNamespaceAddresses, otherNamespacesOf } from '../system/namespaces.js';
import { listenersOn, nameNamespace, namespaceRef, type NamedNamespace } from './namespaces.js';
import { udpReceiversOn, udpSocketsOf } from '../system/namespace-udp.js';
import type { TcpSocket } from '../system/socket.js';
import { findBindArgument } from '../analysis/bind-source.js';
import { argvOf } from '../system/processes.js';
import { showCommand } from '../system/runner.js';

type Forward = DnatForward | ProxyForward;

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
  async run(p, ctx) {
    const protocol = ctx.target.protocol;
    const command = `iptables -t nat -S; nft list ruleset | grep -n 'dnat\\|redirect'; ss ${protocol === 'udp' ? '-Hulnp' : '-Htlnp'} 'sport = :${p.port}'`;
    const fwd = await findForward(p.port, p.host, ctx);
    if (!fwd) {
      return { outcome: 'none', status: 'info', summary: `no DNAT rule or proxy forwards port ${p.port}`, command, evidence: {} };
    }
    const via = fwd.via === 'dnat' ? `${fwd.tool === 'nftables' ? 'nftables' : fwd.tool} rule \`${fwd.rule}\` (${fwd.chain})` : `${fwd.program} (${fwd.rule})`;
    const ref = { via: fwd.via, to: fwd.to ? endpointText(fwd.to.address, fwd.to.port) : '?', rule: fwd.rule };
    const base = { forward: ref, ...(fwd.via === 'dnat' ? { chain: fwd.chain, tool: fwd.tool } : {}), ...(fwd.via === 'dnat' && fwd.note ? { note: fwd.note } : {}) };
    if (!fwd.to) {
      return { outcome: 'off-host', status: 'info', summary: `port ${p.port} is forwarded by ${via}, whose destination its command line does not say`, command, evidence: base };
    }
    const dest = fwd.to;
    const destination = endpointText(dest.address, dest.port);
    const owner = await namespaceOf(dest.address, dest.port, ctx);
    const traffic = protocol === 'udp' ? 'datagrams' : 'connections';
    if (!owner) {
      return { outcome: 'off-host', status: 'info', summary: `port ${p.port} is forwarded to ${destination} by ${via}: no network namespace of this host has that address, so it is another machine`, command, evidence: { ...base, destination } };
    }
    const listeners = protocol === 'udp' ? udpReceiversOn(owner.sockets, dest.port) : listenersOn(owner.sockets, dest.port);
    const covering = listeners.filter((l) => isWildcard(l.local.address) || normalizeAddress(l.local.address) === normalizeAddress(dest.address));
    const named = owner.view ? await containerName(ctx.host, owner.view.container, ctx.timeoutMs) : undefined;
    const view = owner.view && named ? { ...owner.view, name: named } : owner.view;
    const where = view ? (view.kind === 'container' ? `container ${view.name}` : `network namespace ${view.name}`) : 'this host itself';
    const ns = view ? { namespace: namespaceRef(view) } : {};
    const cmd = view ? `${command}; ${namespaceCommands(view, dest.port, protocol)}` : command;
    const ss = ['ss', protocol === 'udp' ? '-Hulnp' : '-Htlnp', `sport = :${dest.port}`];
    const look = view ? ['nsenter', '-t', String(view.pid), '-n', ...ss] : ss;
    const holder = async (socks: TcpSocket[]) => (await ctx.host.socketOwners(socks.map((s) => s.inode ?? 0).filter((i) => i > 0))).owners[0]?.holders[0];
    const at = (socks: TcpSocket[]) => socks.map((l) => endpointText(l.local.address, l.local.port));
    if (covering.length) {
      const h = await holder(covering);
      return {
        outcome: 'reaches',
        status: 'pass',
        summary: `port ${p.port} is forwarded to ${destination} (${where}) by ${via}, and ${h ? `${h.program} (pid ${h.pid})` : 'a program'} listens there on ${at(covering).join(', ')}`,
        command: cmd,
        evidence: { ...base, destination, ...ns, where, listeners: at(covering), ...(h ? { program: h.program, pid: h.pid } : {}) },
      };
    }
    if (listeners.length) {
      const h = await holder(listeners);
      // The container's files are not this host's: only its command line (read from /proc here) is looked at.
      const argv = h ? await argvOf(ctx.host, h.pid) : [];
      const arg = h ? findBindArgument(argv, { address: listeners[0]!.local.address, port: listeners[0]!.local.port }) : undefined;
      const bindFix = h && arg ? `Inside, ${h.program} (pid ${h.pid}) was started with \`${arg.text}\` on its command line: start it again with 0.0.0.0 (every address of the container) in its place — \`${showCommand(arg.replaced.slice(0, 1))} … ${showCommand(arg.replaced.slice(arg.index, arg.index + 1))}\` — then see where it listens` : undefined;
      return {
        outcome: 'loopback-only',
        status: 'fail',
        summary: `port ${p.port} is forwarded to ${destination} (${where}) by ${via}, but there ${h ? `${h.program} (pid ${h.pid})` : 'the program'} listens on ${at(listeners).join(', ')} only, which forwarded ${traffic} never reach`,
        command: cmd,
        evidence: { ...base, destination, ...ns, where, listeners: at(listeners), look, ...(h ? { program: h.program, pid: h.pid } : {}), ...(bindFix ? { bindFix } : {}) },
      };
    }
    // A UDP socket on a port of the ephemeral range (Linux's default 32768-60999) is a client's, not a service.
    const serving = (s: TcpSocket) => (protocol === 'udp' ? s.state === 'CLOSE' && (s.local.port < 32768 || s.local.port > 60999) : s.state === 'LISTEN');
    const otherPorts = [...new Set(owner.sockets.filter((s) => serving(s) && !isLoopback(s.local.address)).map((s) => s.local.port))].sort((a, b) => a - b);
    const otherPortsText = otherPorts.length ? `it listens on ${otherPorts.join(', ')} instead` : 'nothing listens there on any port';
    return {
      outcome: 'nothing',
      status: 'fail',
      summary: `port ${p.port} is forwarded to ${destination} (${where}) by ${via}, but nothing listens on port ${dest.port} there: ${otherPortsText}`,
      command: cmd,
      evidence: { ...base, destination, ...ns, where, listeners: [], otherPorts, otherPortsText, look },
    };
  },
});

/** The DNAT rule that takes the port (as a client's packet meets the nat table), else a proxy holding it. */
async function findForward(portNumber: number, host: string, ctx: CheckContext): Promise<Forward | undefined> {
  const [rules, res] = await Promise.all([ctx.facts.natRules(), ctx.facts.resolve(host)]);
  const addresses = res.ok ? res.addresses.map((a) => a.address) : [];
  const protocol = ctx.target.protocol;
  for (const dst of addresses.length ? addresses : [undefined]) {
    // From a client the packet meets PREROUTING; to a loopback address only this host's OUTPUT.
    const hook = dst !== undefined && isLoopback(dst) ? 'output' : 'prerouting';
    const dnat = findDnat(rules, { port: portNumber, protocol, hook, dstLocal: true, ...(dst ? { dst } : {}) });
    if (dnat) return dnat;
  }
  for (const pid of await holdersOf(portNumber, ctx)) {
    const cmdline = await ctx.host.readFile(`/proc/${pid}/cmdline`).catch(() => '');
    const proxy = proxyForward(cmdline.replace(/\0+$/, '').replaceAll('\0', ' '), portNumber);
    // docker-proxy runs once per protocol of a published port (`-proto udp`).
    if (proxy && (protocol === 'tcp' || proxy.protocol === 'udp')) return proxy;
  }
  return undefined;
}

/** The processes holding the port here: its TCP listeners, or the sockets bound to it for UDP. */
async function holdersOf(portNumber: number, ctx: CheckContext): Promise<number[]> {
  if (ctx.target.protocol === 'udp') {
    const inodes = udpReceiversOn(await udpSocketsOf(ctx.host), portNumber).map((s) => s.inode ?? 0).filter((i) => i > 0);
    if (!inodes.length) return [];
    return [...new Set((await ctx.host.socketOwners(inodes)).owners.flatMap((o) => o.holders.map((h) => h.pid)))];
  }
  const table = await ctx.facts.socketTable(portNumber).catch(() => undefined);
  return [...new Set((table?.sockets ?? []).filter((s) => s.state === 'LISTEN' && s.local.port === portNumber).flatMap((s) => (s.owners ?? []).map((o) => o.pid)))];
}

/** The namespace whose interfaces hold the address: this one (view undefined), another, or none. */
async function namespaceOf(address: string, portNumber: number, ctx: CheckContext): Promise<{ view?: NamedNamespace; sockets: TcpSocket[] } | undefined> {
  const bare = normalizeAddress(address);
  const udp = ctx.target.protocol === 'udp';
  // A REDIRECT, or a DNAT to another port of this host, stays in this namespace.
  if (await ctx.facts.isLocalAddress(bare)) {
    if (udp) return { sockets: await udpSocketsOf(ctx.host) };
    return { sockets: (await ctx.facts.socketTable(portNumber).catch(() => undefined))?.sockets ?? [] };
  }
  const { views } = await ctx.facts.read(otherNamespacesOf, 'tcp');
  const addresses = await ctx.facts.read(otherNamespaceAddresses, undefined);
  const i = addresses.findIndex((list) => list.map(normalizeAddress).includes(bare));
  if (i < 0) return undefined;
  // The namespace views carry TCP sockets; for UDP, its own UDP sockets are read once it is known.
  return { view: nameNamespace(views[i]!), sockets: udp ? await udpSocketsOf(ctx.host, views[i]!.pid) : views[i]!.sockets };
}
