import type { Host } from '../host/host.js';
import { parseProcNetUdp } from './procnet.js';
import type { TcpSocket } from './socket.js';
import { defineReader } from './reader.js';

/**
 * The UDP sockets of a network namespace, from /proc/PID/net/udp and udp6 of a process in it
 * (without a pid, of whyport's own namespace), never entering it: a bound, unconnected socket is
 * UNCONN, a connected one ESTABLISHED. A file that cannot be read gives none.
 */
export async function udpSocketsOf(host: Host, pid?: number): Promise<TcpSocket[]> {
  const dir = `/proc/${pid ?? 'self'}/net`;
  const [id, v4, v6] = await Promise.all([host.identity(), host.readFile(`${dir}/udp`).catch(() => ''), host.readFile(`${dir}/udp6`).catch(() => '')]);
  return [...parseProcNetUdp(v4, 'inet', id.byteOrder), ...parseProcNetUdp(v6, 'inet6', id.byteOrder)];
}

/** The UDP sockets of the namespace of a process (whyport's own without one), once per diagnosis. */
export const udpSocketsIn = defineReader<number | undefined, TcpSocket[]>({
  name: 'UDP sockets of a network namespace',
  key: (pid) => String(pid ?? 'self'),
  read: (pid, s) => udpSocketsOf(s.host, pid),
});
