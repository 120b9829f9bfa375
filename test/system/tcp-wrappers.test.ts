import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideTcpWrappers, wrapperRuleMatches, type WrapperClient } from '../../src/analysis/tcp-wrappers.js';
import { mapsHoldLibwrap, parseWrapperTable, readWrapperTables, usesTcpWrappers, type WrapperTables } from '../../src/system/tcp-wrappers.js';
import { fuzzTexts } from '../helpers/fuzz.js';
import { replayHost } from '../helpers/replay-host.js';

const ALLOW = '/etc/hosts.allow';
const DENY = '/etc/hosts.deny';
const FILES = { allow: ALLOW, deny: DENY };
const packaged = (name: 'hosts.allow' | 'hosts.deny') => readFileSync(new URL(`../fixtures/tcp-wrappers/${name}`, import.meta.url), 'utf8');
const sshd = (over: Partial<WrapperClient> = {}): WrapperClient => ({ daemon: 'sshd', address: '10.0.0.7', ...over });

/** The packaged files with lines appended (after their final newline: hosts.allow's first is line 12, hosts.deny's line 19). */
function tables(allow: string[] = [], deny: string[] = []): WrapperTables {
  return {
    allow: parseWrapperTable(ALLOW, [packaged('hosts.allow'), ...allow].join('\n')),
    deny: parseWrapperTable(DENY, [packaged('hosts.deny'), ...deny].join('\n')),
    problems: [],
  };
}
const rule = (line: string) => parseWrapperTable(DENY, line).rules[0]!;

