import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerLikeHost, type DockerLikeHost } from '../helpers/containers.js';
import { netnsSkipReason } from '../helpers/netns.js';
import { REPO_ROOT, startSystemdTestbed, systemdTestbedAvailable, type SystemdTestbed } from '../helpers/nspawn.js';
import { python3Path, startListener, stopAllListeners, type Listener } from '../helpers/servers.js';
import type { Report } from '../../src/report/model.js';


/**
 * Containers and forwards on real namespaces built the way Docker builds them (TESTBED.md,
 * "Docker's bridge networking, rebuilt by hand"): whyport runs in the "host" namespace, or in a
 * client's, and must find the listener inside the "container" and follow the DNAT rule to it.
 */

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const unavailable = netnsSkipReason() ?? (existsSync('/usr/bin/socat') ? undefined : 'socat is not installed (apt-get install socat; .ci/run does)');
if (unavailable) console.warn(`skipping the container tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('containers and forwards: Docker-like namespaces', () => {
  let bed: DockerLikeHost;
  // Ports of their own, so other namespaces on this machine never answer for them.
  const base = 21000 + (process.pid % 4000) * 2;
  const listeners: Listener[] = [];

  async function whyport(where: 'host' | 'client', args: string[]): Promise<{ report: Report; status: number | undefined; stderr: string }> {
    const ns = where === 'host' ? bed.host : bed.client;
    const r = await execa(ns.exec[0]!, [...ns.exec.slice(1), process.execPath, CLI, ...args, '--json', '--yes', '--timeout', '1500'], { reject: false, stdin: 'ignore', timeout: 30_000 });
    try {
      return { report: JSON.parse(r.stdout) as Report, status: r.exitCode, stderr: r.stderr };
    } catch {
      throw new Error(`whyport ${args.join(' ')} printed no JSON (exit ${r.exitCode})\n${r.stdout}\n${r.stderr}`);
    }
  }
  async function whyportText(args: string[]): Promise<string> {
    const r = await execa(bed.host.exec[0]!, [...bed.host.exec.slice(1), process.execPath, CLI, ...args, '--yes', '--timeout', '1500'], { reject: false, stdin: 'ignore', timeout: 30_000, env: { NO_COLOR: '1', COLUMNS: '100' } });
    return r.stdout;
  }
  const trail = (r: { report: Report; stderr: string }) =>
    `${r.report.diagnosis.code}: ${r.report.diagnosis.title}\n${r.report.steps.map((s) => `  ${s.id} → ${s.outcome}: ${s.summary}`).join('\n')}\n${r.stderr}`;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    bed = dockerLikeHost();
  });
  afterAll(async () => {
    await stopAllListeners();
    bed?.remove();
  });

  const listen = async (host: string, port: number, name: string, runtime: 'node' | 'python3' = 'node') => {
    const l = await startListener({ host, port, netns: bed.container.name, name, runtime });
    listeners.push(l);
    return l;
  };

  it('not published: the program listens in the container, and nothing forwards the host port to it', async () => {
    const port = base;
    const app = await listen('0.0.0.0', port, 'webapp');
    const r = await whyport('host', [bed.hostAddress, String(port)]);
    expect(r.report.diagnosis.code, trail(r)).toBe('CONTAINER_NOT_PUBLISHED');
    expect(r.status).toBe(1);
    expect(r.report.diagnosis.namespace).toEqual({ kind: 'netns', name: bed.container.name, pid: app.pid });
    expect(r.report.diagnosis.title).toContain(bed.container.name);
    expect(r.report.steps.find((s) => s.id === 'namespaces')?.summary).toMatch(new RegExp(`webapp \\(pid ${app.pid}\\) listens on 0\\.0\\.0\\.0:${port}`));
    expect(r.report.diagnosis.fix?.commands[0]).toContain(`--to-destination ${bed.containerAddress}:${port}`);
    await app.stop();
  });

  it('published to a listener on loopback only: the forward reaches the container, the program does not listen there', async () => {
    const port = base + 1;
    // python3 keeps its command line (node's process.title overwrites it): the address is seen there.
    const app = await listen('127.0.0.1', 80 + (port % 7000), 'lonely', 'python3');
    bed.publish(port, app.port);
    try {
      const r = await whyport('host', [bed.hostAddress, String(port)]);
      expect(r.report.diagnosis.code, trail(r)).toBe('CONTAINER_BOUND_TO_LOOPBACK');
      expect(r.report.diagnosis.forward).toMatchObject({ via: 'dnat', to: `${bed.containerAddress}:${app.port}` });
      expect(r.report.diagnosis.forward!.rule).toMatch(/--dport \d+ -j DNAT --to-destination/);
      expect(r.report.diagnosis.namespace).toMatchObject({ kind: 'netns', name: bed.container.name });
      // The fix looks inside with the namespace's real pid, quoted as a shell takes it: no PID placeholder.
      expect(r.report.diagnosis.fix?.commands).toEqual([`nsenter -t ${r.report.diagnosis.namespace!.pid} -n ss -Htlnp 'sport = :${app.port}'`]);
      // The listener was started with 127.0.0.1 on its command line: the fix says so, and what to start it with.
      expect(r.report.diagnosis.fix?.summary, JSON.stringify(r.report.steps.find((s) => s.id === 'forward'))).toBe(`Inside, lonely (pid ${app.pid}) was started with \`127.0.0.1\` on its command line: start it again with 0.0.0.0 (every address of the container) in its place — \`${python3Path()} … 0.0.0.0\` — then see where it listens`);
      const text = await whyportText([bed.hostAddress, String(port)]);
      expect(text).toMatch(/CONTAINER_BOUND_TO_LOOPBACK[^]*Forwarded connections arrive at 172\.30\.\d+\.2:\d+[^]*\$ iptables -t nat -S/);
      // From the client it is refused, as a client sees it.
      const c = await whyport('client', [bed.hostAddress, String(port)]);
      expect(c.report.diagnosis.code, trail(c)).toBe('PORT_CLOSED');
    } finally {
      bed.unpublish(port, app.port);
      await app.stop();
    }
  });

  it('published to the wrong port: nothing listens where the forward goes, and whyport says where it does listen', async () => {
    const port = base + 2;
    const app = await listen('0.0.0.0', 8081 + (port % 5000), 'wrongport');
    bed.publish(port, 80);
    try {
      const r = await whyport('host', [bed.hostAddress, String(port)]);
      expect(r.report.diagnosis.code, trail(r)).toBe('FORWARD_TO_NOTHING');
      expect(r.report.steps.find((s) => s.id === 'forward')?.summary).toMatch(new RegExp(`it listens on (\\d+, )*${app.port}\\b`));
      expect(r.report.diagnosis.forward?.to).toBe(`${bed.containerAddress}:80`);
    } finally {
      bed.unpublish(port, 80);
      await app.stop();
    }
  });

  it('a working forward: REACHABLE from the host, saying where the port really goes, and from a client', async () => {
    const port = base + 3;
    const app = await listen('0.0.0.0', 9000 + (port % 5000), 'goodapp');
    bed.publish(port, app.port);
    try {
      const r = await whyport('host', [bed.hostAddress, String(port)]);
      expect(r.report.diagnosis.code, trail(r)).toBe('REACHABLE');
      expect(r.status).toBe(0);
      expect(r.report.diagnosis.title).toContain(`${bed.containerAddress}:${app.port}`);
      expect(r.report.diagnosis.namespace).toMatchObject({ name: bed.container.name, pid: app.pid });
      const c = await whyport('client', [bed.hostAddress, String(port)]);
      expect(c.report.diagnosis.code, trail(c)).toBe('REACHABLE');
    } finally {
      bed.unpublish(port, app.port);
      await app.stop();
    }
  });

  it('a userland proxy (socat) holds the host port and forwards into the container, where it listens on loopback only', async () => {
    const port = base + 4;
    const app = await listen('127.0.0.1', 7000 + (port % 2000), 'behindproxy');
    const proxy = execa(bed.host.exec[0]!, [...bed.host.exec.slice(1), 'socat', `TCP-LISTEN:${port},fork,reuseaddr`, `TCP:${bed.containerAddress}:${app.port}`], { reject: false, stdin: 'ignore', timeout: 60_000 });
    try {
      // socat listens a moment after it starts.
      let r = await whyport('host', [bed.hostAddress, String(port)]);
      for (let i = 0; i < 20 && r.report.steps.find((s) => s.id === 'sockets')?.outcome !== 'listening'; i++) {
        await new Promise((res) => setTimeout(res, 100));
        r = await whyport('host', [bed.hostAddress, String(port)]);
      }
      expect(r.report.diagnosis.code, trail(r)).toBe('CONTAINER_BOUND_TO_LOOPBACK');
      expect(r.report.diagnosis.forward).toMatchObject({ via: 'proxy', to: `${bed.containerAddress}:${app.port}` });
      expect(r.report.steps.find((s) => s.id === 'owner')?.summary).toMatch(/socat/);
    } finally {
      proxy.kill('SIGTERM');
      await proxy;
      await app.stop();
    }
  });

  it('nothing anywhere: no forward, no namespace with the port, the chain goes on as before', async () => {
    const r = await whyport('host', [bed.hostAddress, String(base + 5)]);
    expect(r.report.diagnosis.code, trail(r)).toBe('NOT_LISTENING');
    expect(r.report.steps.map((s) => s.id)).toEqual(expect.arrayContaining(['forward', 'namespaces']));
    const looked = r.report.steps.find((s) => s.id === 'namespaces')!;
    expect(looked.outcome).toBe('none');
    // The command names the namespaces it looked in by their real pids (the container's among them).
    // A few are named by their real pids (the container's among them); many, by the loop that finds them.
    expect(looked.command).not.toMatch(/-t PID\b/);
    expect(looked.command).toMatch(new RegExp(`nsenter -t (\\d+|"\\$pid") -n ss -Htlnp 'sport = :${base + 5}'`));
  });
});

