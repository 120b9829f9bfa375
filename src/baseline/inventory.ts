import { UsageError } from '../errors.js';
import { findOwners } from '../system/owners.js';
import type { Host } from '../host/host.js';
import { showCommand } from '../system/runner.js';
import type { Family } from '../system/socket.js';
import { parseSsListening } from '../system/ss.js';
import { unitFromCgroup, unitsOfPids } from '../system/systemd/cgroup.js';
import { compareListeners, type Inventory, type Listener, type Protocol } from './model.js';

/**
 * TCP LISTEN and UDP unconnected sockets, numeric, with the socket details (inode, socket cgroup).
 * Without -p: ss would read every descriptor of every process; owners are found by inode instead.
 */
export const INVENTORY_COMMAND = ['ss', '-Htulne'] as const;

/** One line of `ss -Htulne`: a listening socket before its owner is known. */
export interface ListeningSocket {
  protocol: Protocol;
  family: Family;
  address: string;
  port: number;
  device?: string;
  inode?: number;
  /** The cgroup the socket was created in (ss -e `cgroup:`), e.g. `/system.slice/nginx.service`. */
  cgroup?: string;
}

/** Who holds a socket, as far as it could be seen. */
export interface SocketHolder {
  program?: string;
  unit?: string;
}

/**
 * Parses `ss -Htulne` (or `-Htuane`) output into listening sockets: TCP in state LISTEN and UDP in
 * state UNCONN, read by ss's one parser (src/system/ss.ts). Owner columns (`-p`) are not used: the
 * inventory runs ss without them.
 */
export function parseListeningSockets(text: string): ListeningSocket[] {
  return parseSsListening(text).map(({ protocol, socket, cgroup }) => {
    const s: ListeningSocket = { protocol, family: socket.family, address: socket.local.address, port: socket.local.port };
    if (socket.local.device) s.device = socket.local.device;
    if (socket.inode !== undefined) s.inode = socket.inode;
    if (cgroup !== undefined) s.cgroup = cgroup;
    return s;
  });
}

/**
 * The baseline entries for these sockets: each with its holder (looked up by inode), deduplicated
 * (several sockets with the same fields, e.g. SO_REUSEPORT workers of one program, are one
 * entry) and sorted. A socket without a visible holder takes its unit from the cgroup it was
 * created in, which ss shows even when the process is hidden.
 */
export function listenersFromSockets(sockets: readonly ListeningSocket[], holderOf: (inode: number) => SocketHolder | undefined): Listener[] {
  const byKey = new Map<string, Listener>();
  for (const s of sockets) {
    const holder = s.inode ? holderOf(s.inode) : undefined;
    const listener: Listener = { protocol: s.protocol, address: s.address, port: s.port, family: s.family };
    if (s.device) listener.device = s.device;
    if (holder?.program !== undefined) listener.program = holder.program;
    const unit = holder?.unit ?? (holder?.program === undefined && s.cgroup && s.cgroup !== '/' ? unitFromCgroup(`0::${s.cgroup}`) : undefined);
    if (unit) listener.unit = unit;
    byKey.set(JSON.stringify(listener), listener);
  }
  return [...byKey.values()].sort(compareListeners);
}

/**
 * Every listening TCP and UDP socket of this host with its owner program and systemd unit, read
 * with `ss -Htulne` and /proc, through the host. Throws a UsageError (exit 2) when ss is missing
 * or fails, since a baseline of nothing would report every listener as gone.
 */
export async function readInventory(host: Host, opts: { timeoutMs: number }): Promise<Inventory> {
  const result = await host.run(INVENTORY_COMMAND, { timeoutMs: opts.timeoutMs });
  const shown = showCommand(INVENTORY_COMMAND);
  if (result.missing) throw new UsageError('cannot list the listening sockets: ss is not installed', 'install iproute2 (apt-get install iproute2)');
  if (result.timedOut) throw new UsageError(`cannot list the listening sockets: ${shown} did not finish within ${opts.timeoutMs} ms`);
  if (result.exitCode !== 0) {
    const said = result.stderr.trim().split('\n')[0];
    throw new UsageError(`cannot list the listening sockets: ${shown} exited with ${result.exitCode ?? 'a signal'}${said ? `: ${said}` : ''}`);
  }
  const sockets = parseListeningSockets(result.stdout);
  const inodes = sockets.flatMap((s) => (s.inode ? [s.inode] : []));
  const found = await findOwners(host, inodes);
  // The oldest holder (lowest pid) is normally the one that opened the socket, e.g. nginx's
  // master rather than a worker, so the entry stays the same when workers are replaced.
  const firsts = [...found.owners].map(([inode, owners]) => ({ inode, first: owners.reduce((a, b) => (b.pid < a.pid ? b : a)) }));
  const pids = [...new Set(firsts.map((f) => f.first.pid))];
  const unitOf = new Map((await unitsOfPids(host, pids)).map((u, i) => [pids[i]!, u]));
  const holders = new Map<number, SocketHolder>();
  for (const { inode, first } of firsts) {
    const unit = unitOf.get(first.pid);
    holders.set(inode, { program: first.program, ...(unit ? { unit } : {}) });
  }
  return { listeners: listenersFromSockets(sockets, (inode) => holders.get(inode)), ownersHidden: found.hidden };
}
