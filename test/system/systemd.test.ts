import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execaRunner, type CommandResult, type Runner } from '../../src/system/runner.js';
import { localHost } from '../../src/host/local.js';
import { unitFromCgroup, unitOfPid } from '../../src/system/systemd/cgroup.js';
import { parseJournal, statusLogTail } from '../../src/system/systemd/journal.js';
import { exitText, parseSystemctlShow, statusFromProperties } from '../../src/system/systemd/show.js';
import { unitStatus } from '../../src/system/systemd/status.js';
import { mentionsPort, unitsMentioningPort } from '../../src/system/systemd/unit-files.js';
import { normaliseUnit, statusCommand, type UnitDetails, type UnitStatus } from '../../src/system/systemd/units.js';
import { startSystemdTestbed, systemdTestbedAvailable, type SystemdTestbed } from '../helpers/nspawn.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/systemctl');
const fixture = (name: string): Promise<string> => readFile(join(FIXTURES, name), 'utf8');
// Exit codes checked against the real systemctl: unnamed (LSB, BSD), reserved, systemd-named, EXCEPTION.
const EXIT_CODES = [2, 64, 78, 200, 203, 217, 223, 226, 243, 244, 245, 255];
const TIMESTAMP = /^[A-Z][a-z]{2} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]+$/;

async function showFixture(name: string, unit: string): Promise<UnitStatus> {
  return statusFromProperties(unit, parseSystemctlShow(await fixture(`show-${name}.txt`)));
}

function details(s: UnitStatus): UnitDetails {
  if (s.state === 'no-systemd' || s.state === 'not-found' || s.state === 'error') {
    throw new Error(`expected an active state, got ${JSON.stringify(s)}`);
  }
  return s;
}

/** Replays fixed results; for what cannot happen on demand here (systemctl missing, a hung bus). */
function replayRunner(reply: (argv: readonly string[]) => Partial<CommandResult>): Runner & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async run(argv) {
      calls.push([...argv]);
      return { argv, exitCode: 0, stdout: '', stderr: '', missing: false, timedOut: false, durationMs: 1, ...reply(argv) };
    },
  };
}

describe('normaliseUnit / statusCommand', () => {
  it('appends .service only when the name has no unit suffix', () => {
    expect(normaliseUnit('myapp')).toBe('myapp.service');
    expect(normaliseUnit('nginx.service')).toBe('nginx.service');
    expect(normaliseUnit('docker.socket')).toBe('docker.socket');
    expect(normaliseUnit('my.app')).toBe('my.app.service');
    expect(normaliseUnit('getty@tty1')).toBe('getty@tty1.service');
  });

  it('renders the command a person would type, as they named the unit', () => {
    expect(statusCommand('myapp')).toBe('systemctl status myapp');
    expect(statusCommand('nginx.service')).toBe('systemctl status nginx.service');
    expect(statusCommand('my app')).toBe("systemctl status 'my app'");
  });
});

