import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, saveOutput, step, trace, waitFor, whyportIn, whyportJsonIn, type JsonRun } from '../helpers/cli-in-bed.js';
import { addServerAddress, realServicesAvailable, startSystemdTestbed, type SystemdTestbed } from '../helpers/nspawn.js';

/**
 * whyport on a real Debian server: the real nginx, apache2, PostgreSQL and OpenSSH packages of this
 * machine under a real systemd (systemd-nspawn with a private copy of /etc and /var/lib, see
 * /work/shared/TESTBED.md "Real Debian services"), broken the way real servers break. The real
 * CLI runs inside, next to systemd, as `whyport 10.0.0.5 PORT … --json --yes`.
 *
 * Scenarios that share a port (80: nginx and apache2; 22: ssh) run one after the other in the
 * order below; the others run at once.
 */

const PACKAGES = ['nginx', 'apache2', 'postgresql', 'openssh-server'];
/** Real text reports the README quotes (committed; rewritten only when they change in substance). */
const OUTPUT_DIR = join(import.meta.dirname, '__output__');
const SERVER = '10.0.0.5';

const unavailable = await realServicesAvailable(PACKAGES);
if (unavailable) console.warn(`skipping the real-Debian-services tests: ${unavailable}`);

describe.skipIf(unavailable !== null)('whyport on a real Debian server (nginx, apache2, PostgreSQL, OpenSSH under systemd)', () => {
  let bed: SystemdTestbed;
  let host = SERVER;
  const whyport = (args: string[], timeoutMs?: number) => whyportJsonIn(bed, [host, ...args], timeoutMs);
  const sh = async (...argv: string[]) => (await bed.exec(argv, { timeoutMs: 20_000 })).stdout.trim();
  const isActive = (unit: string) => sh('systemctl', 'is-active', unit);
  const etc = (path: string) => join(bed.root!, 'etc', path);

  /** The runs that need no sequence of their own, started together once the units are ready. */
  let parallel: Record<'loop' | 'slow' | 'chatty' | 'killed' | 'postgres' | 'timeout' | 'template' | 'accept' | 'acceptFailing', Promise<JsonRun>>;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    bed = await startSystemdTestbed({ realServices: true });
    console.info(`Debian server container ${bed.name} booted in ${bed.bootMs} ms`);
    const noAddress = await addServerAddress(bed.name, SERVER);
    if (noAddress) {
      host = '127.0.0.1';
      console.warn(`cannot give the container ${SERVER} (${noAddress}); diagnosing 127.0.0.1 instead`);
    }

    // A crash loop: the reason is in every cycle of the journal, and systemd restarts it forever.
    await bed.writeUnit(
      'looper.service',
      "[Unit]\nDescription=Crashes every second\nStartLimitIntervalSec=0\n\n[Service]\nExecStart=/bin/sh -c 'echo \"looper: cannot connect to redis at 127.0.0.1:6390: Connection refused\" >&2; exit 2'\nRestart=always\nRestartSec=1\n",
    );
    // A genuinely slow start: Type=notify that never notifies.
    await bed.writeUnit('slowpoke.service', '[Unit]\nDescription=Slow to start\n\n[Service]\nType=notify\nExecStart=/bin/sleep 300\nTimeoutStartSec=120\n');
    // The reason first, then a long tail of noise: the reason must still be in the report.
    await bed.writeUnit(
      'chatty.service',
      "[Unit]\nDescription=Talks a lot before it dies\n\n[Service]\nExecStart=/bin/sh -c 'echo \"chatty: FATAL: cannot open /etc/chatty/chatty.conf: No such file or directory\" >&2; for i in $(seq 1 40); do echo \"chatty: flushing cache segment $i of 40\"; done; exit 1'\n",
    );
    await bed.writeUnit('victim.service', '[Unit]\nDescription=Killed from outside\n\n[Service]\nExecStart=/bin/sleep 300\n');
    // systemd gives up waiting for it: Result: timeout.
    await bed.writeUnit('laggard.service', '[Unit]\nDescription=Never ready\n\n[Service]\nType=notify\nExecStart=/bin/sleep 300\nTimeoutStartSec=1\n');
    // A template with instances (like openvpn@ or wg-quick@), named without its instance.
    await bed.writeUnit('tunnel@.service', "[Unit]\nDescription=Tunnel %i\n\n[Service]\nExecStart=/bin/sh -c 'echo \"tunnel %i: no key file /etc/tunnel/%i.key\" >&2; exit 1'\n");
    // Accept=yes: systemd listens, and starts one instance of a template per connection.
    await bed.writeUnit('echo.socket', '[Socket]\nListenStream=7077\nAccept=yes\n');
    await bed.writeUnit('echo@.service', '[Service]\nExecStart=/bin/cat\nStandardInput=socket\n');
    await bed.writeUnit('drop.socket', '[Socket]\nListenStream=7078\nAccept=yes\n');
    await bed.writeUnit('drop@.service', "[Service]\nExecStart=/bin/sh -c 'echo \"drop: cannot load /etc/drop/rules\" >&2; exit 4'\nStandardInput=socket\nStandardError=journal\n");
    await bed.daemonReload();

    // PostgreSQL with a bad setting: Debian's postgresql.service is a oneshot wrapper that stays
    // active (exited); the cluster's own unit postgresql@15-main fails.
    const conf = await pgConf();
    await writeFile(conf, (await readFile(conf, 'utf8')).replace(/^#?shared_buffers = .*$/m, 'shared_buffers = lots'));

    await bed.exec(['systemctl', 'start', 'looper.service', 'chatty.service', 'victim.service', 'postgresql.service', 'tunnel@a.service', 'tunnel@b.service', 'echo.socket', 'drop.socket']);
    await bed.exec(['systemctl', 'start', '--no-block', 'laggard.service']);
    // One connection to drop.socket: its instance fails.
    await bed.exec(['timeout', '2', 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/7078; cat <&3'], { timeoutMs: 5_000 });
    await waitFor(async () => (await isActive('laggard.service')) === 'failed', 'laggard.service to time out');
    await waitFor(async () => (await sh('systemctl', 'list-units', '--all', '--plain', '--no-legend', '--state=failed', 'drop@*')).includes('drop@'), 'an instance of drop@.service to fail');
    await bed.exec(['systemctl', 'start', '--no-block', 'slowpoke.service']);
    await waitFor(async () => (await isActive('victim.service')) === 'active', 'victim.service to run');
    await bed.exec(['systemctl', 'kill', '--signal=SIGKILL', '--kill-whom=main', 'victim.service']);
    await waitFor(async () => (await isActive('victim.service')) === 'failed', 'victim.service to fail');
    await waitFor(async () => (await isActive('chatty.service')) === 'failed', 'chatty.service to fail');
    // Two restarts at least, so the loop is visible in NRestarts.
    await waitFor(async () => Number(await sh('systemctl', 'show', '-P', 'NRestarts', 'looper.service')) >= 2, 'looper.service to restart twice');

    parallel = {
      loop: whyport(['7082', '--service', 'looper']),
      slow: whyport(['7083', '--service', 'slowpoke']),
      chatty: whyport(['7084', '--service', 'chatty']),
      killed: whyport(['7085', '--service', 'victim']),
      postgres: whyport(['5432', '--service', 'postgresql']),
      timeout: whyport(['7086', '--service', 'laggard']),
      template: whyport(['7087', '--service', 'tunnel@']),
      accept: whyport(['7077']),
      acceptFailing: whyport(['7078']),
    };
    for (const p of Object.values(parallel)) p.catch(() => undefined);
  });

  afterAll(async () => {
    await bed?.stop();
  });

  async function pgConf(): Promise<string> {
    const version = (await readFile(join(bed.root!, 'etc', 'postgresql', '15', 'main', 'postgresql.conf'), 'utf8').catch(() => undefined)) ? '15' : undefined;
    if (!version) throw new Error('no PostgreSQL 15 cluster in /etc/postgresql (is the postgresql package installed?)');
    return etc('postgresql/15/main/postgresql.conf');
  }

  describe('port 80: nginx holds it, apache2 failed', () => {
    let named: JsonRun;
    let byProcess: JsonRun;
    let unnamed: JsonRun;

    beforeAll(async () => {
      await bed.exec(['systemctl', 'start', 'nginx.service']);
      await bed.exec(['systemctl', 'start', 'apache2.service']);
      expect(await isActive('nginx.service')).toBe('active');
      expect(await isActive('apache2.service')).toBe('failed');
      [named, byProcess, unnamed] = await Promise.all([whyport(['80', '--service', 'apache2']), whyport(['80', '--process', 'apache2']), whyport(['80'])]);
      const text = await whyportIn(bed, [host, '80', '--service', 'apache2', '--yes', '--no-color']);
      await saveOutput(OUTPUT_DIR, 'real-port-taken.txt', text.stdout, bed.name);
    });

    it('--service apache2 is PORT_TAKEN (exit 1), naming nginx, its pids and its unit, not a false REACHABLE', () => {
      expect(named.report.diagnosis.code, trace(named)).toBe('PORT_TAKEN');
      expect(named.status).toBe(1);
      const owner = step(named, 'owner');
      expect(owner.outcome).toBe('other');
      expect(owner.summary).toMatch(/held by nginx \(pids? [\d, ]+\) in nginx\.service, not by apache2/);
      expect(named.report.diagnosis.title, trace(named)).toMatch(/held by nginx .* so apache2\.service does not serve it/);
    });

    it("quotes why apache2 died: (98)Address already in use: AH00072 …, and says its start command failed", () => {
      const evidence = named.report.diagnosis.evidence ?? [];
      expect(evidence.some((l) => l.includes('(98)Address already in use: AH00072: make_sock: could not bind to address')), trace(named)).toBe(true);
      expect(step(named, 'unit').summary, trace(named)).toMatch(/apache2\.service has failed: its start command failed \(apachectl start, exit status 1\)/);
      expect(named.report.diagnosis.fix?.commands).toEqual(["ss -Htlnp 'sport = :80'", 'systemctl start apache2']);
    });

    it('--process apache2: the same PORT_TAKEN, with the unit guessed from the program name', () => {
      expect(byProcess.report.diagnosis.code, trace(byProcess)).toBe('PORT_TAKEN');
      expect(step(byProcess, 'service').evidence).toMatchObject({ source: 'guess', value: 'apache2' });
      expect((byProcess.report.diagnosis.evidence ?? []).some((l) => l.includes('AH00072')), trace(byProcess)).toBe(true);
    });

    it('no flags: REACHABLE, and the report says who serves the port', () => {
      expect(unnamed.report.diagnosis.code, trace(unnamed)).toBe('REACHABLE');
      expect(unnamed.status).toBe(0);
      expect(step(unnamed, 'owner')).toMatchObject({ outcome: 'unnamed' });
      expect(unnamed.report.diagnosis.explanation).toMatch(/held by nginx .* in nginx\.service/);
    });

    describe('then nginx stopped and apache2 broken by a bad directive', () => {
      let picked: JsonRun;
      let nginxTest: JsonRun;

      beforeAll(async () => {
        await bed.exec(['systemctl', 'stop', 'nginx.service']);
        await writeFile(etc('apache2/conf-enabled/zz-broken.conf'), 'BogusDirective on\n');
        await bed.exec(['systemctl', 'start', 'apache2.service']);
        expect(await isActive('apache2.service')).toBe('failed');
        picked = await whyport(['80']);
        // And nginx with a configuration error: its ExecStartPre (nginx -t) fails.
        await writeFile(etc('nginx/conf.d/zz-broken.conf'), 'server { listen 8088; bogus_directive on; }\n');
        await bed.exec(['systemctl', 'start', 'nginx.service']);
        nginxTest = await whyport(['80', '--service', 'nginx']);
      });

      it('no flags: of the two installed candidates the failed one, apache2, is picked; the others are listed', () => {
        expect(picked.report.diagnosis.code, trace(picked)).toBe('SERVICE_FAILED');
        const ask = step(picked, 'service');
        expect(ask.evidence).toMatchObject({ source: 'guess', value: 'apache2' });
        expect(ask.summary).toMatch(/guessed apache2 \(it has failed/);
        expect(ask.summary).toMatch(/also considered: nginx \(/);
        expect(picked.report.diagnosis.title).toContain('apache2.service has failed');
        expect((picked.report.diagnosis.evidence ?? []).some((l) => l.includes("Invalid command 'BogusDirective'")), trace(picked)).toBe(true);
        expect(picked.report.diagnosis.fix?.commands).toEqual(['systemctl start apache2']);
      });

      it('nginx whose configuration test fails: "its configuration test failed", with the [emerg] line', () => {
        expect(nginxTest.report.diagnosis.code, trace(nginxTest)).toBe('SERVICE_FAILED');
        expect(nginxTest.report.diagnosis.title).toMatch(/^nginx\.service has failed: its configuration test failed \(nginx -t -q .*exit status 1\)$/);
        expect(nginxTest.report.diagnosis.explanation).toContain('configuration test');
        expect(nginxTest.report.diagnosis.explanation).not.toContain('main process exited');
        expect((nginxTest.report.diagnosis.evidence ?? []).some((l) => /\[emerg\].*unknown directive "bogus_directive"/.test(l)), trace(nginxTest)).toBe(true);
      });
    });
  });

  describe('port 22: ssh.socket (socket activation)', () => {
    let listening: JsonRun;
    let listeningText: string;
    let broken: JsonRun;

    beforeAll(async () => {
      await bed.exec(['systemctl', 'start', 'ssh.socket']);
      expect(await isActive('ssh.socket')).toBe('active');
      listening = await whyport(['22', '--process', 'sshd']);
      listeningText = (await whyportIn(bed, [host, '22', '--process', 'sshd', '--yes', '--no-color'])).stdout;
      await saveOutput(OUTPUT_DIR, 'real-socket-activated.txt', listeningText, bed.name);
      // Now break sshd's configuration: each connection starts ssh.service, whose ExecStartPre
      // (sshd -t) fails, until systemd gives up on the socket (service-start-limit-hit).
      await bed.exec(['systemctl', 'stop', 'ssh.service']);
      await appendFile(etc('ssh/sshd_config'), '\nBogusOption yes\n');
      for (let i = 0; i < 8 && (await isActive('ssh.socket')) === 'active'; i++) {
        await bed.exec(['timeout', '2', 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/22; head -c 10 <&3'], { timeoutMs: 5_000 });
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(await isActive('ssh.socket')).toBe('failed');
      broken = await whyport(['22', '--process', 'sshd']);
    });

    it('systemd holding port 22 for ssh.socket is not PORT_TAKEN: REACHABLE, saying so', () => {
      expect(listening.report.diagnosis.code, trace(listening)).toBe('REACHABLE');
      expect(listening.status).toBe(0);
      const owner = step(listening, 'owner');
      expect(owner.outcome).toBe('socket-activated');
      expect(owner.summary).toMatch(/^systemd listens on port 22 for ssh\.socket, which starts ssh\.service on the first connection/);
      expect(owner.command).toContain('systemctl list-sockets');
      expect(step(listening, 'unit').outcome).not.toBe('failed');
    });

    it('the same as text, saved for the README', () => {
      expect(listeningText).toContain('systemd listens on port 22 for ssh.socket');
    });

    it('the socket stopped because its service cannot start: SERVICE_FAILED with sshd\'s own line; the fix resets and starts the socket', () => {
      expect(broken.report.diagnosis.code, trace(broken)).toBe('SERVICE_FAILED');
      expect(broken.report.diagnosis.title).toMatch(/ssh\.socket has stopped listening: ssh\.service failed to start too often/);
      const evidence = broken.report.diagnosis.evidence ?? [];
      expect(evidence.some((l) => l.includes('Bad configuration option: BogusOption')), trace(broken)).toBe(true);
      expect(broken.report.diagnosis.fix?.commands).toEqual(['systemctl reset-failed ssh.service ssh.socket', 'systemctl start ssh.socket']);
    });

    it('--fix after the configuration is repaired: reset, start the socket, REACHABLE again (verified)', async () => {
      const text = await readFile(etc('ssh/sshd_config'), 'utf8');
      await writeFile(etc('ssh/sshd_config'), text.replace(/\nBogusOption yes\n/, '\n'));
      const fixed = await whyport(['22', '--process', 'sshd', '--fix'], 40_000);
      expect(fixed.report.diagnosis.code, trace(fixed)).toBe('SERVICE_FAILED');
      expect(fixed.report.diagnosis.applied, trace(fixed)).toMatchObject({ exitCode: 0, verified: true, after: 'REACHABLE' });
      expect(await isActive('ssh.socket')).toBe('active');
    });
  });

  it('a crash loop (activating auto-restart) is SERVICE_FAILED "restarting in a loop", with the restart count and the reason', async () => {
    const r = await parallel.loop;
    expect(r.report.diagnosis.code, trace(r)).toBe('SERVICE_FAILED');
    expect(r.report.diagnosis.title).toMatch(/^looper\.service is restarting in a loop \(\d+ restarts so far; exit status 2(; running again for the moment)?\)$/);
    expect((r.report.diagnosis.evidence ?? []).some((l) => l.includes('looper: cannot connect to redis at 127.0.0.1:6390: Connection refused')), trace(r)).toBe(true);
  });

  it('a slow start (Type=notify, activating (start)) stays "still starting", with how long and its TimeoutStartSec', async () => {
    const r = await parallel.slow;
    expect(r.report.diagnosis.code, trace(r)).toBe('INCONCLUSIVE');
    expect(r.status).toBe(3);
    expect(r.report.diagnosis.title).toMatch(/^slowpoke\.service is still starting \(start for \d+ s; systemd waits up to 2min \(TimeoutStartSec\)\)$/);
  });

  it('the informative line is kept from a long journal: the FATAL line before 40 lines of noise', async () => {
    const r = await parallel.chatty;
    expect(r.report.diagnosis.code, trace(r)).toBe('SERVICE_FAILED');
    const evidence = r.report.diagnosis.evidence ?? [];
    expect(evidence.some((l) => l.includes('chatty: FATAL: cannot open /etc/chatty/chatty.conf: No such file or directory')), trace(r)).toBe(true);
    expect(evidence.length).toBeLessThan(20);
  });

  it('a unit killed by SIGKILL is named so: "killed by SIGKILL — the OOM killer, or someone"', async () => {
    const r = await parallel.killed;
    expect(r.report.diagnosis.code, trace(r)).toBe('SERVICE_FAILED');
    expect(r.report.diagnosis.title).toBe('victim.service has failed (killed by SIGKILL — the OOM killer, or someone)');
  });

  it('a start that timed out is named so (Result: timeout), with its TimeoutStartSec', async () => {
    const r = await parallel.timeout;
    expect(r.report.diagnosis.code, trace(r)).toBe('SERVICE_FAILED');
    expect(r.report.diagnosis.title).toBe('laggard.service has failed: it did not finish starting within 1s (Result: timeout)');
  });

  it('a template named without its instance (tunnel@) is followed to its failed instances', async () => {
    const r = await parallel.template;
    expect(r.report.diagnosis.code, trace(r)).toBe('SERVICE_FAILED');
    expect(r.report.diagnosis.title).toMatch(/^tunnel@[ab]\.service has failed \(exit status 1\)$/);
    expect(step(r, 'unit').summary).toMatch(/^tunnel@ is a template; its instances: tunnel@a\.service \(failed\), tunnel@b\.service \(failed\)/);
    expect((r.report.diagnosis.evidence ?? []).some((l) => /tunnel [ab]: no key file/.test(l)), trace(r)).toBe(true);
    expect(r.report.diagnosis.fix?.commands?.[0]).toMatch(/^systemctl start tunnel@[ab]$/);
  });

  it('Accept=yes: systemd listens for echo.socket and starts an instance of echo@.service per connection → REACHABLE', async () => {
    const r = await parallel.accept;
    expect(r.report.diagnosis.code, trace(r)).toBe('REACHABLE');
    expect(step(r, 'owner').summary).toBe('systemd listens on port 7077 for echo.socket, which starts an instance of echo@.service for each connection');
  });

  it('Accept=yes whose instances fail: SERVICE_FAILED with the instance\'s own line', async () => {
    const r = await parallel.acceptFailing;
    expect(r.report.diagnosis.code, trace(r)).toBe('SERVICE_FAILED');
    expect(r.report.diagnosis.title).toMatch(/^drop@\S+\.service has failed \(exit status 4\)$/);
    expect((r.report.diagnosis.evidence ?? []).some((l) => l.includes('drop: cannot load /etc/drop/rules')), trace(r)).toBe(true);
  });

  describe("PostgreSQL: the wrapper postgresql.service is active (exited), postgresql@15-main failed", () => {
    it('SERVICE_FAILED names postgresql@15-main.service, and the fix starts that unit', async () => {
      const r = await parallel.postgres;
      expect(await isActive('postgresql.service')).toBe('active');
      expect(r.report.diagnosis.code, trace(r)).toBe('SERVICE_FAILED');
      expect(r.report.diagnosis.title).toMatch(/^postgresql@15-main\.service has failed/);
      expect(step(r, 'unit').summary).toMatch(/^postgresql\.service is only a wrapper \(active \(exited\)\) around postgresql@15-main\.service: /);
      expect(r.report.diagnosis.fix?.commands).toEqual(['systemctl start postgresql@15-main']);
      const text = await whyportIn(bed, [host, '5432', '--service', 'postgresql', '--yes', '--no-color']);
      expect(text.stdout).toContain('postgresql@15-main.service has failed');
      await saveOutput(OUTPUT_DIR, 'real-postgresql-wrapper.txt', text.stdout, bed.name);
    });

    it("the reason comes from PostgreSQL's own log, /var/log/postgresql/postgresql-15-main.log", async () => {
      const r = await parallel.postgres;
      const evidence = r.report.diagnosis.evidence ?? [];
      const from = evidence.findIndex((l) => l === 'from /var/log/postgresql/postgresql-15-main.log:');
      expect(from, trace(r)).toBeGreaterThanOrEqual(0);
      expect(evidence.slice(from).some((l) => l.includes('invalid value for parameter "shared_buffers": "lots"')), trace(r)).toBe(true);
    });
  });
});
