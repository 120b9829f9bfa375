// The names of TCP states are knowledge of TCP, not of a reader; re-exported for the readers.
import type { TcpState } from '../knowledge/tcp-state-names.js';
export { TCP_STATES, type TcpState } from '../knowledge/tcp-state-names.js';

export type Family = 'inet' | 'inet6';

export interface Endpoint {
  /** '0.0.0.0', '::', '*' (ss's dual-stack wildcard), or a literal address; IPv6 without brackets. */
  address: string;
  port: number;
  /** Bound to a device, e.g. `127.0.0.1%lo` in ss output. */
  device?: string;
}

// A socket's owner is what the host's descriptor scan finds (src/host/host.ts).
import type { SocketOwner } from '../host/host.js';
export type { SocketOwner };

/** Where the socket table came from. */
export type SocketSource = 'ss' | 'netstat' | 'proc';

/**
 * A UDP socket is bound and unconnected (UNCONN: what a service has, it receives from anyone) or
 * connected (ESTABLISHED: the kernel hands it datagrams from its one peer only). UDP has no other
 * state; the kernel keeps them as TCP_CLOSE and TCP_ESTABLISHED.
 */
export type UdpState = 'UNCONN' | 'ESTABLISHED';

/** A TCP state, or UNCONN for a UDP socket. */
export type SocketState = TcpState | UdpState;

/** A TCP or UDP socket (the name is older than UDP support: most of whyport reads TCP). */
export interface TcpSocket {
  family: Family;
  state: SocketState;
  /** 'udp' on UDP sockets; TCP ones leave it out. */
  protocol?: 'udp';
  /**
   * On LISTEN sockets (ss): the accept queue length. Otherwise bytes not yet read; on UDP sockets
   * the kernel memory the queued datagrams take (sk_rmem_alloc), as ss, netstat and /proc show it.
   */
  recvQ: number;
  /** On LISTEN sockets (ss): the backlog. Otherwise bytes not yet acknowledged. */
  sendQ: number;
  local: Endpoint;
  peer: Endpoint;
  inode?: number;
  uid?: number;
  /**
   * Owning processes. undefined: owners were not asked for, or could not be seen (not root);
   * an empty array: asked and visible, but no process holds it (e.g. TIME_WAIT).
   */
  owners?: SocketOwner[];
  /** true: an IPv6 wildcard that also accepts IPv4 (v6only off); undefined: not known from this source. */
  dualStack?: boolean;
  /** UDP: datagrams the kernel dropped for this socket since it was made (ss -m `d…`, /proc/net/udp `drops`). */
  drops?: number;
  /** UDP: the receive buffer, SO_RCVBUF as the kernel keeps it (ss -m `rb…`), in bytes. */
  rcvbuf?: number;
  /** UDP: bytes queued for the program to read (ss -m `r…`, sk_rmem_alloc); a datagram is dropped once this passes rcvbuf. */
  rmemAlloc?: number;
}

/** A socket table read once per diagnosis and shared by every check that needs it. */
export interface SocketTable {
  source: SocketSource;
  /** 'udp' for a table of UDP sockets; TCP tables leave it out. */
  protocol?: 'udp';
  /** The command a person would type to see the same (already filtered to the port). */
  command: string;
  sockets: TcpSocket[];
  /** Owners of other users' sockets are hidden (not root); said in reports rather than guessed. */
  ownersHidden: boolean;
  /** Notices from the tool, e.g. netstat's "(Not all processes could be identified …)". */
  notices: string[];
}

/** Splits `HOST:PORT` at the last colon, so IPv6 keeps its own (`:::22`); a `*` port is 0. */
export function splitEndpoint(word: string | undefined): { host: string; port: number } | undefined {
  if (!word) return undefined;
  const colon = word.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const portText = word.slice(colon + 1);
  const port = portText === '*' ? 0 : /^\d+$/.test(portText) ? Number(portText) : undefined;
  if (port === undefined || port > 65535) return undefined;
  return { host: word.slice(0, colon), port };
}
