import { port, text, z } from './params.js';
import { defineCheck, type DecideContext } from './check.js';
import { e, fields } from './evidence.js';
import { endpointText } from '../net/endpoint.js';
import { isLoopback } from '../net/address.js';
import { containerNameOf, addressesOfNamespace, namespaceCommands, namespaceSearchCommand, otherNamespacesOf, type NamespaceView } from '../system/namespaces.js';
import { socketOwnersOf } from '../system/owners.js';
import { readOf } from '../system/reader.js';
import type { SocketOwnersFound } from '../host/host.js';
import { inodesOf, listeningIn, nameNamespace, namespaceRef, type NamedNamespace } from '../analysis/namespaces.js';

/**
 * The command that publishes the port, as argv (a next step for a person: IMAGE and POD stand for
 * what only its owner knows). A plain namespace gets the DNAT rule Docker itself would write.
 */
export function publishCommand(v: NamedNamespace, port: number, address: string | undefined, protocol: 'tcp' | 'udp'): string[] {
  const pp = `${port}:${port}`;
  switch (v.container?.runtime) {
    case 'docker':
    case 'podman':
      // `-p 53:53` publishes TCP only; UDP is said with /udp.
      return [v.container.runtime, 'run', '-p', protocol === 'udp' ? `${pp}/udp` : pp, 'IMAGE'];
    case 'nspawn':
      return ['systemd-nspawn', `--port=${protocol}:${pp}`, '-M', v.name];
    case 'kubernetes':
    case 'containerd':
    case 'cri-o':
      return ['kubectl', 'expose', 'pod', 'POD', '--type=NodePort', `--port=${port}`, ...(protocol === 'udp' ? ['--protocol=UDP'] : [])];
    default:
      return ['iptables', '-t', 'nat', '-A', 'PREROUTING', '-p', protocol, '--dport', String(port), '-j', 'DNAT', '--to-destination', `${address ?? 'ADDRESS'}:${port}`];
  }
}

/** What the namespaces step reads: the other namespaces' sockets, and of the one found listening, who and where. */
export interface NamespacesReadings {
  /** whyport runs as root (else other users' namespaces are hidden). */
  root: boolean;
  views: NamespaceView[];
  /** Of the namespace chosen among those with a listener on the port (read only when there is one). */
  found?: {
    /** Its container's own name, from the runtime. */
    containerName?: string;
    /** Who holds its sockets on the port. */
    owners: SocketOwnersFound;
    /** The addresses its interfaces hold. */
    addresses: string[];
  };
}

/**
 * Nothing here answers for the port: does a program listen on it in another network namespace of
 * this host (a container, a named netns)? Read from /proc without entering any namespace.
 */
export const namespaces = defineCheck({
  description: 'Look for a listener on the port in the other network namespaces of this host (containers, named netns)',
  outcomes: ['listening', 'none', 'hidden'],
  params: z.object({ port: port(), host: text() }),
  evidence: fields({
    namespace: e.object({ kind: e.str(), name: e.str(), pid: e.num() }),
    container: e.any(),
    listeners: e.list(e.str()),
    program: e.str(),
    pid: e.num(),
    loopbackOnly: e.bool(),
    looked: e.num(),
    publish: e.list(e.str()),
    address: e.str(),
  }),
  describe: (p) => `looking for port ${p.port} in the other network namespaces (containers)`,
  prefetch: (_, at) => [readOf(otherNamespacesOf, at.target.protocol, { onlyForLocalTarget: true })],
  async read(p, ctx): Promise<NamespacesReadings> {
    const id = await ctx.facts.identity();
    const { views } = await ctx.facts.read(otherNamespacesOf, ctx.target.protocol);
    const readings: NamespacesReadings = { root: id.root, views };
    const best = listeningIn(views.map(nameNamespace), p.port, ctx.target.protocol);
    if (!best) return readings;
    const containerName = await ctx.facts.read(containerNameOf, best.v.container);
    const owners = await ctx.facts.read(socketOwnersOf, inodesOf(best.listeners));
    const addresses = await ctx.facts.read(addressesOfNamespace, best.v.pid);
    readings.found = { ...(containerName ? { containerName } : {}), owners, addresses };
    return readings;
  },
  decide: (r, p, at) => decideNamespaces(r, p, at),
});

/** The pure decision of the namespaces step. */
export function decideNamespaces(r: NamespacesReadings, p: { port: number }, at: DecideContext) {
  const protocol = at.target.protocol;
  const udp = protocol === 'udp';
  const views = r.views.map(nameNamespace);
  const command = namespaceSearchCommand(views.map((v) => v.pid), p.port, protocol);
  const best = listeningIn(views, p.port, protocol);
  if (!best || !r.found) {
    if (!r.root && views.length === 0) {
      return { outcome: 'hidden' as const, status: 'info' as const, summary: 'the network namespaces of other users\' processes cannot be read without root: containers were not looked at', command, evidence: { looked: 0 } };
    }
    return {
      outcome: 'none' as const,
      status: 'info' as const,
      summary: views.length ? `no other network namespace of this host (${views.length} looked at) has a listener on port ${p.port}` : `this host has no other network namespace (no container) to look in`,
      command,
      evidence: { looked: views.length },
    };
  }
  const { v, listeners } = best;
  const view: NamedNamespace = r.found.containerName ? { ...v, name: r.found.containerName } : v;
  const holder = r.found.owners.owners[0]?.holders[0];
  const address = r.found.addresses.find((a) => !isLoopback(a) && !a.startsWith('fe80'));
  const loopbackOnly = listeners.every((l) => isLoopback(l.local.address));
  const listed = listeners.map((l) => endpointText(l.local.address, l.local.port));
  const who = holder ? `${holder.program} (pid ${holder.pid})` : 'a program';
  const where = view.kind === 'container' ? `container ${view.name}${v.container?.id && view.name !== v.container.id ? ` (${v.container.runtime} ${v.container.id.slice(0, 12)})` : ''}` : `network namespace ${view.name}`;
  return {
    outcome: 'listening' as const,
    status: 'fail' as const,
    summary: `${who} ${udp ? 'is bound to UDP' : 'listens on'} ${listed.join(', ')} inside ${where}, a network namespace of its own${loopbackOnly ? ' (on loopback only, even there)' : ''}`,
    command: namespaceCommands(view, p.port, protocol),
    evidence: {
      namespace: namespaceRef(view),
      ...(v.container ? { container: v.container } : {}),
      listeners: listed,
      ...(holder ? { program: holder.program, pid: holder.pid } : {}),
      loopbackOnly,
      looked: views.length,
      publish: publishCommand(view, p.port, address, protocol),
      ...(address ? { address } : {}),
    },
  };
}
