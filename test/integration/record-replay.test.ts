import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Recording } from '../../src/host/recording.js';
import type { Report } from '../../src/report/model.js';
import { createNamespace, netnsSkipReason, type Namespace } from '../helpers/netns.js';
import { REPO_ROOT, realServicesAvailable, startSystemdTestbed, type SystemdTestbed } from '../helpers/nspawn.js';
import { whyportIn } from '../helpers/cli-in-bed.js';
import { freePort, startListener, stopAllListeners } from '../helpers/servers.js';
import { sshdAvailable, startLoopbackSshd, type LoopbackSshd } from '../helpers/ssh.js';

/**
 * `whyport record` of real servers in a network namespace of this test's making (a real listener,
 * nothing listening, an nftables rule, redis-server and a program with a password on its command
 * line, both bound to loopback), each with the real CLI; then, once the namespace, its servers and
 * its rules are gone, `whyport HOST PORT --replay FILE` and `whyport playbook test` from outside
 * it: the same diagnosis and the same steps, from the file alone.
 */

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const SERVER = '10.213.12.2';
const REDIS = '/usr/bin/redis-server';

function skipReason(): string | undefined {
  const ns = netnsSkipReason();
  if (ns) return ns;
  if (spawnSync('nft', ['-v'], { stdio: 'ignore' }).error) return 'nft is missing: apt-get install -y nftables';
  return undefined;
}
const reason = skipReason();
if (reason) console.warn(`skipping the record and replay tests: ${reason}`);
const noRedis = !existsSync(REDIS) || !existsSync('/etc/redis/redis.conf');

interface Run {
  status: number;
  report: Report;
  stderr: string;
}

