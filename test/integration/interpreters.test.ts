import { execa } from 'execa';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report, StepRecord } from '../../src/report/model.js';
import { sshHost } from '../../src/host/ssh/host.js';
import { isNamedProcess } from '../../src/system/processes.js';
import { freePort, python3Path } from '../helpers/servers.js';
import { loopbackSuite, sshdAvailable } from '../helpers/ssh.js';

/**
 * Programs run by an interpreter are found by their script or jar, as the README promises, in
 * every step that looks for a process: `python3 /srv/myapp.py` is myapp to the process step, the
 * process-listeners step and the owner step alike. Real processes, real sockets on loopback.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const has = (tool: string) => !spawnSync(tool, ['-version'], { stdio: 'ignore' }).error;
const PYTHON = python3Path();
const JAVA = has('java') && has('javac') && has('jar');
if (!PYTHON) console.warn('skipping the python3 and bash cases: no /usr/bin/python3');
if (!JAVA) console.warn('skipping the java -jar case: java, javac or jar is missing (apt-get install -y default-jdk-headless)');

interface Program {
  /** The name a person gives: the script's or jar's base name without its extension. */
  name: string;
  port: number;
  child: ChildProcess;
}

const dir = mkdtempSync(join(tmpdir(), 'wpt-interp-'));
const programs = new Map<string, Program>();

/** Starts argv (its word PORT replaced by a free port) and waits until it listens there (a connect succeeds). */
async function start(key: string, name: string, template: string[]): Promise<void> {
  const port = await freePort();
  const argv = template.map((w) => (w === 'PORT' ? String(port) : w));
  // Its own process group: bash's sleep goes with it.
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], cwd: dir, detached: true });
  programs.set(key, { name, port, child });
  const until = Date.now() + 15_000;
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), done(true)));
      s.once('error', () => done(false));
    });
    if (ok) return;
    if (child.exitCode !== null || Date.now() > until) throw new Error(`${argv.join(' ')} did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function whyport(args: string[]): Promise<{ status: number; report: Report; stderr: string }> {
  const r = await execa(process.execPath, [CLI, ...args, '--json', '--yes'], { reject: false, timeout: 30_000, cwd: ROOT, stdin: 'ignore' });
  return { status: r.exitCode ?? -1, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}
const step = (report: Report, id: string): StepRecord => {
  const s = report.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}: ${report.steps.map((x) => `${x.id}=${x.outcome}`).join(' → ')}`);
  return s;
};

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const listen = (lang: 'py' | 'js') =>
    lang === 'py'
      ? 'import socket, sys, time\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind((sys.argv[1], int(sys.argv[2])))\ns.listen(8)\ntime.sleep(600)\n'
      : "require('net').createServer().listen(Number(process.argv[3]), process.argv[2]);\n";
  const starts: Promise<void>[] = [];
  if (PYTHON) {
    writeFileSync(join(dir, 'myapp.py'), listen('py'));
    starts.push(start('python3', 'myapp', [PYTHON, join(dir, 'myapp.py'), '127.0.0.1', 'PORT']));
  }
  writeFileSync(join(dir, 'webapi.js'), listen('js'));
  // `node --no-warnings SCRIPT`: an option before the script, as service files often have.
  starts.push(start('node', 'webapi', [process.execPath, '--no-warnings', join(dir, 'webapi.js'), '127.0.0.1', 'PORT']));
  if (PYTHON) {
    // `bash nightly.sh` holding a listening socket: a launcher binds it on fd 9 and execs bash,
    // which keeps it; the script's own child (sleep) gets it closed.
    writeFileSync(join(dir, 'nightly.sh'), 'sleep 600 9>&- &\nwait $!\n');
    const launch = `import os, socket, sys\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('127.0.0.1', int(sys.argv[1])))\ns.listen(8)\nos.dup2(s.fileno(), 9)\ns.close()\nos.execvp('bash', ['bash', sys.argv[2]])\n`;
    writeFileSync(join(dir, 'launch.py'), launch);
    starts.push(start('bash', 'nightly', [PYTHON, join(dir, 'launch.py'), 'PORT', join(dir, 'nightly.sh')]));
  }
  if (JAVA) {
    writeFileSync(join(dir, 'Shop.java'), 'public class Shop { public static void main(String[] a) throws Exception { var s = new java.net.ServerSocket(Integer.parseInt(a[0]), 8, java.net.InetAddress.getByName("127.0.0.1")); Thread.sleep(600_000); } }\n');
    execFileSync('javac', ['-d', dir, join(dir, 'Shop.java')], { cwd: dir, timeout: 60_000 });
    writeFileSync(join(dir, 'manifest.txt'), 'Main-Class: Shop\n');
    execFileSync('jar', ['cfm', join(dir, 'shop.jar'), join(dir, 'manifest.txt'), '-C', dir, 'Shop.class'], { cwd: dir, timeout: 60_000 });
    starts.push(start('java', 'shop', ['java', '-Xmx64m', '-jar', join(dir, 'shop.jar'), 'PORT']));
  }
  await Promise.all(starts);
}, 90_000);

