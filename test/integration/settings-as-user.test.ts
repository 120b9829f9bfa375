import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { AS_NOBODY, asNobodySkipReason, readableTempDir } from '../helpers/as-user.js';

/**
 * The settings readers run as an ordinary user (nobody) on this machine's real packaged files:
 * what root alone may read (pg_hba.conf, redis.conf, the host keys sshd -T needs, MariaDB's
 * accounts) comes back as a sentence that says so, never a throw; what everyone may read is read.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const needed = ['/etc/postgresql/15/main/pg_hba.conf', '/etc/redis/redis.conf', '/etc/mysql/mariadb.conf.d/50-server.cnf', '/usr/sbin/sshd'];
const skip = asNobodySkipReason() ?? (needed.every(existsSync) ? undefined : `the packages' files are missing (${needed.filter((p) => !existsSync(p)).join(', ')}): apt-get install -y postgresql redis-server mariadb-server openssh-server`);

const ENTRY = `
import { localHost } from './src/host/local.ts';
import { readPgHba } from './src/system/pg-hba.ts';
import { readRedisConf } from './src/system/redis-conf.ts';
import { readMysqlAccounts, readMysqlConf } from './src/system/mysql.ts';
import { readWrapperTables } from './src/system/tcp-wrappers.ts';
import { readSshdEffective, readSshdConfig } from './src/system/sshd-config.ts';
const pg = await readPgHba(localHost, 5432);
const redis = await readRedisConf(localHost, ['/usr/bin/redis-server', '/etc/redis/redis.conf']);
const mysql = await readMysqlConf(localHost);
const accounts = await readMysqlAccounts(localHost);
const wrappers = await readWrapperTables(localHost);
const sshdT = await readSshdEffective(localHost);
const sshd = await readSshdConfig(localHost);
console.log(JSON.stringify({
  pg: { cluster: pg.cluster?.name, problems: pg.problems, records: pg.parse?.records.length },
  redis: { problems: redis.problems, directives: redis.directives.length },
  mysql: { problems: mysql.problems, options: mysql.options.length },
  accounts,
  wrappers: { problems: wrappers.problems },
  sshdT: 'error' in sshdT ? sshdT.error : 'read',
  sshd: { problems: sshd.problems, lines: sshd.flat.lines.length },
}));
`;

describe.skipIf(skip !== undefined)('settings readers as an ordinary user', () => {
  let bundle = '';
  beforeAll(async () => {
    const dir = readableTempDir('wpt-settings-as-user-');
    bundle = join(dir, 'readers.mjs');
    await build({ stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'silent', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  }, 60_000);

  it('says what only root may read, in one sentence each, and reads the rest', () => {
    const r = spawnSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), process.execPath, bundle], { cwd: dirname(bundle), encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.pg).toEqual({ cluster: 'main', problems: ['cannot read /etc/postgresql/15/main/pg_hba.conf: permission denied (whyport reads it as root)'], records: 0 });
    expect(out.redis).toEqual({ problems: ['cannot read /etc/redis/redis.conf: permission denied (whyport reads it as root)'], directives: 0 });
    expect(out.mysql.problems).toEqual([]);
    expect(out.mysql.options).toBeGreaterThan(5);
    expect(out.accounts.error).toMatch(/^ERROR \d+/);
    expect(out.wrappers.problems).toEqual([]);
    expect(out.sshdT).toBe('sshd: no hostkeys available -- exiting. (sshd -T reads the host keys: run whyport as root)');
    expect(out.sshd.problems).toEqual([]);
    expect(out.sshd.lines).toBeGreaterThan(100);
  });
});
