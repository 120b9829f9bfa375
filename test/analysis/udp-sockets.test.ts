import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyseUdpSockets, counterGrowth, dropSentence, pastDropFindings, queueFull, readDrops, worthWatching } from '../../src/analysis/udp-sockets.js';
import { needsEphemeralRange } from '../../src/system/udp-port.js';
import { parseNetstat } from '../../src/system/netstat.js';
import { parseProcNetUdp } from '../../src/system/procnet.js';
import type { SocketTable, TcpSocket } from '../../src/system/socket.js';
import { parseSs } from '../../src/system/ss.js';

// Real captures: test/fixtures/capture-udp-sockets.sh (udp-port-*, udp-sockets-owners.txt,
// netstat/udp-*, proc/udp*). The range is this capture machine's ip_local_port_range.
const text = (dir: string, name: string) => readFileSync(new URL(`../fixtures/${dir}/${name}`, import.meta.url), 'utf8');
const RANGE = [32768, 60999] as const;

const fromSs = (name: string, port?: number): SocketTable => {
  const sockets = parseSs(text('ss', name), { protocol: 'udp' });
  return { source: 'ss', protocol: 'udp', command: 'ss', sockets: port === undefined ? sockets : sockets.filter((s) => s.local.port === port || s.peer.port === port), ownersHidden: false, notices: [] };
};

describe('which UDP sockets serve a port', () => {
  it('a bound, unconnected socket is the service; a connected one on the port is not; clients of the port are apart', () => {
    const a = analyseUdpSockets(fromSs('udp-sockets-owners.txt', 7272), { port: 7272, ephemeralRange: RANGE });
    expect(a.services.map((v) => [v.endpoint, v.owner])).toEqual([['127.0.0.1:7272', 'wpt-dns (pid 26653)']]);
    expect(a.connected).toEqual([]);
    // 35106 (autobound), 40001 (dig) and 7276 are this machine's clients of 7272.
    expect(a.clients.map((v) => v.endpoint)).toEqual(['127.0.0.1:35106', '127.0.0.1:40001', '127.0.0.1:7276']);
    expect(a.counts).toEqual({ UNCONN: 1, ESTABLISHED: 3 });
    expect(a.findings).toEqual([]);
  });

  it('only a connected socket on the port: no service, and the sentence says it receives from its peer only', () => {
    const a = analyseUdpSockets(fromSs('udp-sockets-owners.txt', 7276), { port: 7276 });
    expect(a.services).toEqual([]);
    expect(a.connected.map((v) => [v.endpoint, v.peer])).toEqual([['127.0.0.1:7276', '127.0.0.1:7272']]);
    expect(a.otherUse).toBe('only a connected UDP socket, 127.0.0.1:7276 (wpt-peer (pid 26654)), which receives only from its peer 127.0.0.1:7272 — not a listener');
  });

  it('a port of the ephemeral range held by a connected client: an ephemeral client port, not a service', () => {
    const table = fromSs('udp-sockets-owners.txt', 40001);
    expect(needsEphemeralRange(table, 40001)).toBe(true);
    const a = analyseUdpSockets(table, { port: 40001, ephemeralRange: RANGE });
    expect(a.services).toEqual([]);
    expect(a.connected).toEqual([]);
    expect(a.ephemeral.map((v) => v.owner)).toEqual(['dig (pid 26655)']);
    expect(a.otherUse).toBe('127.0.0.1:40001 (dig (pid 26655)), talking to 127.0.0.1:7272 is an ephemeral port a client was given (this host gives clients 32768–60999), not a service');
    // Without the range it is only a connected socket.
    expect(analyseUdpSockets(table, { port: 40001 }).connected).toHaveLength(1);
  });

  it('a known client program bound but unconnected inside the range is a client port too; outside it, a service', () => {
    const dig = parseSs(text('ss', 'udp-sockets-owners.txt'), { protocol: 'udp' }).find((s) => s.local.port === 40001)!;
    // The same socket as if dig had not connected (sendto from a bound socket).
    const unconnected: TcpSocket = { ...dig, state: 'UNCONN', peer: { address: '0.0.0.0', port: 0 } };
    const table: SocketTable = { source: 'ss', protocol: 'udp', command: 'ss', sockets: [unconnected], ownersHidden: false, notices: [] };
    expect(needsEphemeralRange(table, 40001)).toBe(true);
    expect(analyseUdpSockets(table, { port: 40001, ephemeralRange: RANGE }).ephemeral).toHaveLength(1);
    expect(analyseUdpSockets(table, { port: 40001, ephemeralRange: [50000, 60999] }).services).toHaveLength(1);
  });

  it('a plain service never needs the ephemeral range', () => {
    expect(needsEphemeralRange(fromSs('udp-sockets-owners.txt', 7271), 7271)).toBe(false);
    expect(needsEphemeralRange(fromSs('udp-port-7272.txt'), 7272)).toBe(false);
  });

  it('with a service on the port, a connected socket and a client port on it are findings', () => {
    const sockets = parseSs(text('ss', 'udp-sockets-owners.txt'), { protocol: 'udp' });
    const service = sockets.find((s) => s.local.port === 7272 && s.state === 'UNCONN')!;
    const connected = sockets.find((s) => s.local.port === 7276)!;
    // A service and a connected socket on the same port (SO_REUSEADDR lets UDP do that).
    const table: SocketTable = { source: 'ss', protocol: 'udp', command: 'ss', sockets: [service, { ...connected, local: { ...connected.local, port: 7272 }, peer: { address: '10.0.0.9', port: 5353 } }], ownersHidden: false, notices: [] };
    const a = analyseUdpSockets(table, { port: 7272 });
    expect(a.services).toHaveLength(1);
    expect(a.findings).toEqual([
      { code: 'UDP_CONNECTED_SOCKET', summary: '127.0.0.1:7272 (wpt-peer (pid 26654)), which receives only from its peer 10.0.0.9:5353: it is connected, so the kernel gives it datagrams from that peer only — not a listener.' },
    ]);
  });

  it('nothing on the port at all: no service and nothing else to say', () => {
    const a = analyseUdpSockets(fromSs('udp-port-empty.txt'), { port: 7299 });
    expect([a.services, a.connected, a.ephemeral, a.clients, a.otherUse]).toEqual([[], [], [], [], '']);
  });

  it('netstat and /proc give the same services; netstat cannot show drops, which is said', () => {
    const ns: SocketTable = { source: 'netstat', protocol: 'udp', command: 'netstat', sockets: parseNetstat(text('netstat', 'udp-uanpee.txt'), { protocol: 'udp' }).sockets, ownersHidden: false, notices: [] };
    const a = analyseUdpSockets(ns, { port: 7271 });
    expect(a.services.map((v) => v.endpoint)).toEqual(['0.0.0.0:7271']);
    expect(a.findings.map((f) => f.code)).toEqual(['UDP_DROPS_UNSEEN']);
    const proc: SocketTable = { source: 'proc', protocol: 'udp', command: 'proc', sockets: parseProcNetUdp(text('proc', 'udp.txt'), 'inet'), ownersHidden: false, notices: [] };
    const p = analyseUdpSockets(proc, { port: 7271 });
    expect(p.services.map((v) => [v.endpoint, v.socket.drops])).toEqual([['0.0.0.0:7271', 48]]);
    // /proc shows drops but not the buffer: worth watching, but the queue is never called full.
    expect(worthWatching(p.services)).toBe(true);
    expect(queueFull(p.services[0]!.socket)).toBe(false);
  });
});