describe('parseSystemctlShow (captured from systemd 252)', () => {
  it('reads key=value lines, keeping "=" inside values', async () => {
    const props = parseSystemctlShow(await fixture('show-active.txt'));
    expect(props.Description).toBe('Web server on 7071 (PORT=7071)');
    expect(props.LoadState).toBe('loaded');
    expect(props.ActiveState).toBe('active');
    expect(props.ActiveExitTimestamp).toBe('');
    expect(Object.keys(props)).toHaveLength(13);
  });

  it('active: main pid, since, fragment path, no exit recorded', async () => {
    const s = details(await showFixture('active', 'web'));
    expect(s).toMatchObject({
      state: 'active',
      unit: 'web.service',
      loadState: 'loaded',
      subState: 'running',
      result: 'success',
      execMainCode: undefined,
      execMainStatus: undefined,
      execMainStatusText: undefined,
      fragmentPath: '/etc/systemd/system/web.service',
      journal: [],
    });
    expect(s.mainPid).toBeGreaterThan(0);
    expect(s.since).toMatch(TIMESTAMP);
  });

  it('failed with exit 1: result exit-code, status=1/FAILURE, no main pid', async () => {
    const s = details(await showFixture('failed', 'myapp'));
    expect(s).toMatchObject({
      state: 'failed',
      unit: 'myapp.service',
      description: 'My App (fails: missing config)',
      subState: 'failed',
      result: 'exit-code',
      mainPid: undefined,
      execMainCode: 'exited',
      execMainStatus: 1,
      execMainStatusText: 'status=1/FAILURE',
    });
    expect(s.since).toMatch(TIMESTAMP);
  });

  it('failed because the binary is missing: status=203/EXEC', async () => {
    const s = details(await showFixture('failed-exec', 'noexec.service'));
    expect(s).toMatchObject({ state: 'failed', result: 'exit-code', execMainStatus: 203, execMainStatusText: 'status=203/EXEC' });
  });

  it('killed by a signal: result signal, signal=SEGV', async () => {
    const s = details(await showFixture('failed-signal', 'segv'));
    expect(s).toMatchObject({ state: 'failed', result: 'signal', execMainCode: 'killed', execMainStatus: 11, execMainStatusText: 'signal=SEGV' });
  });

  it('crash loop: activating/auto-restart still carries the last exit', async () => {
    const s = details(await showFixture('activating-auto-restart', 'crashloop'));
    expect(s).toMatchObject({ state: 'activating', subState: 'auto-restart', result: 'exit-code', execMainStatusText: 'status=1/FAILURE' });
    expect(s.since).toMatch(TIMESTAMP);
  });

  it('inactive, never started: no since, no exit', async () => {
    const s = details(await showFixture('inactive-never-started', 'idle'));
    expect(s).toMatchObject({ state: 'inactive', subState: 'dead', since: undefined, execMainCode: undefined, mainPid: undefined });
  });

  it('inactive after a stop: systemd has already forgotten the timestamps (the unit was garbage-collected)', async () => {
    const s = details(await showFixture('inactive-stopped', 'stopped'));
    expect(s).toMatchObject({ state: 'inactive', since: undefined, result: 'success' });
  });

  it('masked: inactive with loadState masked', async () => {
    const s = details(await showFixture('masked', 'masked-me'));
    expect(s).toMatchObject({ state: 'inactive', loadState: 'masked' });
  });

  it('not-found', async () => {
    expect(await showFixture('not-found', 'nosuch')).toEqual({ state: 'not-found', unit: 'nosuch.service' });
  });

  it('a name with a space is escaped by systemctl and comes back not-found', async () => {
    expect(await fixture('show-invalid-name.stderr.txt')).toContain('Invalid unit name "bad name"');
    expect((await showFixture('invalid-name.stdout', 'bad name')).state).toBe('not-found');
  });

  it('empty or foreign output is an error, not a guess', () => {
    expect(statusFromProperties('x', parseSystemctlShow(''))).toMatchObject({ state: 'error' });
    expect(statusFromProperties('x', { LoadState: 'loaded', ActiveState: 'maintenance' })).toMatchObject({
      state: 'error',
      message: expect.stringContaining('ActiveState=maintenance'),
    });
  });
});

describe('exitText', () => {
  it('words exits and signals as systemctl status does', () => {
    expect(exitText('exited', 0)).toBe('status=0/SUCCESS');
    expect(exitText('exited', 2)).toBe('status=2');
    expect(exitText('exited', 217)).toBe('status=217/USER');
    expect(exitText('exited', 223)).toBe('status=223');
    expect(exitText('exited', 255)).toBe('status=255/EXCEPTION');
    expect(exitText('killed', 9)).toBe('signal=KILL');
    expect(exitText('dumped', 6)).toBe('signal=ABRT');
  });
});

