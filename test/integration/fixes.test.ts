import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/bin/main.js';
import type { Report, StepRecord } from '../../src/report/model.js';
import { createNamespace, netnsSkipReason, removeAllNamespaces, type Namespace } from '../helpers/netns.js';
import { REPO_ROOT } from '../helpers/nspawn.js';
import { freePort, python3Path, startListener, stopAllListeners, uniqueProcessName } from '../helpers/servers.js';

/**
 * The fixes whyport prints are the ones a person can run and that move them forward: commands
 * quoted the way the steps quote them (one form, the one a shell takes), against real listeners
 * and real processes started here, read through main().
 */

interface Run {
  status: number;
  out: string;
  stderr: string;
}

async function run(...args: string[]): Promise<Run> {
  let out = '';
  let stderr = '';
  const status = await main(args, {
    stdout: (t) => void (out += t),
    stderr: (t) => void (stderr += t),
    environment: { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: { ...process.env, NO_COLOR: '1', COLUMNS: '200' } },
  });
  return { status, out, stderr };
}

async function json(...args: string[]): Promise<Report> {
  const r = await run(...args, '--json');
  try {
    return JSON.parse(r.out) as Report;
  } catch {
    throw new Error(`whyport ${args.join(' ')} --json printed no JSON (exit ${r.status}).\n${r.out}\n${r.stderr}`);
  }
}

const trace = (r: Report) => `${r.diagnosis.code}: ${r.diagnosis.title}\n${r.steps.map((s) => `  ${s.id} → ${s.outcome}: ${s.summary}`).join('\n')}`;

