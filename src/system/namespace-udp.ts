import type { Host } from '../host/host.js';
import { parseProcNetTcp } from './procnet.js';
import type { TcpSocket } from './socket.js';

/**
 * The UDP sockets of a network namespace, from /proc/PID/net/udp and udp6 of a process in it
 * (without a pid, of whyport's own namespace), never entering it. The rows have /proc/net/tcp's
 * columns, so its parser reads them: a bound, unconnected socket (ss's UNCONN) shows state 07,
 * which it names CLOSE; a connected one 01, ESTABLISHED. A file that cannot be read gives none.
 */
export async function udpSocketsOf(host: Host, pid?: number): Promise<TcpSocket[]> {
  const dir = `/proc/${pid ?? 'self'}/net`;
  const [id, v4, v6] = await Promise.all([host.identity(), host.readFile(`${dir}/udp`).catch(() => ''), host.readFile(`${dir}/udp6`).catch(() => '')]);
  return [...parseProcNetTcp(v4, 'inet', id.byteOrder), ...parseProcNetTcp(v6, 'inet6', id.byteOrder)];
}

/** The sockets that receive datagrams sent to the port: bound to it and not connected to one peer. */
export function udpReceiversOn(sockets: readonly TcpSocket[], port: number): TcpSocket[] {
  return sockets.filter((s) => s.state === 'CLOSE' && s.local.port === port);
}
