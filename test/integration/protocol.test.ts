import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProtocolProbe } from '../../src/system/protocol-probe.js';
import { UNKNOWN_HTTP_WAIT_MS, type ProtocolName } from '../../src/knowledge/protocols.js';
import { REPO_ROOT } from '../helpers/nspawn.js';
import { netnsSkipReason } from '../helpers/netns.js';
import { twoHostNetwork, type TwoHosts } from '../helpers/ssh.js';
import { serverBed, type ServerBed } from '../helpers/server-bed.js';

/**
 * What answers after the handshake, on the real programs: a client and a server namespace of this
 * test's own, each server run directly in the server's (redis-server, postgres after initdb,
 * mariadbd after mariadb-install-db, sshd, python3's http.server, small greeters), and
 * probeProtocol run in the client's — both through node:net (the local host) and through the
 * bash /dev/tcp script the ssh host runs on a server (host/ssh/talk.ts). Each real exchange is
 * kept under test/fixtures/<protocol>/ (WHYPORT_UPDATE_FIXTURES=1 rewrites them) for the
 * classifier's unit tests.
 */

const UPDATE = process.env.WHYPORT_UPDATE_FIXTURES === '1';
const PG_BIN = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'].find((d) => existsSync(join(d, 'postgres')));

const has = (path: string) => existsSync(path);
function skipReason(): string | undefined {
  return netnsSkipReason();
}
const reason = skipReason();
if (reason) console.warn(`skipping the protocol tests: ${reason}`);
const missing = (what: string, pkg: string) => `${what} is not installed (apt-get install -y ${pkg})`;

