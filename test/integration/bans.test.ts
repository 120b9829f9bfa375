import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { CLI, trace, waitFor, whyportJsonIn, type JsonRun } from '../helpers/cli-in-bed.js';
import { realServicesAvailable, startSystemdTestbed, type SystemdTestbed } from '../helpers/nspawn.js';
import { enableSshInBed, sshdAvailable, startClientFor, type BedSsh, type TwoHosts } from '../helpers/ssh.js';

/**
 * Issue 23, "bans named as bans": the real fail2ban package (Debian, its iptables-multiport action)
 * bans the client on the real Debian bed (systemd-nspawn, realServices; /work/shared/TESTBED.md
 * "fail2ban"), nginx on port 80. From the client with --ssh the server's firewall is judged for the
 * client's own address: CLIENT_BANNED (today's false verdict was FILTERED_IN_TRANSIT, "Something
 * between the client and the server refuses port 80"), and --fix lifts the ban. On the server
 * alone, `--from CLIENT` says the same; with no client named, the port is REACHABLE from there and
 * the diagnosis says that some clients are turned away, by which rule, and offers --from.
 */

const PACKAGES = ['nginx', 'fail2ban'];
const JAIL = 'nginx-http-auth';

const JAIL_LOCAL = `[DEFAULT]
banaction = iptables-multiport
backend = polling

[sshd]
enabled = false

[${JAIL}]
enabled = true
port = http,https
logpath = /var/log/nginx/error.log
`;

const unavailable = (await realServicesAvailable(PACKAGES)) ?? (await sshdAvailable());
if (unavailable) console.warn(`skipping the fail2ban tests: ${unavailable}`);