afterAll(() => {
  for (const p of programs.values()) {
    if (p.child.pid !== undefined && p.child.exitCode === null) {
      try {
        process.kill(-p.child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('programs run by an interpreter, by the name of their script', () => {
  for (const key of ['python3', 'node', 'bash', 'java']) {
    it(`${key}: the process step and the process-listeners step find it, on another port: LISTENING_ON_OTHER_PORT`, async (ctx) => {
      const p = programs.get(key);
      if (!p) ctx.skip();
      const other = await freePort();
      const { status, report } = await whyport(['127.0.0.1', String(other), '--process', p!.name]);
      const trail = report.steps.map((s) => `${s.id}=${s.outcome}`).join(' → ');
      expect(step(report, 'process'), trail).toMatchObject({ outcome: 'running' });
      expect(step(report, 'process').evidence.pids).toContain(p!.child.pid);
      expect(step(report, 'process-ports')).toMatchObject({ outcome: 'other-ports' });
      expect(step(report, 'process-ports').evidence.ports).toContain(p!.port);
      expect(report.diagnosis.code, trail).toBe('LISTENING_ON_OTHER_PORT');
      expect(status).toBe(1);
    }, 30_000);

    it(`${key}: the owner step takes it for the program named`, async (ctx) => {
      const p = programs.get(key);
      if (!p) ctx.skip();
      const { report } = await whyport(['127.0.0.1', String(p!.port), '--process', p!.name]);
      const trail = report.steps.map((s) => `${s.id}=${s.outcome}`).join(' → ');
      expect(step(report, 'owner'), trail).toMatchObject({ outcome: 'expected' });
      expect(report.diagnosis.code, trail).not.toBe('PORT_TAKEN');
    }, 30_000);
  }

  it('an argument of the script is not the program (myapp.py 127.0.0.1 PORT is not PORT)', async (ctx) => {
    const p = programs.get('python3');
    if (!p) ctx.skip();
    const { report } = await whyport(['127.0.0.1', String(await freePort()), '--process', String(p!.port)]);
    expect(step(report, 'process')).toMatchObject({ outcome: 'not-running' });
  }, 30_000);
});

const sshSkip = await sshdAvailable();
if (sshSkip) console.warn(`skipping the ssh host case: ${sshSkip}`);

describe.skipIf(sshSkip !== null)('over ssh: the same scan over a snapshot of the server\'s /proc', () => {
  const loopback = loopbackSuite();

  it('finds each program by its script, and the owner of its socket by the same name', async () => {
    for (const p of programs.values()) {
      const host = sshHost(loopback.session);
      const found = await host.processes({ name: p.name, match: 'name' });
      expect(found.map((x) => x.pid), p.name).toContain(p.child.pid);
      const comm = readFileSync(`/proc/${p.child.pid}/comm`, 'utf8').trim();
      expect(await isNamedProcess(host, p.child.pid!, comm, p.name), p.name).toBe(true);
    }
  }, 30_000);
});
