import type { Host, NetNamespace } from '../host/host.js';
import { parseProcNetTcp, parseProcNetUdp } from './procnet.js';
import { tcpInUse } from '../host/socket-argv.js';

export { tcpInUse };
import type { TcpSocket } from './socket.js';
import { addressesOfIfInet6, localAddressesOfFibTrie } from './netns-addresses.js';
import { showCommand } from './runner.js';
import { defineReader } from './reader.js';

/** Another network namespace of the host, with what names it (checks/namespaces.ts decides the name) and its TCP sockets. */
export interface NamespaceView {
  inode: number;
  /** The process whose /proc/PID/net was read (the namespace's smallest pid). */
  pid: number;
  /** That process's /proc/PID/cgroup: a container runtime's scope names the container. */
  cgroup?: string;
  /** Its names under /run/netns. */
  names: string[];
  sockets: TcpSocket[];
}

/**
 * Every network namespace of the host but whyport's own, with the TCP sockets of each: one read
 * of /proc/PID/net/tcp and tcp6 per namespace (any process shows its namespace's sockets there),
 * never entering one. A container is named by its cgroup (docker-ID.scope, libpod-ID, …).
 */
export async function otherNamespaces(host: Host, protocol: 'tcp' | 'udp' = 'tcp'): Promise<{ views: NamespaceView[]; all: NetNamespace[] }> {
  const [all, id] = await Promise.all([host.netNamespaces(), host.identity()]);
  const others = all.filter((n) => !n.own && n.pids.length > 0);
  const pids = others.map((n) => n.pids[0]!);
  // Each read of /proc/PID/net/tcp walks the kernel's whole established-connection table, which
  // the namespaces of a host share (262,144 buckets on a small machine: ~6 ms a read). sockstat
  // counts a namespace's TCP sockets for nearly nothing: a family with none is not read at all.
  const [counts, cgroups] = await Promise.all([
    Promise.all(pids.map((pid) => Promise.all([host.readFile(`/proc/${pid}/net/sockstat`).catch(() => ''), host.readFile(`/proc/${pid}/net/sockstat6`).catch(() => '')]))),
    host.cgroups(pids),
  ]);
  const tables = await Promise.all(
    pids.map((pid, i) => {
      const [v4, v6] = counts[i]!;
      const read = (file: string, count: number | undefined) => (count === 0 ? Promise.resolve('') : host.readFile(`/proc/${pid}/net/${file}`).catch(() => ''));
      return protocol === 'udp'
        ? Promise.all([read('udp', tcpInUse(v4, 'UDP')), read('udp6', tcpInUse(v6, 'UDP6'))])
        : Promise.all([read('tcp', tcpInUse(v4, 'TCP')), read('tcp6', tcpInUse(v6, 'TCP6'))]);
    }),
  );
  const views = others.map((ns, i): NamespaceView => {
    const [v4, v6] = tables[i]!;
    return {
      inode: ns.inode,
      pid: pids[i]!,
      ...(cgroups[i] ? { cgroup: cgroups[i]! } : {}),
      names: ns.names,
      sockets: protocol === 'udp'
        ? [...parseProcNetUdp(v4, 'inet', id.byteOrder), ...parseProcNetUdp(v6, 'inet6', id.byteOrder)]
        : [...parseProcNetTcp(v4, 'inet', id.byteOrder), ...parseProcNetTcp(v6, 'inet6', id.byteOrder)],
    };
  });
  return { views, all };
}

/** The addresses each namespace owns (fib_trie's LOCAL entries and if_inet6), read like its sockets. */
export async function namespaceAddresses(host: Host, views: readonly NamespaceView[]): Promise<string[][]> {
  return Promise.all(
    views.map(async (v) => {
      const [trie, inet6] = await Promise.all([host.readFile(`/proc/${v.pid}/net/fib_trie`).catch(() => ''), host.readFile(`/proc/${v.pid}/net/if_inet6`).catch(() => '')]);
      return [...localAddressesOfFibTrie(trie), ...addressesOfIfInet6(inet6)];
    }),
  );
}

/**
 * The container's own name from its runtime's CLI, when that is installed (`docker inspect`,
 * `podman inspect`); undefined otherwise. Asked only for the namespace that matters.
 */
export async function containerName(host: Host, c: { runtime: string; id?: string } | undefined, timeoutMs: number): Promise<string | undefined> {
  if (!c?.id || (c.runtime !== 'docker' && c.runtime !== 'podman')) return undefined;
  const r = await host.run([c.runtime, 'inspect', '--format', '{{.Name}}', c.id], { timeoutMs: Math.min(timeoutMs, 2_000) });
  const name = r.exitCode === 0 ? r.stdout.trim().replace(/^\//, '') : '';
  return name || undefined;
}

/** At most this many namespaces are named one by one in a command; beyond, a loop over lsns finds them. */
const NAMED_NAMESPACES = 3;

/**
 * What a person types to look for the port in the other namespaces, with their real pids (the
 * smallest pid of each, as read): a few are named one by one; many get the loop that finds them
 * (`lsns -t net -n -o PID`); none, the lsns that lists them — never a bare PID placeholder.
 */
export function namespaceSearchCommand(pids: readonly number[], port: number, protocol: 'tcp' | 'udp' = 'tcp'): string {
  const ss = (pid: string) => ['nsenter', '-t', pid, '-n', 'ss', protocol === 'udp' ? '-Hulnp' : '-Htlnp', `sport = :${port}`];
  // None to look in: the command that lists them shows that.
  if (pids.length === 0) return 'lsns -t net';
  if (pids.length <= NAMED_NAMESPACES) return pids.map((pid) => showCommand(ss(String(pid)))).join('; ');
  return `for pid in $(lsns -t net -n -o PID); do ${showCommand(ss('PIDVAR')).replace('PIDVAR', '"$pid"')}; done`;
}

/** The commands a person would type to see the same: which namespace, and its listeners (TCP unless told). */
export function namespaceCommands(v: { pid: number; container?: { runtime: string; id?: string } }, port: number, protocol: 'tcp' | 'udp' = 'tcp'): string {
  const ss = ['nsenter', '-t', String(v.pid), '-n', 'ss', protocol === 'udp' ? '-Hulnp' : '-Htlnp', `sport = :${port}`];
  const who = v.container?.id && (v.container.runtime === 'docker' || v.container.runtime === 'podman') ? `${v.container.runtime} ps --filter id=${v.container.id.slice(0, 12)}` : `ip netns identify ${v.pid}`;
  return `${who}; ${showCommand(ss)}`;
}

/** The other network namespaces' listeners on TCP or UDP, read from /proc once per diagnosis. */
export const otherNamespacesOf = defineReader<'tcp' | 'udp', { views: NamespaceView[]; all: NetNamespace[] }>({
  name: 'other network namespaces',
  key: (protocol) => protocol,
  read: (protocol, s) => otherNamespaces(s.host, protocol),
});

/** The addresses of each other namespace (a view of the TCP scan), once per diagnosis. */
export const otherNamespaceAddresses = defineReader<void, string[][]>({
  name: 'addresses of the other network namespaces',
  read: async (_, s) => namespaceAddresses(s.host, (await s.read(otherNamespacesOf, 'tcp')).views),
});
