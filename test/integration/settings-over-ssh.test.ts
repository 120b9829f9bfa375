import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHost } from '../../src/host/local.js';
import { sshHost } from '../../src/host/ssh/host.js';
import { readMysqlConf } from '../../src/system/mysql.js';
import { readPgHba } from '../../src/system/pg-hba.js';
import { readRedisConf } from '../../src/system/redis-conf.js';
import { readSshdConfig } from '../../src/system/sshd-config.js';
import { readWrapperTables } from '../../src/system/tcp-wrappers.js';
import { loopbackSuite, sshdAvailable } from '../helpers/ssh.js';

/**
 * The settings readers go through the Host seam only: over a real ssh session (a private sshd on
 * loopback, this machine as the server) each reads the packaged files exactly as it does locally,
 * and the test says how many remote commands each took.
 */

const sshSkip = await sshdAvailable();
if (sshSkip) console.warn(`settings over ssh skipped: ${sshSkip}`);

describe.skipIf(sshSkip !== null)('settings readers over ssh', () => {
  const loopback = loopbackSuite();

  const readers = {
    'pg_hba.conf of the cluster on 5432': (h: typeof localHost) => readPgHba(h, 5432),
    'redis.conf of the packaged unit': (h: typeof localHost) => readRedisConf(h, ['/usr/bin/redis-server', '/etc/redis/redis.conf', '--supervised', 'systemd', '--daemonize', 'no']),
    "MariaDB's option files": (h: typeof localHost) => readMysqlConf(h),
    'hosts.allow and hosts.deny': (h: typeof localHost) => readWrapperTables(h),
    'sshd_config with its includes': (h: typeof localHost) => readSshdConfig(h),
  };

  for (const [name, read] of Object.entries(readers)) {
    it(`${name}: the same reading over ssh as locally`, async () => {
      const before = await loopback.sshd.sessionCount();
      const remote = await read(sshHost(loopback.session));
      const commands = (await loopback.sshd.sessionCount()) - before;
      expect(JSON.parse(JSON.stringify(remote))).toEqual(JSON.parse(JSON.stringify(await read(localHost))));
      console.info(`${name}: ${commands} remote command(s)`);
      expect(commands).toBeGreaterThan(0);
    }, 30_000);
  }
});
