import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideRedisProtected, defaultUserNopass, PASSWORD_PLACEHOLDER } from '../../src/analysis/redis-protected.js';
import type { SourceLine } from '../../src/system/config-tree.js';
import { parseRedisConf, readRedisConf, redisAccess, redisArgvDirectives, redisConfigPath, redisWords } from '../../src/system/redis-conf.js';
import { fuzzTexts } from '../helpers/fuzz.js';
import { replayHost } from '../helpers/replay-host.js';

const PACKAGED = readFileSync(new URL('../fixtures/redis/redis.conf', import.meta.url), 'utf8');
const CONF = '/etc/redis/redis.conf';
const UNIT_ARGV = ['/usr/bin/redis-server', CONF, '--supervised', 'systemd', '--daemonize', 'no'];

/** The packaged redis.conf with lines replaced (1-based line → new text) and lines added at the end. */
function edited(replace: Record<number, string>, append: string[] = []): string {
  const lines = PACKAGED.split('\n');
  for (const [n, text] of Object.entries(replace)) lines[Number(n) - 1] = text;
  return [...lines, ...append].join('\n');
}
const host = (conf: string, more: Record<string, string> = {}, denied: string[] = []) => replayHost({ files: { [CONF]: conf, ...more }, denied });
const decide = async (conf: string, client = '10.0.0.7', more: Record<string, string> = {}, denied: string[] = []) =>
  decideRedisProtected(await readRedisConf(host(conf, more, denied), UNIT_ARGV), client);

describe('redis.conf parser', () => {
  it("splits words as Redis does: double quotes with escapes, single quotes, and refuses unbalanced ones", () => {
    expect(redisWords('bind 127.0.0.1 -::1')).toEqual(['bind', '127.0.0.1', '-::1']);
    expect(redisWords('requirepass "a b\\x41\\n"')).toEqual(['requirepass', 'a bA\n']);
    expect(redisWords("user default on 'no\\'pe'")).toEqual(['user', 'default', 'on', "no'pe"]);
    expect(redisWords('requirepass "open')).toBeUndefined();
    expect(redisWords('requirepass "a"b')).toBeUndefined();
    expect(redisWords('   ')).toEqual([]);
  });

  it("reads the packaged file's bind, protected-mode and port with their lines; no requirepass, no aclfile", () => {
    const lines: SourceLine[] = PACKAGED.split('\n').map((t, i) => ({ file: CONF, line: i + 1, text: t.trim() }));
    const { directives, errors } = parseRedisConf(lines);
    expect(errors).toEqual([]);
    const access = redisAccess(directives);
    expect(access.bind?.source).toEqual({ file: CONF, line: 87, text: 'bind 127.0.0.1 -::1' });
    expect(access.protectedMode?.source).toEqual({ file: CONF, line: 111, text: 'protected-mode yes' });
    expect(access.port?.args).toEqual(['6379']);
    expect(access.requirepass).toBeUndefined();
    expect(access.aclfile).toBeUndefined();
  });

  it('the running server read the file its unit names; an instance unit reads redis-NAME.conf; the process title names none', () => {
    expect(redisConfigPath(UNIT_ARGV)).toBe(CONF);
    expect(redisConfigPath(['/usr/bin/redis-server', '127.0.0.1:6379'])).toBe(CONF);
    expect(redisConfigPath(['/usr/bin/redis-server', '*:6380'], 'redis-server@cache.service')).toBe('/etc/redis/redis-cache.conf');
    expect(redisConfigPath(['redis-server', '/srv/r.conf', '--port', '7000'])).toBe('/srv/r.conf');
    expect(redisConfigPath(['redis-server', '--port', '7000', '--include', '/srv/x.conf'])).toBe(CONF);
    expect(redisConfigPath(['redis-server', '[::1]:6379'])).toBe(CONF);
  });

  it('options after the file on the command line come last and win', async () => {
    expect(redisArgvDirectives(['--protected-mode', 'no', '--save', '', '--x']).map((d) => [d.name, d.args])).toEqual([
      ['protected-mode', ['no']],
      ['save', ['']],
      ['x', []],
    ]);
    const reading = await readRedisConf(host(edited({ 87: 'bind * -::*' })), [...UNIT_ARGV, '--protected-mode', 'no']);
    expect(reading.access.protectedMode?.source.file).toBe('command line');
    expect(decideRedisProtected(reading, '10.0.0.7').outcome).toBe('admits');
  });

  it('follows include lines (globs too) in place: a later line wins', async () => {
    const reading = await readRedisConf(
      host(edited({}, ['include /etc/redis/conf.d/*.conf']), { '/etc/redis/conf.d/10-open.conf': 'bind * -::*\nprotected-mode no', '/etc/redis/conf.d/20-close.conf': 'protected-mode yes', '/etc/redis/conf.d/readme': 'bogus "' }),
      UNIT_ARGV,
    );
    expect(reading.problems).toEqual([]);
    expect(reading.access.bind?.source).toEqual({ file: '/etc/redis/conf.d/10-open.conf', line: 1, text: 'bind * -::*' });
    expect(reading.access.protectedMode?.source).toEqual({ file: '/etc/redis/conf.d/20-close.conf', line: 1, text: 'protected-mode yes' });
  });

  it('never throws and always ends on random and truncated text', () => {
    for (const text of fuzzTexts(PACKAGED, 300, 6379)) {
      const lines = text.split('\n').map((t, i) => ({ file: CONF, line: i + 1, text: t.trim() }));
      const parsed = parseRedisConf(lines);
      const access = redisAccess(parsed.directives);
      defaultUserNopass(access.defaultUser, access.requirepass);
      decideRedisProtected({ path: CONF, flat: { lines, files: [CONF], problems: [], wanted: { files: [], dirs: [] } }, directives: parsed.directives, access, problems: [] }, '10.0.0.7');
    }
  });
});

