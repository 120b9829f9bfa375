import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { REPO_ROOT } from '../helpers/nspawn.js';
import { netnsSkipReason } from '../helpers/netns.js';
import { twoHostNetwork, type TwoHosts } from '../helpers/ssh.js';
import { serverBed, type ServerBed } from '../helpers/server-bed.js';
import { SITE, makeCertificates, startNginx, type RunningNginx, type TestCertificates } from '../helpers/tls-bed.js';
import { privateMounts } from '../helpers/mounts.js';
import { alsoInPrivateMounts } from '../helpers/private-mounts.js';

/**
 * whyport end to end with its protocol step, on the real programs: a client and a server
 * namespace of this test's own, each server run directly in the server's namespace, whyport
 * (dist/cli.js) run in the client's — the diagnosis, its code and `diagnosis.service` /
 * `diagnosis.tls` as a user sees them. Then whyport run on the server itself (a local target),
 * naming the setting that refused (pg_hba.conf, redis.conf) in a private /etc of the test's own
 * mount namespace (run through /work/bin/isolated).
 */

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const PG_BIN = '/usr/lib/postgresql/15/bin';
const has = (p: string) => existsSync(p);
const missing = (what: string, pkg: string) => `${what} is not installed (apt-get install -y ${pkg})`;


const reason = netnsSkipReason() ?? (existsSync(CLI) ? undefined : 'dist/cli.js is missing: npm run build');
if (reason) console.warn(`skipping the protocol step tests: ${reason}`);

const GREETER = `import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind((sys.argv[1],int(sys.argv[2]))); s.listen(8)
while True:
    c,_=s.accept(); c.sendall(b"MYAPP/2 hello, send your token\\n"); c.close()
`;

