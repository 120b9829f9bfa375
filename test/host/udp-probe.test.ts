import { createSocket, type Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { probeUdp, udpSendTimes } from '../../src/host/udp-probe.js';
import { sshHost } from '../../src/host/ssh/host.js';
import { udpPayloadFor } from '../../src/knowledge/udp-payloads.js';
import { describeWithLoopbackSshd, sshdAvailable } from '../helpers/ssh.js';

/**
 * The UDP probe on real sockets over loopback (no root needed): a server that answers, one that
 * reads and never answers, one that answers only the third try, and a port nobody holds (the
 * kernel's ICMP port unreachable, ECONNREFUSED on the connected socket). The ICMP errors a
 * firewall sends, and the server's ICMP rate limit, are in test/integration/udp-client.test.ts
 * (loopback is never rate limited). The same probes run through the ssh host against a real sshd.
 */

/** A UDP server on loopback that records what it gets and answers the datagrams `answer` picks. */
async function udpServer(host: '127.0.0.1' | '::1', answer: (n: number) => boolean): Promise<{ port: number; got: Buffer[]; close(): Promise<void> }> {
  const socket: Socket = createSocket(host === '::1' ? 'udp6' : 'udp4');
  const got: Buffer[] = [];
  socket.on('message', (msg, from) => {
    got.push(msg);
    if (answer(got.length)) socket.send(Buffer.from('pong'), from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, host, r));
  return { port: socket.address().port, got, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

/** A port that was free a moment ago: bound, read back, closed. */
async function freePort(host: '127.0.0.1' | '::1'): Promise<number> {
  const s = await udpServer(host, () => false);
  await s.close();
  return s.port;
}

/** Timers and sockets the process holds, to see that a probe leaves none behind. */
const handles = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'UDPWRAP').length;

describe('udpSendTimes: tries with doubling gaps, within the timeout', () => {
  it('0, 250, 750, 1750 ms within the default 3 s; one try when the timeout is short', () => {
    expect(udpSendTimes(3000)).toEqual([0, 250, 750, 1750]);
    expect(udpSendTimes(1000)).toEqual([0, 250, 750]);
    expect(udpSendTimes(5000)).toEqual([0, 250, 750, 1750, 3750]);
    expect(udpSendTimes(200)).toEqual([0]);
  });
});

describe('probeUdp on loopback', () => {
  it('a server that answers: reply at the first try, with the size of the reply; the payload arrives as sent', async () => {
    const server = await udpServer('127.0.0.1', () => true);
    const dns = udpPayloadFor(53)!;
    const before = handles();
    const r = await probeUdp('127.0.0.1', server.port, { timeoutMs: 2000, payload: dns.bytes, payloadName: dns.name });
    // One try: the reply came before the first retry (250 ms).
    expect(r).toMatchObject({ address: '127.0.0.1', port: server.port, outcome: 'reply', tries: 1, payload: 'dns', replyBytes: 4 });
    expect(server.got).toEqual([dns.bytes]);
    // The socket is closed and no retry timer is left.
    await new Promise((res) => setImmediate(res));
    expect(handles()).toBeLessThanOrEqual(before);
    await server.close();
  });

  it('nothing bound: refused (ECONNREFUSED, the ICMP port unreachable) at once, over IPv4 and IPv6', async () => {
    for (const host of ['127.0.0.1', '::1'] as const) {
      const port = await freePort(host);
      const r = await probeUdp(host, port, { timeoutMs: 3000 });
      // One try: the ICMP error answered the first datagram, before the first retry (250 ms).
      expect(r).toMatchObject({ outcome: 'refused', errno: 'ECONNREFUSED', tries: 1, payload: 'empty' });
    }
  });

  it('a server that reads and never answers: silent at the timeout, not later, after every try', async () => {
    const server = await udpServer('::1', () => false);
    const before = handles();
    const r = await probeUdp('::1', server.port, { timeoutMs: 1000, payload: Buffer.from('x'), payloadName: 'x' });
    expect(r).toMatchObject({ outcome: 'silent', tries: 3, payload: 'x' });
    expect(r.durationMs).toBeGreaterThanOrEqual(999);
    expect(r.durationMs).toBeLessThan(1000 + 500);
    expect(server.got.map(String)).toEqual(['x', 'x', 'x']);
    await new Promise((res) => setImmediate(res));
    expect(handles()).toBeLessThanOrEqual(before);
    await server.close();
  });

  it('a server that answers only the third datagram (two lost): the retries get the reply, at ~750 ms', async () => {
    const server = await udpServer('127.0.0.1', (n) => n === 3);
    const r = await probeUdp('127.0.0.1', server.port, { timeoutMs: 3000 });
    expect(r).toMatchObject({ outcome: 'reply', tries: 3, payload: 'empty' });
    expect(r.durationMs).toBeGreaterThanOrEqual(740);
    expect(r.durationMs).toBeLessThan(1200);
    // An empty datagram is a datagram: the server saw three.
    expect(server.got.map((b) => b.length)).toEqual([0, 0, 0]);
    await server.close();
  });
});

describeWithLoopbackSshd('probeUdp through the ssh host (bash /dev/udp on the server), against a real sshd on loopback', await sshdAvailable(), (ssh) => {
  it('reply, refused and silent, as the local probe says; the payload goes byte for byte (NULs included)', async () => {
    const host = sshHost(ssh.session);
    const snmp = udpPayloadFor(161)!;
    const answering = await udpServer('127.0.0.1', () => true);
    expect(await host.probeUdp('127.0.0.1', answering.port, { timeoutMs: 2000, payload: snmp.bytes, payloadName: snmp.name })).toMatchObject({ outcome: 'reply', tries: 1, payload: 'snmp' });
    expect(answering.got).toEqual([snmp.bytes]);
    await answering.close();

    const port = await freePort('127.0.0.1');
    expect(await host.probeUdp('127.0.0.1', port, { timeoutMs: 2000 })).toMatchObject({ outcome: 'refused', errno: 'ECONNREFUSED', tries: 1 });

    const silent = await udpServer('::1', () => false);
    const r = await host.probeUdp('::1', silent.port, { timeoutMs: 2000 });
    // Tries at 0, 0.25, 0.75 and 1.75 s of the server's clock, which starts with its bash: on a busy
    // machine the last may fall past the timeout.
    expect(r).toMatchObject({ outcome: 'silent', payload: 'newline' });
    expect(r.tries).toBeGreaterThanOrEqual(3);
    // bash cannot write an empty datagram: a newline went instead, and the name says so.
    expect(silent.got.length).toBeGreaterThanOrEqual(r.tries);
    expect(new Set(silent.got.map(String))).toEqual(new Set(['\n']));
    await silent.close();
  }, 30_000);
});