describe.skipIf(unavailable !== null)('a client banned by fail2ban (the real package, under systemd)', () => {
  let bed: SystemdTestbed;
  let net: TwoHosts;
  let ssh: BedSsh;
  let server: string;
  let client: string;
  const sh = async (...argv: string[]) => bed.exec(argv, { timeoutMs: 20_000 });
  const ban = async () => {
    const r = await sh('fail2ban-client', 'set', JAIL, 'banip', client);
    if (r.exitCode !== 0) throw new Error(`fail2ban-client set ${JAIL} banip ${client}: ${r.stderr.trim()}`);
  };
  const banned = async () => (await sh('fail2ban-client', 'get', JAIL, 'banip')).stdout.split(/\s+/).includes(client);
  /** whyport from the client namespace, with --ssh to the bed as root. */
  async function fromClient(more: string[] = [], timeoutMs = 40_000): Promise<JsonRun> {
    const argv = [server, '80', '--ssh', `root@${server}`, '--ssh-option', `UserKnownHostsFile=${ssh.knownHostsPath}`, '--ssh-option', `IdentityFile=${ssh.keyPath}`, '--ssh-option', 'IdentitiesOnly=yes', '--timeout', '1500', '--yes', '--json', ...more];
    const r = await net.runInClient([process.execPath, CLI, ...argv], { timeoutMs, env: { NO_COLOR: '1', NODE_EXTRA_CA_CERTS: '' } });
    if (r.timedOut) throw new Error(`whyport ${argv.join(' ')} timed out\nstderr: ${r.stderr}`);
    try {
      return { status: r.exitCode, stdout: r.stdout, stderr: r.stderr, argv, report: JSON.parse(r.stdout) as Report };
    } catch {
      throw new Error(`whyport ${argv.join(' ')} printed no JSON (exit ${r.exitCode}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    }
  }

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    bed = await startSystemdTestbed({ realServices: true });
    net = await startClientFor(bed);
    ssh = await enableSshInBed(bed, { address: net.server.address });
    server = net.server.address;
    client = net.client.address;
    await writeFile(join(bed.root!, 'etc', 'fail2ban', 'jail.local'), JAIL_LOCAL);
    await mkdir(join(bed.root!, 'var', 'log', 'nginx'), { recursive: true });
    await writeFile(join(bed.root!, 'var', 'log', 'nginx', 'error.log'), '', { flag: 'a' });
    for (const unit of ['nginx.service', 'fail2ban.service']) {
      const r = await sh('systemctl', 'start', unit);
      if (r.exitCode !== 0) throw new Error(`systemctl start ${unit}: ${r.stderr.trim()}\n${(await sh('systemctl', 'status', '--no-pager', '--full', unit)).stdout}`);
    }
    await waitFor(async () => (await sh('fail2ban-client', 'status', JAIL)).exitCode === 0, `fail2ban's jail ${JAIL} to answer`);
    await ban();
    // The bed as the issue describes it: the ban is a REJECT in fail2ban's own chain.
    expect((await sh('iptables', '-S', `f2b-${JAIL}`)).stdout).toContain(`-A f2b-${JAIL} -s ${client}/32 -j REJECT --reject-with icmp-port-unreachable`);
  }, 90_000);

  afterAll(async () => {
    if (bed) await sh('systemctl', 'stop', 'fail2ban.service', 'nginx.service', 'ssh.service');
    await net?.remove();
    await bed?.stop();
  });

  it('with --ssh from the banned client: CLIENT_BANNED, the jail, the address and since when', async () => {
    const r = await fromClient();
    const d = r.report.diagnosis;
    expect(d.code, trace(r)).toBe('CLIENT_BANNED');
    expect(r.status).toBe(1);
    expect(d.ban, trace(r)).toMatchObject({ by: 'fail2ban', jail: JAIL, address: client, since: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) });
    expect(d.title).toBe(`fail2ban jail ${JAIL} bans ${client} since ${d.ban!.since}: port 80 turns that client away`);
    expect(d.fix?.commands).toEqual([`fail2ban-client set ${JAIL} unbanip ${client}`]);
    expect(d.explanation).toContain('ignoreip');
    // The client's own verdict was a refusal: fail2ban's REJECT answers like a closed port.
    expect(r.report.vantages?.client.diagnosis?.code).toBe('PORT_CLOSED');
    expect(r.report.steps.find((s) => s.id === 'probe-remote')?.evidence.source).toBe(client);
  }, 60_000);

  it('on the server alone, --from the client: CLIENT_BANNED', async () => {
    const r = await whyportJsonIn(bed, [server, '80', '--from', client], 30_000);
    expect(r.report.diagnosis.code, trace(r)).toBe('CLIENT_BANNED');
    expect(r.report.diagnosis.ban).toMatchObject({ by: 'fail2ban', jail: JAIL, address: client });
    expect(r.report.steps.find((s) => s.id === 'firewall')?.evidence).toMatchObject({ client, clientHow: 'from' });
  }, 40_000);

  it('on the server alone, no client named: REACHABLE from there, and the diagnosis names the ban rule and offers --from', async () => {
    const r = await whyportJsonIn(bed, [server, '80'], 30_000);
    expect(r.report.diagnosis.code, trace(r)).toBe('REACHABLE');
    expect(r.status).toBe(0);
    const note = `Clients from some addresses are still turned away: \`-A f2b-${JAIL} -s ${client}/32 -j REJECT --reject-with icmp-port-unreachable\` (fail2ban jail ${JAIL}) rejects clients from ${client}/32 on port 80 (http); to check one client, run whyport again with --from ADDRESS.`;
    expect(r.report.diagnosis.explanation).toContain(note);
    expect(r.report.diagnosis.evidence).toContain(note);
  }, 40_000);

  it('--fix --yes from the client lifts the ban, and the re-check from the client connects', async () => {
    expect(await banned()).toBe(true);
    const r = await fromClient(['--fix'], 60_000);
    expect(r.report.diagnosis.code, trace(r)).toBe('CLIENT_BANNED');
    expect(r.report.diagnosis.applied, trace(r)).toMatchObject({ command: `fail2ban-client set ${JAIL} unbanip ${client}`, exitCode: 0, verified: true, after: 'REACHABLE' });
    expect(await banned()).toBe(false);
  }, 70_000);

  // Last: ufw's default deny shuts the bed (ssh included) to everyone outside 10.9.0.0/24.
  it("a source-specific `ufw allow from 10.9.0.0/24 to any port 80`: --from an address outside meets ufw's default deny, and the allow that does not cover it is named", async () => {
    await sh('systemctl', 'stop', 'fail2ban.service');
    // No sysctl changes from ufw in the container (what is tested is its rules, TESTBED.md).
    await writeFile(join(bed.root!, 'etc', 'ufw', 'sysctl.conf'), '');
    for (const argv of [['ufw', '--force', 'enable'], ['ufw', 'allow', 'from', '10.9.0.0/24', 'to', 'any', 'port', '80']]) {
      const r = await sh(...argv);
      if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim() || r.stdout.trim()}`);
    }
    const outside = await whyportJsonIn(bed, [server, '80', '--from', '10.0.0.99'], 30_000);
    const d = outside.report.diagnosis;
    expect(d.code, trace(outside)).toBe('FIREWALL_BLOCKS');
    const firewall = outside.report.steps.find((s) => s.id === 'firewall')!;
    expect(firewall.evidence).toMatchObject({ tool: 'ufw', rule: 'Default: deny (incoming)', policy: true, client: '10.0.0.99', notCovering: "ufw's `80 ALLOW IN 10.9.0.0/24` admits only 10.9.0.0/24, not 10.0.0.99" });
    expect(d.evidence?.[0]).toContain("ufw's `80 ALLOW IN 10.9.0.0/24` admits only 10.9.0.0/24, not 10.0.0.99");
    const inside = await whyportJsonIn(bed, [server, '80', '--from', '10.9.0.5'], 30_000);
    expect(inside.report.diagnosis.code, trace(inside)).toBe('REACHABLE');
  }, 60_000);
});