describe.skipIf(reason !== undefined)('the protocol step, end to end: whyport in a client namespace against real servers', () => {
  let net: TwoHosts;
  let dir = '';
  let bed: ServerBed;
  let nginx: RunningNginx | undefined;
  const serve = (argv: string[]) => bed.serve(argv);
  const ready = (port: number, what: string, stderr: () => string, ms?: number) => bed.ready(port, what, stderr, ms);

  /** whyport ADDRESS PORT [args] --json --yes in the client's namespace. */
  const whyport = async (port: number, args: string[] = [], host = net.server.address): Promise<{ report: Report; status: number; trace: string }> => {
    const r = await net.client.exec([process.execPath, CLI, host, String(port), ...args, '--json', '--yes'], { timeoutMs: 30_000 });
    let report: Report;
    try {
      report = JSON.parse(r.stdout) as Report;
    } catch {
      throw new Error(`whyport printed no JSON (exit ${r.exitCode}): ${r.stdout} ${r.stderr}`);
    }
    const trace = `${report.diagnosis.code}: ${report.steps.map((s) => `${s.id} → ${s.outcome}: ${s.summary}`).join('\n  ')}`;
    return { report, status: r.exitCode ?? -1, trace };
  };

  beforeAll(async () => {
    net = await twoHostNetwork();
    bed = serverBed(net);
    dir = mkdtempSync(join(tmpdir(), 'wpt-step-'));
    chmodSync(dir, 0o755);
  }, 60_000);

  afterAll(async () => {
    await nginx?.stop();
    await bed?.stopAll();
    await net?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('a program that greets in a protocol of its own: REACHABLE, no alarm', async () => {
    const s = serve(['python3', '-c', GREETER, net.server.address, '7070']);
    await ready(7070, 'the greeter', s.stderr);
    const r = await whyport(7070);
    expect(r.report.diagnosis.code, r.trace).toBe('REACHABLE');
    expect(r.status).toBe(0);
    expect(r.report.steps.at(-1)).toMatchObject({ id: 'protocol-remote', outcome: 'unknown' });
  }, 30_000);

  describe.skipIf(!has('/usr/bin/redis-server'))(has('/usr/bin/redis-server') ? 'Redis' : missing('redis-server', 'redis-server'), () => {
    const redis = (port: number, extra: string[]) => bed.redis(dir, port, extra);

    it('protected mode: SERVICE_REFUSES_CLIENT with its DENIED words in diagnosis.service', async () => {
      await redis(6379, ['protected-mode yes']);
      const r = await whyport(6379);
      expect(r.report.diagnosis.code, r.trace).toBe('SERVICE_REFUSES_CLIENT');
      expect(r.status).toBe(1);
      expect(r.report.diagnosis.service).toMatchObject({ protocol: 'redis', said: expect.stringMatching(/DENIED Redis is running in protected mode/) });
      expect(r.report.diagnosis.explanation).toMatch(/one line in the service's log/);
    }, 30_000);

    it('with a password: REACHABLE, and diagnosis.service says Redis answered', async () => {
      await redis(6380, ['protected-mode yes', 'requirepass not-sent-by-whyport']);
      const r = await whyport(6380, ['--protocol', 'redis']);
      expect(r.report.diagnosis.code, r.trace).toBe('REACHABLE');
      expect(r.report.diagnosis.service).toMatchObject({ protocol: 'redis', said: expect.stringMatching(/^-?NOAUTH/) });
    }, 30_000);
  });

  describe.skipIf(!has(`${PG_BIN}/postgres`))(has(`${PG_BIN}/postgres`) ? 'PostgreSQL' : missing('PostgreSQL 15', 'postgresql'), () => {
    it('no pg_hba.conf line for the client: SERVICE_REFUSES_CLIENT; with a line: REACHABLE', async () => {
      const data = join(dir, 'pg');
      mkdirSync(data, { mode: 0o700 });
      spawnSync('chown', ['postgres:postgres', data]);
      const init = spawnSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', join(PG_BIN, 'initdb'), '-D', data, '-A', 'trust', '--no-sync'], { encoding: 'utf8', timeout: 60_000 });
      if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
      writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
      const s = serve(['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', join(PG_BIN, 'postgres'), '-D', data, '-c', `listen_addresses=${net.server.address}`, '-c', `unix_socket_directories=${data}`, '-c', 'port=5432']);
      await ready(5432, 'postgres', s.stderr);
      // Without --as-user: the user running whyport, and the report says which was sent.
      const me = userInfo().username;
      const r = await whyport(5432);
      expect(r.report.diagnosis.code, r.trace).toBe('SERVICE_REFUSES_CLIENT');
      expect(r.report.diagnosis.service).toMatchObject({ protocol: 'postgresql', said: expect.stringContaining(`no pg_hba.conf entry for host "${net.client.address}", user "${me}"`) });
      expect(r.report.steps.find((x) => x.id === 'protocol-remote')?.evidence).toMatchObject({ userName: me });
      const named = await whyport(5432, ['--as-user', 'app']);
      expect(named.report.diagnosis.service?.said).toContain('user "app"');
      writeFileSync(join(data, 'pg_hba.conf'), `local all all trust\nhost all all ${net.client.address}/32 scram-sha-256\n`);
      process.kill(s.child.pid!, 'SIGHUP');
      await new Promise((r) => setTimeout(r, 500));
      const ok = await whyport(5432, ['--as-user', 'app']);
      expect(ok.report.diagnosis.code, ok.trace).toBe('REACHABLE');
      expect(ok.report.diagnosis.service).toMatchObject({ protocol: 'postgresql', product: 'PostgreSQL' });
    }, 90_000);
  });

  describe.skipIf(!has('/usr/sbin/mariadbd'))(has('/usr/sbin/mariadbd') ? 'MariaDB' : missing('mariadbd', 'mariadb-server'), () => {
    it('no account for the client host: SERVICE_REFUSES_CLIENT with error 1130', async () => {
      const data = bed.mariadbData(dir);
      await bed.mariadbd(data);
      const r = await whyport(3306);
      expect(r.report.diagnosis.code, r.trace).toBe('SERVICE_REFUSES_CLIENT');
      expect(r.report.diagnosis.service).toMatchObject({ protocol: 'mysql', said: expect.stringMatching(/is not allowed to connect to this MariaDB server/) });
    }, 150_000);
  });

  describe.skipIf(!has('/usr/sbin/sshd'))(has('/usr/sbin/sshd') ? 'sshd' : missing('sshd', 'openssh-server'), () => {
    it('a healthy sshd: REACHABLE, and it names itself', async () => {
      const d = join(dir, 'sshd');
      mkdirSync(d);
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'host_key')]);
      writeFileSync(join(d, 'sshd_config'), [`Port 22`, `ListenAddress ${net.server.address}`, `HostKey ${join(d, 'host_key')}`, 'UsePAM no', 'StrictModes no', 'PidFile none'].join('\n') + '\n');
      const s = serve(['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd && exec /usr/sbin/sshd -D -e -f "$1"', 'sh', join(d, 'sshd_config')]);
      await ready(22, 'sshd', s.stderr);
      const r = await whyport(22);
      expect(r.report.diagnosis.code, r.trace).toBe('REACHABLE');
      expect(r.report.diagnosis.service).toMatchObject({ protocol: 'ssh', product: expect.stringMatching(/^OpenSSH_/) });
    }, 30_000);

    /** sshd -D on `port` with a private /run and, when given, a private /etc/hosts.deny (bound in its own mount namespace only). */
    const sshd = async (port: number, extra: string[], hostsDeny?: string) => {
      const d = join(dir, `sshd-${port}`);
      mkdirSync(d);
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'host_key')]);
      writeFileSync(join(d, 'sshd_config'), [...extra, `Port ${port}`, `ListenAddress ${net.server.address}`, `HostKey ${join(d, 'host_key')}`, 'UsePAM no', 'StrictModes no', 'PidFile none'].join('\n') + '\n');
      let script = 'mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd';
      if (hostsDeny !== undefined) {
        writeFileSync(join(d, 'hosts.deny'), hostsDeny);
        script += ` && mount --bind ${join(d, 'hosts.deny')} /etc/hosts.deny`;
      }
      const s = serve(['unshare', '-m', '--propagation', 'private', 'sh', '-c', `${script} && exec /usr/sbin/sshd -D -e -f "$1"`, 'sh', join(d, 'sshd_config')]);
      await ready(port, 'sshd', s.stderr);
      return s;
    };

    const libwrap = spawnSync('sh', ['-c', 'ldd /usr/sbin/sshd | grep -q libwrap']).status === 0;
    it.skipIf(!libwrap)('hosts.deny naming the client: SERVICE_REFUSES_CLIENT within --timeout 7000, an honest SERVICE_SILENT within the default', async () => {
      await sshd(2203, [], `sshd: ${net.client.address}\n`);
      const [long, short] = await Promise.all([whyport(2203, ['--protocol', 'ssh', '--timeout', '7000']), whyport(2203, ['--protocol', 'ssh'])]);
      expect(long.report.diagnosis.code, long.trace).toBe('SERVICE_REFUSES_CLIENT');
      expect(long.status).toBe(1);
      expect(long.report.steps.find((x) => x.id === 'protocol-remote')).toMatchObject({ outcome: 'refuses-client', evidence: { reason: 'tcp-wrappers' } });
      expect(long.report.diagnosis.service).toMatchObject({ protocol: 'ssh' });
      // Within the default timeout the close after 5 s is not seen: silence, and what would tell.
      expect(short.report.diagnosis.code, short.trace).toBe('INCONCLUSIVE');
      expect(short.report.steps.find((x) => x.id === 'protocol-remote')).toMatchObject({ outcome: 'silent' });
      expect(short.report.diagnosis.explanation).toMatch(/--timeout 7000/);
      expect(short.report.diagnosis.explanation).toMatch(/hosts\.deny/);
    }, 40_000);

    it('MaxStartups reached: SERVICE_OVERLOADED with "Exceeded MaxStartups" in service.said', async () => {
      await sshd(2202, ['MaxStartups 1:100:1', 'LoginGraceTime 60']);
      // One unauthenticated connection held from the client (held again if sshd still counted
      // the readiness check's connection and dropped it).
      let holder: ChildProcess | undefined;
      for (let i = 0; i < 20 && !holder; i++) {
        const h = spawn('ip', ['netns', 'exec', net.client.netns, 'bash', '-c', `exec 3<>/dev/tcp/${net.server.address}/2202; sleep 30`], { stdio: 'ignore' });
        bed.children.push(h);
        await new Promise((r) => setTimeout(r, 300));
        const ss = await net.server.exec(['ss', '-Htn', 'state', 'established', '( sport = :2202 )']);
        if (ss.stdout.trim()) holder = h;
        else await bed.stop(h);
      }
      const r = await whyport(2202, ['--protocol', 'ssh']);
      expect(r.report.diagnosis.code, r.trace).toBe('SERVICE_OVERLOADED');
      expect(r.status).toBe(1);
      expect(r.report.diagnosis.service).toMatchObject({ protocol: 'ssh', said: expect.stringContaining('Exceeded MaxStartups') });
      await bed.stop(holder!);
    }, 40_000);
  });

  describe.skipIf(!has('/usr/sbin/nginx'))(has('/usr/sbin/nginx') ? 'nginx' : missing('nginx', 'nginx'), () => {
    let certs: TestCertificates;
    beforeAll(async () => {
      certs = await makeCertificates(dir, net.server.address);
      nginx = await startNginx(dir, net.server.netns, [
        { listen: `${net.server.address}:80` },
        { listen: `${net.server.address}:443` },
        { listen: `${net.server.address}:8443`, cert: certs.files.expired },
        { listen: `${net.server.address}:9443`, cert: certs.files['other-name'] },
      ]);
      await ready(80, 'nginx', () => '');
    }, 60_000);

    it('healthy nginx: REACHABLE, HTTP answered', async () => {
      const r = await whyport(80);
      expect(r.report.diagnosis.code, r.trace).toBe('REACHABLE');
      expect(r.report.diagnosis.service).toMatchObject({ protocol: 'http', product: expect.stringMatching(/^nginx/) });
    }, 30_000);

    it('plain HTTP on 443: WRONG_PROTOCOL', async () => {
      const r = await whyport(443);
      expect(r.report.diagnosis.code, r.trace).toBe('WRONG_PROTOCOL');
      expect(r.report.diagnosis.service).toMatchObject({ protocol: 'http', said: expect.stringMatching(/^HTTP\//) });
    }, 30_000);

    it('an expired certificate from an issuer nobody here trusts: TLS_FAILURE with every problem', async () => {
      const r = await whyport(8443, ['--protocol', 'https']);
      expect(r.report.diagnosis.code, r.trace).toBe('TLS_FAILURE');
      expect(r.report.diagnosis.tls).toMatchObject({ problems: ['expired', 'untrusted'], notAfter: expect.stringMatching(/^\d{4}-/), subject: expect.stringMatching(/^CN=/) });
      expect(r.report.diagnosis.tls?.notAfter && Date.parse(r.report.diagnosis.tls.notAfter) < Date.now()).toBe(true);
    }, 30_000);

    it('a certificate for another name: TLS_FAILURE with name-mismatch and the names it carries', async () => {
      // The client asks for site.test by name (an address is judged by no name): its own /etc/hosts
      // (/etc/netns/NAME/hosts, bound by `ip netns exec`, removed with the namespace).
      mkdirSync(`/etc/netns/${net.client.netns}`, { recursive: true });
      writeFileSync(`/etc/netns/${net.client.netns}/hosts`, `127.0.0.1 localhost\n${net.server.address} ${SITE}\n`);
      const r = await whyport(9443, ['--protocol', 'https'], SITE);
      expect(r.report.diagnosis.code, r.trace).toBe('TLS_FAILURE');
      expect(r.report.diagnosis.tls?.problems).toContain('name-mismatch');
      expect(r.report.diagnosis.tls?.names).toEqual(expect.arrayContaining(['other.test', '*.other.test']));
      expect(r.report.diagnosis.tls?.subject).toBe('CN=other.test');
    }, 30_000);
  });
});

const localReason = reason ?? (privateMounts() ? undefined : 'needs a mount namespace of its own (run it through /work/bin/isolated): it mounts a private /etc/postgresql and /etc/redis');

describe.skipIf(localReason !== undefined)('the protocol step on the server itself: the setting that refused is named', () => {
  let net: TwoHosts;
  let dir = '';
  const children: ChildProcess[] = [];
  const mounted: string[] = [];

  /** whyport ADDRESS PORT in the server's namespace (a local target). */
  const onServer = async (port: number, args: string[] = []) => {
    const r = await net.server.exec([process.execPath, CLI, net.server.address, String(port), ...args, '--json', '--yes'], { timeoutMs: 30_000 });
    const report = JSON.parse(r.stdout) as Report;
    return { report, trace: `${report.diagnosis.code}: ${report.steps.map((s) => `${s.id} → ${s.outcome}: ${s.summary}`).join('\n  ')}` };
  };
  const privateEtc = (path: string) => {
    const d = join(dir, path.replaceAll('/', '_'));
    mkdirSync(d, { recursive: true });
    if (spawnSync('mount', ['--bind', d, path]).status !== 0) throw new Error(`could not mount a private ${path}`);
    mounted.push(path);
  };
  const waitPort = async (port: number) => {
    for (let i = 0; i < 100; i++) {
      if ((await net.server.exec(['bash', '-c', `exec 3<>/dev/tcp/${net.server.address}/${port}`], { timeoutMs: 2_000 })).exitCode === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nothing listens on ${port}`);
  };

  beforeAll(async () => {
    net = await twoHostNetwork();
    dir = mkdtempSync(join(tmpdir(), 'wpt-step-local-'));
    chmodSync(dir, 0o755);
    // The veth carries once both ends are up: until then the server's address is on a link that
    // is down, and whyport (libuv) does not list it among the machine's addresses.
    const listed = async () => (await net.server.exec([process.execPath, '-e', 'console.log(JSON.stringify(require("os").networkInterfaces()))'])).stdout.includes(`"${net.server.address}"`);
    for (let i = 0; i < 50 && !(await listed()); i++) await new Promise((r) => setTimeout(r, 100));
  }, 60_000);
  afterAll(async () => {
    // SIGTERM first: nginx's master then ends its workers, PostgreSQL its backends (a SIGKILLed
    // master leaves them running); what is still there a moment later is killed.
    const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
    const ended = running.map((c) => new Promise((r) => c.once('exit', r)));
    for (const c of running) c.kill('SIGTERM');
    await Promise.race([Promise.all(ended), new Promise((r) => setTimeout(r, 3_000))]);
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const m of mounted.reverse()) spawnSync('umount', [m]);
    await net?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it.skipIf(!has('/usr/bin/redis-server') || !has('/etc/redis'))('Redis in protected mode: the redis.conf lines and the fix', async () => {
    privateEtc('/etc/redis');
    writeFileSync('/etc/redis/redis.conf', ['port 6379', 'bind * -::*', 'protected-mode yes', 'save ""', 'appendonly no', `dir ${dir}`, 'daemonize no'].join('\n') + '\n');
    children.push(spawn('ip', ['netns', 'exec', net.server.netns, '/usr/bin/redis-server', '/etc/redis/redis.conf'], { stdio: 'ignore' }));
    await waitPort(6379);
    const r = await onServer(6379);
    expect(r.report.diagnosis.code, r.trace).toBe('SERVICE_REFUSES_CLIENT');
    expect(r.report.diagnosis.service).toMatchObject({ protocol: 'redis', said: expect.stringMatching(/DENIED/) });
    expect(r.report.diagnosis.setting, r.trace).toMatchObject({ file: '/etc/redis/redis.conf', line: expect.any(Number) });
    expect(r.report.steps.find((s) => s.id === 'setting')).toMatchObject({ outcome: 'named' });
    expect(r.report.diagnosis.fix?.summary).toMatch(/requirepass|password/i);
  }, 60_000);

  it.skipIf(!has(`${PG_BIN}/postgres`) || !has('/etc/postgresql'))('PostgreSQL: the pg_hba.conf line to add, and the reload', async () => {
    privateEtc('/etc/postgresql');
    const conf = '/etc/postgresql/15/wpt';
    mkdirSync(join(conf, 'conf.d'), { recursive: true });
    const data = join(dir, 'pgdata');
    mkdirSync(data, { mode: 0o700 });
    spawnSync('chown', ['postgres:postgres', data]);
    const init = spawnSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', join(PG_BIN, 'initdb'), '-D', data, '-A', 'trust', '--no-sync'], { encoding: 'utf8', timeout: 60_000 });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    writeFileSync(`${conf}/postgresql.conf`, [`data_directory = '${data}'`, `hba_file = '${conf}/pg_hba.conf'`, `ident_file = '${conf}/pg_ident.conf'`, `listen_addresses = '${net.server.address}'`, 'port = 15432', `unix_socket_directories = '${data}'`, ''].join('\n'));
    writeFileSync(`${conf}/pg_ident.conf`, '');
    writeFileSync(`${conf}/pg_hba.conf`, 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
    spawnSync('chown', ['-R', 'postgres:postgres', '/etc/postgresql']);
    children.push(spawn('ip', ['netns', 'exec', net.server.netns, 'setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', join(PG_BIN, 'postgres'), '-c', `config_file=${conf}/postgresql.conf`], { stdio: 'ignore' }));
    await waitPort(15432);
    const r = await onServer(15432, ['--protocol', 'postgresql', '--as-user', 'app']);
    expect(r.report.diagnosis.code, r.trace).toBe('SERVICE_REFUSES_CLIENT');
    expect(r.report.diagnosis.service).toMatchObject({ protocol: 'postgresql', said: expect.stringContaining('no pg_hba.conf entry') });
    expect(r.report.diagnosis.explanation).toContain(`${conf}/pg_hba.conf`);
    expect(r.report.diagnosis.explanation).toContain(net.server.address);
    expect(r.report.diagnosis.fix?.commands).toContain('pg_ctlcluster 15 wpt reload');
  }, 90_000);

  /** sshd -D in the server's namespace reading /etc/ssh/sshd_config (this test's private /etc/ssh), with a private /run of its own. */
  const sshdOnServer = async (port: number, extra: string[]) => {
    if (!mounted.includes('/etc/ssh')) privateEtc('/etc/ssh');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', '/etc/ssh/ssh_host_ed25519_key']);
    writeFileSync('/etc/ssh/sshd_config', [...extra, `Port ${port}`, `ListenAddress ${net.server.address}`, 'HostKey /etc/ssh/ssh_host_ed25519_key', 'UsePAM no', 'StrictModes no', 'PidFile none'].join('\n') + '\n');
    children.push(spawn('ip', ['netns', 'exec', net.server.netns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd && exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config'], { stdio: 'ignore' }));
    await waitPort(port);
  };
  const libwrap = has('/usr/sbin/sshd') && spawnSync('sh', ['-c', 'ldd /usr/sbin/sshd | grep -q libwrap']).status === 0;

  it.skipIf(!libwrap)('sshd with hosts.deny naming the client: the hosts.deny line is the setting', async () => {
    // The client as the server sees it is the server's own address here: the line names it.
    const deny = join(dir, 'hosts.deny');
    writeFileSync(deny, `# private to this test\nsshd: ${net.server.address}\n`);
    if (spawnSync('mount', ['--bind', deny, '/etc/hosts.deny']).status !== 0) throw new Error('could not mount a private /etc/hosts.deny');
    mounted.push('/etc/hosts.deny');
    await sshdOnServer(2203, []);
    const [r, short] = await Promise.all([onServer(2203, ['--protocol', 'ssh', '--timeout', '7000']), onServer(2203, ['--protocol', 'ssh'])]);
    expect(r.report.diagnosis.code, r.trace).toBe('SERVICE_REFUSES_CLIENT');
    expect(r.report.diagnosis.setting, r.trace).toEqual({ file: '/etc/hosts.deny', line: 2, text: `sshd: ${net.server.address}` });
    expect(r.report.steps.find((s) => s.id === 'setting')).toMatchObject({ outcome: 'named' });
    // Within the default timeout only silence is seen; the server's hosts.deny still names the line.
    expect(short.report.steps.find((s) => s.id === 'protocol-local'), short.trace).toMatchObject({ outcome: 'silent' });
    expect(short.report.diagnosis.code, short.trace).toBe('SERVICE_REFUSES_CLIENT');
    expect(short.report.diagnosis.setting, short.trace).toEqual({ file: '/etc/hosts.deny', line: 2, text: `sshd: ${net.server.address}` });
    spawnSync('umount', ['/etc/hosts.deny']);
    mounted.splice(mounted.indexOf('/etc/hosts.deny'), 1);
  }, 60_000);

  it.skipIf(!has('/usr/sbin/sshd'))('sshd with MaxStartups reached: the MaxStartups line is the setting', async () => {
    await sshdOnServer(2202, ['MaxStartups 1:100:1', 'LoginGraceTime 60']);
    // One unauthenticated connection held (again if sshd still counted the readiness check's).
    let held = false;
    for (let i = 0; i < 20 && !held; i++) {
      const h = spawn('ip', ['netns', 'exec', net.client.netns, 'bash', '-c', `exec 3<>/dev/tcp/${net.server.address}/2202; sleep 30`], { stdio: 'ignore' });
      children.push(h);
      await new Promise((r) => setTimeout(r, 300));
      if ((await net.server.exec(['ss', '-Htn', 'state', 'established', '( sport = :2202 )'])).stdout.trim()) held = true;
      else h.kill('SIGKILL');
    }
    const r = await onServer(2202, ['--protocol', 'ssh']);
    expect(r.report.diagnosis.code, r.trace).toBe('SERVICE_OVERLOADED');
    expect(r.report.diagnosis.service).toMatchObject({ protocol: 'ssh', said: expect.stringContaining('Exceeded MaxStartups') });
    expect(r.report.diagnosis.setting, r.trace).toEqual({ file: '/etc/ssh/sshd_config', line: 1, text: 'MaxStartups 1:100:1' });
  }, 60_000);

  it.skipIf(!has('/usr/sbin/nginx') || !has('/etc/nginx'))('nginx serving a certificate for another name: its ssl_certificate line is the setting', async () => {
    const certs = await makeCertificates(dir, net.server.address);
    privateEtc('/etc/nginx');
    const d = join(dir, 'nginx-run');
    mkdirSync(d);
    const crt = certs.files['other-name'];
    writeFileSync('/etc/nginx/nginx.conf', [
      `pid ${d}/nginx.pid;`, `error_log ${d}/error.log;`, 'worker_processes 1;', 'events {}', 'http {', '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${d};`),
      '  server {', `    listen ${net.server.address}:9443 ssl;`, `    server_name ${SITE};`, `    ssl_certificate ${crt.crt};`, `    ssl_certificate_key ${crt.key};`, '    return 200 "ok\\n";', '  }', '}', ''].join('\n'));
    children.push(spawn('ip', ['netns', 'exec', net.server.netns, 'nginx', '-c', '/etc/nginx/nginx.conf', '-g', 'daemon off;'], { stdio: 'ignore' }));
    await waitPort(9443);
    // Asked for by name on the server too: its own /etc/hosts (removed with the namespace).
    mkdirSync(`/etc/netns/${net.server.netns}`, { recursive: true });
    writeFileSync(`/etc/netns/${net.server.netns}/hosts`, `127.0.0.1 localhost\n${net.server.address} ${SITE}\n`);
    const r = await net.server.exec([process.execPath, CLI, SITE, '9443', '--protocol', 'https', '--json', '--yes'], { timeoutMs: 30_000 });
    const report = JSON.parse(r.stdout) as Report;
    const trace = `${report.diagnosis.code}: ${report.steps.map((s) => `${s.id} → ${s.outcome}: ${s.summary}`).join('\n  ')}`;
    expect(report.diagnosis.code, trace).toBe('TLS_FAILURE');
    expect(report.diagnosis.tls?.problems, trace).toContain('name-mismatch');
    expect(report.diagnosis.setting, trace).toEqual({ file: '/etc/nginx/nginx.conf', line: 15, text: `ssl_certificate ${crt.crt};` });
  }, 60_000);
});

// Run by npm test in the machine's own mount namespace, the tests above that mount over /etc skip:
// run the file again in a mount namespace of its own, where they do.
alsoInPrivateMounts(import.meta.url, 'it mounts a private /etc/postgresql, /etc/redis, /etc/ssh, /etc/nginx and /etc/hosts.deny', localReason !== undefined && !localReason.includes('mount namespace of its own') ? localReason : undefined);
