import { port, text, z } from './params.js';
import { defineCheck } from './check.js';
import { e, fields } from './evidence.js';
import { endpointText } from '../net/endpoint.js';
import { isLoopback, isWildcard } from '../net/address.js';
import { containerName, namespaceAddresses, namespaceCommands, namespaceSearchCommand, otherNamespacesOf, type NamespaceView } from '../system/namespaces.js';
import { containerOfCgroup, type ContainerRef } from '../analysis/container.js';
import type { TcpSocket } from '../system/socket.js';
import { udpReceiversOn } from '../system/namespace-udp.js';

/** A namespace named as well as can be known: its /run/netns name, else its container, else its inode. */
export interface NamedNamespace extends NamespaceView {
  kind: 'netns' | 'container';
  /** `web` (a container's name), `docker 3f2a9c1b7e4d`, a /run/netns name, or `net:[4026532301]`. */
  name: string;
  container?: ContainerRef;
}

export function nameNamespace(v: NamespaceView): NamedNamespace {
  const container = v.cgroup ? containerOfCgroup(v.cgroup) : undefined;
  const named = v.names[0];
  const label = container ? container.name ?? `${container.runtime}${container.id ? ` ${container.id.slice(0, 12)}` : ''}` : `net:[${v.inode}]`;
  return { ...v, kind: container && !named ? 'container' : 'netns', name: named ?? label, ...(container ? { container } : {}) };
}

/** The namespace as the report's `namespace` field carries it (CONTRACT: kind, name, pid). */
export function namespaceRef(v: NamedNamespace): { kind: 'netns' | 'container'; name: string; pid: number } {
  return { kind: v.kind, name: v.name, pid: v.pid };
}

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

/** LISTEN sockets of a namespace on the port, wildcards first. */
export function listenersOn(sockets: readonly TcpSocket[], port: number): TcpSocket[] {
  return sockets.filter((s) => s.state === 'LISTEN' && s.local.port === port).sort((a, b) => Number(isWildcard(b.local.address)) - Number(isWildcard(a.local.address)));
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
  async run(p, ctx) {
    const id = await ctx.facts.identity();
    const udp = ctx.target.protocol === 'udp';
    const { views: raw } = await ctx.facts.read(otherNamespacesOf, ctx.target.protocol);
    const views = raw.map(nameNamespace);
    const command = namespaceSearchCommand(views.map((v) => v.pid), p.port, ctx.target.protocol);
    const hits = views.map((v) => ({ v, listeners: udp ? udpReceiversOn(v.sockets, p.port) : listenersOn(v.sockets, p.port) })).filter((h) => h.listeners.length > 0);
    if (hits.length === 0) {
      if (!id.root && views.length === 0) {
        return { outcome: 'hidden', status: 'info', summary: 'the network namespaces of other users\' processes cannot be read without root: containers were not looked at', command, evidence: { looked: 0 } };
      }
      return {
        outcome: 'none',
        status: 'info',
        summary: views.length ? `no other network namespace of this host (${views.length} looked at) has a listener on port ${p.port}` : `this host has no other network namespace (no container) to look in`,
        command,
        evidence: { looked: views.length },
      };
    }
    // A listener every address reaches beats a loopback one; the first namespace otherwise.
    const best = hits.find((h) => h.listeners.some((l) => !isLoopback(l.local.address))) ?? hits[0]!;
    const { v, listeners } = best;
    const named = await containerName(ctx.host, v.container, ctx.timeoutMs);
    const view = named ? { ...v, name: named } : v;
    const owners = await ctx.host.socketOwners(listeners.map((l) => l.inode ?? 0).filter((i) => i > 0));
    const holder = owners.owners[0]?.holders[0];
    const [addresses] = await namespaceAddresses(ctx.host, [v]);
    const address = addresses?.find((a) => !isLoopback(a) && !a.startsWith('fe80'));
    const loopbackOnly = listeners.every((l) => isLoopback(l.local.address));
    const at = listeners.map((l) => endpointText(l.local.address, l.local.port));
    const who = holder ? `${holder.program} (pid ${holder.pid})` : 'a program';
    const where = view.kind === 'container' ? `container ${view.name}${v.container?.id && view.name !== v.container.id ? ` (${v.container.runtime} ${v.container.id.slice(0, 12)})` : ''}` : `network namespace ${view.name}`;
    return {
      outcome: 'listening',
      status: 'fail',
      summary: `${who} ${udp ? 'is bound to UDP' : 'listens on'} ${at.join(', ')} inside ${where}, a network namespace of its own${loopbackOnly ? ' (on loopback only, even there)' : ''}`,
      command: namespaceCommands(view, p.port, ctx.target.protocol),
      evidence: {
        namespace: namespaceRef(view),
        ...(v.container ? { container: v.container } : {}),
        listeners: at,
        ...(holder ? { program: holder.program, pid: holder.pid } : {}),
        loopbackOnly,
        looked: views.length,
        publish: publishCommand(view, p.port, address, ctx.target.protocol),
        ...(address ? { address } : {}),
      },
    };
  },
});
