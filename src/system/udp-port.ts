import { UDP_CLIENT_PROGRAMS } from '../knowledge/udp-clients.js';
import { ephemeralRangeOf, socketTableOf } from './facts.js';
import { defineReader } from './reader.js';
import type { SocketTable } from './socket.js';

/** The port's UDP sockets, and the host's ephemeral range where one of them might be a client's port. */
export interface UdpPortReading {
  table: SocketTable;
  /** net.ipv4.ip_local_port_range, read only when needsEphemeralRange says so. */
  ephemeralRange?: [number, number];
}

/**
 * Whether telling a service from a client's port needs the host's ephemeral range: only a socket
 * of the port that is connected, or held by a known client program, can be a client's ephemeral
 * port, so a plain service never costs the read.
 */
export function needsEphemeralRange(table: SocketTable, port: number): boolean {
  return table.sockets.some((s) => s.local.port === port && (s.state === 'ESTABLISHED' || (s.owners ?? []).some((o) => UDP_CLIENT_PROGRAMS.has(o.program))));
}

/**
 * The UDP port as the sockets, listeners and port-owner steps read it: its table (the same memoised
 * scan as the socket table's) and, when needed, the ephemeral range. Which of its sockets serve the
 * port is analysis/udp-sockets.ts's `udpServices`.
 */
export const udpPortOf = defineReader<number, UdpPortReading>({
  name: 'UDP port',
  key: (port) => String(port),
  read: async (port, s) => {
    const table = await s.read(socketTableOf, { port, protocol: 'udp' });
    const ephemeralRange = needsEphemeralRange(table, port) ? await s.read(ephemeralRangeOf, undefined) : undefined;
    return { table, ...(ephemeralRange ? { ephemeralRange } : {}) };
  },
});
