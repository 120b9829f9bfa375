import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideMysqlBind, decideMysqlHosts, SQL_PASSWORD_PLACEHOLDER } from '../../src/analysis/mysql-hosts.js';
import { localHost } from '../../src/host/local.js';
import { readMysqlAccounts, readMysqlConf } from '../../src/system/mysql.js';
import { createNamespace, netnsSkipReason, type Namespace } from '../helpers/netns.js';
import { privateMounts } from '../helpers/mounts.js';
import { alsoInPrivateMounts } from '../helpers/private-mounts.js';

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


const optionsSkip = skip ?? (!existsSync('/etc/mysql/mariadb.conf.d/50-server.cnf') ? 'no /etc/mysql/mariadb.conf.d/50-server.cnf (mariadb-server)' : !privateMounts() ? 'needs a mount namespace of its own (run it through /work/bin/isolated): it mounts a private /etc/mysql' : undefined);

/**
 * bind-address as the real mariadbd reads it: Debian's option files (a copy over /etc/mysql in
 * the test's own mount namespace, debian.cnf left out), edited; the server started with them in a
 * network namespace; where it listens (ss) must be what whyport's reading of the files says.
 */
describe.skipIf(optionsSkip !== undefined)('bind-address in the option files the real mariadbd reads', () => {
  let ns: Namespace;
  let dir: string;
  const etc = () => join(dir, 'etc');
  const conf = (name: string) => join(etc(), 'mariadb.conf.d', name);

  beforeAll(() => {
    ns = createNamespace({ addresses: [`${ADDRESS}/24`] });
    dir = mkdtempSync(join(tmpdir(), 'wpt-mariadb-conf-'));
    mkdirSync(etc());
    for (const name of ['mariadb.cnf', 'my.cnf', 'my.cnf.fallback', 'conf.d', 'mariadb.conf.d']) cpSync(join('/etc/mysql', name), join(etc(), name), { recursive: true, verbatimSymlinks: true });
    spawnSync('mount', ['--bind', etc(), '/etc/mysql']);
    const install = spawnSync(INSTALL, ['--no-defaults', `--datadir=${dir}/data`, '--user=root', '--auth-root-authentication-method=socket', '--skip-test-db'], { encoding: 'utf8', timeout: 60_000 });
    if (install.status !== 0) throw new Error(`mariadb-install-db failed: ${install.stderr}`);
  }, 90_000);
  afterAll(() => {
    ns?.remove();
    spawnSync('umount', ['/etc/mysql']);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts mariadbd on the option files as they are (the test's own paths on its command line), and says where it listens on TCP. */
  async function listens(): Promise<string[]> {
    const socket = join(dir, `s${Date.now()}.sock`);
    const server = spawn(ns.exec[0]!, [...ns.exec.slice(1), SERVER, `--datadir=${dir}/data`, `--socket=${socket}`, `--port=${PORT}`, '--user=root', `--pid-file=${dir}/pid`, `--log-error=${dir}/err.log`], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
      const ss = spawnSync(ns.exec[0]!, [...ns.exec.slice(1), 'ss', '-Htln', `sport = :${PORT}`], { encoding: 'utf8' });
      return ss.stdout.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/)[3]!);
    } finally {
      stop(server.pid, 'SIGKILL');
      for (let i = 0; i < 50 && spawnSync('pgrep', ['-f', socket]).status === 0; i++) await new Promise((r) => setTimeout(r, 100));
    }
  }

  it("Debian's 50-server.cnf: the server listens on 127.0.0.1 only, and whyport names line 27 as what keeps it off the address", async () => {
    expect(await listens()).toEqual([`127.0.0.1:${PORT}`]);
    const reading = await readMysqlConf(localHost);
    expect(reading.problems).toEqual([]);
    const v = decideMysqlBind(reading.options, ADDRESS);
    expect(v.outcome).toBe('refuses');
    expect(v.setting).toEqual({ file: '/etc/mysql/mariadb.conf.d/50-server.cnf', line: 27, text: 'bind-address            = 127.0.0.1' });
  }, 30_000);

  it("a later file's [mariadbd] bind_address wins, a [client] one does not count; whyport's fix line listens on the address", async () => {
    writeFileSync(conf('60-local.cnf'), '[client]\nbind-address = 127.0.0.2\n');
    expect(await listens()).toEqual([`127.0.0.1:${PORT}`]);
    expect(decideMysqlBind((await readMysqlConf(localHost)).options, ADDRESS).outcome).toBe('refuses');

    const v = decideMysqlBind((await readMysqlConf(localHost)).options, ADDRESS);
    const lines = readFileSync(conf('50-server.cnf'), 'utf8').split('\n');
    lines[v.fix!.edit!.line! - 1] = v.fix!.edit!.text;
    writeFileSync(conf('50-server.cnf'), lines.join('\n'));
    expect(await listens()).toEqual([`0.0.0.0:${PORT}`]);
    expect(decideMysqlBind((await readMysqlConf(localHost)).options, ADDRESS).outcome).toBe('admits');

    writeFileSync(conf('60-local.cnf'), `[mariadbd]\nbind_address = 127.0.0.1\n`);
    expect(await listens()).toEqual([`127.0.0.1:${PORT}`]);
    expect(decideMysqlBind((await readMysqlConf(localHost)).options, ADDRESS).setting?.file).toBe('/etc/mysql/mariadb.conf.d/60-local.cnf');
  }, 60_000);

  it('skip-networking: no TCP listener at all, and whyport names that line', async () => {
    writeFileSync(conf('60-local.cnf'), '[mysqld]\nskip-networking\n');
    expect(await listens()).toEqual([]);
    const v = decideMysqlBind((await readMysqlConf(localHost)).options, ADDRESS);
    expect(v.setting).toEqual({ file: '/etc/mysql/mariadb.conf.d/60-local.cnf', line: 2, text: 'skip-networking' });
  }, 30_000);
});

// Run by npm test in the machine's own mount namespace, the tests above that mount over /etc skip:
// run the file again in a mount namespace of its own, where they do.
alsoInPrivateMounts(import.meta.url, 'it mounts a private /etc/mysql', optionsSkip !== undefined && !optionsSkip.includes('mount namespace of its own') ? optionsSkip : undefined);
