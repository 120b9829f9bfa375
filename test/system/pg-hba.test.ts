import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decidePgHba, hbaLineFor, type PgClient } from '../../src/analysis/pg-hba.js';
import { flattenConfig, type SourceLine } from '../../src/system/config-tree.js';
import { maskPrefix } from '../../src/net/mask.js';
import { hbaFields, hbaIncludeRule, parsePgHba, pgConfSetting, readPgHba } from '../../src/system/pg-hba.js';
import { replayHost } from '../helpers/replay-host.js';
import { fuzzTexts } from '../helpers/fuzz.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/postgresql/${name}`, import.meta.url), 'utf8');
const HBA = '/etc/postgresql/15/main/pg_hba.conf';
const CONF = '/etc/postgresql/15/main/postgresql.conf';

const linesOf = (text: string, file = HBA): SourceLine[] => text.split('\n').map((t, i) => ({ file, line: i + 1, text: t.trim() }));
const client = (over: Partial<PgClient> = {}): PgClient => ({ address: '10.0.0.7', user: 'app', database: 'app', ssl: undefined, ...over });

/** The packaged pg_hba.conf with lines put in before its first `host` line (line 97). */
function packagedWith(extra: string[], at = 96): string {
  const lines = fixture('pg_hba.conf').split('\n');
  lines.splice(at, 0, ...extra);
  return lines.join('\n');
}