describe('Redis protected mode decision', () => {
  it("bind * -::* with the packaged file's protected-mode yes and no password: line 111 refuses a remote client; the fix fills the commented requirepass example", async () => {
    const v = await decide(edited({ 87: 'bind * -::*' }));
    expect(v.outcome).toBe('refuses');
    expect(v.setting).toEqual({ file: CONF, line: 111, text: 'protected-mode yes' });
    expect(v.explanation).toContain('answers 10.0.0.7 with -DENIED');
    expect(v.fix?.edit).toEqual({ file: CONF, at: 'replace', line: 1036, text: `requirepass ${PASSWORD_PLACEHOLDER}` });
    expect(v.fix?.commands).toEqual([['systemctl', 'restart', 'redis-server']]);
    expect(v.fix?.summary).toContain('do that only if the addresses of its bind line are trusted networks');
  });

  it('no protected-mode line at all: on by default, no setting line, the password goes at the end', async () => {
    const v = await decide('bind * -::*\nport 6379');
    expect(v.outcome).toBe('refuses');
    expect(v.setting).toBeUndefined();
    expect(v.explanation).toContain('no protected-mode line in /etc/redis/redis.conf: protected mode is on by default');
    expect(v.fix?.edit).toEqual({ file: CONF, at: 'append', text: `requirepass ${PASSWORD_PLACEHOLDER}` });
  });

  it('loopback clients, protected-mode no, and a password all admit (the password is never shown)', async () => {
    expect((await decide(edited({ 87: 'bind * -::*' }), '127.0.0.1')).outcome).toBe('admits');
    expect((await decide(edited({ 87: 'bind * -::*' }), '::1')).outcome).toBe('admits');
    expect((await decide(edited({ 111: 'protected-mode no' }))).setting?.line).toBe(111);
    const pass = await decide(edited({ 1036: 'requirepass s3cret' }));
    expect(pass.outcome).toBe('admits');
    expect(pass.setting?.text).toBe('requirepass <hidden>');
    expect(JSON.stringify(pass)).not.toContain('s3cret');
    expect((await decide(edited({ 1036: 'requirepass ""' }))).outcome).toBe('refuses');
  });

  it("a `user default` rule resets the default user and wins over requirepass; nopass in it is what the fix replaces", async () => {
    const open = await decide(edited({ 1036: 'requirepass s3cret' }, ['user default on nopass ~* &* +@all']));
    expect(open.outcome).toBe('refuses');
    expect(open.fix?.edit).toEqual({ file: CONF, at: 'replace', line: PACKAGED.split('\n').length + 1, text: `user default on ~* &* +@all >${PASSWORD_PLACEHOLDER}` });
    const closed = await decide(edited({}, ['user default on >s3cret ~* +@all']));
    expect(closed.outcome).toBe('admits');
    expect(closed.setting?.text).toBe('user default on ><hidden> ~* +@all');
    expect(defaultUserNopass({ name: 'user', args: ['default', 'nopass', 'resetpass'], source: { file: CONF, line: 1, text: '' } }, undefined)).toBe(false);
  });

  it('an aclfile decides through its default user; an unreadable one leaves it undecided', async () => {
    const conf = edited({ 87: 'bind * -::*', 1025: 'aclfile /etc/redis/users.acl' });
    expect((await decide(conf, '10.0.0.7', { '/etc/redis/users.acl': 'user default on #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 ~* +@all\n' })).outcome).toBe('admits');
    const open = await decide(conf, '10.0.0.7', { '/etc/redis/users.acl': 'user default on nopass ~* +@all\n' });
    expect(open.fix?.edit).toMatchObject({ file: '/etc/redis/users.acl', line: 1 });
    const unread = await decide(conf, '10.0.0.7', { '/etc/redis/users.acl': '' }, ['/etc/redis/users.acl']);
    expect(unread.outcome).toBe('undecided');
    expect(unread.explanation).toContain('permission denied');
  });
});
