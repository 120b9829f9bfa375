import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Host } from '../../src/host/host.js';
import type { TalkOptions, TalkResult } from '../../src/host/tcp-talk.js';
import { PG_SSL_REQUEST, pgStartupMessage, SSH_IDENTIFICATION } from '../../src/knowledge/protocols.js';
import { PROTOCOL_MAX_BYTES, probeProtocol, protocolProbeOf } from '../../src/system/protocol-probe.js';
import { replayHost } from '../helpers/replay-host.js';

/** probeProtocol on a replayed host whose talks are real captures (test/fixtures/<protocol>/). */

const talksOf = (path: string) => (JSON.parse(readFileSync(new URL(`../fixtures/${path}.json`, import.meta.url), 'utf8')) as { talks: Omit<TalkResult, 'address' | 'port'>[] }).talks;

/** The replayed host, with every talk's options kept. */
function host(talks: Record<string, Omit<TalkResult, 'address' | 'port'>[]>): Host & { calls: string[]; asked: TalkOptions[] } {
  const h = replayHost({ talks });
  const asked: TalkOptions[] = [];
  return Object.assign(h, {
    asked,
    talk: (a: string, p: number, o: TalkOptions) => {
      asked.push(o);
      return replayHost({ talks: { [`${a} ${p}`]: [talks[`${a} ${p}`]!.shift()!] } }).talk(a, p, o);
    },
  });
}

describe('probeProtocol', () => {
  it("PostgreSQL that offers TLS: the SSLRequest, then a second connection with the StartupMessage alone; the user named, no password", async () => {
    const h = host({ '10.213.0.2 5433': talksOf('postgresql/tls-offered-no-pg-hba-entry') });
    const p = await probeProtocol(h, { address: '10.213.0.2', port: 5433, protocol: 'postgresql', userName: 'whyport_probe', timeoutMs: 3_000 });
    expect(p).toMatchObject({ outcome: 'refuses-client', userName: 'whyport_probe', evidence: { sqlState: '28000', withoutTls: true } });
    expect(h.asked).toHaveLength(2);
    expect(Buffer.from(h.asked[0]!.steps[0]!.send!)).toEqual(PG_SSL_REQUEST);
    expect(Buffer.from(h.asked[1]!.steps[0]!.send!)).toEqual(pgStartupMessage('whyport_probe'));
    expect(p.sent).toMatch(/no password/);
  });
  it('PostgreSQL without TLS: one connection', async () => {
    const h = host({ '10.213.0.2 5432': talksOf('postgresql/no-pg-hba-entry') });
    const p = await probeProtocol(h, { address: '10.213.0.2', port: 5432, protocol: 'postgresql', userName: 'whyport_probe', timeoutMs: 3_000 });
    expect(p.outcome).toBe('refuses-client');
    expect(p.evidence.withoutTls).toBeUndefined();
    expect(h.asked).toHaveLength(1);
  });
  it('waits the whole timeout for a protocol that must greet, 300 ms for one of no known protocol; reads 16 KiB at most', async () => {
    const h = host({ '10.213.0.2 22': talksOf('ssh/openssh'), '10.213.0.2 7071': talksOf('unknown/myapp-greeting') });
    const ssh = await probeProtocol(h, { address: '10.213.0.2', port: 22, protocol: 'ssh', userName: 'u', timeoutMs: 3_000 });
    const custom = await probeProtocol(h, { address: '10.213.0.2', port: 7071, protocol: undefined, userName: 'u', timeoutMs: 3_000 });
    expect(ssh.outcome).toBe('answered');
    expect(custom.outcome).toBe('unknown-greeting');
    expect(h.asked.map((o) => [o.waitMs, o.maxBytes])).toEqual([
      [3_000, PROTOCOL_MAX_BYTES],
      [300, PROTOCOL_MAX_BYTES],
    ]);
    expect(Buffer.from(h.asked[0]!.steps[0]!.send!)).toEqual(SSH_IDENTIFICATION);
    expect(h.asked[1]!.steps.every((s) => !s.send)).toBe(true);
  });
  it('a connect that fails this time is said so, not classified', async () => {
    const p = await probeProtocol(replayHost({}), { address: '10.213.0.2', port: 22, protocol: 'ssh', userName: 'u', timeoutMs: 3_000 });
    expect(p).toMatchObject({ outcome: 'not-connected', evidence: { said: 'refused (ECONNREFUSED)' } });
  });
});

describe('protocolProbeOf, the reader', () => {
  it('probes through the scope host, keyed by address, port, protocol and user', async () => {
    const h = host({ '10.213.0.2 6379': talksOf('redis/protected-mode') });
    const scope = { host: h, timeoutMs: 3_000, read: () => Promise.reject(new Error('unused')) };
    const k = { address: '10.213.0.2', port: 6379, protocol: 'redis' as const, userName: 'u', timeoutMs: 3_000 };
    expect(await protocolProbeOf.read(k, scope)).toMatchObject({ outcome: 'refuses-client', evidence: { reason: 'protected-mode' } });
    expect(protocolProbeOf.key!(k)).not.toBe(protocolProbeOf.key!({ ...k, protocol: 'http' }));
  });
});