describe('pg_hba.conf parser', () => {
  it("reads Debian's packaged file: its seven records, each with the line it is on", () => {
    const { records, errors } = parsePgHba(linesOf(fixture('pg_hba.conf')));
    expect(errors).toEqual([]);
    expect(records.map((r) => [r.source.line, r.type, r.databases.map((t) => t.value).join(','), r.users.map((t) => t.value).join(','), r.method])).toEqual([
      [90, 'local', 'all', 'postgres', 'peer'],
      [95, 'local', 'all', 'all', 'peer'],
      [97, 'host', 'all', 'all', 'scram-sha-256'],
      [99, 'host', 'all', 'all', 'scram-sha-256'],
      [102, 'local', 'replication', 'all', 'peer'],
      [103, 'host', 'replication', 'all', 'scram-sha-256'],
      [104, 'host', 'replication', 'all', 'scram-sha-256'],
    ]);
    expect(records[2]!.address).toEqual({ kind: 'net', address: '127.0.0.1', prefix: 32 });
    expect(records[3]!.address).toEqual({ kind: 'net', address: '::1', prefix: 128 });
  });

  it('splits quoted words, comma lists and comments as PostgreSQL does', () => {
    expect(hbaFields('host "all",db2 "a b",+grp 10.0.0.0/8 md5 # comment')).toEqual([
      [{ value: 'host', quoted: false }],
      [
        { value: 'all', quoted: true },
        { value: 'db2', quoted: false },
      ],
      [
        { value: 'a b', quoted: true },
        { value: '+grp', quoted: false },
      ],
      [{ value: '10.0.0.0/8', quoted: false }],
      [{ value: 'md5', quoted: false }],
    ]);
  });

  it('reads the address and mask form, names, samehost/samenet, and says why a line is wrong', () => {
    const { records, errors } = parsePgHba(
      linesOf(
        [
          'host all all 10.0.0.0 255.255.255.0 md5',
          'hostssl all all .example.com scram-sha-256 clientcert=verify-full',
          'hostnossl all all samenet trust',
          'hostgssenc all all fe80::/10 gss',
          'host all all 10.0.0.0/33 md5',
          'host all all 10.0.0.7 md5',
          'bogus all all all md5',
          'host all all',
          'host all all 10.1.0.0/16 \\',
          '   reject',
        ].join('\n'),
      ),
    );
    expect(records.map((r) => [r.source.line, r.type, r.address, r.method, r.options])).toEqual([
      [1, 'host', { kind: 'net', address: '10.0.0.0', prefix: 24 }, 'md5', []],
      [2, 'hostssl', { kind: 'name', name: '.example.com' }, 'scram-sha-256', ['clientcert=verify-full']],
      [3, 'hostnossl', { kind: 'samenet' }, 'trust', []],
      [4, 'hostgssenc', { kind: 'net', address: 'fe80::', prefix: 10 }, 'gss', []],
      [9, 'host', { kind: 'net', address: '10.1.0.0', prefix: 16 }, 'reject', []],
    ]);
    expect(errors.map((e) => [e.source.line, e.message])).toEqual([
      [5, 'invalid IP mask in "10.0.0.0/33"'],
      [6, 'specifies neither IP address mask nor a CIDR length'],
      [7, 'invalid connection type "bogus"'],
      [8, 'end-of-line before authentication method'],
    ]);
  });

  it('masks: contiguous ones are prefixes, others are refused', () => {
    expect(maskPrefix('255.255.255.0')).toBe(24);
    expect(maskPrefix('255.255.255.255')).toBe(32);
    expect(maskPrefix('0.0.0.0')).toBe(0);
    expect(maskPrefix('255.0.255.0')).toBeUndefined();
    expect(maskPrefix('ffff:ffff::')).toBe(32);
  });

  it('postgresql.conf lines: quoted values with doubled quotes, bare values, comments', () => {
    expect(pgConfSetting("hba_file = '/etc/postgresql/15/main/pg_hba.conf'\t# host-based authentication file")).toEqual({ name: 'hba_file', value: '/etc/postgresql/15/main/pg_hba.conf' });
    expect(pgConfSetting('port = 5433 # (change requires restart)')).toEqual({ name: 'port', value: '5433' });
    expect(pgConfSetting("listen_addresses 'it''s'")).toEqual({ name: 'listen_addresses', value: "it's" });
    expect(pgConfSetting('#port = 5432')).toBeUndefined();
    expect(pgConfSetting("x = 'unterminated")).toBeUndefined();
  });

  it('lays out include, include_if_exists and include_dir (PostgreSQL 16) in place, relative to the including file', () => {
    const flat = flattenConfig(
      HBA,
      {
        files: {
          [HBA]: 'host all all 127.0.0.1/32 md5\ninclude extra.conf\ninclude_if_exists gone.conf\ninclude_dir hba.d\nhost all all ::1/128 md5',
          '/etc/postgresql/15/main/extra.conf': 'host all all 10.0.0.0/8 reject',
          '/etc/postgresql/15/main/gone.conf': { error: 'cannot read /etc/postgresql/15/main/gone.conf: no such file' },
          '/etc/postgresql/15/main/hba.d/20-b.conf': 'host all all 10.2.0.0/16 md5',
          '/etc/postgresql/15/main/hba.d/10-a.conf': 'host all all 10.1.0.0/16 md5\ninclude ../pg_hba.conf',
        },
        dirs: { '/etc/postgresql/15/main/hba.d': ['20-b.conf', '10-a.conf', 'notes.txt'] },
      },
      hbaIncludeRule,
    );
    expect(flat.problems).toEqual([]);
    expect(flat.files).toEqual([HBA, '/etc/postgresql/15/main/extra.conf', '/etc/postgresql/15/main/hba.d/10-a.conf', '/etc/postgresql/15/main/hba.d/20-b.conf']);
    const records = parsePgHba(flat.lines).records;
    expect(records.map((r) => `${r.source.file.replace('/etc/postgresql/15/main/', '')}:${r.source.line}`)).toEqual(['pg_hba.conf:1', 'extra.conf:1', 'hba.d/10-a.conf:1', 'hba.d/20-b.conf:1', 'pg_hba.conf:5']);
  });

  it('never throws and always ends on random and truncated text', () => {
    const real = fixture('pg_hba.conf');
    for (const text of fuzzTexts(real, 400)) {
      const parsed = parsePgHba(linesOf(text));
      expect(Array.isArray(parsed.records)).toBe(true);
      for (const r of parsed.records) decidePgHba([r], client(), { file: HBA });
      pgConfSetting(text.slice(0, 200));
    }
  });
});

