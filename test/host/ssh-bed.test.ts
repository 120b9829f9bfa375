import { execa } from 'execa';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsSkipReason } from '../helpers/netns.js';
import { realServicesAvailable, startSystemdTestbed, type SystemdTestbed } from '../helpers/nspawn.js';
import { startListener, type Listener } from '../helpers/servers.js';
import {
  enableSshInBed,
  routedNetwork,
  sshArgv,
  sshdAvailable,
  startClientFor,
  startLoopbackSshd,
  type BedSsh,
  type LoopbackSshd,
  type RoutedNetwork,
  type TwoHosts,
} from '../helpers/ssh.js';

/**
 * The ssh test bed itself (test/helpers/ssh.ts), before any `--ssh` test leans on it: a private
 * sshd on loopback, the Debian sshd of a real systemd container reached from a client namespace,
 * and a routed network with a firewall on the way. Each server must count the commands run on it.
 */

/** The client options of TESTBED.md, strict about the host key: a wrong known_hosts must fail. */
const strict = (known: string, key: string) => ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${known}`, '-i', key];

const sshdSkip = await sshdAvailable();
if (sshdSkip) console.warn(`skipping the loopback sshd tests: ${sshdSkip}`);
const bedSkip = sshdSkip ?? (await realServicesAvailable(['openssh-server']));
if (bedSkip) console.warn(`skipping the ssh-into-a-bed tests: ${bedSkip}`);
const routedSkip = netnsSkipReason() ?? ((await execa('iptables', ['-V'], { reject: false, timeout: 5_000 })).exitCode === 0 ? undefined : 'iptables is not installed (apt-get install -y iptables)');
if (routedSkip) console.warn(`skipping the routed network test: ${routedSkip}`);

describe.skipIf(sshdSkip !== null)('a private sshd on loopback', () => {
  let sshd: LoopbackSshd;

  beforeAll(async () => {
    const started = performance.now();
    sshd = await startLoopbackSshd();
    console.info(`loopback sshd on port ${sshd.port} answered in ${Math.round(performance.now() - started)} ms`);
  });
  afterAll(async () => sshd?.stop());

  it('lets root in with the test key, checks the host key, and counts one session per command', async () => {
    const before = await sshd.sessionCount();
    const r = await execa('ssh', [...strict(sshd.knownHostsPath, sshd.keyPath), '-p', String(sshd.port), `root@${sshd.host}`, 'true'], {
      reject: false,
      timeout: 10_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await sshd.sessionCount()).toBe(before + 1);

    const viaConfig = await execa(sshArgv(sshd)[0]!, sshArgv(sshd, 'echo $((6 * 7))').slice(1), { reject: false, timeout: 10_000 });
    expect(viaConfig.stdout.trim(), viaConfig.stderr).toBe('42');
    expect(await sshd.sessionCount()).toBe(before + 2);
  });

  it('refuses a host key it does not know (StrictHostKeyChecking=yes holds)', async () => {
    const empty = join(sshd.dir, 'known_hosts.empty');
    await writeFile(empty, '');
    const before = await sshd.sessionCount();
    const r = await execa('ssh', [...strict(empty, sshd.keyPath), '-p', String(sshd.port), `root@${sshd.host}`, 'true'], { reject: false, timeout: 10_000 });
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toMatch(/Host key verification failed/);
    expect(await sshd.sessionCount()).toBe(before);
  });
});

describe.skipIf(bedSkip !== null)('ssh into a real Debian server (ssh.service under systemd-nspawn)', () => {
  let bed: SystemdTestbed;
  let net: TwoHosts;
  let ssh: BedSsh;

  beforeAll(async () => {
    let t = performance.now();
    const lap = () => {
      const ms = Math.round(performance.now() - t);
      t = performance.now();
      return ms;
    };
    bed = await startSystemdTestbed({ realServices: true });
    const boot = lap();
    net = await startClientFor(bed);
    const wire = lap();
    ssh = await enableSshInBed(bed);
    console.info(`bed ${bed.name}: booted in ${boot} ms, client wired in ${wire} ms, ssh.service answering in ${lap()} ms`);
  });
  afterAll(async () => {
    await net?.remove();
    await bed?.stop();
  });

  it('reaches the bed from the client namespace at the address it was wired with', () => {
    expect(ssh.address).toBe(net.server.address);
  });

  it('runs a command in the bed from the client namespace and counts the session in the journal', async () => {
    const before = await ssh.sessionCount();
    const r = await net.runInClient(['ssh', ...strict(ssh.knownHostsPath, ssh.keyPath), `root@${ssh.address}`, 'systemctl is-system-running'], { timeoutMs: 15_000 });
    // is-system-running exits 1 when degraded; the words are what matter.
    expect(['running', 'degraded'], `exit ${r.exitCode}: ${r.stderr}`).toContain(r.stdout.trim());
    expect(await ssh.sessionCount()).toBe(before + 1);

    const viaConfig = await net.runInClient(sshArgv(ssh, 'cat /etc/hostname; systemctl is-active ssh.service'), { timeoutMs: 15_000 });
    expect(viaConfig.stdout.trim().split('\n').at(-1), viaConfig.stderr).toBe('active');
    expect(await ssh.sessionCount()).toBe(before + 2);
  });
});

describe.skipIf(routedSkip !== undefined)('a routed network: client ↔ router ↔ server', () => {
  let net: RoutedNetwork;
  let listener: Listener;
  const PORT = 7071;

  /** One connect from the client namespace: 'connected', an errno code, or 'timeout'. */
  const connectFromClient = async (timeoutMs: number) => {
    const script = `const [h, p, t] = process.argv.slice(1);
const s = require('node:net').connect({ host: h, port: Number(p) });
setTimeout(() => { console.log('timeout'); process.exit(0); }, Number(t));
s.on('connect', () => { console.log('connected'); process.exit(0); });
s.on('error', (e) => { console.log(e.code); process.exit(0); });`;
    const r = await net.runInClient([process.execPath, '-e', script, net.server.address, String(PORT), String(timeoutMs)], { timeoutMs: timeoutMs + 5_000 });
    return r.stdout.trim();
  };

  beforeAll(async () => {
    const started = performance.now();
    net = await routedNetwork();
    listener = await startListener({ host: '0.0.0.0', port: PORT, netns: net.server.netns });
    console.info(`routed network and listener up in ${Math.round(performance.now() - started)} ms`);
  });
  afterAll(async () => {
    await listener?.stop();
    await net?.remove();
  });

  it('connects through the router, and times out once the router drops the port in FORWARD', async () => {
    expect(await connectFromClient(2_000)).toBe('connected');

    const drop = await net.router.exec(['iptables', '-A', 'FORWARD', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP']);
    expect(drop.exitCode, drop.stderr).toBe(0);
    expect(await connectFromClient(1_500)).toBe('timeout');

    // A firewall on the way: the server's own rules are empty, it cannot see why.
    const serverRules = await net.server.exec(['iptables', '-S']);
    expect(serverRules.stdout.trim().split('\n')).toEqual(['-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT']);
  });
});
