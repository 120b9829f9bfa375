import { UsageError } from '../errors.js';
import { findOwners } from '../system/owners.js';
import type { Host } from '../host/host.js';
import { showCommand } from '../system/runner.js';
import type { Family } from '../system/socket.js';
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
 * state UNCONN. Connected UDP sockets (ESTAB) and TCP connections are skipped, as are lines of
 * other protocols. Owner columns (`-p`) are not read: the inventory runs ss without them.
 *
 * ss's own TCP parser (src/system/ss.ts) skips UDP lines, hence this small one for both.
 */
export function parseListeningSockets(text: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || /^\s/.test(line)) continue;
    const socket = parseLine(line);
    if (socket) sockets.push(socket);
  }
  return sockets;
}

function parseLine(line: string): ListeningSocket | undefined {
  const words = line.trim().split(/\s+/);
  let i = 0;
  let protocol: Protocol | undefined;
  if (words[0] === 'tcp' || words[0] === 'udp') {
    protocol = words[0];
    i = 1;
  } else if (!/^[A-Z]/.test(words[0] ?? '')) {
    // Another netid (raw, u_str, …): not a TCP/UDP socket.
    return undefined;
  }
  const state = words[i];
  // Without a Netid column (one protocol asked for), the state tells which one it is.
  protocol ??= state === 'LISTEN' ? 'tcp' : state === 'UNCONN' ? 'udp' : undefined;
  if (protocol === 'tcp' && state !== 'LISTEN') return undefined;
  if (protocol === 'udp' && state !== 'UNCONN') return undefined;
  if (!protocol) return undefined;
  if (!/^\d+$/.test(words[i + 1] ?? '') || !/^\d+$/.test(words[i + 2] ?? '')) return undefined;
  const local = parseEndpoint(words[i + 3]);
  if (!local || words[i + 4] === undefined) return undefined;

  const socket: ListeningSocket = { protocol, family: local.family, address: local.address, port: local.port };
  if (local.device) socket.device = local.device;
  for (const token of words.slice(i + 5)) {
    if (token.startsWith('ino:') && /^ino:\d+$/.test(token)) socket.inode = Number(token.slice(4));
    else if (token.startsWith('cgroup:')) socket.cgroup = token.slice(7);
  }
  return socket;
}

/**
 * `0.0.0.0:53`, `127.0.0.1%lo:53`, `[::1]:53`, `[::1]%lo:53`, `[::ffff:127.0.0.1]:53`, `*:53`
 * (the IPv6 wildcard with v6only off, which also takes IPv4), `[::]:53` (v6only on).
 */
function parseEndpoint(word: string | undefined): { address: string; port: number; family: Family; device?: string } | undefined {
  if (!word) return undefined;
  const colon = word.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const portText = word.slice(colon + 1);
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) return undefined;
  const port = Number(portText);
  let host = word.slice(0, colon);
  let device: string | undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return undefined;
    const after = host.slice(close + 1);
    if (after.startsWith('%')) device = after.slice(1);
    else if (after !== '') return undefined;
    host = host.slice(1, close);
  } else {
    const pct = host.indexOf('%');
    if (pct >= 0) {
      device = host.slice(pct + 1);
      host = host.slice(0, pct);
    }
  }
  if (host === '') return undefined;
  const family: Family = host === '*' || host.includes(':') ? 'inet6' : 'inet';
  return { address: host, port, family, ...(device ? { device } : {}) };
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