describe('journal parsing', () => {
  it('keeps the unit lines of journalctl -o short-iso', async () => {
    const lines = parseJournal(await fixture('journal-failed.txt'));
    expect(lines).toHaveLength(4);
    // Date and host name dropped (the same on every line), so the cause fits on one line.
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d sh\[\d+\]: myapp: cannot open \/etc\/myapp\/myapp.conf$/);
    expect(lines.at(-1)).toContain("Failed with result 'exit-code'");
  });

  it('drops journalctl markers: "-- No entries --" in a container and on a host without a journal', async () => {
    expect(parseJournal(await fixture('journal-empty.txt'))).toEqual([]);
    expect(parseJournal(await fixture('journal-no-systemd.stdout.txt'))).toEqual([]);
  });

  it('takes the log lines after the header block of systemctl status', async () => {
    const tail = statusLogTail(await fixture('status-failed.txt'));
    expect(tail).toHaveLength(4);
    expect(tail.some((l) => l.includes('myapp: cannot open /etc/myapp/myapp.conf'))).toBe(true);
    expect(tail.every((l) => !l.includes('Loaded:'))).toBe(true);
    expect(statusLogTail(await fixture('status-inactive-never-started.txt'))).toEqual([]);
  });
});

describe('unitFromCgroup', () => {
  it('reads the unit inside the container (hybrid cgroup v1 + v2 layout)', async () => {
    expect(unitFromCgroup(await fixture('cgroup-container.txt'))).toBe('web.service');
  });

  it('reads the container unit from the host view (/payload/system.slice/web.service)', async () => {
    expect(unitFromCgroup(await fixture('cgroup-host-view-of-container.txt'))).toBe('web.service');
  });

  it('finds no unit on a host without systemd', async () => {
    expect(unitFromCgroup(await fixture('cgroup-host-no-systemd.txt'))).toBeUndefined();
  });

  it('stops at user@UID.service (units below belong to a user manager) and skips slices', () => {
    expect(unitFromCgroup('0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n')).toBe('user@1000.service');
    expect(unitFromCgroup('0::/user.slice/user-1000.slice/session-3.scope\n')).toBe('session-3.scope');
    expect(unitFromCgroup('0::/system.slice\n')).toBeUndefined();
  });

  it('unitOfPid is undefined for a process that does not exist', async () => {
    expect(await unitOfPid(localHost, 2 ** 22 + 12345)).toBeUndefined();
    expect(await unitOfPid(localHost, -1)).toBeUndefined();
  });
});

describe('unitsMentioningPort', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wpt-units-'));
    const etc = join(dir, 'etc');
    const lib = join(dir, 'lib');
    await mkdir(etc);
    await mkdir(lib);
    await mkdir(join(etc, 'multi-user.target.wants'));
    await mkdir(join(etc, 'api.service.d'));
    const unit = (exec: string, extra = ''): string => `[Unit]\nDescription=x\n\n[Service]\n${extra}ExecStart=${exec}\n`;
    await writeFile(join(lib, 'flagged.service'), unit('/usr/bin/app --port 7071'));
    await writeFile(join(lib, 'colon.service'), unit('/usr/bin/app --listen 127.0.0.1:7071'));
    await writeFile(join(etc, 'env.service'), unit('/usr/bin/app', 'Environment=PORT=7071\n'));
    await writeFile(join(etc, 'api.service'), unit('/usr/bin/api'));
    await writeFile(join(etc, 'api.service.d', 'port.conf'), '[Service]\nEnvironment=API_PORT=7071\n');
    await writeFile(join(etc, 'sock.socket'), '[Socket]\nListenStream=7071\n');
    await writeFile(join(lib, 'longer.service'), unit('/usr/bin/app --port 70710'));
    await writeFile(join(lib, 'version.service'), unit('/opt/app-1.7071/bin/app'));
    await writeFile(join(lib, 'comment.service'), `# listens on 7071 by default\n${unit('/usr/bin/app')}`);
    await writeFile(join(lib, 'notes.txt'), 'port 7071\n');
    await symlink('/dev/null', join(etc, 'masked.service'));
    await symlink(join(lib, 'flagged.service'), join(etc, 'multi-user.target.wants', 'flagged.service'));
    // Same name in two dirs: reported once.
    await writeFile(join(etc, 'colon.service'), unit('/usr/bin/app --listen [::]:7071'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds units and drop-ins mentioning the port as a whole number, in search order, once each', async () => {
    const found = await unitsMentioningPort(localHost, 7071, [join(dir, 'etc'), join(dir, 'missing'), join(dir, 'lib')]);
    expect(found).toEqual(['api.service', 'colon.service', 'env.service', 'sock.socket', 'flagged.service']);
  });

  it('finds nothing for a port nobody mentions', async () => {
    expect(await unitsMentioningPort(localHost, 9, [join(dir, 'etc'), join(dir, 'lib')])).toEqual([]);
  });

  it('mentionsPort ignores comments, longer numbers and dotted versions', () => {
    expect(mentionsPort('ExecStart=/x -p 7071', 7071)).toBe(true);
    expect(mentionsPort('ExecStart=/x --port=7071', 7071)).toBe(true);
    expect(mentionsPort('; 7071\n# 7071', 7071)).toBe(false);
    expect(mentionsPort('ExecStart=/x --port 17071', 7071)).toBe(false);
  });

  it('reads the real unit directories without failing', async () => {
    await expect(unitsMentioningPort(localHost, 22)).resolves.toBeInstanceOf(Array);
  });
});

