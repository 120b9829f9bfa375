import { describe, expect, it } from 'vitest';
import { decideTarget, target } from '../../src/checks/target.js';
import { runCheck } from '../../src/checks/check.js';
import { localHost } from '../../src/host/local.js';
import { Facts, interfaceAddresses, resolution } from '../../src/system/facts.js';
import { contextWith, resolvedTo } from './replay.js';

// The target step's decision, from what it read: local when any resolved address is this machine's.

const interfaces = ['127.0.0.1', '10.0.0.9', '::1'];

describe('decideTarget', () => {
  it('local: a name whose address is this machine', () => {
    const d = decideTarget({ resolution: resolvedTo('10.0.0.9'), own: [true], interfaces }, { host: 'appserver' });
    expect(d).toEqual({
      outcome: 'local',
      status: 'pass',
      summary: "appserver (10.0.0.9) is this machine: looking from the server's side",
      command: 'getent ahosts appserver',
      evidence: { addresses: ['10.0.0.9'], local: ['10.0.0.9'], interfaces },
    });
  });

  it('partly local: one address of several', () => {
    const d = decideTarget({ resolution: resolvedTo('10.0.0.9', 'fd00::9'), own: [true, false], interfaces }, { host: 'appserver' });
    expect(d.summary).toBe("appserver (10.0.0.9, fd00::9) is partly this machine: looking from the server's side");
  });

  it("remote: an address literal that is not this machine's; the command shows the interfaces", () => {
    const d = decideTarget({ resolution: { ok: true, literal: true, durationMs: 0, addresses: [{ address: '10.0.0.5', family: 4 }] }, own: [false], interfaces }, { host: '10.0.0.5' });
    expect(d).toMatchObject({ outcome: 'remote', status: 'info', summary: "10.0.0.5 is not an address of this machine: looking from the client's side", command: 'ip -br addr' });
    expect(d.evidence).toEqual({ addresses: ['10.0.0.5'], interfaces });
  });

  it('unresolved: what the resolver said', () => {
    const d = decideTarget({ resolution: { ok: false, error: 'nosuch does not resolve (no such name)', code: 'ENOTFOUND', durationMs: 4 }, own: [], interfaces: [] }, { host: 'nosuch' });
    expect(d).toEqual({ outcome: 'unresolved', status: 'fail', summary: 'nosuch does not resolve (no such name)', command: 'getent ahosts nosuch', evidence: { host: 'nosuch', error: 'nosuch does not resolve (no such name)', code: 'ENOTFOUND', durationMs: 4 } });
  });
});

describe('the target step on this machine', () => {
  it('127.0.0.1 is local, read through the resolution and the interface addresses it prefetches', async () => {
    const facts = new Facts(localHost, { timeoutMs: 1000 });
    const res = await runCheck(target, { host: '127.0.0.1' }, contextWith(localHost, facts));
    expect(res).toMatchObject({ outcome: 'local', command: 'ip -br addr', evidence: { local: ['127.0.0.1'] } });
    expect(res.evidence.interfaces).toContain('127.0.0.1');
    const reads = target.prefetch!({ host: '127.0.0.1' }, { target: { host: '127.0.0.1', port: 7071, protocol: 'tcp' }, timeoutMs: 1000 });
    expect(reads.map((r) => [r.reader, r.key])).toEqual([[resolution, '127.0.0.1'], [interfaceAddresses, undefined]]);
  });
});