describe.skipIf(reason !== undefined)('what answers after the handshake, from a client namespace', () => {
  let net: TwoHosts;
  let dir = '';
  let agent = '';
  let bed: ServerBed;
  const children: ChildProcess[] = [];
  const serve = (argv: string[], opts: { cwd?: string } = {}) => bed.serve(argv, opts);
  const stop = (child: ChildProcess) => bed.stop(child);
  const ready = (port: number, what: string, stderr: () => string, ms?: number) => bed.ready(port, what, stderr, ms);

  /** Connections from the client's namespace that say nothing and stay open; resolves once the server holds `n` on the port. */
  const holdFromClient = async (port: number, n: number) => {
    const held: ChildProcess[] = [];
    for (let i = 0; i < n; i++) {
      const h = spawn('ip', ['netns', 'exec', net.client.netns, 'bash', '-c', `exec 3<>/dev/tcp/${net.server.address}/${port}; sleep 30`], { stdio: 'ignore' });
      children.push(h);
      held.push(h);
    }
    for (let i = 0; i < 50; i++) {
      const ss = await net.server.exec(['ss', '-Htn', 'state', 'established', `( sport = :${port} )`]);
      if (ss.stdout.trim().split('\n').filter(Boolean).length >= n) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return held;
  };

  /** probeProtocol in the client's namespace, through node:net ('local') or the remote bash script ('shell'). */
  const probe = async (port: number, protocol: ProtocolName | undefined, via: 'local' | 'shell' = 'local', timeoutMs = 3_000): Promise<ProtocolProbe & { wallMs: number }> => {
    const options = { address: net.server.address, port, protocol, userName: 'whyport_probe', timeoutMs };
    const started = performance.now();
    const r = await net.client.exec([process.execPath, agent, via, JSON.stringify(options)], { timeoutMs: timeoutMs * 3 + 10_000 });
    const wallMs = performance.now() - started;
    try {
      return { ...(JSON.parse(r.stdout) as ProtocolProbe), wallMs };
    } catch {
      throw new Error(`the probe agent printed no JSON (exit ${r.exitCode}): ${r.stdout} ${r.stderr}`);
    }
  };

  /** Keeps the real exchange as a fixture for the classifier's tests. */
  const keep = (protocol: string, name: string, expected: ProtocolName | undefined, p: ProtocolProbe) => {
    if (!UPDATE) return;
    const to = join(REPO_ROOT, 'test', 'fixtures', protocol);
    mkdirSync(to, { recursive: true });
    const talks = p.talks.map(({ durationMs: _d, ...t }) => ({ ...t, address: '10.213.0.2' }));
    writeFileSync(join(to, `${name}.json`), `${JSON.stringify({ expected: expected ?? null, outcome: p.outcome, talks }, null, 2)}\n`);
  };

  beforeAll(async () => {
    net = await twoHostNetwork();
    bed = serverBed(net);
    dir = mkdtempSync(join(tmpdir(), 'wpt-proto-'));
    chmodSync(dir, 0o755); // postgres (initdb, the postmaster) works under it
    agent = join(dir, 'probe-agent.mjs');
    await build({
      stdin: {
        contents: `import { localHost } from ${JSON.stringify(join(REPO_ROOT, 'src/host/local.ts'))};
import { execaRunner } from ${JSON.stringify(join(REPO_ROOT, 'src/host/runner.ts'))};
import { talkOverShell } from ${JSON.stringify(join(REPO_ROOT, 'src/host/ssh/talk.ts'))};
import { probeProtocol } from ${JSON.stringify(join(REPO_ROOT, 'src/system/protocol-probe.ts'))};
const [via, json] = process.argv.slice(2);
const host = via === 'shell' ? { ...localHost, talk: (a, p, o) => talkOverShell((argv, ro) => execaRunner.run(argv, ro), a, p, o) } : localHost;
process.stdout.write(JSON.stringify(await probeProtocol(host, JSON.parse(json))));
`,
        resolveDir: REPO_ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: agent,
      logLevel: 'silent',
      banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of children) await stop(c);
    await bed?.stopAll();
    await net?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  describe.skipIf(!has('/usr/bin/redis-server'))(has('/usr/bin/redis-server') ? 'Redis 7' : missing('redis-server', 'redis-server'), () => {
    const redis = (port: number, extra: string[]) => bed.redis(dir, port, extra);

    it('protected mode with no password turns a remote client away with its DENIED words', async () => {
      await redis(6379, ['protected-mode yes']);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(6379, 'redis', via);
        expect(p.outcome, via).toBe('refuses-client');
        expect(p.evidence).toMatchObject({ protocol: 'redis', product: 'Redis', reason: 'protected-mode' });
        expect(p.evidence.said).toMatch(/^-DENIED Redis is running in protected mode/);
        if (via === 'local') keep('redis', 'protected-mode', 'redis', p);
      }
    }, 30_000);

    it('with a password, -NOAUTH to PING is a healthy server', async () => {
      await redis(6380, ['protected-mode yes', 'requirepass not-sent-by-whyport']);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(6380, 'redis', via);
        expect(p.outcome, via).toBe('answered');
        expect(p.evidence).toMatchObject({ protocol: 'redis', reason: 'auth-required' });
        expect(p.evidence.said).toMatch(/^-NOAUTH/);
        if (via === 'local') keep('redis', 'noauth', 'redis', p);
      }
    }, 30_000);

    it('maxclients reached: overloaded, in its own words', async () => {
      await redis(6381, ['protected-mode no', 'maxclients 1']);
      const held = await holdFromClient(6381, 1);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(6381, 'redis', via);
        expect(p, via).toMatchObject({ outcome: 'overloaded', evidence: { reason: 'max-clients', said: '-ERR max number of clients reached' } });
        if (via === 'local') keep('redis', 'max-clients', 'redis', p);
      }
      for (const h of held) await stop(h);
    }, 30_000);
  });

  describe.skipIf(!PG_BIN)(PG_BIN ? 'PostgreSQL' : missing('PostgreSQL', 'postgresql'), () => {
    /** initdb into a fresh directory as postgres, then the postmaster on `port` in the server's namespace. */
    const cluster = async (port: number, hba: string, settings: string[] = []) => {
      const data = join(dir, `pg-${port}`);
      mkdirSync(data, { mode: 0o700 });
      chownSync(data, uidOf('postgres'), gidOf('postgres'));
      const init = spawnSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', join(PG_BIN!, 'initdb'), '-D', data, '-A', 'trust', '--no-sync'], { encoding: 'utf8', timeout: 60_000 });
      if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
      writeFileSync(join(data, 'pg_hba.conf'), hba);
      // setpriv execs (runuser forks and keeps the signals): a signal to the pid reaches the postmaster.
      const s = serve(['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', join(PG_BIN!, 'postgres'), '-D', data, '-c', `listen_addresses=${net.server.address}`, '-c', `unix_socket_directories=${data}`, '-c', `port=${port}`, ...settings.flatMap((c) => ['-c', c])]);
      await ready(port, 'postgres', s.stderr);
      return { data, postmaster: s.child };
    };
    /** A session held open in the server's namespace (over the Unix socket, trusted) for `seconds`. */
    const holdSession = (data: string, port: number, seconds: number) => {
      const c = spawn('ip', ['netns', 'exec', net.server.netns, 'setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', join(PG_BIN!, 'psql'), '-h', data, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', `select pg_sleep(${seconds})`], { stdio: 'ignore' });
      children.push(c);
      return c;
    };
    // Only the packaged lines (local, 127.0.0.1, ::1): nothing for the client's address.
    const PACKAGED_HBA = 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n';

    it('without a pg_hba.conf line for the client: refused, 28000, in its own words; admitted once a line is there', async () => {
      const { data, postmaster } = await cluster(5432, PACKAGED_HBA);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(5432, 'postgresql', via);
        expect(p.outcome, via).toBe('refuses-client');
        expect(p.evidence).toMatchObject({ protocol: 'postgresql', sqlState: '28000', reason: 'pg_hba' });
        expect(p.evidence.said).toContain(`no pg_hba.conf entry for host "${net.client.address}"`);
        expect(p.userName).toBe('whyport_probe');
        if (via === 'local') keep('postgresql', 'no-pg-hba-entry', 'postgresql', p);
      }
      writeFileSync(join(data, 'pg_hba.conf'), `local all all trust\nhost all all ${net.client.address}/32 scram-sha-256\n`);
      process.kill(postmaster.pid!, 'SIGHUP');
      await new Promise((r) => setTimeout(r, 500));
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(5432, 'postgresql', via);
        expect(p.outcome, via).toBe('answered');
        expect(p.evidence).toMatchObject({ protocol: 'postgresql', product: 'PostgreSQL', reason: 'auth-required' });
        if (via === 'local') keep('postgresql', 'admitted-scram', 'postgresql', p);
      }
    }, 60_000);

    it("with ssl = on it answers the SSLRequest 'S': whyport asks again without TLS, and says so", async () => {
      const certDir = join(dir, 'pg-tls');
      mkdirSync(certDir);
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=pg.test', '-days', '2', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')], { encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
      for (const f of ['key.pem', 'cert.pem']) chownSync(join(certDir, f), uidOf('postgres'), gidOf('postgres'));
      await cluster(5433, PACKAGED_HBA, ['ssl=on', `ssl_cert_file=${join(certDir, 'cert.pem')}`, `ssl_key_file=${join(certDir, 'key.pem')}`]);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(5433, 'postgresql', via);
        expect(p.talks.map((t) => t.answers[0]!.slice(0, 2)), via).toEqual(['53', '45']);
        expect(p).toMatchObject({ outcome: 'refuses-client', evidence: { sqlState: '28000', reason: 'pg_hba', withoutTls: true } });
        if (via === 'local') keep('postgresql', 'tls-offered-no-pg-hba-entry', 'postgresql', p);
      }
    }, 60_000);

    it('all connection slots taken: 53300; a smart shutdown waiting for a session: 57P03', async () => {
      const { data, postmaster } = await cluster(5434, `local all all trust\nhost all all ${net.client.address}/32 scram-sha-256\n`, ['max_connections=1', 'superuser_reserved_connections=0']);
      const session = holdSession(data, 5434, 30);
      let p = await probe(5434, 'postgresql');
      for (let i = 0; i < 30 && p.outcome === 'answered'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        p = await probe(5434, 'postgresql');
      }
      expect(p).toMatchObject({ outcome: 'overloaded', evidence: { sqlState: '53300' } });
      keep('postgresql', 'too-many-clients', 'postgresql', p);
      process.kill(postmaster.pid!, 'SIGTERM'); // smart shutdown: it waits for the session to end
      await new Promise((r) => setTimeout(r, 300));
      for (const via of ['local', 'shell'] as const) {
        const q = await probe(5434, 'postgresql', via);
        expect(q, via).toMatchObject({ outcome: 'not-ready', evidence: { sqlState: '57P03' } });
        expect(q.evidence.said).toMatch(/shutting down/);
        if (via === 'local') keep('postgresql', 'shutting-down', 'postgresql', q);
      }
      await stop(session);
    }, 90_000);
  });

  describe.skipIf(!has('/usr/sbin/mariadbd'))(has('/usr/sbin/mariadbd') ? 'MariaDB' : missing('mariadbd', 'mariadb-server'), () => {
    it('root@localhost only: a remote client gets error 1130 in place of the greeting', async () => {
      const data = bed.mariadbData(dir);
      const s = await bed.mariadbd(data);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(3306, 'mysql', via);
        expect(p.outcome, via).toBe('refuses-client');
        expect(p.evidence).toMatchObject({ protocol: 'mysql', errorCode: 1130, reason: 'host-not-allowed' });
        expect(p.evidence.said).toMatch(/is not allowed to connect to this MariaDB server/);
        if (via === 'local') keep('mysql', 'host-not-allowed', 'mysql', p);
      }
      // The same data without grant checks (every host may start the handshake) and the fewest
      // connections MariaDB allows (10, and one more for an administrator): clients held in the
      // handshake fill them, and the next gets 1040 in place of the greeting (create_new_thread).
      await stop(s.child);
      await bed.mariadbd(data, ['--skip-grant-tables', '--max-connections=10']);
      const greeting = await probe(3306, 'mysql');
      expect(greeting).toMatchObject({ outcome: 'answered', evidence: { product: 'MariaDB' } });
      expect(greeting.evidence.version).toMatch(/^10\.\d+\.\d+-MariaDB/);
      keep('mysql', 'mariadb-greeting', 'mysql', greeting);
      let p = greeting;
      const held: ChildProcess[] = [];
      held.push(...(await holdFromClient(3306, 11)));
      p = await probe(3306, 'mysql');
      for (let n = 1; n <= 3 && p.outcome === 'answered'; n++) {
        held.push(...(await holdFromClient(3306, 1)));
        p = await probe(3306, 'mysql');
      }
      expect(p).toMatchObject({ outcome: 'overloaded', evidence: { errorCode: 1040, reason: 'too-many-connections' } });
      keep('mysql', 'too-many-connections', 'mysql', p);
      for (const h of held) await stop(h);
    }, 150_000);
  });

  describe.skipIf(!has('/usr/sbin/sshd'))(has('/usr/sbin/sshd') ? 'sshd' : missing('sshd', 'openssh-server'), () => {
    /** sshd -D in the server's namespace with a private /run (and, when given, a private /etc/hosts.deny). */
    const sshd = async (port: number, extra: string[], hostsDeny?: string) => {
      const d = join(dir, `sshd-${port}`);
      mkdirSync(d);
      const key = join(d, 'host_key');
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const conf = join(d, 'sshd_config');
      writeFileSync(conf, [...extra, `Port ${port}`, `ListenAddress ${net.server.address}`, `HostKey ${key}`, 'UsePAM no', 'PasswordAuthentication no', 'StrictModes no', 'PidFile none'].join('\n') + '\n');
      let script = 'mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd';
      if (hostsDeny !== undefined) {
        writeFileSync(join(d, 'hosts.deny'), hostsDeny);
        // The machine's /etc/hosts.deny stays as it is: a file bound over it in this mount namespace only.
        script += ` && mount --bind ${join(d, 'hosts.deny')} /etc/hosts.deny`;
      }
      const s = serve(['unshare', '-m', '--propagation', 'private', 'sh', '-c', `${script} && exec /usr/sbin/sshd -D -e -f "$1"`, 'sh', conf]);
      await ready(port, 'sshd', s.stderr);
      return s;
    };

    it('a healthy sshd names itself', async () => {
      await sshd(2201, []);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(2201, 'ssh', via);
        expect(p.outcome, via).toBe('answered');
        expect(p.evidence.product).toMatch(/^OpenSSH_\d/);
        if (via === 'local') keep('ssh', 'openssh', 'ssh', p);
      }
    }, 30_000);

    it('MaxStartups reached: "Exceeded MaxStartups" is overloaded', async () => {
      await sshd(2202, ['MaxStartups 1:100:1', 'LoginGraceTime 60']);
      // One unauthenticated connection held open from the client. sshd may still count the
      // readiness check's connection for a moment and drop the holder: then hold again.
      let holder: ChildProcess | undefined;
      for (let i = 0; i < 20 && !holder; i++) {
        const h = spawn('ip', ['netns', 'exec', net.client.netns, 'bash', '-c', `exec 3<>/dev/tcp/${net.server.address}/2202; sleep 30`], { stdio: 'ignore' });
        children.push(h);
        await new Promise((r) => setTimeout(r, 300));
        const ss = await net.server.exec(['ss', '-Htn', 'state', 'established', '( sport = :2202 )']);
        if (ss.stdout.trim()) holder = h;
        else await stop(h);
      }
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(2202, 'ssh', via);
        expect(p.outcome, via).toBe('overloaded');
        expect(p.evidence).toMatchObject({ protocol: 'ssh', reason: 'max-startups', said: 'Exceeded MaxStartups' });
        if (via === 'local') keep('ssh', 'max-startups', 'ssh', p);
      }
      await stop(holder!);
    }, 30_000);

    const libwrap = spawnSync('sh', ['-c', 'ldd /usr/sbin/sshd | grep -q libwrap']).status === 0;
    it.skipIf(!libwrap)('hosts.deny naming the client (libwrap): silence, closed 5 s later, is TCP wrappers', async () => {
      await sshd(2203, [], `sshd: ${net.client.address}\n`);
      const p = await probe(2203, 'ssh', 'local', 7_000);
      expect(p.outcome, JSON.stringify(p)).toBe('refuses-client');
      expect(p.evidence).toMatchObject({ protocol: 'ssh', reason: 'tcp-wrappers', bytes: 0 });
      // sshd never read whyport's identification: its close is a reset as often as an EOF.
      expect(['eof', 'reset']).toContain(p.evidence.end);
      expect(p.evidence.endMs).toBeGreaterThan(4_500);
      keep('ssh', 'tcp-wrappers', 'ssh', p);
      // Over the remote script the same 5 s.
      const q = await probe(2203, 'ssh', 'shell', 7_000);
      expect(q.outcome).toBe('refuses-client');
      // Within the default --timeout (3 s) the same server is only silent: a finding too.
      const r = await probe(2203, 'ssh', 'local', 3_000);
      expect(r.outcome).toBe('silent');
    }, 60_000);

    it('an HTTP server where ssh is expected: wrong protocol, named', async () => {
      const py = ['/usr/bin/python3', '/usr/local/bin/python3'].find(has)!;
      const s = serve([py, '-m', 'http.server', '--bind', net.server.address, '8081'], { cwd: dir });
      await ready(8081, 'http.server', s.stderr);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(8081, 'ssh', via);
        expect(p.outcome, `${via} ${JSON.stringify(p)}`).toBe('wrong-protocol');
        expect(p.evidence).toMatchObject({ protocol: 'http', expected: 'ssh' });
        if (via === 'local') keep('http', 'answers-ssh-identification', 'ssh', p);
      }
      const h = await probe(8081, 'http');
      expect(h.outcome).toBe('answered');
      expect(h.evidence).toMatchObject({ protocol: 'http', status: 200, product: 'SimpleHTTP' });
      keep('http', 'python-http-server', 'http', h);
    }, 30_000);
  });

  describe.skipIf(!has('/usr/sbin/nginx'))(has('/usr/sbin/nginx') ? 'nginx' : missing('nginx', 'nginx'), () => {
    it('healthy: HEAD / answered, nginx named; where ssh is expected, its 400 is the wrong protocol', async () => {
      const d = join(dir, 'nginx');
      mkdirSync(d);
      writeFileSync(
        join(d, 'nginx.conf'),
        `pid ${d}/nginx.pid;\nerror_log ${d}/error.log;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${d};\n  proxy_temp_path ${d};\n  fastcgi_temp_path ${d};\n  uwsgi_temp_path ${d};\n  scgi_temp_path ${d};\n  server {\n    listen ${net.server.address}:8082;\n    location / { return 200 "ok\\n"; }\n  }\n}\n`,
      );
      const s = serve(['/usr/sbin/nginx', '-p', d, '-c', join(d, 'nginx.conf'), '-g', 'daemon off;']);
      await ready(8082, 'nginx', s.stderr);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(8082, 'http', via);
        expect(p, via).toMatchObject({ outcome: 'answered', evidence: { protocol: 'http', status: 200, product: 'nginx' } });
        if (via === 'local') keep('http', 'nginx-head', 'http', p);
        const q = await probe(8082, 'ssh', via);
        expect(q, via).toMatchObject({ outcome: 'wrong-protocol', evidence: { protocol: 'http', expected: 'ssh' } });
        if (via === 'local') keep('http', 'nginx-answers-ssh-identification', 'ssh', q);
      }
    }, 30_000);
  });

  describe.skipIf(!has('/usr/sbin/vsftpd'))(has('/usr/sbin/vsftpd') ? 'vsftpd' : missing('vsftpd', 'vsftpd'), () => {
    it("greets with 220; past max_clients, 421 is overloaded; its '500 OOPS' for a configuration it cannot serve", async () => {
      const d = join(dir, 'vsftpd');
      mkdirSync(join(d, 'empty'), { recursive: true });
      const start = async (extra: string[]) => {
        writeFileSync(
          join(d, 'vsftpd.conf'),
          ['listen=YES', 'listen_ipv6=NO', `listen_address=${net.server.address}`, 'listen_port=2121', 'background=NO', 'anonymous_enable=NO', 'pasv_enable=NO', `secure_chroot_dir=${join(d, 'empty')}`, 'max_clients=1', `xferlog_file=${join(d, 'xferlog')}`, `vsftpd_log_file=${join(d, 'log')}`, ...extra].join('\n') + '\n',
        );
        const s = serve(['/usr/sbin/vsftpd', join(d, 'vsftpd.conf')]);
        await ready(2121, 'vsftpd', s.stderr);
        await new Promise((r) => setTimeout(r, 300)); // the readiness check's session ends
        return s;
      };
      // Neither local nor anonymous users: vsftpd says why, to everyone, in place of its greeting.
      const broken = await start(['local_enable=NO']);
      const oops = await probe(2121, 'ftp');
      expect(oops).toMatchObject({ outcome: 'refuses-client', evidence: { status: 500, reason: 'server-error', said: '500 OOPS: vsftpd: both local and anonymous access disabled!' } });
      keep('ftp', 'vsftpd-oops', 'ftp', oops);
      await stop(broken.child);
      await start(['local_enable=YES']);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(2121, 'ftp', via);
        expect(p, `${via} ${p.evidence.said}`).toMatchObject({ outcome: 'answered', evidence: { protocol: 'ftp', status: 220, product: 'vsFTPd' } });
        if (via === 'local') keep('ftp', 'vsftpd-greeting', 'ftp', p);
      }
      await new Promise((r) => setTimeout(r, 300));
      const held = await holdFromClient(2121, 1);
      let p = await probe(2121, 'ftp');
      for (let i = 0; i < 10 && p.outcome === 'answered'; i++) {
        await new Promise((r) => setTimeout(r, 200));
        p = await probe(2121, 'ftp');
      }
      expect(p).toMatchObject({ outcome: 'overloaded', evidence: { status: 421 } });
      expect(p.evidence.said).toMatch(/^421 /);
      keep('ftp', 'max-clients', 'ftp', p);
      for (const h of held) await stop(h);
    }, 30_000);
  });

  describe.skipIf(!has('/usr/sbin/dovecot'))(has('/usr/sbin/dovecot') ? 'Dovecot' : missing('dovecot', 'dovecot-imapd dovecot-pop3d'), () => {
    it('greets in IMAP and in POP3', async () => {
      const d = join(dir, 'dovecot');
      mkdirSync(join(d, 'run'), { recursive: true });
      mkdirSync(join(d, 'state'));
      writeFileSync(
        join(d, 'dovecot.conf'),
        [
          `base_dir = ${join(d, 'run')}`,
          `state_dir = ${join(d, 'state')}`,
          'protocols = imap pop3',
          `listen = ${net.server.address}`,
          'ssl = no',
          `log_path = ${join(d, 'log')}`,
          'passdb {\n  driver = static\n  args = password=never-sent\n}',
          `userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=${d}\n}`,
          'service imap-login {\n  inet_listener imap {\n    port = 1143\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}',
          'service pop3-login {\n  inet_listener pop3 {\n    port = 1110\n  }\n  inet_listener pop3s {\n    port = 0\n  }\n}',
        ].join('\n') + '\n',
      );
      const s = serve(['/usr/sbin/dovecot', '-F', '-c', join(d, 'dovecot.conf')]);
      await ready(1143, 'dovecot', s.stderr);
      await ready(1110, 'dovecot', s.stderr);
      for (const via of ['local', 'shell'] as const) {
        const imap = await probe(1143, 'imap', via);
        expect(imap, via).toMatchObject({ outcome: 'answered', evidence: { protocol: 'imap', product: 'Dovecot' } });
        const pop3 = await probe(1110, 'pop3', via);
        expect(pop3, via).toMatchObject({ outcome: 'answered', evidence: { protocol: 'pop3', product: 'Dovecot' } });
        if (via === 'local') {
          keep('imap', 'dovecot-greeting', 'imap', imap);
          keep('pop3', 'dovecot-greeting', 'pop3', pop3);
        }
      }
      // IMAP where POP3 is expected: another protocol, named.
      expect(await probe(1143, 'pop3')).toMatchObject({ outcome: 'wrong-protocol', evidence: { protocol: 'imap', expected: 'pop3' } });
    }, 30_000);
  });

  describe('programs of no known protocol', () => {
    const py = ['/usr/bin/python3', '/usr/local/bin/python3'].find(has)!;
    it('a program that greets in a protocol of its own: no alarm', async () => {
      const code = `import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('${net.server.address}', 7071)); s.listen(8)\nwhile True:\n  c,_=s.accept(); c.sendall(b'MYAPP 2.1 ready\\r\\n')\n  import time; time.sleep(0.2); c.close()\n`;
      const s = serve([py, '-c', code]);
      await ready(7071, 'greeter', s.stderr);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(7071, undefined, via);
        expect(p.outcome, via).toBe('unknown-greeting');
        expect(p.evidence).toMatchObject({ protocol: 'unknown', said: 'MYAPP 2.1 ready' });
        if (via === 'local') keep('unknown', 'myapp-greeting', undefined, p);
      }
    }, 30_000);

    it('a silent program on a port of no known protocol: quiet, after 300 ms and then 500 ms for HEAD / on a second connection', async () => {
      const code = `import socket, time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('${net.server.address}', 7072)); s.listen(8)\nheld=[]\nwhile True:\n  c,_=s.accept(); held.append(c)\n`;
      const s = serve([py, '-c', code]);
      await ready(7072, 'silent listener', s.stderr);
      const p = await probe(7072, undefined);
      expect(p.outcome).toBe('quiet');
      expect(p.talks.map((t) => t.end)).toEqual(['silent', 'silent']);
      // From the connect to the verdict: the 300 ms wait, then 500 ms for the HTTP request (a little slack for the machine).
      expect(p.talks[0]!.endMs).toBeGreaterThanOrEqual(290);
      expect(p.talks[0]!.endMs).toBeLessThan(400);
      expect(p.talks[1]!.endMs).toBeGreaterThanOrEqual(UNKNOWN_HTTP_WAIT_MS - 10);
      expect(p.talks[1]!.endMs).toBeLessThan(UNKNOWN_HTTP_WAIT_MS + 150);
      keep('unknown', 'silent', undefined, p);
      const q = await probe(7072, undefined, 'shell');
      expect(q.outcome).toBe('quiet');
      expect(q.talks).toHaveLength(2);
      expect(q.talks[0]!.endMs).toBeLessThan(450);
      expect(q.talks[1]!.endMs).toBeLessThan(UNKNOWN_HTTP_WAIT_MS + 250);
    }, 30_000);

    it('an HTTP application of its own that answers 503: read as HTTP from the HEAD / on the second connection, locally and through the shell', async () => {
      const code = `from http.server import BaseHTTPRequestHandler, HTTPServer\nclass M(BaseHTTPRequestHandler):\n  def do_HEAD(self):\n    self.send_response(503); self.send_header('Content-Length', '0'); self.end_headers()\n  do_GET = do_HEAD\nHTTPServer(('${net.server.address}', 7074), M).serve_forever()\n`;
      const s = serve([py, '-c', code]);
      await ready(7074, 'maintenance app', s.stderr);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(7074, undefined, via);
        expect(p, via).toMatchObject({ outcome: 'answered', evidence: { protocol: 'http', status: 503, product: 'BaseHTTP' } });
        expect(p.talks, via).toHaveLength(2);
        expect(p.sent, via).toMatch(/HEAD \/ on a second connection/);
        if (via === 'local') keep('unknown', 'http-503', undefined, p);
      }
    }, 30_000);

    it('accepted, then closed without a word: closed after accept', async () => {
      const code = `import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('${net.server.address}', 7073)); s.listen(8)\nwhile True:\n  c,_=s.accept(); c.close()\n`;
      const s = serve([py, '-c', code]);
      await ready(7073, 'closer', s.stderr);
      for (const via of ['local', 'shell'] as const) {
        const p = await probe(7073, 'ssh', via);
        expect(p.outcome, via).toBe('closed-after-accept');
        expect(p.evidence.bytes).toBe(0);
      }
    }, 30_000);
  });
});

function uidOf(user: string): number {
  return Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
}
function gidOf(user: string): number {
  return Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
}