async function cli(prefix: readonly string[], args: readonly string[]): Promise<Run> {
  const r = await execa(prefix[0] ?? process.execPath, [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), CLI, ...args, '--json'], { reject: false, stdin: 'ignore', timeout: 30_000, env: { NO_COLOR: '1' } });
  try {
    return { status: r.exitCode ?? -1, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
  } catch {
    throw new Error(`whyport ${args.join(' ')} printed no JSON (exit ${r.exitCode}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** The path the walk took: each step's id and outcome. */
const path = (r: Report) => r.steps.map((s) => `${s.id}.${s.outcome}`);
const trace = (r: Run) => `${r.report.diagnosis.code} (exit ${r.status}) via\n${r.report.steps.map((s) => `  ${s.id} → ${s.outcome}: ${s.summary}`).join('\n')}\nstderr: ${r.stderr}`;

describe.skipIf(reason !== undefined)('whyport record on real servers, replayed once they are gone', () => {
  let ns: Namespace;
  let dir: string;
  const children: ChildProcess[] = [];
  /** file → what the recording run reported. */
  const recorded = new Map<string, Run>();

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    ns = createNamespace({ addresses: [`${SERVER}/24`] });
    dir = mkdtempSync(join(tmpdir(), 'wpt-record-'));
    // Until the veth is operationally UP, node does not list the address as the namespace's own.
    for (let i = 0; i < 50 && !/\sUP\s/.test(spawnSync('ip', ['-n', ns.name, '-br', 'link', 'show', 'dev', 'wpt0'], { encoding: 'utf8' }).stdout); i++) await new Promise((r) => setTimeout(r, 100));
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await stopAllListeners();
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `whyport record SERVER PORT -o FILE …` in the namespace, as root, with the real CLI. */
  async function record(name: string, port: number, ...args: string[]): Promise<Run> {
    const file = join(dir, `${name}.json`);
    const r = await cli(ns.exec, ['record', SERVER, String(port), '-o', file, '--yes', ...args]);
    recorded.set(file, r);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(r.stderr).toMatch(new RegExp(`${name}\\.json: recorded \\d+ host calls \\(expect ${r.report.diagnosis.code}\\)`));
    return r;
  }

  /** A real program in the namespace, once its port listens. */
  async function start(argv: string[], port: number): Promise<void> {
    const child = spawn(ns.exec[0]!, [...ns.exec.slice(1), ...argv], { stdio: 'ignore' });
    children.push(child);
    for (let i = 0; i < 100; i++) {
      if (spawnSync(ns.exec[0]!, [...ns.exec.slice(1), 'ss', '-Htln', `sport = :${port}`], { encoding: 'utf8' }).stdout.trim()) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${argv.join(' ')} did not listen on ${port}`);
  }

  it('records a real listener: REACHABLE', async () => {
    await startListener({ host: '0.0.0.0', port: 7401, netns: ns.name });
    const r = await record('reachable', 7401);
    expect(r.report.diagnosis.code, trace(r)).toBe('REACHABLE');
  });

  it('records a port nothing listens on: NOT_LISTENING', async () => {
    const r = await record('not-listening', 7402);
    expect(r.report.diagnosis.code, trace(r)).toBe('NOT_LISTENING');
  });

  it('records an nftables rule that drops the port: FIREWALL_BLOCKS', async () => {
    await startListener({ host: '0.0.0.0', port: 7403, netns: ns.name });
    const ruleset = 'table inet filter {\n  chain input {\n    type filter hook input priority filter; policy accept;\n    iifname "lo" accept\n    tcp dport 7403 drop\n  }\n}\n';
    spawnSync(ns.exec[0]!, [...ns.exec.slice(1), 'nft', '-f', '-'], { input: ruleset, timeout: 10_000 });
    const r = await record('firewall', 7403);
    expect(r.report.diagnosis.code, trace(r)).toBe('FIREWALL_BLOCKS');
  });

  it('records a program with --password=hunter2 on its command line, bound to loopback; the password is not in the file', async () => {
    const listener = "const s=require('node:net').createServer();s.listen({host:'127.0.0.1',port:Number(process.argv[1])});process.on('SIGTERM',()=>process.exit(0));";
    await start([process.execPath, '-e', listener, '7404', '--password=hunter2', '--db-url=postgres://app:pgsecret7@db/app'], 7404);
    const r = await record('password', 7404);
    expect(r.report.diagnosis.code, trace(r)).toBe('BOUND_TO_LOOPBACK');
    const text = readFileSync(join(dir, 'password.json'), 'utf8');
    // The command line was read (its fix shows it), and what it holds of secrets was left out.
    expect(text).toContain('--password=REDACTED');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('pgsecret7');
    const recording = JSON.parse(text) as Recording;
    expect(recording.redacted).toContainEqual(expect.objectContaining({ kind: 'password' }));
    expect(r.stderr).toMatch(/redacted: .*passwords on command lines \(\d+ places?\)/);
  });

  it.skipIf(noRedis)('records redis-server with `requirepass secret123` in its redis.conf; the password is not in the file', async () => {
    // The namespace's own /etc/redis (ip netns exec mounts /etc/netns/NAME/redis over it): the package's file and a password.
    mkdirSync(`/etc/netns/${ns.name}/redis`, { recursive: true });
    writeFileSync(`/etc/netns/${ns.name}/redis/redis.conf`, `${readFileSync('/etc/redis/redis.conf', 'utf8')}\nrequirepass secret123\n`);
    await start([REDIS, '/etc/redis/redis.conf', '--port', '7405', '--daemonize', 'no', '--supervised', 'no', '--logfile', '', '--pidfile', join(dir, 'redis.pid'), '--dir', dir], 7405);
    const r = await record('redis', 7405);
    expect(r.report.diagnosis.code, trace(r)).toBe('BOUND_TO_LOOPBACK');
    expect(r.report.diagnosis.setting?.file, trace(r)).toBe('/etc/redis/redis.conf');
    const text = readFileSync(join(dir, 'redis.json'), 'utf8');
    expect(text).toContain('requirepass REDACTED');
    expect(text).not.toContain('secret123');
    expect((JSON.parse(text) as Recording).redacted).toContainEqual({ kind: 'config-secret', where: 'readFile /etc/redis/redis.conf' });
  });

  describe('once the namespace, its servers and its rules are gone', () => {
    beforeAll(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await stopAllListeners();
      ns.remove();
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(ns.name);
    });

    it('--replay walks each recording to the same diagnosis, through the same steps', async () => {
      expect(recorded.size).toBeGreaterThanOrEqual(4);
      for (const [file, then] of recorded) {
        const now = await cli([], [SERVER, String(then.report.target.port), '--replay', file]);
        expect(now.stderr).toContain(`replaying ${file}`);
        expect(now.report.diagnosis.code, `${file}\n${trace(now)}`).toBe(then.report.diagnosis.code);
        expect(now.status).toBe(then.status);
        expect(path(now.report), file).toEqual(path(then.report));
        expect(now.report.diagnosis.title).toBe(then.report.diagnosis.title);
        expect(now.report.diagnosis.fix).toEqual(then.report.diagnosis.fix);
      }
    });

    it('playbook test: all pass (exit 0); a recording expecting another code fails (exit 1); a bad file is refused (exit 2)', async () => {
      const files = [...recorded.keys()];
      const pass = await execa(process.execPath, [CLI, 'playbook', 'test', ...files], { reject: false, stdin: 'ignore', timeout: 30_000 });
      expect(pass.exitCode, `${pass.stdout}\n${pass.stderr}`).toBe(0);
      expect(pass.stdout.split('\n').filter((l) => l.startsWith('pass '))).toHaveLength(files.length);
      expect(pass.stdout).toContain(`${files.length} of ${files.length} recordings passed`);

      const wrong = join(dir, 'wrong.json');
      const recording = JSON.parse(readFileSync(files[0]!, 'utf8')) as Recording;
      writeFileSync(wrong, JSON.stringify({ ...recording, expect: { code: 'SERVICE_FAILED' } }));
      const fail = await execa(process.execPath, [CLI, 'playbook', 'test', files[0]!, wrong], { reject: false, stdin: 'ignore', timeout: 30_000 });
      expect(fail.exitCode).toBe(1);
      expect(fail.stdout).toMatch(new RegExp(`FAIL  ${wrong}: expected SERVICE_FAILED, got ${recording.expect!.code} \\(`));

      const truncated = join(dir, 'truncated.json');
      writeFileSync(truncated, readFileSync(files[0]!, 'utf8').slice(0, 500));
      const bad = await execa(process.execPath, [CLI, 'playbook', 'test', truncated], { reject: false, stdin: 'ignore', timeout: 30_000 });
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toMatch(/^error .*truncated\.json: .*is not a whyport recording: not JSON/);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
    });
  });
});