function step(r: Report, id: string): StepRecord {
  const s = r.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step '${id}':\n${trace(r)}`);
  return s;
}

afterEach(async () => {
  await stopAllListeners();
});
afterAll(async () => {
  await stopAllListeners();
  removeAllNamespaces();
});

describe('fix commands are printed in the one form a shell takes, as the steps print theirs', () => {
  it('PORT_TAKEN: the fix lists the listeners exactly as the listening step shows its command, in JSON, text and Markdown', async () => {
    const l = await startListener({ host: '127.0.0.1', name: uniqueProcessName('holder') });
    const args = ['127.0.0.1', String(l.port), '--process', 'nosuchprog-xyz', '--yes'];
    const r = await json(...args);
    expect(r.diagnosis.code, trace(r)).toBe('PORT_TAKEN');
    const shown = `ss -Htlnp 'sport = :${l.port}'`;
    expect(step(r, 'listening').command).toBe(shown);
    expect(r.diagnosis.fix?.commands).toEqual([shown]);
    const text = await run(...args);
    expect(text.out.split('\n').map((line) => line.trim())).toContain(shown);
    expect(text.out).not.toContain(`ss -Htlnp sport = :${l.port}`);
    const md = await run(...args, '--markdown');
    expect(md.out.split('\n')).toContain(shown);
  });
});

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const unavailable = netnsSkipReason() ?? (python3Path() ? undefined : 'python3 is not installed');
if (unavailable) console.warn(`skipping the bind-source tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('BOUND_TO_LOOPBACK / BOUND_TO_OTHER_ADDRESS: the fix names where the address comes from', () => {
  let ns: Namespace;
  let dir: string;
  const children: ChildProcess[] = [];
  const py = python3Path()!;
  let port = 7300;

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    ns = createNamespace({ addresses: ['10.213.9.2/24', '10.213.9.3/24'] });
    dir = mkdtempSync(join(tmpdir(), 'wpt-bind-'));
  });
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    ns?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A real program in the namespace, with its real command line, once its port listens. */
  async function start(argv: string[], listenPort: number): Promise<ChildProcess> {
    const child = spawn(ns.exec[0]!, [...ns.exec.slice(1), ...argv], { stdio: 'ignore' });
    children.push(child);
    for (let i = 0; i < 100; i++) {
      const ss = spawnSync(ns.exec[0]!, [...ns.exec.slice(1), 'ss', '-Htln', `sport = :${listenPort}`], { encoding: 'utf8' });
      if (ss.stdout.trim()) return child;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${argv.join(' ')} did not listen on ${listenPort}`);
  }
  async function stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
  async function whyportIn(...args: string[]): Promise<Report> {
    const r = await execa(ns.exec[0]!, [...ns.exec.slice(1), process.execPath, CLI, ...args, '--json', '--yes'], { reject: false, stdin: 'ignore', timeout: 20_000, env: { NO_COLOR: '1' } });
    try {
      return JSON.parse(r.stdout) as Report;
    } catch {
      throw new Error(`whyport ${args.join(' ')} printed no JSON (exit ${r.exitCode})\n${r.stdout}\n${r.stderr}`);
    }
  }

  it('`python3 app.py 127.0.0.1 PORT`: the positional argument, and the command line to start it with instead', async () => {
    const p = port++;
    const app = join(dir, 'app.py');
    writeFileSync(app, 'import socket, sys, time\ns = socket.socket()\ns.bind((sys.argv[1], int(sys.argv[2])))\ns.listen()\ntime.sleep(60)\n');
    const child = await start([py, app, '127.0.0.1', String(p)], p);
    try {
      const r = await whyportIn('10.213.9.2', String(p));
      expect(r.diagnosis.code, trace(r)).toBe('BOUND_TO_LOOPBACK');
      expect(r.diagnosis.fix?.summary).toBe(`python3 (pid ${child.pid}) was started with \`127.0.0.1\` on its command line, which makes it listen on 127.0.0.1:${p} only: stop it and start it again with every address (0.0.0.0 / ::) or 10.213.9.2 in its place`);
      expect(r.diagnosis.fix?.commands).toEqual([`${py} ${app} 0.0.0.0 ${p}`]);
      expect(r.diagnosis.setting).toBeUndefined();
    } finally {
      await stop(child);
    }
  });

  it('`python3 -m http.server --bind 127.0.0.1 PORT`: the option and its value', async () => {
    const p = port++;
    const child = await start([py, '-m', 'http.server', '--bind', '127.0.0.1', String(p)], p);
    try {
      const r = await whyportIn('10.213.9.2', String(p));
      expect(r.diagnosis.code, trace(r)).toBe('BOUND_TO_LOOPBACK');
      expect(r.diagnosis.fix?.summary).toContain('was started with `--bind 127.0.0.1` on its command line');
      expect(r.diagnosis.fix?.commands).toEqual([`${py} -m http.server --bind 0.0.0.0 ${p}`]);
    } finally {
      await stop(child);
    }
  });

  it('BOUND_TO_OTHER_ADDRESS: `--bind 10.213.9.2`, target 10.213.9.3: the same argument is named', async () => {
    const p = port++;
    const child = await start([py, '-m', 'http.server', '--bind', '10.213.9.2', String(p)], p);
    try {
      const r = await whyportIn('10.213.9.3', String(p));
      expect(r.diagnosis.code, trace(r)).toBe('BOUND_TO_OTHER_ADDRESS');
      expect(r.diagnosis.fix?.summary).toContain(`was started with \`--bind 10.213.9.2\` on its command line, which makes it listen on 10.213.9.2:${p} only`);
      expect(r.diagnosis.fix?.commands).toEqual([`${py} -m http.server --bind 0.0.0.0 ${p}`]);
    } finally {
      await stop(child);
    }
  });

  it('a program whose command line does not show the address (node sets its title over it): the command that shows its command line, not the ss query', async () => {
    const l = await startListener({ host: '127.0.0.1', port: port++, netns: ns.name, name: uniqueProcessName('titled') });
    const r = await whyportIn('10.213.9.2', String(l.port));
    expect(r.diagnosis.code, trace(r)).toBe('BOUND_TO_LOOPBACK');
    expect(r.diagnosis.fix?.commands).toEqual([`ps -o args= -p ${l.pid}`]);
    expect(r.diagnosis.fix?.summary).toBe(`Find where ${l.comm} (pid ${l.pid}) takes 127.0.0.1:${l.port} from — its command line below, or its configuration (often bind, listen or host) — and make it listen on every address (0.0.0.0 / ::) or 10.213.9.2, then restart it`);
  });

  it.skipIf(!existsSync('/usr/bin/redis-server') || !existsSync('/etc/redis/redis.conf'))('redis-server with the package\'s /etc/redis/redis.conf: the `bind` line of that file, with its number, as diagnosis.setting', async () => {
    const p = port++;
    // redis rewrites its command line to `redis-server 127.0.0.1:PORT`: the file is found from what whyport knows of redis.
    const child = await start(['/usr/bin/redis-server', '/etc/redis/redis.conf', '--port', String(p), '--daemonize', 'no', '--supervised', 'no', '--logfile', '', '--pidfile', join(dir, 'redis.pid'), '--dir', dir], p);
    try {
      const r = await whyportIn('10.213.9.2', String(p));
      expect(r.diagnosis.code, trace(r)).toBe('BOUND_TO_LOOPBACK');
      expect(r.diagnosis.setting).toEqual({ file: '/etc/redis/redis.conf', line: 87, text: 'bind 127.0.0.1 -::1' });
      expect(r.diagnosis.fix?.summary).toBe(`/etc/redis/redis.conf line 87, \`bind 127.0.0.1 -::1\`, makes redis-server listen on 127.0.0.1:${p} only: change that line to \`bind 0.0.0.0 -::1\` (every address; or name 10.213.9.2), then restart redis-server`);
      expect(r.diagnosis.fix?.commands).toEqual([`sed -i '87s/.*/bind 0.0.0.0 -::1/' /etc/redis/redis.conf`]);
    } finally {
      await stop(child);
    }
  });

  it.skipIf(!existsSync('/usr/bin/memcached') || !existsSync('/etc/memcached.conf'))('memcached -l 127.0.0.1: the line of /etc/memcached.conf its service takes it from, and the argument', async () => {
    const p = port++;
    const child = await start(['/usr/bin/memcached', '-u', 'nobody', '-p', String(p), '-l', '127.0.0.1'], p);
    try {
      const r = await whyportIn('10.213.9.2', String(p));
      expect(r.diagnosis.code, trace(r)).toBe('BOUND_TO_LOOPBACK');
      expect(r.diagnosis.setting).toEqual({ file: '/etc/memcached.conf', line: 35, text: '-l 127.0.0.1' });
      expect(r.diagnosis.fix?.summary).toContain('(its command line has `-l 127.0.0.1`, which its service takes from that file; a copy started by hand takes it from the command line alone)');
    } finally {
      await stop(child);
    }
  });
});

