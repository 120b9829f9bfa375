import { describe, expect, it } from 'vitest';
import { flattenConfig, globTest, pathInclusion, readConfigTree, splitWords, type IncludeRule } from '../../src/system/config-tree.js';
import { fuzzTexts } from '../helpers/fuzz.js';
import { parseMyCnf } from '../../src/system/mysql.js';
import { parseNginx } from '../../src/system/nginx-conf.js';
import { parsePgHba, pgConfSetting } from '../../src/system/pg-hba.js';
import { parseRedisConf } from '../../src/system/redis-conf.js';
import { parseSshdT, sshdKeywordLines } from '../../src/system/sshd-config.js';
import { parseWrapperTable } from '../../src/system/tcp-wrappers.js';
import { replayHost } from '../helpers/replay-host.js';

/** `include PATH` and `includedir DIR` (its *.conf), for the tests. */
const rule: IncludeRule = (text) => {
  const m = /^(include|includedir)\s+(\S+)$/.exec(text);
  if (!m) return undefined;
  return m[1] === 'include' ? pathInclusion(m[2]!) : { kind: 'dir', dir: m[2]!, keep: globTest('*.conf') };
};

describe('configuration files with their includes', () => {
  it('lays out includes in place, a folder sorted by name, and says what it still needs', () => {
    const first = flattenConfig('/etc/a.conf', { files: { '/etc/a.conf': 'one\ninclude /etc/b.conf\nincludedir /etc/d\ntwo' }, dirs: {} }, rule);
    expect(first.lines.map((l) => l.text)).toEqual(['one', 'include /etc/b.conf', 'includedir /etc/d', 'two']);
    expect(first.wanted).toEqual({ files: ['/etc/b.conf'], dirs: ['/etc/d'] });
    const done = flattenConfig('/etc/a.conf', { files: { '/etc/a.conf': 'one\ninclude /etc/b.conf\nincludedir /etc/d\ntwo', '/etc/b.conf': 'bee', '/etc/d/2.conf': 'two-conf', '/etc/d/1.conf': 'one-conf' }, dirs: { '/etc/d': ['2.conf', 'x.txt', '.hidden.conf', '1.conf'] } }, rule);
    expect(done.wanted).toEqual({ files: [], dirs: [] });
    expect(done.lines.map((l) => `${l.file}:${l.line}:${l.text}`)).toEqual(['/etc/a.conf:1:one', '/etc/a.conf:2:include /etc/b.conf', '/etc/b.conf:1:bee', '/etc/a.conf:3:includedir /etc/d', '/etc/d/1.conf:1:one-conf', '/etc/d/2.conf:1:two-conf', '/etc/a.conf:4:two']);
  });

  it('a file that includes itself is read once; a missing include is a problem, a missing glob match is not', () => {
    const loop = flattenConfig('/a', { files: { '/a': 'include /b', '/b': 'include /a\nx' }, dirs: {} }, rule);
    expect(loop.files).toEqual(['/a', '/b']);
    expect(loop.lines.map((l) => l.text)).toEqual(['include /b', 'include /a', 'x']);
    const missing = flattenConfig('/a', { files: { '/a': 'include /gone\ninclude /etc/x/*.conf' }, dirs: { '/etc/x': { error: 'cannot read /etc/x: no such file' } } }, rule);
    expect(missing.wanted.files).toEqual(['/gone']);
    const told = flattenConfig('/a', { files: { '/a': 'include /gone', '/gone': { error: 'cannot read /gone: no such file' } }, dirs: {} }, rule);
    expect(told.problems).toEqual(['cannot read /gone: no such file']);
  });

  it('stops at ten levels of includes and says so', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 15; i++) files[`/f${i}`] = `include /f${i + 1}`;
    files['/f15'] = 'deep';
    const flat = flattenConfig('/f0', { files, dirs: {} }, rule);
    expect(flat.files).toHaveLength(11);
    expect(flat.problems).toEqual(['/f10:1: includes nested deeper than 10, not followed']);
  });

  it('reads through the Host seam a round per level, folders and unreadable files included', async () => {
    const host = replayHost({ files: { '/etc/a.conf': 'include /etc/b.conf\nincludedir /etc/d\ninclude /etc/d', '/etc/b.conf': 'include /etc/c.conf', '/etc/c.conf': 'sea', '/etc/d/1.conf': 'one', '/etc/secret.conf': 'x' }, denied: ['/etc/d/1.conf'] });
    const flat = await readConfigTree(host, '/etc/a.conf', rule);
    expect(flat.lines.map((l) => l.text)).toEqual(['include /etc/b.conf', 'include /etc/c.conf', 'sea', 'includedir /etc/d', 'include /etc/d']);
    expect(flat.problems).toEqual(['cannot read /etc/d/1.conf: permission denied (whyport reads it as root)', 'cannot read /etc/d: it is a folder']);
    const none = await readConfigTree(host, '/etc/none.conf', rule);
    expect(none.problems).toEqual(['cannot read /etc/none.conf: no such file']);
  });

  it('globs of one name and shell-like words', () => {
    expect(['a.conf', 'b.txt', '.c.conf', 'd.conf.bak'].filter(globTest('*.conf'))).toEqual(['a.conf']);
    expect(['10-a.conf', '1-a.conf'].filter(globTest('??-*.conf'))).toEqual(['10-a.conf']);
    expect(['a1', 'b1', 'c1'].filter(globTest('[ab]1'))).toEqual(['a1', 'b1']);
    expect(['a1', 'b1', 'c1'].filter(globTest('[!ab]1'))).toEqual(['c1']);
    expect(pathInclusion('/etc/ssh/sshd_config.d/*.conf')).toMatchObject({ kind: 'dir', dir: '/etc/ssh/sshd_config.d' });
    expect(splitWords('Banner "/etc/a b" # comment')).toEqual({ words: ['Banner', '/etc/a b'], quoted: [false, true] });
    expect(splitWords("a 'b c'", { single: true }).words).toEqual(['a', 'b c']);
  });

  it('every parser reads a line of 400 KB in linear time (spaces, quotes, commas, hashes)', () => {
    for (const unit of ['  ', ' "a', ',', ' # ', '\\', ' =']) {
      const text = `key${unit.repeat(200_000 / unit.length)}x`;
      const lines = [{ file: '/f', line: 1, text }];
      const started = performance.now();
      parsePgHba(lines);
      pgConfSetting(text);
      parseRedisConf(lines);
      parseMyCnf([{ file: '/f', line: 1, text: '[mysqld]' }, ...lines]);
      sshdKeywordLines(lines);
      parseSshdT(text);
      parseNginx(lines);
      parseWrapperTable('/f', `sshd: ${text}`);
      splitWords(text, { single: true });
      expect(performance.now() - started, JSON.stringify(unit)).toBeLessThan(1500);
    }
  });

  it('never throws and always ends on random and truncated text', () => {
    for (const text of fuzzTexts('include /a\nincludedir /d\ninclude /etc/*.conf\nkey "v a l"\n[x]\n', 300, 99)) {
      flattenConfig('/a', { files: { '/a': text, '/etc/x.conf': text }, dirs: { '/d': ['x.conf'], '/etc': ['x.conf'] } }, rule);
      splitWords(text, { single: true });
      globTest(text.slice(0, 30))('name');
    }
  });
});
