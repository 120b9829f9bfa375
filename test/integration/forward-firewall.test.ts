import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerLikeHost, type DockerLikeHost } from '../helpers/containers.js';
import { netnsSkipReason, type Namespace } from '../helpers/netns.js';
import { REPO_ROOT } from '../helpers/nspawn.js';
import { startListener, stopAllListeners, type Listener } from '../helpers/servers.js';
import type { Report } from '../../src/report/model.js';

/**
 * The forward hook on real namespaces built the way Docker builds them (TESTBED.md): whyport runs
 * in the "host" namespace, where a DNAT rule sends a port to a listener in the "container"; a rule
 * of the FORWARD hook (iptables, then nftables) or net.ipv4.ip_forward = 0 stops what a client in a
 * third namespace sends, and a real connection from that client proves it before whyport is asked.
 */

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const unavailable = netnsSkipReason();
if (unavailable) console.warn(`skipping the forward-hook tests: ${unavailable}`);

const run = (ns: Namespace, argv: string[]) => execFileSync(ns.exec[0]!, [...ns.exec.slice(1), ...argv], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 5_000, encoding: 'utf8' });

describe.skipIf(unavailable !== undefined)('the forward hook: a DNAT to a container, and what the host does with forwarded connections', () => {
  let bed: DockerLikeHost;
  let app: Listener;
  const port = 23000 + (process.pid % 4000) * 2;

  async function whyport(...more: string[]): Promise<{ report: Report; status: number | undefined; trail: string }> {
    const r = await execa(bed.host.exec[0]!, [...bed.host.exec.slice(1), process.execPath, CLI, bed.hostAddress, String(port), '--json', '--yes', '--timeout', '1500', ...more], { reject: false, stdin: 'ignore', timeout: 30_000 });
    let report: Report;
    try {
      report = JSON.parse(r.stdout) as Report;
    } catch {
      throw new Error(`whyport printed no JSON (exit ${r.exitCode})\n${r.stdout}\n${r.stderr}`);
    }
    const trail = `${report.diagnosis.code}: ${report.diagnosis.title}\n${report.steps.map((s) => `  ${s.id} → ${s.outcome}: ${s.summary}`).join('\n')}\n${r.stderr}`;
    return { report, status: r.exitCode, trail };
  }

  /** What a client on another machine meets: answered, or silent (a drop, or forwarding off). */
  async function clientConnects(): Promise<'answered' | 'silent' | 'refused'> {
    const code = `const s=require('net').connect(${port},'${bed.hostAddress}');s.setTimeout(1500,()=>{console.log('silent');process.exit()});s.on('connect',()=>{console.log('answered');process.exit()});s.on('error',(e)=>{console.log(e.code==='ECONNREFUSED'?'refused':'silent');process.exit()})`;
    const r = await execa(bed.client.exec[0]!, [...bed.client.exec.slice(1), process.execPath, '-e', code], { reject: false, stdin: 'ignore', timeout: 10_000 });
    return r.stdout.trim() as 'answered' | 'silent' | 'refused';
  }

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    bed = dockerLikeHost();
    app = await startListener({ host: '0.0.0.0', port: 9000 + (port % 5000), netns: bed.container.name, name: 'forwarded' });
    bed.publish(port, app.port);
  });
  afterAll(async () => {
    await stopAllListeners();
    bed?.remove();
  });

  it('nothing in the forward hook: REACHABLE, and the report says the forward hook was evaluated', async () => {
    expect(await clientConnects()).toBe('answered');
    const r = await whyport();
    expect(r.report.diagnosis.code, r.trail).toBe('REACHABLE');
    expect(r.status).toBe(0);
    const step = r.report.steps.find((s) => s.id === 'forward-firewall');
    expect(step?.outcome, r.trail).toBe('allows');
    expect(r.report.diagnosis.explanation).toContain(`this host forwards IPv4 (net.ipv4.ip_forward = 1), and no rule of its forward hook drops or rejects the connections forwarded to ${bed.containerAddress}:${app.port} (out through ${bed.bridge})`);
  });

  it('iptables: a DROP in FORWARD on the container port is FIREWALL_BLOCKS naming the rule, and its fix deletes it', async () => {
    const rule = ['FORWARD', '-p', 'tcp', '-m', 'tcp', '--dport', String(app.port), '-j', 'DROP'];
    run(bed.host, ['iptables', '-I', ...rule]);
    try {
      expect(await clientConnects()).toBe('silent');
      const r = await whyport();
      expect(r.report.diagnosis.code, r.trail).toBe('FIREWALL_BLOCKS');
      expect(r.status).toBe(1);
      expect(r.report.diagnosis.title).toBe(`The firewall blocks what port ${port} forwards to ${bed.containerAddress}:${app.port}: iptables table filter, chain FORWARD`);
      expect(r.report.diagnosis.explanation).toContain(`\`-A FORWARD -p tcp -m tcp --dport ${app.port} -j DROP\`, which drops them after the DNAT`);
      expect(r.report.diagnosis.explanation).toContain('A connection made on this host itself goes out through OUTPUT, not the forward hook');
      expect(r.report.diagnosis.forward).toMatchObject({ via: 'dnat', to: `${bed.containerAddress}:${app.port}` });
      expect(r.report.diagnosis.fix?.commands).toEqual([`iptables -D FORWARD -p tcp -m tcp --dport ${app.port} -j DROP`]);
      // --fix deletes the rule, and whyport's second look finds the forward open.
      const fixed = await whyport('--fix');
      expect(fixed.report.diagnosis.applied, fixed.trail).toMatchObject({ command: `iptables -D FORWARD -p tcp -m tcp --dport ${app.port} -j DROP`, exitCode: 0, verified: true });
      expect(await clientConnects()).toBe('answered');
    } finally {
      if (run(bed.host, ['iptables', '-S', 'FORWARD']).includes(`--dport ${app.port} -j DROP`)) run(bed.host, ['iptables', '-D', ...rule]);
    }
  });

  it('nftables: a `hook forward` chain that drops the container address and port is FIREWALL_BLOCKS naming its table, chain and rule', async () => {
    run(bed.host, ['nft', 'add', 'table', 'inet', 'wpfwd']);
    run(bed.host, ['nft', 'add', 'chain', 'inet', 'wpfwd', 'forwarded', '{ type filter hook forward priority filter + 10; policy accept; }']);
    run(bed.host, ['nft', 'add', 'rule', 'inet', 'wpfwd', 'forwarded', 'ip', 'daddr', bed.containerAddress, 'tcp', 'dport', String(app.port), 'drop']);
    try {
      expect(await clientConnects()).toBe('silent');
      const r = await whyport();
      expect(r.report.diagnosis.code, r.trail).toBe('FIREWALL_BLOCKS');
      expect(r.report.diagnosis.title).toBe(`The firewall blocks what port ${port} forwards to ${bed.containerAddress}:${app.port}: nftables table inet wpfwd, chain forwarded`);
      expect(r.report.diagnosis.explanation).toContain(`\`ip daddr ${bed.containerAddress} tcp dport ${app.port} drop\``);
      expect(r.report.diagnosis.fix?.commands?.[0]).toMatch(/^nft delete rule inet wpfwd forwarded handle \d+$/);
    } finally {
      run(bed.host, ['nft', 'delete', 'table', 'inet', 'wpfwd']);
    }
  });

  it('net.ipv4.ip_forward = 0: the kernel drops the forwarded connections before any rule; DROPPED_ON_SERVER with its reason and the sysctl that turns forwarding on', async () => {
    run(bed.host, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    try {
      expect(await clientConnects()).toBe('silent');
      const r = await whyport();
      expect(r.report.diagnosis.code, r.trail).toBe('DROPPED_ON_SERVER');
      expect(r.status).toBe(1);
      expect(r.report.diagnosis.title).toBe(`Port ${port} is forwarded to ${bed.containerAddress}:${app.port}, but this host does not forward packets (net.ipv4.ip_forward = 0)`);
      expect(r.report.diagnosis.drop).toEqual({ reason: 'IP_INADDRERRORS', counter: 'IpInAddrErrors', grew: 0 });
      expect(r.report.diagnosis.fix?.commands).toEqual(['sysctl -w net.ipv4.ip_forward=1']);
    } finally {
      run(bed.host, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    }
  });
});