describe('NOT_LISTENING: the fix moves forward, never the query that just came back empty', () => {
  it('a port no program is known for: the search for the configuration and unit files that mention it', async () => {
    const { WELL_KNOWN_PORTS } = await import('../../src/knowledge/well-known.js');
    let port = 0;
    for (let tries = 0; tries < 20 && (port === 0 || WELL_KNOWN_PORTS.some((w) => w.port === port)); tries++) port = await freePort();
    const r = await json('127.0.0.1', String(port), '--yes');
    expect(r.diagnosis.code, trace(r)).toBe('NOT_LISTENING');
    expect(r.diagnosis.fix?.commands).toEqual([`grep -rlswI -- ${port} /etc /usr/lib/systemd/system /lib/systemd/system`]);
    expect(r.diagnosis.fix?.commands).not.toContain(step(r, 'sockets').command);
    expect(r.diagnosis.fix?.summary).toBe(`Start the program that should serve port ${port}: the configuration and unit files that mention port ${port} (the search below) say what is meant to use it`);
  });

  it.skipIf(existsSync('/run/systemd/system'))('a service named on a host without systemd (NOT_LISTENING too): the same search, where it had no fix at all', async () => {
    const port = await freePort();
    const r = await json('127.0.0.1', String(port), '--service', 'nosuchunit', '--yes');
    expect(r.diagnosis.code, trace(r)).toBe('NOT_LISTENING');
    expect(step(r, 'unit').outcome).toBe('no-systemd');
    expect(r.diagnosis.fix?.commands).toEqual([`grep -rlswI -- ${port} /etc /usr/lib/systemd/system /lib/systemd/system`]);
  });

  const memcached = existsSync('/usr/bin/memcached') && (existsSync('/etc/init.d/memcached') || existsSync('/lib/systemd/system/memcached.service'));
  it.skipIf(process.getuid?.() !== 0 || !memcached)('port 11211 with the memcached package installed and not running: how this host starts it, then the search', async () => {
    // A PID namespace of its own, so no other namespace of this machine (another test's container) answers for the port.
    const r = await execa('unshare', ['-p', '-f', '--mount-proc', process.execPath, join(REPO_ROOT, 'dist', 'cli.js'), '127.0.0.1', '11211', '--json', '--yes'], { reject: false, stdin: 'ignore', timeout: 20_000, env: { NO_COLOR: '1' } });
    const report = JSON.parse(r.stdout) as Report;
    expect(report.diagnosis.code, trace(report)).toBe('NOT_LISTENING');
    const systemd = existsSync('/run/systemd/system');
    const start = systemd ? 'systemctl start memcached' : existsSync('/etc/init.d/memcached') ? 'service memcached start' : '/usr/bin/memcached';
    expect(report.diagnosis.fix?.commands).toEqual([start, 'grep -rlswI -- 11211 /etc /usr/lib/systemd/system /lib/systemd/system']);
    expect(report.diagnosis.fix?.summary).toMatch(/^Port 11211 \(memcache\) is usually served by memcached, installed here and not running: start it with /);
  });
});