describe('the drop reading', () => {
  const overflowed = parseSs(text('ss', 'udp-port-7271.txt'), { protocol: 'udp' });
  const services = analyseUdpSockets(fromSs('udp-port-7271.txt'), { port: 7271 }).services;

  it('a full 2304-byte buffer with 48 drops is worth watching; a healthy socket is not', () => {
    expect(queueFull(overflowed[0]!)).toBe(true);
    expect(worthWatching(services)).toBe(true);
    expect(worthWatching(analyseUdpSockets(fromSs('udp-port-7272.txt'), { port: 7272 }).services)).toBe(false);
  });

  it('drops that grew during the watch: dropping now, with the numbers', () => {
    const later = overflowed.map((s) => ({ ...s, drops: 70 }));
    const [r] = readDrops(services, overflowed, later);
    expect(r).toEqual({ endpoint: '0.0.0.0:7271', owner: 'a process not visible from here', drops: 70, growth: 22, queued: 1664, rcvbuf: 2304, full: true, dropping: true });
    expect(dropSentence(r!, 503, { rmemMax: 212992, rmemDefault: 212992, rcvbufErrors: 22 })).toBe(
      'the kernel dropped 22 datagrams for 0.0.0.0:7271 within 503 ms (its drop counter 48 → 70); 1664 of its 2304-byte receive buffer (SO_RCVBUF) are queued; net.core.rmem_default 212992, rmem_max 212992; UdpRcvbufErrors grew by 22 on this host',
    );
  });

  it('a queue full at both readings is dropping now even when nobody happened to send', () => {
    const [r] = readDrops(services, overflowed, overflowed);
    expect(r).toMatchObject({ growth: 0, full: true, dropping: true });
    expect(dropSentence(r!, 500, { rmemMax: null, rmemDefault: null, rcvbufErrors: null })).toBe(
      'the receive queue of 0.0.0.0:7271 stayed full for 500 ms (its drop counter at 48): every datagram sent to it now is dropped; 1664 of its 2304-byte receive buffer (SO_RCVBUF) are queued',
    );
  });

  it('drops that did not grow, with room in the queue: history, a finding', () => {
    const drained = overflowed.map((s) => ({ ...s, rmemAlloc: 0, recvQ: 0 }));
    const readings = readDrops(services, drained, drained);
    expect(readings[0]).toMatchObject({ drops: 48, growth: 0, full: false, dropping: false });
    expect(pastDropFindings(readings, 501)).toEqual([
      {
        code: 'UDP_PAST_DROPS',
        summary: "0.0.0.0:7271 (a process not visible from here) has dropped 48 datagrams since it was opened, none within the 501 ms whyport watched: it fell behind earlier (a burst, a pause of the program) and keeps up now. Watch ss -uam's d… (or nstat UdpRcvbufErrors) when it happens again.",
      },
    ]);
  });

  it('a socket gone by the second reading is left out; the host counter grows or is unknown', () => {
    expect(readDrops(services, overflowed, [])).toEqual([]);
    expect(counterGrowth({ rcvbufErrors: 0, inErrors: 0 }, { rcvbufErrors: 66, inErrors: 66 })).toBe(66);
    expect(counterGrowth('unreadable', { rcvbufErrors: 1, inErrors: 1 })).toBeNull();
  });
});
