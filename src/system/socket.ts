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

export interface TcpSocket {
  family: Family;
  state: TcpState;
  /** On LISTEN sockets (ss): the accept queue length. Otherwise bytes not yet read. */
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
}

/** A socket table read once per diagnosis and shared by every check that needs it. */
export interface SocketTable {
  source: SocketSource;
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
