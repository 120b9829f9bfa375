import type { NamespaceView } from '../system/namespaces.js';
import type { TcpSocket } from '../system/socket.js';
import { isLoopback, isWildcard } from '../net/address.js';
import { containerOfCgroup, type ContainerRef } from './container.js';

/** A namespace named as well as can be known: its /run/netns name, else its container, else its inode. */
export interface NamedNamespace extends NamespaceView {
  kind: 'netns' | 'container';
  /** `web` (a container's name), `docker 3f2a9c1b7e4d`, a /run/netns name, or `net:[4026532301]`. */
  name: string;
  container?: ContainerRef;
}

/** Names a namespace read from /proc: its /run/netns name, else the container its cgroup names, else its inode. */
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

/** LISTEN sockets of a namespace on the port, wildcards first. */
export function listenersOn(sockets: readonly TcpSocket[], port: number): TcpSocket[] {
  return sockets.filter((s) => s.state === 'LISTEN' && s.local.port === port).sort((a, b) => Number(isWildcard(b.local.address)) - Number(isWildcard(a.local.address)));
}

/** The sockets that receive datagrams sent to the port: bound to it and not connected to one peer. */
export function udpReceiversOn(sockets: readonly TcpSocket[], port: number): TcpSocket[] {
  return sockets.filter((s) => s.state === 'UNCONN' && s.local.port === port);
}

/** What answers on the port in a namespace: its TCP listeners, or its UDP sockets that receive datagrams. */
export function receiversOn(sockets: readonly TcpSocket[], port: number, protocol: 'tcp' | 'udp'): TcpSocket[] {
  return protocol === 'udp' ? udpReceiversOn(sockets, port) : listenersOn(sockets, port);
}

/** The inodes of the sockets, for asking who holds them. */
export function inodesOf(sockets: readonly TcpSocket[]): number[] {
  return sockets.map((s) => s.inode ?? 0).filter((i) => i > 0);
}

/** The namespace with a listener on the port: one every address reaches beats a loopback one; the first otherwise. */
export function listeningIn(views: readonly NamedNamespace[], port: number, protocol: 'tcp' | 'udp'): { v: NamedNamespace; listeners: TcpSocket[] } | undefined {
  const hits = views.map((v) => ({ v, listeners: receiversOn(v.sockets, port, protocol) })).filter((h) => h.listeners.length > 0);
  return hits.find((h) => h.listeners.some((l) => !isLoopback(l.local.address))) ?? hits[0];
}
