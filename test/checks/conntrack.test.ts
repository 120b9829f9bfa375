import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conntrack, decideConntrack } from '../../src/checks/conntrack.js';
import { runCheck, type CheckContext } from '../../src/checks/check.js';
import { Facts } from '../../src/system/facts.js';
import { localHost } from '../../src/host/local.js';
import { parseConntrackStat, type ConntrackReading } from '../../src/system/conntrack.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/conntrack');
const table = (count: number, max: number, drop = 0): ConntrackReading => ({ loaded: true, count, max, drops: { drop, earlyDrop: 0, insertFailed: 0 } });

describe('the conntrack stat parser', () => {
  it('sums the hex counters of every CPU by column name (a real, idle /proc/net/stat/nf_conntrack)', () => {
    expect(parseConntrackStat(readFileSync(join(FIXTURES, 'stat-idle.txt'), 'utf8'))).toEqual({ drop: 0, earlyDrop: 0, insertFailed: 0 });
    const head = 'entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error';
    const cpu = (drop: string) => `00000000  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000002 ${drop} 00000001 00000000`;
    expect(parseConntrackStat(`${head}\n${cpu('0000000a')}\n${cpu('00000010')}\n`)).toEqual({ drop: 26, earlyDrop: 2, insertFailed: 4 });
  });

  it('says nothing for text without the columns (never a number made up)', () => {
    expect(parseConntrackStat('')).toBeUndefined();
    expect(parseConntrackStat('garbage here\n1 2 3')).toBeUndefined();
  });
});

describe('decide: the conntrack step', () => {
  it('room: a table far from its limit', () => {
    const d = decideConntrack({ first: table(1200, 262144) });
    expect(d).toMatchObject({ outcome: 'room', status: 'pass', evidence: { count: 1200, max: 262144, percent: 0.5 } });
  });

  it('full: at the limit, with the drops since boot and those that grew while watched; drop names the kernel reason', () => {
    const d = decideConntrack({ first: table(65536, 65536, 120), again: table(65536, 65536, 131) });
    expect(d.outcome).toBe('full');
    expect(d.summary).toBe('the connection-tracking table is full: 65536 of 65536 entries (100 %), 120 connections dropped since boot; 11 new connections dropped in 250 ms');
    expect(d.evidence).toMatchObject({ grew: 11, suggestedMax: 131072, drop: { reason: 'NF_CONNTRACK_FULL', counter: 'nf_conntrack drop', grew: 11 } });
  });

  it('full without growth while watched still says so, and the second sample missing is not a growth', () => {
    expect(decideConntrack({ first: table(63000, 65536, 5), again: table(63000, 65536, 5) }).summary).toMatch(/no drop in 250 ms$/);
    expect(decideConntrack({ first: table(65536, 65536, 5) }).evidence).toMatchObject({ grew: 0 });
  });

  it('untracked (no nf_conntrack) and unreadable are not blamed', () => {
    expect(decideConntrack({ first: { loaded: false } })).toMatchObject({ outcome: 'untracked', status: 'info' });
    expect(decideConntrack({ first: { loaded: 'unreadable', error: 'EACCES' } })).toMatchObject({ outcome: 'unreadable', evidence: { error: 'EACCES' } });
  });
});

describe('the conntrack step on this machine', () => {
  it('reads the real table: room or untracked, never full on an idle test machine', async () => {
    const ctx = { target: { host: '127.0.0.1', port: 7071, protocol: 'tcp' }, host: localHost, facts: new Facts(localHost), timeoutMs: 1000 } as CheckContext;
    const r = await runCheck(conntrack, {}, ctx);
    expect(['room', 'untracked']).toContain(r.outcome);
    if (r.outcome === 'room') expect(r.evidence.max).toBeGreaterThan(0);
  });
});
