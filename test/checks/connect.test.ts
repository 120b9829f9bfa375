import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, decideConnect } from '../../src/checks/connect.js';
import { runCheck } from '../../src/checks/check.js';
import { contextWith, FakeFacts, replay, resolvedTo } from './replay.js';

/**
 * The connect check for a UDP target (the server's own probe of its port, connect-local): real
 * datagrams on loopback to a socket that echoes, one that reads and never answers, and a port
 * nobody holds.
 */
describe('the connect check for a UDP target', () => {
  const sockets: Socket[] = [];
  const bound = async (answer: boolean): Promise<number> => {
    const s = createSocket('udp4');
    if (answer) s.on('message', (m, from) => s.send(m, from.port, from.address));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    sockets.push(s);
    return s.address().port;
  };
  let echo = 0;
  let silent = 0;
  let closed = 0;
  beforeAll(async () => {
    echo = await bound(true);
    silent = await bound(false);
    closed = await bound(false);
    await new Promise<void>((r) => sockets.pop()!.close(() => r()));
  });
  afterAll(() => Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r())))));

  const run = (port: number, ...addresses: string[]) => {
    const host = replay({});
    const ctx = contextWith(host, new FakeFacts(host, { appserver: resolvedTo(...addresses) }), { host: 'appserver', port, protocol: 'udp' }, { timeoutMs: 1000 });
    return runCheck(connect, connect.params.parse({ host: 'appserver', port: String(port) }), ctx);
  };

  it('a reply → connected; the command is nc -vzu', async () => {
    const r = await run(echo, '127.0.0.1');
    expect(r).toMatchObject({ outcome: 'connected', status: 'pass', summary: `a reply from 127.0.0.1:${echo}`, command: `nc -vzu -w 1 appserver ${echo}` });
    expect(r.evidence.probes).toEqual([expect.objectContaining({ outcome: 'connected', tries: 1, payload: 'empty' })]);
  });

  it('an ICMP port unreachable → refused, at once', async () => {
    const r = await run(closed, '127.0.0.1');
    expect(r).toMatchObject({ outcome: 'refused', summary: `127.0.0.1:${closed} answered with an ICMP port unreachable (ECONNREFUSED)` });
  });

  it('silence after every try → no-reply (UDP only: an ignored probe and a drop look alike)', async () => {
    const r = await run(silent, '127.0.0.1');
    expect(r.outcome).toBe('no-reply');
    expect(r.summary).toMatch(new RegExp(`^no reply and no ICMP error from 127\\.0\\.0\\.1:${silent} to an empty datagram within 10\\d\\d ms \\(3 tries\\)$`));
  });

  it('one address answers and another refuses → partial, the refusing one named', async () => {
    // The echo socket holds 127.0.0.1 only: 127.0.0.2 gets the kernel's port unreachable.
    const r = await run(echo, '127.0.0.1', '127.0.0.2');
    expect(r.outcome).toBe('partial');
    expect(r.summary).toBe(`a reply from 127.0.0.1:${echo}, but 127.0.0.2:${echo} answered with an ICMP port unreachable (ECONNREFUSED)`);
  });
});

describe('decideConnect: the answers of every address to one outcome', () => {
  const at = (protocol: 'tcp' | 'udp' = 'tcp') => ({ target: { host: 'appserver', port: 7071, protocol }, timeoutMs: 3000 });
  const tcp = (address: string, outcome: 'connected' | 'refused' | 'unreachable' | 'timeout' | 'error', errno?: string) => ({ tcp: { address, port: 7071, outcome, ...(errno ? { errno } : {}), durationMs: 5 } });
  const decide = (...answers: ReturnType<typeof tcp>[]) => decideConnect({ resolution: resolvedTo(...answers.map((a) => a.tcp.address)), answers }, { host: 'appserver', port: 7071 }, at());

  it('connected, partial', () => {
    expect(decide(tcp('10.0.0.5', 'connected'))).toMatchObject({ outcome: 'connected', status: 'pass', summary: 'connected to 10.0.0.5:7071', command: 'nc -vz -w 3 appserver 7071', evidence: { timeoutMs: 3000 } });
    expect(decide(tcp('10.0.0.5', 'connected'), tcp('::1', 'refused', 'ECONNREFUSED'))).toMatchObject({ outcome: 'partial', summary: 'connected to 10.0.0.5:7071, but [::1]:7071 refused the connection (ECONNREFUSED)' });
  });

  it('refused, timeout, unreachable: the worst first; an unknown error is unreachable', () => {
    expect(decide(tcp('10.0.0.5', 'refused', 'ECONNREFUSED')).outcome).toBe('refused');
    expect(decide(tcp('10.0.0.5', 'timeout'))).toMatchObject({ outcome: 'timeout', summary: 'no answer from 10.0.0.5:7071 within 5 ms' });
    expect(decide(tcp('10.0.0.5', 'timeout'), tcp('10.0.0.6', 'unreachable', 'EHOSTUNREACH')).outcome).toBe('unreachable');
    expect(decide(tcp('10.0.0.5', 'error', 'EMFILE'))).toMatchObject({ outcome: 'unreachable', summary: '10.0.0.5:7071: EMFILE' });
  });

  it('no-reply (UDP): silence after the tries; the timeout is at most a local reply time', () => {
    const udp = { udp: { address: '10.0.0.5', port: 53, outcome: 'silent' as const, durationMs: 1000, tries: 3, payload: 'empty' } };
    const d = decideConnect({ resolution: resolvedTo('10.0.0.5'), answers: [udp] }, { host: 'appserver', port: 53 }, at('udp'));
    expect(d).toMatchObject({ outcome: 'no-reply', status: 'fail', summary: 'no reply and no ICMP error from 10.0.0.5:53 to an empty datagram within 1000 ms (3 tries)' });
    expect(d.evidence.timeoutMs).toBeLessThan(3000);
  });

  it('unresolved: what the resolver said', () => {
    const d = decideConnect({ resolution: { ok: false, error: 'appserver does not resolve', code: 'ENOTFOUND', durationMs: 1 }, answers: [] }, { host: 'appserver', port: 7071 }, at());
    expect(d).toMatchObject({ outcome: 'unresolved', status: 'fail', evidence: { error: 'appserver does not resolve' } });
  });
});