const noSystemd = await systemdTestbedAvailable();
describe.skipIf(unavailable !== undefined || noSystemd !== null)('a program in an nspawn container', () => {
  let sd: SystemdTestbed;
  const port = 23000 + (process.pid % 4000);
  beforeAll(async () => {
    sd = await startSystemdTestbed();
    await sd.writeUnit('inside.service', `[Service]\nExecStart=${process.execPath} -e "require('net').createServer().listen(${port}, '0.0.0.0')"\n`);
    await sd.daemonReload();
    const r = await sd.exec(['systemctl', 'start', 'inside.service']);
    expect(r.exitCode, r.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await sd?.stop();
  });

  it('whyport on this machine finds it in the container\'s namespace: CONTAINER_NOT_PUBLISHED, naming the container and its unit\'s process', async () => {
    let r: { exitCode?: number; stdout: string; stderr: string } = { stdout: '', stderr: '' };
    // The unit's program needs a moment to listen.
    for (let i = 0; i < 40; i++) {
      r = await execa(process.execPath, [CLI, '127.0.0.1', String(port), '--json', '--yes'], { reject: false, stdin: 'ignore', timeout: 30_000 });
      if (JSON.parse(r.stdout).diagnosis.code === 'CONTAINER_NOT_PUBLISHED') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const report = JSON.parse(r.stdout) as Report;
    expect(report.diagnosis.code, `${report.diagnosis.title}\n${r.stderr}`).toBe('CONTAINER_NOT_PUBLISHED');
    expect(report.diagnosis.namespace).toMatchObject({ kind: 'netns', name: sd.name });
    expect(report.steps.find((s) => s.id === 'namespaces')?.summary).toMatch(new RegExp(`node \\(pid \\d+\\) listens on 0\\.0\\.0\\.0:${port} inside network namespace ${sd.name}`));
  });
});
