import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideMysqlBind, decideMysqlHosts, hostPatternAdmits, serverOption, skipsNameResolve, SQL_PASSWORD_PLACEHOLDER, wildMatches } from '../../src/analysis/mysql-hosts.js';
import { accountsArgv, parseAccounts, parseMyCnf, readMysqlAccounts, readMysqlConf } from '../../src/system/mysql.js';
import { fuzzTexts } from '../helpers/fuzz.js';
import { replayHost } from '../helpers/replay-host.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/mariadb/${name}`, import.meta.url), 'utf8');
const QUERY = 'mariadb -N -B -e SELECT User,Host FROM mysql.user';

/** Debian's packaged option files (my.cnf → conf.d, mariadb.conf.d), 50-server.cnf edited where asked. */
function debianConf(server = fixture('50-server.cnf'), more: Record<string, string> = {}) {
  return {
    '/etc/mysql/my.cnf': fixture('my.cnf'),
    '/etc/mysql/conf.d/mysql.cnf': fixture('conf.d-mysql.cnf'),
    '/etc/mysql/mariadb.conf.d/50-client.cnf': fixture('50-client.cnf'),
    '/etc/mysql/mariadb.conf.d/50-server.cnf': server,
    ...more,
  };
}

describe('MariaDB accounts', () => {
  it("parses the real accounts of a fresh mariadb-install-db and of one with patterns (batch escapes, roles, the anonymous user)", () => {
    expect(parseAccounts(fixture('accounts-packaged.txt'))).toEqual([
      { user: 'mariadb.sys', host: 'localhost' },
      { user: 'root', host: 'localhost' },
    ]);
    expect(parseAccounts(fixture('accounts-edited.txt'))).toEqual([
      { user: 'reporting', host: '' },
      { user: 'ops', host: '%.example.com' },
      { user: 'app', host: '10.0.0.%' },
      { user: 'web', host: '10.0.0.0/255.255.255.0' },
      { user: 'tab\tuser', host: 'db_host' },
      { user: '', host: 'localhost' },
      { user: 'mariadb.sys', host: 'localhost' },
      { user: 'root', host: 'localhost' },
    ]);
  });

  it('runs the client through the Host seam, as root over the socket, and words its error; mysql where mariadb is missing', async () => {
    const host = replayHost({ commands: { [QUERY]: { stdout: fixture('accounts-packaged.txt') } } });
    expect(await readMysqlAccounts(host)).toEqual({ accounts: parseAccounts(fixture('accounts-packaged.txt')), command: accountsArgv('mariadb') });
    const down = replayHost({ commands: { [QUERY]: { stderr: fixture('no-socket.stderr.txt'), exitCode: 1 } } });
    expect(await readMysqlAccounts(down)).toMatchObject({ error: "ERROR 2002 (HY000): Can't connect to local server through socket '/nonexistent' (2)" });
    const old = replayHost({ commands: { 'mysql -N -B -e SELECT User,Host FROM mysql.user': { stdout: 'root\tlocalhost\n' } } });
    expect(await readMysqlAccounts(old)).toMatchObject({ accounts: [{ user: 'root', host: 'localhost' }], command: accountsArgv('mysql') });
    expect(await readMysqlAccounts(replayHost({}))).toMatchObject({ error: 'neither mariadb nor mysql (the client) is installed' });
    expect(accountsArgv('mariadb', '/tmp/s.sock')).toEqual(['mariadb', '-N', '-B', '--socket=/tmp/s.sock', '-e', 'SELECT User,Host FROM mysql.user']);
  });

  it('host patterns: %, wildcards against the address, address/netmask, localhost, names by reverse lookup or skip-name-resolve', () => {
    const c = { address: '10.0.0.7' };
    expect(hostPatternAdmits('%', c)).toBe(true);
    expect(hostPatternAdmits('10.0.0.%', c)).toBe(true);
    expect(hostPatternAdmits('10.0.0._', c)).toBe(true);
    expect(hostPatternAdmits('10.0.0.1_', c)).toBe(false);
    expect(hostPatternAdmits('10.0.1.%', c)).toBe(false);
    expect(hostPatternAdmits('10.0.0.0/255.255.255.0', c)).toBe(true);
    expect(hostPatternAdmits('10.0.0.0/255.255.255.252', c)).toBe(false);
    expect(hostPatternAdmits('10.0.0.4/255.255.255.252', c)).toBe(true);
    expect(hostPatternAdmits('localhost', c)).toBe(false);
    expect(hostPatternAdmits('localhost', { address: '127.0.0.1' })).toBe(true);
    expect(hostPatternAdmits('127.0.0.1', { address: '::ffff:127.0.0.1' })).toBe(true);
    expect(hostPatternAdmits('%.example.com', c)).toBe("the host name the server finds for 10.0.0.7 (account host '%.example.com')");
    expect(hostPatternAdmits('%.example.com', { ...c, names: ['app1.Example.com'] })).toBe(true);
    expect(hostPatternAdmits('%.example.com', { ...c, skipNameResolve: true })).toBe(false);
    expect(hostPatternAdmits('fd00::%', { address: 'fd00::7' })).toBe(true);
    expect(wildMatches('a\\_b', 'a_b')).toBe(true);
    expect(wildMatches('a\\_b', 'axb')).toBe(false);
  });

  it("a fresh server admits no remote host: refused, and the fix creates an account for the client's address with a placeholder password", () => {
    const v = decideMysqlHosts(parseAccounts(fixture('accounts-packaged.txt')), { address: '10.0.0.7' });
    expect(v.outcome).toBe('refuses');
    expect(v.explanation).toContain("Host '10.0.0.7' is not allowed to connect");
    expect(v.evidence).toEqual(["accounts (mysql.user): 'mariadb.sys'@'localhost', 'root'@'localhost'"]);
    expect(v.fix?.commands).toEqual([['mariadb', '-e', `CREATE USER '<user>'@'10.0.0.7' IDENTIFIED BY '${SQL_PASSWORD_PLACEHOLDER}'; GRANT ALL PRIVILEGES ON \`<database>\`.* TO '<user>'@'10.0.0.7';`]]);
    const named = decideMysqlHosts([...parseAccounts(fixture('accounts-packaged.txt')), { user: 'app', host: 'localhost' }], { address: '10.0.0.7' }, { user: 'app', database: 'shop' });
    expect(named.fix?.commands[0]![2]).toBe(`CREATE USER 'app'@'10.0.0.7' IDENTIFIED BY '${SQL_PASSWORD_PLACEHOLDER}'; GRANT ALL PRIVILEGES ON \`shop\`.* TO 'app'@'10.0.0.7';`);
    expect(named.fix?.summary).toContain("app exists only for 'localhost'");
  });

  it('accounts with patterns admit the client (roles are not accounts); a name pattern alone leaves it undecided', () => {
    const accounts = parseAccounts(fixture('accounts-edited.txt'));
    expect(decideMysqlHosts(accounts, { address: '10.0.0.7' }).outcome).toBe('admits');
    expect(decideMysqlHosts(accounts, { address: '10.0.0.7' }, { user: 'root' }).explanation).toContain('none of them is user root');
    expect(decideMysqlHosts(accounts, { address: '192.168.1.5' }).outcome).toBe('undecided');
    expect(decideMysqlHosts(accounts, { address: '192.168.1.5', skipNameResolve: true }).outcome).toBe('refuses');
    expect(decideMysqlHosts([{ user: 'reporting', host: '' }], { address: '10.0.0.7' }).outcome).toBe('refuses');
  });

  it('never throws on random and truncated client output', () => {
    for (const text of fuzzTexts(fixture('accounts-edited.txt'), 300, 3306)) {
      decideMysqlHosts(parseAccounts(text), { address: '10.0.0.7' });
    }
  });
});

