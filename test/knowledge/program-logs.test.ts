import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROGRAM_LOGS, programLogFiles } from '../../src/knowledge/program-logs.js';

const MONDAY = new Date(2026, 10, 23, 12);

describe('programLogFiles', () => {
  it('fills a template unit\'s instance into the path', () => {
    expect(programLogFiles('postgresql@15-main.service')).toEqual(['/var/log/postgresql/postgresql-15-main.log']);
    expect(programLogFiles('postgresql@16-my-cluster')).toEqual(['/var/log/postgresql/postgresql-16-my-cluster.log']);
    expect(programLogFiles('redis-server@cache.service')).toEqual(['/var/log/redis/redis-server-cache.log', '/var/log/redis/redis-server.log']);
    expect(programLogFiles('apache2@site2')).toEqual(['/var/log/apache2-site2/error.log']);
    expect(programLogFiles('php8.2-fpm')).toEqual(['/var/log/php8.2-fpm.log']);
    expect(programLogFiles('postgresql-15', undefined, { now: MONDAY })).toEqual(['/var/lib/pgsql/15/data/log/postgresql-Mon.log']);
  });

  it('knows the plain units, Debian\'s spelling first', () => {
    expect(programLogFiles('nginx')).toEqual(['/var/log/nginx/error.log']);
    expect(programLogFiles('nginx.service')).toEqual(['/var/log/nginx/error.log']);
    expect(programLogFiles('apache2.service')).toEqual(['/var/log/apache2/error.log']);
    expect(programLogFiles('httpd')).toEqual(['/var/log/httpd/error_log']);
    expect(programLogFiles('redis-server')).toEqual(['/var/log/redis/redis-server.log', '/var/log/redis/redis.log']);
    expect(programLogFiles('redis')).toEqual(programLogFiles('redis-server'));
    expect(programLogFiles('mysql')[0]).toBe('/var/log/mysql/error.log');
    expect(programLogFiles('mariadb')).toEqual(['/var/log/mysql/error.log', '/var/log/mariadb/mariadb.log']);
  });

  it('falls back to the program when the unit is not known, and only then', () => {
    expect(programLogFiles('myweb.service', 'nginx')).toEqual(['/var/log/nginx/error.log']);
    expect(programLogFiles('myweb.service', '/usr/sbin/nginx')).toEqual(['/var/log/nginx/error.log']);
    expect(programLogFiles('myweb.service', 'nginx[41]')).toEqual(['/var/log/nginx/error.log']);
    // A journal identifier names the cluster when the unit does not.
    expect(programLogFiles('db.service', 'postgresql@15-main')).toEqual(['/var/log/postgresql/postgresql-15-main.log']);
    // mysqld is both MySQL's and MariaDB's: every candidate, once.
    expect(programLogFiles('db', 'mysqld')).toEqual(['/var/log/mysql/error.log', '/var/log/mysql/mysqld.log', '/var/log/mysqld.log', '/var/log/mariadb/mariadb.log']);
    // The unit decides: pg_ctlcluster (Debian's ExecStart=) says nothing about the cluster.
    expect(programLogFiles('postgresql@15-main', 'pg_ctlcluster')).toEqual(['/var/log/postgresql/postgresql-15-main.log']);
  });

  it('gives nothing for what it does not know, and no path outside the log directory', () => {
    expect(programLogFiles('myapp.service')).toEqual([]);
    expect(programLogFiles('myapp.service', 'myapp')).toEqual([]);
    expect(programLogFiles('')).toEqual([]);
    // Debian's postgresql.service is only a wrapper: no cluster, no file of its own (RHEL's name fits it).
    expect(programLogFiles('postgresql', undefined, { now: MONDAY })).toEqual(['/var/lib/pgsql/data/log/postgresql-Mon.log']);
    expect(programLogFiles('redis-server@..')).toEqual(['/var/log/redis/redis-server.log']);
  });
});

describe('PROGRAM_LOGS', () => {
  it('has absolute files whose placeholders each of its names can fill', () => {
    const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    for (const entry of PROGRAM_LOGS) {
      expect(entry.units.length + entry.programs.length, entry.name).toBeGreaterThan(0);
      for (const file of entry.files) {
        expect(/^\/var\/(?:log|lib)\//.test(file), file).toBe(true);
        expect(placeholders(file).every((p) => ['instance', 'version', 'weekday'].includes(p)), file).toBe(true);
      }
      // A name that matches must give at least one file, or matching it would say nothing.
      for (const name of [...entry.units, ...entry.programs]) {
        const given = [...placeholders(name), 'weekday'];
        expect(entry.files.some((f) => placeholders(f).every((p) => given.includes(p))), `${entry.name}: ${name}`).toBe(true);
      }
    }
  });

  // The Debian packages installed on this machine say where they log; the data must agree.
  const hostFile = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);
  const nginxConf = hostFile('/etc/nginx/nginx.conf');
  const apacheConf = hostFile('/etc/apache2/apache2.conf');
  const apacheEnv = hostFile('/etc/apache2/envvars');
  const redisConf = hostFile('/etc/redis/redis.conf');
  const pgCommon = hostFile('/usr/share/perl5/PgCommon.pm');

  it.skipIf(!nginxConf)('agrees with Debian\'s nginx.conf', () => {
    expect(nginxConf).toMatch(new RegExp(`^error_log ${programLogFiles('nginx')[0]};`, 'm'));
  });

  it.skipIf(!apacheConf || !apacheEnv)('agrees with Debian\'s apache2.conf and envvars (instances included)', () => {
    expect(apacheConf).toMatch(/^ErrorLog \$\{APACHE_LOG_DIR\}\/error\.log$/m);
    expect(apacheEnv).toMatch(/^export APACHE_LOG_DIR=\/var\/log\/apache2\$SUFFIX$/m);
    expect(apacheEnv).toContain('SUFFIX="-${APACHE_CONFDIR##/etc/apache2-}"');
    expect(programLogFiles('apache2')).toEqual(['/var/log/apache2/error.log']);
    expect(programLogFiles('apache2@x')).toEqual(['/var/log/apache2-x/error.log']);
  });

  it.skipIf(!redisConf)('agrees with Debian\'s redis.conf', () => {
    expect(redisConf).toMatch(new RegExp(`^logfile ${programLogFiles('redis-server')[0]}$`, 'm'));
  });

  it.skipIf(!pgCommon)('agrees with the log file pg_ctlcluster gives each cluster', () => {
    expect(pgCommon).toContain('$result{\'logfile\'} = "/var/log/postgresql/postgresql-$v-$c.log";');
  });
});