describe('pg_hba.conf decision', () => {
  const records = (text: string) => parsePgHba(linesOf(text)).records;

  it("the packaged file has no line for a remote client: refuses, the fix adds the client's own line after the last record, and reloads the cluster", () => {
    const verdict = decidePgHba(records(fixture('pg_hba.conf')), client(), { file: HBA, cluster: { version: '15', name: 'main', conf: CONF, port: 5432, hbaFile: HBA } });
    expect(verdict.outcome).toBe('refuses');
    expect(verdict.setting).toBeUndefined();
    expect(verdict.explanation).toContain('no line of /etc/postgresql/15/main/pg_hba.conf matches app@app from 10.0.0.7');
    expect(verdict.fix?.edit).toEqual({ file: HBA, at: 'after', line: 104, text: 'host    all             all             10.0.0.7/32             scram-sha-256' });
    expect(verdict.fix?.commands).toEqual([
      ['pg_ctlcluster', '15', 'main', 'reload'],
      ['systemctl', 'reload', 'postgresql@15-main'],
    ]);
  });

  it('the packaged file admits 127.0.0.1 and ::1 by lines 97 and 99', () => {
    expect(decidePgHba(records(fixture('pg_hba.conf')), client({ address: '127.0.0.1' }), { file: HBA }).setting?.line).toBe(97);
    expect(decidePgHba(records(fixture('pg_hba.conf')), client({ address: '::1' }), { file: HBA }).setting?.line).toBe(99);
    expect(decidePgHba(records(fixture('pg_hba.conf')), client({ address: '::ffff:127.0.0.1' }), { file: HBA }).outcome).toBe('admits');
  });

  it('a reject line that matches is the setting; the fix goes before it', () => {
    const text = packagedWith(['host    all             all             10.0.0.0/24             reject', 'host    all             all             10.0.0.7/32             md5']);
    const verdict = decidePgHba(records(text), client(), { file: HBA });
    expect(verdict.outcome).toBe('refuses');
    expect(verdict.setting).toEqual({ file: HBA, line: 97, text: 'host    all             all             10.0.0.0/24             reject' });
    expect(verdict.fix?.edit).toEqual({ file: HBA, at: 'before', line: 97, text: 'host    all             all             10.0.0.7/32             md5' });
    expect(verdict.fix?.commands).toEqual([['systemctl', 'reload', 'postgresql']]);
  });

  it('the address and mask form, and a line for the client after the file was edited', () => {
    const text = packagedWith(['host all all 10.0.0.0 255.255.255.0 scram-sha-256']);
    const verdict = decidePgHba(records(text), client(), { file: HBA });
    expect(verdict.outcome).toBe('admits');
    expect(verdict.setting?.line).toBe(97);
    expect(verdict.explanation).toContain('reload');
    expect(decidePgHba(records(text), client({ address: '10.0.1.7' }), { file: HBA }).outcome).toBe('refuses');
  });

  it('hostssl and hostnossl follow whether the client uses TLS; unknown TLS is undecided only where the two ways part', () => {
    const text = 'hostssl all all 10.0.0.0/8 md5\nhostnossl all all 10.0.0.0/8 reject';
    expect(decidePgHba(records(text), client({ ssl: true }), { file: HBA }).outcome).toBe('admits');
    expect(decidePgHba(records(text), client({ ssl: false }), { file: HBA }).setting?.line).toBe(2);
    const unsure = decidePgHba(records(text), client(), { file: HBA });
    expect(unsure.outcome).toBe('undecided');
    expect(unsure.undecided?.map((u) => [u.line.line, u.why])).toEqual([
      [1, 'whether the client uses TLS'],
      [2, 'whether the client uses TLS'],
    ]);
    expect(decidePgHba(records('hostgssenc all all all trust'), client(), { file: HBA }).outcome).toBe('refuses');
    // Both ways on the same line: that line decides, TLS or not.
    const both = decidePgHba(records('hostssl all all 10.0.0.0/8 md5\nhostnossl all all 10.0.0.0/8 md5\nhost all all 10.0.0.7/32 reject'), client(), { file: HBA });
    expect(both.outcome).toBe('admits');
    expect(decidePgHba(records('hostssl all all 192.168.0.0/16 md5\nhost all all 10.0.0.7/32 reject'), client(), { file: HBA }).setting?.line).toBe(2);
  });

  it('databases and users: all, sameuser, quoted keywords, +role, replication, regular expressions', () => {
    const one = (line: string, c: Partial<PgClient> = {}) => decidePgHba(records(line), client(c), { file: HBA }).outcome;
    expect(one('host sameuser all all md5')).toBe('admits');
    expect(one('host sameuser all all md5', { database: 'other' })).toBe('refuses');
    expect(one('host "all" all all md5')).toBe('refuses');
    expect(one('host "all" all all md5', { database: 'all' })).toBe('admits');
    expect(one('host all +app all md5')).toBe('admits');
    expect(one('host all +staff all md5')).toBe('undecided');
    expect(one('host replication all all md5')).toBe('refuses');
    expect(one('host replication all all md5', { replication: true })).toBe('admits');
    expect(one('host all all all md5', { replication: true })).toBe('refuses');
    expect(one('host all /^ap all md5')).toBe('admits');
    expect(one('host all /^zz all md5')).toBe('refuses');
    expect(one('host all "/^ap" all md5')).toBe('refuses');
    expect(one('host db1,app all all md5')).toBe('admits');
    // A regular expression that could backtrack for ages is not run: undecided, said why.
    expect(one('host all /^(a+)+$ all md5', { user: 'a'.repeat(40) + '!' })).toBe('undecided');
  });

  it('samehost matches the server own addresses; samenet and host names are undecided unless sure', () => {
    const one = (line: string, serverAddresses: string[] = []) => decidePgHba(records(line), client(), { file: HBA, serverAddresses }).outcome;
    expect(one('host all all samehost md5', ['10.0.0.7'])).toBe('admits');
    expect(one('host all all samehost md5', ['10.0.0.1'])).toBe('refuses');
    expect(one('host all all samenet md5', ['10.0.0.1'])).toBe('undecided');
    expect(one('host all all client.example.com md5')).toBe('undecided');
    // A sure match before an undecided line decides.
    expect(decidePgHba(records('host all all 10.0.0.7/32 reject\nhost all all .example.com md5'), client(), { file: HBA }).setting?.line).toBe(1);
  });

  it("the line to add uses the file's own password method and the client's family", () => {
    expect(hbaLineFor(client({ address: 'fd00::7' }), records('host all all ::1/128 md5'))).toBe('host    all             all             fd00::7/128             md5');
    expect(hbaLineFor(client(), records('host all all ::1/128 trust'))).toContain('scram-sha-256');
  });
});