const sshUnavailable = await sshdAvailable();
if (sshUnavailable) console.warn(`skipping record and replay over --ssh: ${sshUnavailable}`);

describe.skipIf(sshUnavailable !== null)('whyport record --ssh: the server end recorded too, replayed once sshd is gone', () => {
  let sshd: LoopbackSshd;
  let dir: string;
  beforeAll(async () => {
    sshd = await startLoopbackSshd();
    dir = mkdtempSync(join(tmpdir(), 'wpt-record-ssh-'));
  }, 30_000);
  afterAll(async () => {
    await stopAllListeners();
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records both ends of a port nothing listens on, and replays both without ssh', async () => {
    const port = await freePort();
    const file = join(dir, 'both-ends.json');
    const ssh = ['--ssh', `root@127.0.0.1:${sshd.port}`, '--ssh-option', `UserKnownHostsFile=${sshd.knownHostsPath}`, '--ssh-option', `IdentityFile=${sshd.keyPath}`, '--ssh-option', 'IdentitiesOnly=yes'];
    const then = await cli([], ['record', '127.0.0.1', String(port), '-o', file, '--yes', ...ssh]);
    expect(then.report.vantages?.server.error, trace(then)).toBeNull();
    const recording = JSON.parse(readFileSync(file, 'utf8')) as Recording;
    expect(recording.calls.some((c) => c.at === 'server')).toBe(true);
    expect(recording.vantages.server).toMatchObject({ label: `root@127.0.0.1:${sshd.port}`, error: null });
    await sshd.stop();

    const now = await cli([], ['127.0.0.1', String(port), '--replay', file]);
    expect(now.report.diagnosis.code, trace(now)).toBe(then.report.diagnosis.code);
    expect(path(now.report)).toEqual(path(then.report));
    expect(now.report.steps.map((s) => s.where)).toEqual(then.report.steps.map((s) => s.where));
    expect(now.report.vantages?.server).toMatchObject({ host: '127.0.0.1', error: null, hostname: then.report.vantages!.server.hostname });
  });
});

const bedUnavailable = await realServicesAvailable([]);
if (bedUnavailable) console.warn(`skipping record and replay on the Debian bed: ${bedUnavailable}`);

describe.skipIf(bedUnavailable !== null)('whyport record on a real Debian server under systemd, replayed once it is stopped', () => {
  let bed: SystemdTestbed;
  let dir: string;
  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    bed = await startSystemdTestbed({ realServices: true });
    dir = mkdtempSync(join(tmpdir(), 'wpt-record-bed-'));
  }, 60_000);
  afterAll(async () => {
    await bed?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a failed unit with a password in its environment: SERVICE_FAILED, the same after the bed is gone, the password nowhere', async () => {
    await bed.writeUnit('myapp.service', "[Unit]\nDescription=My app\n\n[Service]\nEnvironment=DB_PASSWORD=hunter2\nExecStart=/bin/sh -c 'echo \"myapp: cannot open /etc/myapp/myapp.conf: No such file or directory\" >&2; exit 1'\n");
    await bed.daemonReload();
    await bed.exec(['systemctl', 'start', 'myapp.service']);
    for (let i = 0; i < 100 && (await bed.exec(['systemctl', 'is-active', 'myapp.service'])).stdout.trim() !== 'failed'; i++) await new Promise((r) => setTimeout(r, 100));
    const inBed = join(bed.tmpDir, 'myapp.json');
    const then = await whyportIn(bed, ['record', '127.0.0.1', '7071', '--service', 'myapp', '-o', inBed, '--json', '--yes']);
    const report = JSON.parse(then.stdout) as Report;
    expect(report.diagnosis.code, then.stderr).toBe('SERVICE_FAILED');
    const file = join(dir, 'myapp.json');
    copyFileSync(inBed, file);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('DB_PASSWORD=REDACTED');
    await bed.stop();

    const now = await cli([], ['127.0.0.1', '7071', '--replay', file]);
    expect(now.report.diagnosis.code, trace(now)).toBe('SERVICE_FAILED');
    expect(path(now.report)).toEqual(path(report));
    expect(now.report.diagnosis.evidence).toEqual(report.diagnosis.evidence);
  });
});
