import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideMysqlHosts, SQL_PASSWORD_PLACEHOLDER } from '../../src/analysis/mysql-hosts.js';
import { localHost } from '../../src/host/local.js';
import { readMysqlAccounts } from '../../src/system/mysql.js';
import { createNamespace, netnsSkipReason, type Namespace } from '../helpers/netns.js';

/**
 * The account-host decision against a real MariaDB: a fresh data folder (mariadb-install-db), the
 * server in a namespace of the test's own listening on a non-loopback address, its accounts read
 * through whyport's reader over the unix socket as root; a client from that address gets error
 * 1130 exactly when whyport says refused, and whyport's fix (its placeholder filled in) lets it in.
 */

const SERVER = '/usr/sbin/mariadbd';
const INSTALL = '/usr/bin/mariadb-install-db';
const CLIENT = '/usr/bin/mariadb';
const ADDRESS = '10.213.9.2';
const PORT = '13306';

function skipReason(): string | undefined {
  if (![SERVER, INSTALL, CLIENT].every(existsSync)) return 'mariadb-server is not installed: apt-get install -y mariadb-server';
  return netnsSkipReason();
}
/** Ends a process this test started, by its pid; one that already ended is fine. */
function stop(pid: number | undefined, signal: NodeJS.Signals): void {
  try {
    if (pid) process.kill(pid, signal);
  } catch {
    // already gone
  }
}

const skip = skipReason();

describe.skipIf(skip !== undefined)('MariaDB account hosts on the real mariadbd', () => {
  let ns: Namespace;
  let dir: string;
  let server: ChildProcess | undefined;
  const socket = () => join(dir, 'mysqld.sock');

  /** The client from ADDRESS, as user app with the test's password: what it prints. */
  const connectAsApp = () => {
    const r = spawnSync(ns.exec[0]!, [...ns.exec.slice(1), CLIENT, '--no-defaults', '--skip-ssl', '-h', ADDRESS, '-P', PORT, '-u', 'app', '-ptest-only-password', '-N', '-B', '-e', 'SELECT CURRENT_USER()'], { encoding: 'utf8', timeout: 10_000 });
    return `${r.stdout}${r.stderr}`.trim();
  };
  /** As root through the socket (unix_socket authentication), as whyport's fix says. */
  const asRoot = (sql: string) => spawnSync(CLIENT, [`--socket=${socket()}`, '-e', sql], { encoding: 'utf8', timeout: 10_000 });

  beforeAll(async () => {
    ns = createNamespace({ addresses: [`${ADDRESS}/24`] });
    dir = mkdtempSync(join(tmpdir(), 'wpt-mariadb-'));
    const install = spawnSync(INSTALL, ['--no-defaults', `--datadir=${dir}/data`, '--user=root', '--auth-root-authentication-method=socket', '--skip-test-db'], { encoding: 'utf8', timeout: 60_000 });
    if (install.status !== 0) throw new Error(`mariadb-install-db failed: ${install.stderr}`);
    server = spawn(ns.exec[0]!, [...ns.exec.slice(1), SERVER, '--no-defaults', `--datadir=${dir}/data`, `--socket=${socket()}`, `--bind-address=${ADDRESS}`, `--port=${PORT}`, '--user=root', `--pid-file=${dir}/pid`, `--log-error=${dir}/err.log`, '--skip-name-resolve'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(socket()); i++) await new Promise((r) => setTimeout(r, 100));
  }, 90_000);
  afterAll(() => {
    stop(server?.pid, 'SIGKILL');
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a fresh server: the client gets 1130, whyport reads root@localhost only and says refused; its fix lets the client in', async () => {
    expect(connectAsApp()).toMatch(/\b1130\b.*Host '10\.213\.9\.2' is not allowed to connect to this MariaDB server/);

    const reading = await readMysqlAccounts(localHost, { socket: socket() });
    expect('accounts' in reading && reading.accounts).toEqual([
      { user: 'mariadb.sys', host: 'localhost' },
      { user: 'root', host: 'localhost' },
    ]);
    if (!('accounts' in reading)) return;
    const verdict = decideMysqlHosts(reading.accounts, { address: ADDRESS, skipNameResolve: true }, { user: 'app', database: 'test' });
    expect(verdict.outcome).toBe('refuses');

    const statement = verdict.fix!.commands[0]![2]!;
    const fixed = asRoot(statement.replaceAll(SQL_PASSWORD_PLACEHOLDER, 'test-only-password'));
    expect(fixed.stderr).toBe('');
    expect(connectAsApp()).toBe(`app@${ADDRESS}`);
    const after = await readMysqlAccounts(localHost, { socket: socket() });
    expect('accounts' in after && decideMysqlHosts(after.accounts, { address: ADDRESS, skipNameResolve: true }).outcome).toBe('admits');
  });

  it("an account for the client's subnet (address/netmask) admits it, one for another subnet does not", async () => {
    asRoot("DROP USER 'app'@'10.213.9.2'; CREATE USER 'app'@'10.213.8.0/255.255.255.0' IDENTIFIED BY 'test-only-password'");
    expect(connectAsApp()).toMatch(/\b1130\b/);
    let reading = await readMysqlAccounts(localHost, { socket: socket() });
    expect('accounts' in reading && decideMysqlHosts(reading.accounts, { address: ADDRESS, skipNameResolve: true }).outcome).toBe('refuses');
    asRoot("CREATE USER 'app'@'10.213.9.0/255.255.255.0' IDENTIFIED BY 'test-only-password'");
    expect(connectAsApp()).toBe('app@10.213.9.0/255.255.255.0');
    reading = await readMysqlAccounts(localHost, { socket: socket() });
    expect('accounts' in reading && decideMysqlHosts(reading.accounts, { address: ADDRESS, skipNameResolve: true }).outcome).toBe('admits');
  });

  it('a socket nothing serves: the client\'s own error line', async () => {
    const reading = await readMysqlAccounts(localHost, { socket: join(dir, 'nothing.sock') });
    expect(reading).toMatchObject({ error: expect.stringMatching(/^ERROR 2002 \(HY000\): Can't connect to local server through socket/) });
  });
});