describe('MariaDB option files', () => {
  it("follows Debian's my.cnf through its !includedir chains to 50-server.cnf's bind-address line", async () => {
    const reading = await readMysqlConf(replayHost({ files: debianConf() }));
    expect(reading.problems).toEqual([]);
    expect(reading.flat?.files).toEqual(['/etc/mysql/my.cnf', '/etc/mysql/conf.d/mysql.cnf', '/etc/mysql/mariadb.conf.d/50-client.cnf', '/etc/mysql/mariadb.conf.d/50-server.cnf']);
    const bind = serverOption(reading.options, 'bind-address');
    expect(bind?.source).toEqual({ file: '/etc/mysql/mariadb.conf.d/50-server.cnf', line: 27, text: 'bind-address            = 127.0.0.1' });
    expect(bind?.group).toBe('mysqld');
    const v = decideMysqlBind(reading.options, '10.0.0.1');
    expect(v.outcome).toBe('refuses');
    expect(v.setting?.line).toBe(27);
    expect(v.fix?.edit).toEqual({ file: '/etc/mysql/mariadb.conf.d/50-server.cnf', at: 'replace', line: 27, text: 'bind-address            = 0.0.0.0' });
    expect(decideMysqlBind(reading.options, '127.0.0.1').outcome).toBe('admits');
  });

  it('a later file wins (60-local.cnf after 50-server.cnf), client groups do not count, skip-networking turns TCP off', async () => {
    const wide = await readMysqlConf(replayHost({ files: debianConf(undefined, { '/etc/mysql/mariadb.conf.d/60-local.cnf': '[mariadbd]\nbind_address = 0.0.0.0 # all\n[client]\nbind-address=1.2.3.4\n' }) }));
    expect(serverOption(wide.options, 'bind-address')?.source.file).toBe('/etc/mysql/mariadb.conf.d/60-local.cnf');
    expect(decideMysqlBind(wide.options, '10.0.0.1').outcome).toBe('admits');
    const off = await readMysqlConf(replayHost({ files: debianConf(fixture('50-server.cnf').replace('#skip-name-resolve', 'skip-networking')) }));
    const v = decideMysqlBind(off.options, '10.0.0.1');
    expect(v.outcome).toBe('refuses');
    expect(v.setting).toEqual({ file: '/etc/mysql/mariadb.conf.d/50-server.cnf', line: 23, text: 'skip-networking' });
    expect(decideMysqlBind(parseMyCnf([{ file: 'f', line: 1, text: '[mysqld]' }, { file: 'f', line: 2, text: 'bind-address = 10.0.0.1,127.0.0.1' }]).options, '10.0.0.1').outcome).toBe('admits');
  });

  it("skip-name-resolve: commented out in the packaged file, on when a server group sets it", async () => {
    expect(skipsNameResolve((await readMysqlConf(replayHost({ files: debianConf() }))).options)).toBe(false);
    const on = await readMysqlConf(replayHost({ files: debianConf(fixture('50-server.cnf').replace('#skip-name-resolve', 'skip-name-resolve')) }));
    expect(skipsNameResolve(on.options)).toBe(true);
    expect(skipsNameResolve(parseMyCnf([{ file: 'f', line: 1, text: '[client]' }, { file: 'f', line: 2, text: 'skip-name-resolve' }]).options)).toBe(false);
    expect(skipsNameResolve(parseMyCnf([{ file: 'f', line: 1, text: '[mariadbd]' }, { file: 'f', line: 2, text: 'skip_name_resolve = OFF' }]).options)).toBe(false);
  });

  it('never throws on random and truncated option files', () => {
    for (const text of fuzzTexts(fixture('50-server.cnf'), 300, 3307)) {
      const { options } = parseMyCnf(text.split('\n').map((t, i) => ({ file: 'f', line: i + 1, text: t.trim() })));
      decideMysqlBind(options, '10.0.0.1');
    }
  });
});
