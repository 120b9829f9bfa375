import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { REPO_ROOT } from '../helpers/nspawn.js';
import { netnsSkipReason } from '../helpers/netns.js';
import { twoHostNetwork, type TwoHosts } from '../helpers/ssh.js';
import { serverBed, type ServerBed } from '../helpers/server-bed.js';

/**
 * The generic `http` and `endpoint` checks end to end: the real CLI (dist/cli.js) with a user
 * playbook file, in a client namespace of this test's own, against real servers in a server
 * namespace — python3's http.server and nginx for `http`; PostgreSQL 15 for `endpoint`, where
 * myapp's playbook (test/fixtures/playbooks/dependency/myapp.yaml, the README's) diagnoses db:5432
 * with the built-in playbook: refused while pg_hba.conf has no line for the client, reachable once
 * it has one. Run it isolated: /work/bin/isolated npx vitest run test/integration/http-endpoint.test.ts
 */

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const NGINX = '/usr/sbin/nginx';
const PG_BIN = '/usr/lib/postgresql/15/bin';
const MYAPP = join(REPO_ROOT, 'test/fixtures/playbooks/dependency/myapp.yaml');

const reason = netnsSkipReason() ?? (existsSync(CLI) ? undefined : 'dist/cli.js is missing: npm run build') ?? (spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is not installed');
if (reason) console.warn(`skipping the http and endpoint tests: ${reason}`);

const webPlaybook = (withText: string) => `version: 2
name: web
steps:
  web:
    check: http
    with: ${withText}
    on: { ok: HEALTHY, else: UNHEALTHY }
diagnoses:
  HEALTHY: { title: "healthy", explanation: "{{ steps.web.summary }}" }
  UNHEALTHY: { title: "unhealthy", explanation: "{{ steps.web.summary }}" }
`;

describe.skipIf(reason !== undefined)('http and endpoint, end to end: the real CLI in a client namespace, real servers in another', () => {
  let net: TwoHosts;
  let bed: ServerBed;
  let dir = '';

  /** whyport HOST PORT --playbook FILE --json --yes in the client's namespace. */
  const whyport = async (host: string, port: number, playbook: string) => {
    const r = await net.client.exec([process.execPath, CLI, host, String(port), '--playbook', playbook, '--json', '--yes', '--timeout', '1500'], { timeoutMs: 40_000 });
    let report: Report;
    try {
      report = JSON.parse(r.stdout) as Report;
    } catch {
      throw new Error(`whyport printed no JSON (exit ${r.exitCode}): ${r.stdout} ${r.stderr}`);
    }
    const trace = `${report.diagnosis.code}: ${report.steps.map((s) => `${s.id} → ${s.outcome}: ${s.summary}`).join('\n  ')}`;
    return { report, status: r.exitCode, trace };
  };
  const playbookFile = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  beforeAll(async () => {
    net = await twoHostNetwork();
    bed = serverBed(net);
    dir = mkdtempSync(join(tmpdir(), 'wpt-http-'));
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'www'));
    writeFileSync(join(dir, 'www', 'health'), 'status: ok\ndb: connected\n');
  }, 30_000);
  afterAll(async () => {
    await bed?.stopAll();
    await net?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("python3's http.server: a status, a header and a body line; a 404 is the status outcome", async () => {
    const s = bed.serve(['python3', '-m', 'http.server', '--bind', net.server.address, '8081'], { cwd: join(dir, 'www') });
    await bed.ready(8081, 'python3 -m http.server', s.stderr);
    const ok = await whyport(net.server.address, 8081, playbookFile('ok.yaml', webPlaybook('{ url: "http://{{ target.host }}:{{ target.port }}/health", status: 200, header: "Server: ^SimpleHTTP/", body: "^db: connected$" }')));
    expect(ok.report.diagnosis.code, ok.trace).toBe('HEALTHY');
    expect(ok.report.steps[0]).toMatchObject({ check: 'http', outcome: 'ok', command: `curl -sS -o /dev/null -w '%{http_code}' http://${net.server.address}:8081/health`, evidence: { status: 200, statusLine: 'HTTP/1.0 200 OK', bodyLine: 'db: connected', address: net.server.address } });
    expect(String(ok.report.steps[0]!.evidence.header)).toMatch(/^Server: SimpleHTTP\/0\.6 Python\/3/);

    const missing = await whyport(net.server.address, 8081, playbookFile('missing.yaml', webPlaybook('{ host: "{{ target.host }}", port: "{{ target.port }}", path: /missing, status: 2xx }')));
    expect(missing.report.steps[0], missing.trace).toMatchObject({ outcome: 'status', summary: `GET http://${net.server.address}:8081/missing → HTTP/1.0 404 File not found (expected 2xx)` });
    await bed.stop(s.child);
    const refused = await whyport(net.server.address, 8081, playbookFile('ok.yaml', webPlaybook('{ url: "http://{{ target.host }}:{{ target.port }}/health" }')));
    expect(refused.report.steps[0], refused.trace).toMatchObject({ outcome: 'refused' });
  }, 60_000);

  it.skipIf(!existsSync(NGINX))(existsSync(NGINX) ? "nginx: its 301's Location, and its 502 for an upstream that is down" : 'nginx is not installed (apt-get install -y nginx)', async () => {
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, ['daemon off;', `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log;`, 'events {}', 'http {', '  access_log off;', '  server {', `    listen ${net.server.address}:8080;`, '    location = /old { return 301 /health; }', '    location /app { proxy_pass http://127.0.0.1:9; }', '  }', '}', ''].join('\n'));
    // Stopped with SIGTERM first (bed.stop): nginx's master ends its workers, a SIGKILLed one leaves them.
    const s = bed.serve([NGINX, '-p', dir, '-c', conf]);
    await bed.ready(8080, 'nginx', s.stderr);
    const moved = await whyport(net.server.address, 8080, playbookFile('moved.yaml', webPlaybook('{ url: "http://{{ target.host }}:{{ target.port }}/old", status: 301, header: "Location: /health$" }')));
    expect(moved.report.steps[0], moved.trace).toMatchObject({ outcome: 'ok', evidence: { status: 301, header: `Location: http://${net.server.address}:8080/health` } });
    const gateway = await whyport(net.server.address, 8080, playbookFile('gateway.yaml', webPlaybook('{ url: "http://{{ target.host }}:{{ target.port }}/app/health", body: "ok" }')));
    expect(gateway.report.steps[0], gateway.trace).toMatchObject({ outcome: 'status', evidence: { status: 502, statusLine: 'HTTP/1.1 502 Bad Gateway', expected: '2xx or 3xx' } });
    await bed.stop(s.child);
  }, 60_000);

  describe.skipIf(!existsSync(`${PG_BIN}/postgres`))(existsSync(`${PG_BIN}/postgres`) ? 'a dependency: myapp needs PostgreSQL at db:5432' : 'PostgreSQL 15 is not installed (apt-get install -y postgresql)', () => {
    let hostsDir = '';
    afterAll(() => {
      if (hostsDir) rmSync(hostsDir, { recursive: true, force: true });
    });

    it("refused while pg_hba.conf has no line for this client: the nested default walk's SERVICE_REFUSES_CLIENT is myapp's DEPENDENCY_DOWN; reachable after the line and a reload", async () => {
      // `db` is the server, in the client's own /etc/hosts (ip netns exec binds /etc/netns/NAME/hosts).
      hostsDir = `/etc/netns/${net.client.netns}`;
      mkdirSync(hostsDir, { recursive: true });
      writeFileSync(join(hostsDir, 'hosts'), `127.0.0.1 localhost\n${net.server.address} db\n`);
      // myapp itself: an HTTP server with /health on 127.0.0.1:7071 in the client's namespace.
      const myapp = spawn('ip', ['netns', 'exec', net.client.netns, 'python3', '-m', 'http.server', '--bind', '127.0.0.1', '7071'], { cwd: join(dir, 'www'), stdio: 'ignore' });
      bed.children.push(myapp);
      for (let i = 0; i < 50; i++) {
        const r = await net.client.exec(['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/7071'], { timeoutMs: 2_000 });
        if (r.exitCode === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }

      const data = join(dir, 'pg');
      mkdirSync(data, { mode: 0o700 });
      spawnSync('chown', ['postgres:postgres', data]);
      const init = spawnSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', join(PG_BIN, 'initdb'), '-D', data, '-A', 'trust', '--no-sync'], { encoding: 'utf8', timeout: 60_000 });
      if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
      writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
      const pg = bed.serve(['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', join(PG_BIN, 'postgres'), '-D', data, '-c', `listen_addresses=${net.server.address}`, '-c', `unix_socket_directories=${data}`, '-c', 'port=5432']);
      await bed.ready(5432, 'postgres', pg.stderr);

      const refused = await whyport('127.0.0.1', 7071, MYAPP);
      expect(refused.report.steps.map((s) => `${s.id}=${s.outcome}`), refused.trace).toEqual(['app=connected', 'health=ok', 'db=service-refuses-client']);
      const db = refused.report.steps[2]!;
      expect(db.check).toBe('endpoint');
      expect(db.follow?.target).toMatchObject({ host: 'db', address: net.server.address, port: 5432 });
      expect(db.follow?.steps.map((s) => s.id)).toEqual(['where', 'probe-remote', 'protocol-remote']);
      expect(refused.report.diagnosis.code).toBe('SERVICE_REFUSES_CLIENT');
      expect(refused.report.diagnosis.title).toBe('myapp is up, but cannot reach PostgreSQL at db:5432: ' + String(db.evidence.title));
      expect(refused.report.diagnosis.service).toMatchObject({ protocol: 'postgresql', said: expect.stringContaining(`no pg_hba.conf entry for host "${net.client.address}"`) });
      expect(refused.status).toBe(1);

      writeFileSync(join(data, 'pg_hba.conf'), `local all all trust\nhost all all ${net.client.address}/32 scram-sha-256\n`);
      process.kill(pg.child.pid!, 'SIGHUP');
      await new Promise((r) => setTimeout(r, 500));
      const reachable = await whyport('127.0.0.1', 7071, MYAPP);
      expect(reachable.report.steps.map((s) => `${s.id}=${s.outcome}`), reachable.trace).toEqual(['app=connected', 'health=ok', 'db=reachable']);
      expect(reachable.report.diagnosis).toMatchObject({ code: 'REACHABLE', title: 'myapp is up, and reaches PostgreSQL at db:5432' });
      expect(readFileSync(MYAPP, 'utf8')).toContain('playbook: default');
    }, 120_000);
  });
});
