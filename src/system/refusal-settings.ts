import { defineReader } from './reader.js';
import { readPgHba, type PgHbaReading } from './pg-hba.js';
import { readRedisConf, type RedisConfReading } from './redis-conf.js';
import { readMysqlAccounts, readMysqlConf, type AccountsReading, type MysqlConfReading } from './mysql.js';
import { readWrapperTables, type WrapperTables } from './tcp-wrappers.js';
import { readSshdConfig, readSshdEffective, type SshdConfigReading, type SshdTReading } from './sshd-config.js';
import { readNginxConf, type NginxConfReading } from './nginx-conf.js';

/*
 * The server's settings that decide a refusal, as readers (memoised per diagnosis): the
 * refusal-setting step reads the one the refusal names (analysis/service-setting.ts lists which
 * decision goes with which). Each reader never throws: what could not be read is in its problems.
 */

/** The pg_hba.conf of the cluster on a port (the running postgres's argv picks the cluster). */
export const pgHbaOf = defineReader<{ port: number; argv: readonly string[] }, PgHbaReading>({
  name: 'pg_hba.conf',
  key: (k) => `${k.port} ${k.argv.join(' ')}`,
  read: (k, s) => readPgHba(s.host, k.port, k.argv),
});

/** The redis.conf the running server read (its argv names it). */
export const redisConfOf = defineReader<{ argv: readonly string[] }, RedisConfReading>({
  name: 'redis.conf',
  key: (k) => k.argv.join(' '),
  read: (k, s) => readRedisConf(s.host, k.argv),
});

/** MariaDB/MySQL's accounts (as root through the unix socket) and its option files. */
export const mysqlSettingsOf = defineReader<void, { accounts: AccountsReading; conf: MysqlConfReading }>({
  name: 'mysql accounts and options',
  read: async (_, s) => {
    const [accounts, conf] = await Promise.all([readMysqlAccounts(s.host, { timeoutMs: s.timeoutMs }), readMysqlConf(s.host)]);
    return { accounts, conf };
  },
});

/** /etc/hosts.allow and /etc/hosts.deny. */
export const wrapperTablesOf = defineReader<void, WrapperTables>({ name: 'hosts.allow and hosts.deny', read: (_, s) => readWrapperTables(s.host) });

/** sshd_config with its includes, and what `sshd -T` makes of it. */
export const sshdSettingsOf = defineReader<void, { config: SshdConfigReading; effective: SshdTReading }>({
  name: 'sshd settings',
  read: async (_, s) => {
    const [config, effective] = await Promise.all([readSshdConfig(s.host), readSshdEffective(s.host, { timeoutMs: s.timeoutMs })]);
    return { config, effective };
  },
});

/** nginx.conf with its includes. */
export const nginxConfOf = defineReader<void, NginxConfReading>({ name: 'nginx.conf', read: (_, s) => readNginxConf(s.host) });