describe('unitStatus without a usable systemd (replayed)', () => {
  it('systemctl not installed → no-systemd', async () => {
    const r = replayRunner(() => ({ exitCode: null, missing: true }));
    expect(await unitStatus(r, 'myapp', { timeoutMs: 1000 })).toEqual({
      state: 'no-systemd',
      unit: 'myapp.service',
      message: 'systemctl is not installed',
    });
  });

  it('the captured no-systemd message → no-systemd, without asking journalctl', async () => {
    const stderr = await fixture('no-systemd.stderr.txt');
    const r = replayRunner(() => ({ exitCode: 1, stderr }));
    expect(await unitStatus(r, 'myapp', { timeoutMs: 1000 })).toEqual({
      state: 'no-systemd',
      unit: 'myapp.service',
      message: "System has not been booted with systemd as init system (PID 1). Can't operate.",
    });
    expect(r.calls).toHaveLength(1);
  });

  it('a timeout → error naming the command', async () => {
    const r = replayRunner(() => ({ exitCode: null, timedOut: true }));
    const s = await unitStatus(r, 'myapp', { timeoutMs: 1500 });
    expect(s).toMatchObject({ state: 'error', message: expect.stringMatching(/^systemctl show .* myapp\.service timed out after 1500 ms$/) });
  });

  it('names that are not unit names (option-like, with spaces) are refused before running anything', async () => {
    const r = replayRunner(() => ({}));
    expect((await unitStatus(r, '--help', { timeoutMs: 1000 })).state).toBe('error');
    expect((await unitStatus(r, 'my app', { timeoutMs: 1000 })).state).toBe('error');
    expect(r.calls).toHaveLength(0);
  });
});

const hostHasSystemd = existsSync('/run/systemd/system');
if (hostHasSystemd) console.warn('skipping the real no-systemd test: this host runs systemd as PID 1');

describe.skipIf(hostHasSystemd)('unitStatus on this host (no systemd as PID 1)', () => {
  it('reports no-systemd with systemctl own words', async () => {
    const s = await unitStatus(execaRunner, 'nginx', { timeoutMs: 5000 });
    expect(s.state).toBe('no-systemd');
    if (s.state === 'no-systemd') expect(s.message).toMatch(/not been booted with systemd|Failed to connect to bus|not installed/);
  });
});

const unavailable = await systemdTestbedAvailable();
if (unavailable) console.warn(`skipping real-systemd tests: ${unavailable}`);