describe('pg_hba.conf reader', () => {
  const captured = (hba: string, conf = fixture('postgresql.conf')) =>
    replayHost({
      files: {
        [CONF]: conf,
        [HBA]: hba,
        '/etc/postgresql/15/main/pg_ident.conf': '',
        '/etc/postgresql/15/main/conf.d/.keep': '',
        '/etc/postgresql/13/old/postgresql.conf': "port = 5433\nhba_file = '/srv/pg13/hba.conf'",
        '/srv/pg13/hba.conf': 'host all all 10.0.0.0/8 md5',
      },
    });

  it("finds the cluster that serves the port through its postgresql.conf (Debian's hba_file line) and parses its pg_hba.conf", async () => {
    const reading = await readPgHba(captured(fixture('pg_hba.conf')), 5432);
    expect(reading.problems).toEqual([]);
    expect(reading.cluster).toMatchObject({ version: '15', name: 'main', port: 5432, hbaFile: HBA, hbaSetting: { file: CONF, line: 44 } });
    expect(reading.parse?.records).toHaveLength(7);
    const other = await readPgHba(captured(fixture('pg_hba.conf')), 5433);
    expect(other.cluster).toMatchObject({ version: '13', name: 'old', hbaFile: '/srv/pg13/hba.conf' });
    expect(other.parse?.records.map((r) => r.source)).toEqual([{ file: '/srv/pg13/hba.conf', line: 1, text: 'host all all 10.0.0.0/8 md5' }]);
  });

  it("the running postgres's config_file names the cluster; a port no cluster serves is said so", async () => {
    const host = captured(fixture('pg_hba.conf'));
    expect((await readPgHba(host, 9999, ['/usr/lib/postgresql/15/bin/postgres', '-D', '/var/lib/postgresql/15/main', '-c', `config_file=${CONF}`])).cluster?.name).toBe('main');
    expect((await readPgHba(host, 9999)).problems).toEqual(['no PostgreSQL cluster under /etc/postgresql serves port 9999 (15/main on 5432, 13/old on 5433)']);
  });

  it('a cluster folder without postgresql.conf is no cluster; an unreadable postgresql.conf is said', async () => {
    const host = replayHost({ files: { '/etc/postgresql/15/main/pg_hba.conf': '', '/etc/postgresql/16/main/postgresql.conf': 'port = 5433' }, denied: ['/etc/postgresql/16/main/postgresql.conf'] });
    expect((await readPgHba(host, 5432)).problems).toEqual([
      'cannot read /etc/postgresql/16/main/postgresql.conf: permission denied (whyport reads it as root)',
      'no PostgreSQL cluster under /etc/postgresql serves port 5432',
    ]);
  });

  it('an unreadable pg_hba.conf is a problem sentence, not a throw', async () => {
    const host = replayHost({ files: { [CONF]: fixture('postgresql.conf'), [HBA]: 'x', '/etc/postgresql/15/main/conf.d/.keep': '' }, denied: [HBA] });
    const reading = await readPgHba(host, 5432);
    expect(reading.problems).toEqual([`cannot read ${HBA}: permission denied (whyport reads it as root)`]);
    expect(reading.parse?.records).toEqual([]);
  });
});