describe('hosts.allow and hosts.deny parser', () => {
  it("Debian's packaged files are all comments: no rules, nothing refused", () => {
    expect(tables().allow.rules).toEqual([]);
    expect(tables().deny.rules).toEqual([]);
    expect(decideTcpWrappers(tables(), sshd(), FILES)).toMatchObject({ outcome: 'admits' });
  });

  it('daemon and client lists, options after a second colon, escaped colons, backslash continuations, bracketed IPv6', () => {
    const { rules, errors } = parseWrapperTable(DENY, ['sshd, vsftpd : 10.0.0.0/255.255.255.0 EXCEPT 10.0.0.9 : spawn echo a\\:b : deny', 'ALL: \\', '   .example.com', 'sshd: [fe80::]/64 [::1]', 'nonsense line', ' : ALL'].join('\n'));
    expect(rules.map((r) => [r.source.line, r.daemons, r.clients, r.options])).toEqual([
      [1, ['sshd', 'vsftpd'], ['10.0.0.0/255.255.255.0', 'EXCEPT', '10.0.0.9'], ['spawn echo a:b', 'deny']],
      [2, ['ALL'], ['.example.com'], []],
      [4, ['sshd'], ['[fe80::]/64', '[::1]'], []],
    ]);
    expect(errors.map((e) => e.line)).toEqual([5, 6]);
  });

  it('reads both files through the Host seam; a missing file is an empty table, an unreadable one is said', async () => {
    const t = await readWrapperTables(replayHost({ files: { [DENY]: 'sshd: 10.0.0.7' } }));
    expect(t.deny.rules).toHaveLength(1);
    expect(t.problems).toEqual([]);
    const denied = await readWrapperTables(replayHost({ files: { [DENY]: 'x', [ALLOW]: '' }, denied: [DENY] }));
    expect(denied.problems).toEqual([`cannot read ${DENY}: permission denied (whyport reads it as root)`]);
  });

  it("whether the daemon asks TCP wrappers at all: libwrap in its memory maps (captured from Debian 12's sshd, and from cp)", async () => {
    const maps = (name: string) => readFileSync(new URL(`../fixtures/proc/${name}`, import.meta.url), 'utf8');
    expect(mapsHoldLibwrap(maps('sshd-maps.txt'))).toBe(true);
    expect(mapsHoldLibwrap(maps('cp-maps.txt'))).toBe(false);
    expect(await usesTcpWrappers(replayHost({ files: { '/proc/812/maps': maps('sshd-maps.txt') } }), 812)).toBe(true);
    expect(await usesTcpWrappers(replayHost({}), 812)).toBeUndefined();
  });

  it('a very long line costs linear time', () => {
    const started = performance.now();
    const { rules } = parseWrapperTable(DENY, `sshd: ${'[fe80::1] 10.0.0.1, '.repeat(20_000)}: deny`);
    expect(rules[0]!.clients).toHaveLength(40_000);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('never throws and always ends on random and truncated text', () => {
    for (const text of fuzzTexts(['sshd: 10.0.0.0/255.255.255.0 EXCEPT 10.0.0.9 : deny', 'ALL: .example.com, [::1]/128 LOCAL KNOWN @ng /etc/x u@h', packaged('hosts.deny')].join('\n'), 300, 22)) {
      const t = { allow: parseWrapperTable(ALLOW, text), deny: parseWrapperTable(DENY, text), problems: [] };
      decideTcpWrappers(t, sshd(), FILES);
      decideTcpWrappers(t, sshd({ names: ['a.example.com'], server: '10.0.0.1' }), FILES);
    }
  });
});

describe('TCP wrappers decision', () => {
  it('a hosts.deny line naming the client refuses it; the setting is that line, the fix a grant in hosts.allow', () => {
    const v = decideTcpWrappers(tables([], ['sshd: 10.0.0.7']), sshd(), FILES);
    expect(v.outcome).toBe('refuses');
    expect(v.setting).toEqual({ file: DENY, line: 19, text: 'sshd: 10.0.0.7' });
    expect(v.explanation).toContain('closes it without a word');
    expect(v.fix).toMatchObject({ edit: { file: ALLOW, at: 'append', text: 'sshd: 10.0.0.7' }, commands: [] });
    expect(v.fix?.summary).toContain('nothing to reload');
  });

  it('hosts.allow wins over hosts.deny; its deny option refuses, and the grant goes before that line', () => {
    expect(decideTcpWrappers(tables(['sshd: 10.0.0.'], ['ALL: ALL']), sshd(), FILES).setting?.file).toBe(ALLOW);
    const v = decideTcpWrappers(tables(['sshd: ALL : deny']), sshd(), FILES);
    expect(v.outcome).toBe('refuses');
    expect(v.fix?.edit).toEqual({ file: ALLOW, at: 'before', line: 12, text: 'sshd: 10.0.0.7' });
    expect(decideTcpWrappers(tables([], ['sshd: ALL : allow']), sshd(), FILES).outcome).toBe('admits');
  });

  it('patterns: ALL, EXCEPT (nested), net/mask, net/len, prefixes, IPv6 in brackets, daemon lists and daemon@host', () => {
    const m = (line: string, c: Partial<WrapperClient> = {}) => wrapperRuleMatches(rule(line), sshd(c));
    expect(m('ALL: ALL')).toBe(true);
    expect(m('ALL EXCEPT sshd: ALL')).toBe(false);
    expect(m('vsftpd: ALL')).toBe(false);
    expect(m('SSHD: ALL')).toBe(true);
    expect(m('sshd: 10.0.0.0/255.255.255.0')).toBe(true);
    expect(m('sshd: 10.0.1.0/255.255.255.0')).toBe(false);
    expect(m('sshd: 10.0.0.0/24')).toBe(true);
    expect(m('sshd: 10.0.')).toBe(true);
    expect(m('sshd: 10.0.0.1')).toBe(false);
    expect(m('sshd: 10.0.0.?')).toBe(true);
    expect(m('sshd: ALL EXCEPT 10.0.0.7')).toBe(false);
    expect(m('sshd: ALL EXCEPT 10.0.0.0/24 EXCEPT 10.0.0.7')).toBe(true);
    expect(m('sshd: [fd00::]/8', { address: 'fd00::7' })).toBe(true);
    expect(m('sshd: [fd00::7]', { address: 'fd00::7' })).toBe(true);
    expect(m('sshd: [fe80::]/10', { address: 'fd00::7' })).toBe(false);
    expect(m('sshd@10.0.0.1: ALL', { server: '10.0.0.1' })).toBe(true);
    expect(m('sshd@10.0.0.2: ALL', { server: '10.0.0.1' })).toBe(false);
  });

  it('names, KNOWN/UNKNOWN/LOCAL, netgroups, files and user@host depend on what whyport cannot see unless the names are given', () => {
    const m = (line: string, c: Partial<WrapperClient> = {}) => wrapperRuleMatches(rule(line), sshd(c));
    expect(m('sshd: .example.com')).toBe('the host name 10.0.0.7 resolves to (.example.com)');
    expect(m('sshd: .example.com', { names: ['app.example.com'] })).toBe(true);
    expect(m('sshd: .example.com', { names: [] })).toBe(false);
    expect(m('sshd: UNKNOWN', { names: [] })).toBe(true);
    expect(m('sshd: KNOWN', { names: [] })).toBe(false);
    expect(m('sshd: LOCAL', { names: ['app'] })).toBe(true);
    expect(m('sshd: @trusted')).toBe('the members of NIS netgroup trusted');
    expect(m('sshd: /etc/sshd.clients')).toBe('the patterns in file /etc/sshd.clients');
    expect(m('sshd: bob@10.0.0.7')).toBe("the client's user name by ident (bob@10.0.0.7)");
    // A sure match before decides; an unsure line before a sure one leaves it undecided.
    expect(decideTcpWrappers(tables([], ['sshd: 10.0.0.7', 'sshd: .example.com']), sshd(), FILES).outcome).toBe('refuses');
    const v = decideTcpWrappers(tables([], ['sshd: .example.com', 'sshd: 10.0.0.7']), sshd(), FILES);
    expect(v.outcome).toBe('undecided');
    expect(v.undecided?.[0]?.line.line).toBe(19);
  });
});