describe.skipIf(unavailable !== null)('against a real systemd (systemd-nspawn)', () => {
  let bed: SystemdTestbed;
  let inside: Runner;

  beforeAll(async () => {
    bed = await startSystemdTestbed();
    console.info(`systemd container ${bed.name} booted in ${bed.bootMs} ms`);
    inside = bed.runner;
    // sleep stands in for a server: only the unit's state matters here, and CI needs no python.
    await bed.writeUnit('web.service', '[Unit]\nDescription=Web\n\n[Service]\nEnvironment=PORT=7071\nExecStart=/bin/sleep infinity\n');
    await bed.writeUnit(
      'myapp.service',
      `[Unit]\nDescription=My App\n\n[Service]\nExecStart=/bin/sh -c 'echo "myapp: cannot open /etc/myapp/myapp.conf" >&2; exit 1'\n`,
    );
    await bed.writeUnit('idle.service', '[Unit]\nDescription=Never started\n\n[Service]\nExecStart=/bin/sleep infinity\n');
    for (const code of EXIT_CODES) await bed.writeUnit(`ex${code}.service`, `[Service]\nExecStart=/bin/sh -c 'exit ${code}'\n`);
    await bed.writeUnit('segv.service', "[Service]\nExecStart=/bin/sh -c 'kill -SEGV $$$$'\n");
    await bed.daemonReload();
    const units = ['web', 'myapp', 'segv', ...EXIT_CODES.map((c) => `ex${c}`)].map((u) => `${u}.service`);
    // Failing units make `systemctl start` exit non-zero; their state is what we test.
    await bed.exec(['systemctl', 'start', ...units], { timeoutMs: 20_000 });
  });

  afterAll(async () => {
    await bed?.stop();
    if (bed) expect(existsSync(`/run/netns/${bed.name}`)).toBe(false);
  });

  it('active: running with a main pid', async () => {
    const s = details(await unitStatus(inside, 'web', { timeoutMs: 5000 }));
    expect(s).toMatchObject({ state: 'active', unit: 'web.service', subState: 'running', fragmentPath: '/etc/systemd/system/web.service' });
    expect(s.mainPid).toBeGreaterThan(1);
    expect(s.since).toMatch(TIMESTAMP);
    expect(s.journal.join('\n')).toContain('Started web.service');
  });

  it('failed: exit-code, status 1, and the journal says why', async () => {
    const s = details(await unitStatus(inside, 'myapp', { timeoutMs: 5000, journalLines: 10 }));
    expect(s).toMatchObject({
      state: 'failed',
      unit: 'myapp.service',
      result: 'exit-code',
      execMainCode: 'exited',
      execMainStatus: 1,
      execMainStatusText: 'status=1/FAILURE',
    });
    expect(s.journal.some((l) => l.includes('myapp: cannot open /etc/myapp/myapp.conf'))).toBe(true);
  });

  it('journalLines limits the journal to the last N lines', async () => {
    const s = details(await unitStatus(inside, 'myapp', { timeoutMs: 5000, journalLines: 2 }));
    expect(s.journal).toHaveLength(2);
    expect(s.journal.at(-1)).toContain("Failed with result 'exit-code'");
  });

  it('falls back to the tail of systemctl status when journalctl gives nothing', async () => {
    const noJournal: Runner = {
      run: (argv, o) => (argv[0] === 'journalctl' ? inside.run(['journalctl-is-not-here', ...argv.slice(1)], o) : inside.run(argv, o)),
    };
    expect((await noJournal.run(['journalctl', '-n', '1'])).missing).toBe(true);
    // systemctl status shows the journal as journald has it at that moment; on a loaded machine
    // it has been seen to lag behind the unit's failure, so give it a few tries.
    let s = details(await unitStatus(noJournal, 'myapp', { timeoutMs: 5000 }));
    for (let i = 0; i < 5 && !s.journal.some((l) => l.includes('myapp: cannot open')); i++) {
      await new Promise((r) => setTimeout(r, 300));
      s = details(await unitStatus(noJournal, 'myapp', { timeoutMs: 5000 }));
    }
    expect(s.journal.some((l) => l.includes('myapp: cannot open /etc/myapp/myapp.conf')), s.journal.join('\n')).toBe(true);
  });

  it('inactive: never started, empty journal', async () => {
    const s = details(await unitStatus(inside, 'idle.service', { timeoutMs: 5000 }));
    expect(s).toMatchObject({ state: 'inactive', subState: 'dead', mainPid: undefined, journal: [] });
  });

  it('not-found', async () => {
    expect(await unitStatus(inside, 'nosuch', { timeoutMs: 5000 })).toEqual({ state: 'not-found', unit: 'nosuch.service' });
  });

  it('a command that does not answer in time is an error, not a hang', async () => {
    const s = await unitStatus(inside, 'web', { timeoutMs: 1 });
    expect(s).toMatchObject({ state: 'error', message: expect.stringContaining('timed out after 1 ms') });
  });

  it('exit texts match what systemctl status prints, for every kind of code', async () => {
    for (const unit of [...EXIT_CODES.map((c) => `ex${c}`), 'segv']) {
      const s = details(await unitStatus(inside, unit, { timeoutMs: 5000, journalLines: 0 }));
      const status = await bed.exec(['systemctl', 'status', '--no-pager', '-n', '0', `${unit}.service`]);
      const theirs = status.stdout.match(/Main PID: \d+ \(code=\w+, ((?:status|signal)=[^)]+)\)/)?.[1];
      expect(theirs, status.stdout).toBeDefined();
      expect(s.execMainStatusText, unit).toBe(theirs);
    }
  });

  it('unitOfPid maps a unit process to its unit, from the host and inside the container', async () => {
    const pid = Number((await bed.exec(['systemctl', 'show', '-p', 'MainPID', '--value', 'web.service'])).stdout.trim());
    expect(pid).toBeGreaterThan(1);
    const cgroup = await bed.exec(['cat', `/proc/${pid}/cgroup`]);
    expect(unitFromCgroup(cgroup.stdout)).toBe('web.service');
    const hostPid = await bed.hostPid(pid);
    expect(hostPid).toBeDefined();
    expect(await unitOfPid(localHost, hostPid!)).toBe('web.service');
  });

  it('unitsMentioningPort finds the unit in the container unit directory', async () => {
    expect(await unitsMentioningPort(localHost, 7071, [bed.unitDir])).toEqual(['web.service']);
  });

  it("bed.host reads inside the container: the pid systemctl gives is the pid whose cgroup is read, and the unit files are the container's", async () => {
    const pid = Number((await bed.exec(['systemctl', 'show', '-p', 'MainPID', '--value', 'web.service'])).stdout.trim());
    // No mapping to a host pid: the cgroup is read where systemctl answered.
    expect(await unitOfPid(bed.host, pid)).toBe('web.service');
    expect((await bed.host.processes({ name: 'sleep', match: 'name' })).map((p) => p.pid)).toContain(pid);
    expect(await bed.host.descendants(1)).toContain(pid);
    // The container's own unit (the bed boots on this machine's /usr: its packages' units are there too).
    expect(await unitsMentioningPort(bed.host, 7071)).toContain('web.service');
    expect((await bed.host.identity()).hostname).toBe(bed.name);
    await expect(bed.host.readFile('/nonexistent/file')).rejects.toMatchObject({ code: 'ENOENT' });
    // The container's systemd status and the host's journal reads agree on one unit.
    const s = details(await unitStatus(bed.host, 'web', { timeoutMs: 5000 }));
    expect(s.mainPid).toBe(pid);
    // A UDP probe from inside, its payload carried as bytes: nothing is bound to 9 there, so the
    // container's own kernel answers with an ICMP port unreachable.
    const udp = await bed.host.probeUdp('127.0.0.1', 9, { timeoutMs: 2000, payload: new Uint8Array([1, 2, 3]), payloadName: 'custom' });
    expect(udp).toMatchObject({ outcome: 'refused', errno: 'ECONNREFUSED', payload: 'custom' });
  });
});
