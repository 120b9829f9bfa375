import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decideResolve, resolve } from '../../src/checks/resolve.js';
import { runCheck } from '../../src/checks/check.js';
import { nameserverAnswer } from '../../src/analysis/nameservers.js';
import { localHost } from '../../src/host/local.js';
import { Facts } from '../../src/system/facts.js';
import { nameserverRepliesOf } from '../../src/system/nameservers.js';

const askNameserver = async (server: string, name: string) => {
  const [reply] = await new Facts(localHost).read(nameserverRepliesOf, { servers: [server], name });
  return nameserverAnswer(reply!.server, reply!.a, reply!.aaaa);
};
import { contextWith, FakeFacts, replay, resolvedTo } from './replay.js';

// What getaddrinfo said comes from Facts (a made-up resolution here); what a nameserver says is
// asked for real, over UDP, of tiny nameservers on loopback that answer the way real ones fail.

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** A nameserver on 127.0.0.1 that answers every query with this rcode (3 NXDOMAIN, 5 REFUSED), or never. */
async function nameserver(rcode: number | 'silent'): Promise<string> {
  const s = createSocket('udp4');
  sockets.push(s);
  s.on('message', (q, peer) => {
    if (rcode === 'silent') return;
    // Header: same id, QR + RD + RA, the rcode, the question echoed back, no answers.
    const reply = Buffer.from(q);
    reply[2] = 0x81;
    reply[3] = 0x80 | rcode;
    reply.writeUInt16BE(0, 6);
    reply.writeUInt16BE(0, 8);
    reply.writeUInt16BE(0, 10);
    s.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return `127.0.0.1:${s.address().port}`;
}

/** A UDP port on loopback where nothing listens: the kernel answers port unreachable. */
async function closedPort(): Promise<string> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return `127.0.0.1:${port}`;
}

describe('asking a nameserver directly', () => {
  it('NXDOMAIN → no such name', async () => {
    const server = await nameserver(3);
    expect(await askNameserver(server, 'nosuch.example')).toEqual({ server, verdict: 'no-such-name', code: 'ENOTFOUND', text: `nameserver ${server} says there is no such name (NXDOMAIN)` });
  });

  it('REFUSED, and nothing listening at all → refused', async () => {
    const server = await nameserver(5);
    expect(await askNameserver(server, 'x.example')).toMatchObject({ verdict: 'refused', code: 'EREFUSED' });
    const closed = await closedPort();
    expect(await askNameserver(closed, 'x.example')).toMatchObject({ verdict: 'refused', code: 'ECONNREFUSED', text: `nameserver ${closed} refuses the connection (ECONNREFUSED): no DNS server listens there` });
  });

  it('silence → no answer, within about a second', async () => {
    const server = await nameserver('silent');
    const started = performance.now();
    expect(await askNameserver(server, 'x.example')).toMatchObject({ verdict: 'no-answer', code: 'ETIMEOUT' });
    expect(performance.now() - started).toBeLessThan(1500);
  });
});

describe('the resolve check', () => {
  type Resolved = Parameters<typeof resolvedTo> | { ok: false; error: string; code: string; durationMs: number };
  /** The check on a host with these nameservers in its resolv.conf; `asked` is what it asked of them directly. */
  const runOn = async (resolution: Resolved, nameservers: string[]) => {
    const r = replay({}, { nameservers });
    const facts = new FakeFacts(r, { appserver: Array.isArray(resolution) ? resolvedTo(...resolution) : resolution });
    const res = await runCheck(resolve, resolve.params.parse({ host: 'appserver' }), contextWith(r, facts, { host: 'appserver' }));
    return { res, calls: r.calls, asked: r.calls.filter((c) => c.startsWith('queryNameservers')) };
  };
  const run = async (resolution: Resolved) => (await runOn(resolution, [])).res;

  it('resolved: every address of both families', async () => {
    expect(await run(['10.213.9.2', 'fd00:213:9::2'])).toMatchObject({ outcome: 'resolved', summary: 'appserver resolves: IPv4 10.213.9.2; IPv6 fd00:213:9::2' });
    expect((await run(['10.213.9.2'])).summary).toBe('appserver resolves: IPv4 10.213.9.2; no IPv6 address');
  });

  it('no such name: the resolver answered, nothing more to ask', async () => {
    const res = await run({ ok: false, error: 'appserver does not resolve (no such name)', code: 'ENOTFOUND', durationMs: 3 });
    expect(res.outcome).toBe('no-such-name');
    expect(res.summary).toMatch(/^appserver is not in \/etc\/hosts and DNS says there is no such name \(ENOTFOUND\)/);
  });

  it('the resolver timed out: no answer, without asking the nameservers again (that would double the wait)', async () => {
    const { res, calls, asked } = await runOn({ ok: false, error: 'no answer from the resolver within 1000 ms', code: 'ETIMEOUT', durationMs: 1000 }, ['10.213.9.53']);
    expect(res).toMatchObject({ outcome: 'no-answer', summary: 'no answer for appserver within 1000 ms from the nameservers 10.213.9.53' });
    expect(calls).toContain('nameservers');
    expect(asked).toEqual([]);
  });

  it('the resolver failed otherwise (EAI_AGAIN): each nameserver is asked directly', async () => {
    const { res, asked } = await runOn({ ok: false, error: 'appserver does not resolve (EAI_AGAIN)', code: 'EAI_AGAIN', durationMs: 12 }, ['10.213.9.53']);
    expect(asked).toEqual(['queryNameservers 10.213.9.53 appserver']);
    expect(res.outcome).toBe('no-answer');
  });
});

describe('decideResolve: what was read to one outcome', () => {
  const failed = (code: string, durationMs = 12) => ({ ok: false as const, error: `appserver does not resolve (${code})`, code, durationMs });
  const reply = (server: string, a: { addresses: string[] } | { code: string }, aaaa: { addresses: string[] } | { code: string } = { code: 'ENODATA' }) => ({ server, a, aaaa });
  const decide = (resolution: Parameters<typeof decideResolve>[0]['resolution'], nameservers: string[] = [], replies: ReturnType<typeof reply>[] = []) => decideResolve({ resolution, nameservers, replies }, { host: 'appserver' });

  it('resolved: both families listed', () => {
    expect(decide(resolvedTo('10.0.0.5', 'fd00::5'))).toMatchObject({ outcome: 'resolved', status: 'pass', command: 'getent ahosts appserver', evidence: { ipv4: ['10.0.0.5'], ipv6: ['fd00::5'] } });
  });

  it('no-such-name from getaddrinfo, no-resolver without nameservers, no-answer after a timeout', () => {
    expect(decide(failed('ENOTFOUND'), ['10.0.0.53']).summary).toBe('appserver is not in /etc/hosts and DNS says there is no such name (ENOTFOUND) (nameservers: 10.0.0.53)');
    expect(decide(failed('EAI_AGAIN'))).toMatchObject({ outcome: 'no-resolver', command: 'cat /etc/resolv.conf' });
    expect(decide(failed('ETIMEOUT', 1000), ['10.0.0.53'])).toMatchObject({ outcome: 'no-answer', summary: 'no answer for appserver within 1000 ms from the nameservers 10.0.0.53' });
  });

  it('asked directly: NXDOMAIN from one → no-such-name; all refuse → refused; refused or silent → no-answer; else failed', () => {
    const servers = ['10.0.0.53', '10.0.0.54'];
    expect(decide(failed('EAI_AGAIN'), servers, [reply('10.0.0.53', { code: 'ENOTFOUND' }, { code: 'ENOTFOUND' }), reply('10.0.0.54', { code: 'ETIMEOUT' })]).outcome).toBe('no-such-name');
    expect(decide(failed('EAI_AGAIN'), servers, [reply('10.0.0.53', { code: 'EREFUSED' }), reply('10.0.0.54', { code: 'ECONNREFUSED' })]).outcome).toBe('refused');
    const silent = decide(failed('EAI_AGAIN'), servers, [reply('10.0.0.53', { code: 'EREFUSED' }), reply('10.0.0.54', { code: 'ETIMEOUT' })]);
    expect(silent).toMatchObject({ outcome: 'no-answer', evidence: { nameservers: servers } });
    expect(silent.summary).toBe('appserver does not resolve (getaddrinfo: EAI_AGAIN after 12 ms); asked directly, nameserver 10.0.0.53 refuses to answer (EREFUSED); nameserver 10.0.0.54 does not answer (ETIMEOUT)');
    expect(decide(failed('EAI_AGAIN'), servers, [reply('10.0.0.53', { addresses: ['10.0.0.5'] }), reply('10.0.0.54', { code: 'ESERVFAIL' })]).outcome).toBe('failed');
  });
});
