import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJournal } from '../../src/system/systemd/journal.js';
import { parseExecCommand, parseSystemctlShow, parseSystemctlShowBlocks, statusFromProperties } from '../../src/system/systemd/show.js';
import { listenPort, parseSocketUnits } from '../../src/system/systemd/sockets.js';
import type { UnitDetails } from '../../src/system/systemd/units.js';
import { endingText, lastEnding, unitOutcome, unitVerdict } from '../../src/analysis/unit-failure.js';
import { isConfigTest } from '../../src/knowledge/failure-words.js';

/**
 * The wording of a unit's failure, on `systemctl show` and journal output captured from the real
 * Debian packages under a real systemd 252 (test/fixtures/systemd-real/README.md says how).
 */
const DIR = join(import.meta.dirname, '..', 'fixtures', 'systemd-real');
const text = (name: string) => readFile(join(DIR, name), 'utf8');

async function details(name: string): Promise<UnitDetails> {
  const s = statusFromProperties('x', parseSystemctlShow(await text(name)));
  if (!('subState' in s)) throw new Error(`${name}: ${s.state}`);
  return s;
}

const journal = async (name: string) => parseJournal(await text(name));

describe('parseExecCommand', () => {
  it('reads a command that ran, with nginx-style semicolons inside argv', () => {
    expect(
      parseExecCommand('ExecStartPre', '{ path=/usr/sbin/nginx ; argv[]=/usr/sbin/nginx -t -q -g daemon on; master_process on; ; ignore_errors=no ; start_time=[Tue 2026-12-01 20:28:38 UTC] ; stop_time=[Tue 2026-12-01 20:28:38 UTC] ; pid=88 ; code=exited ; status=1 }'),
    ).toEqual({ phase: 'ExecStartPre', path: '/usr/sbin/nginx', argv: '/usr/sbin/nginx -t -q -g daemon on; master_process on;', ignoreErrors: false, code: 'exited', status: 1 });
  });

  it('a command that has not run since the last reload has no code', () => {
    const c = parseExecCommand('ExecStart', '{ path=/bin/sleep ; argv[]=/bin/sleep 100 ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }');
    expect(c).toMatchObject({ argv: '/bin/sleep 100', code: undefined, status: undefined });
  });

  it('keeps every ExecStartPre= line of a unit (systemctl prints the key once per command)', async () => {
    const s = await details('show-exec-start-pre-failed.txt');
    expect(s.commands.map((c) => `${c.phase} ${c.argv} ${c.code ?? '-'} ${c.status ?? '-'}`)).toEqual([
      'ExecStartPre /bin/true exited 0',
      'ExecStartPre /bin/sh -c echo "pre2: config test failed: unknown directive" >&2; exit 1 exited 1',
      'ExecStart /bin/sleep 100 - -',
    ]);
  });
});

describe('the new unit properties (real systemctl show)', () => {
  it('a crash loop: activating (auto-restart), NRestarts, Restart=always', async () => {
    const s = await details('show-crash-loop.txt');
    expect(s).toMatchObject({ unit: 'looper.service', state: 'activating', subState: 'auto-restart', restart: 'always', execMainCode: 'exited', execMainStatus: 2 });
    expect(s.nRestarts).toBeGreaterThanOrEqual(2);
  });

  it("Debian's postgresql.service: a oneshot that stays active (exited) and consists of postgresql@15-main", async () => {
    const s = await details('show-postgresql-wrapper.txt');
    expect(s).toMatchObject({ type: 'oneshot', state: 'active', subState: 'exited', consistsOf: ['postgresql@15-main.service'], wants: ['postgresql@15-main.service'] });
  });

  it('ssh.service is triggered by ssh.socket', async () => {
    expect((await details('show-ssh-start-limit.txt')).triggeredBy).toEqual(['ssh.socket']);
  });

  it('several units in one call come back as one block each', async () => {
    const blocks = parseSystemctlShowBlocks(await text('show-batch-three.txt'));
    expect(blocks.map((b) => `${b.Id} ${b.LoadState} ${b.ActiveState}`)).toEqual(['nginx.service loaded active', 'apache2.service loaded failed', 'nosuch.service not-found inactive']);
  });
});

describe('socket units (systemctl show *.socket)', () => {
  it('reads Listen lines, Triggers and Accept; ssh.socket listens on [::]:22 for ssh.service', async () => {
    const sockets = parseSocketUnits(await text('show-sockets.txt'));
    const ssh = sockets.find((s) => s.unit === 'ssh.socket');
    expect(ssh).toMatchObject({ listen: [{ address: '[::]:22', kind: 'Stream' }], service: 'ssh.service', accept: false });
    const echo = sockets.find((s) => s.unit === 'echo.socket');
    // Accept=yes: no Triggers=, one instance of the template per connection.
    expect(echo).toMatchObject({ accept: true, service: 'echo@.service', listen: [{ address: '[::]:7077' }, { address: '127.0.0.1:7078' }] });
    expect(sockets.find((s) => s.unit === 'dbus.socket')?.listen[0]?.address).toBe('/run/dbus/system_bus_socket');
  });

  it('listenPort takes the port of an address, nothing of a path', () => {
    expect(['[::]:22', '0.0.0.0:80', '127.0.0.1:7078', '22', '/run/dbus/system_bus_socket', 'audit 1'].map(listenPort)).toEqual([22, 80, 7078, 22, undefined, undefined]);
  });
});

describe('unitVerdict: words that match what happened', () => {
  it('apache2 failing because nginx holds port 80: its start command (apachectl, Type=forking) failed', async () => {
    const s = await details('show-apache2-port-taken.txt');
    const j = await journal('journal-apache2-port-taken.txt');
    const v = unitVerdict(s, j);
    // systemd forgot the exit status at a daemon-reload; the journal still has it.
    expect(lastEnding(s, j)).toMatchObject({ process: 'control', code: 'exited', status: 1 });
    expect(v).toMatchObject({ kind: 'start-command', exit: 'exit status 1', headline: 'apache2.service has failed: its start command failed (apachectl start, exit status 1)' });
  });

  it('the same read from the ExecStart= property, before any daemon-reload', async () => {
    const s = await details('show-apache2-port-taken-fresh.txt');
    expect(s.commands.find((c) => c.phase === 'ExecStart')).toMatchObject({ code: 'exited', status: 1 });
    expect(unitVerdict(s, []).headline).toBe('apache2.service has failed: its start command failed (apachectl start, exit status 1)');
  });

  it("a failed ExecStartPre that is not a configuration test is 'a command it runs before starting'", async () => {
    const v = unitVerdict(await details('show-exec-start-pre-failed.txt'), []);
    expect(v.kind).toBe('pre-start');
    expect(v.headline).toBe('pre2.service has failed: a command it runs before starting failed (sh -c echo "pre2: …, exit status 1)');
  });

  it("sshd -t failing is 'its configuration test failed', and after 5 starts in 10 s the start limit is named", async () => {
    const s = await details('show-ssh-start-limit.txt');
    const j = await journal('journal-ssh-bad-config.txt');
    const v = unitVerdict(s, j);
    expect(v.kind).toBe('start-limit');
    expect(v.headline).toContain('it died too often and systemd stopped trying (start-limit-hit; exit status 255)');
    expect(v.story).toContain('more than 5 starts within 10s');
    // Without the limit, the same failure reads as a configuration test.
    const once = unitVerdict(s, j.filter((l) => !l.includes('Start request repeated too quickly')));
    expect(once.kind).toBe('config-test');
    expect(once.headline).toBe('ssh.service has failed: its configuration test failed (sshd -t, exit status 255)');
  });

  it('a crash loop says it is restarting in a loop, with the count', async () => {
    const s = await details('show-crash-loop.txt');
    const v = unitVerdict(s, await journal('journal-crash-loop.txt'));
    expect(v.kind).toBe('crash-loop');
    expect(v.headline).toBe(`looper.service is restarting in a loop (${s.nRestarts} restarts so far; exit status 2)`);
    expect(v.story).toContain('Restart=always');
  });

  it('a slow start says for how long and its TimeoutStartSec', async () => {
    const s = await details('show-slow-start.txt');
    const v = unitVerdict(s, [], s.startedMonotonicUs! + 12_400_000);
    expect(v).toMatchObject({ kind: 'starting', startingForMs: 12_400, headline: 'slowpoke.service is still starting (start for 12 s; systemd waits up to 2min (TimeoutStartSec))' });
    expect(v.story).toContain('has not yet told systemd it is ready (Type=notify)');
  });

  it("PostgreSQL's cluster unit: an ignored ExecStart=- failure still explains Result: protocol", async () => {
    const s = await details('show-postgresql-15-main-failed.txt');
    expect(s.result).toBe('protocol');
    const v = unitVerdict(s, await journal('journal-postgresql-15-main.txt'));
    expect(v.headline).toMatch(/^postgresql@15-main\.service has failed: its start command failed \(pg_ctlcluster --skip-systemctl-redirect 15-main start, exit status 1\)$/);
  });

  it('signals are named, with what they usually mean', () => {
    expect(endingText({ code: 'killed', status: 9 })).toBe('killed by SIGKILL — the OOM killer, or someone');
    expect(endingText({ code: 'killed', status: 9 }, ['kernel: Out of memory: Killed process 812 (java)'])).toBe('killed by SIGKILL — the OOM killer (out of memory)');
    expect(endingText({ code: 'dumped', status: 11 })).toBe('killed by SIGSEGV (core dumped) — a crash: a segmentation fault in the program');
    expect(endingText({ code: 'exited', status: 3 })).toBe('exit status 3');
  });

  it('the seed wording is unchanged for a main process that exits', () => {
    const s = { ...baseUnit(), state: 'failed', subState: 'failed', result: 'exit-code', execMainCode: 'exited', execMainStatus: 1 } as UnitDetails;
    expect(unitVerdict(s, [])).toMatchObject({ kind: 'exit', headline: 'myapp.service has failed (exit status 1)', story: 'systemd started myapp.service and its main process exited with exit status 1' });
  });
});

describe('isConfigTest', () => {
  it('knows the configuration tests of common daemons, and nothing else', () => {
    expect(['/usr/sbin/nginx -t -q -g daemon on;', '/usr/sbin/sshd -t', '/usr/sbin/apachectl configtest', '/usr/sbin/haproxy -c -f /etc/haproxy/haproxy.cfg', '/usr/bin/named-checkconf'].map(isConfigTest)).toEqual([true, true, true, true, true]);
    expect(['/usr/sbin/nginx -g daemon on;', '/bin/true', '/usr/sbin/sshd -D'].map(isConfigTest)).toEqual([false, false, false]);
  });
});

function baseUnit(): Omit<UnitDetails, 'state'> {
  return {
    unit: 'myapp.service',
    loadState: 'loaded',
    description: 'My App',
    subState: 'dead',
    result: undefined,
    mainPid: undefined,
    execMainCode: undefined,
    execMainStatus: undefined,
    execMainStatusText: undefined,
    since: undefined,
    fragmentPath: undefined,
    journal: [],
    type: 'simple',
    nRestarts: 0,
    restart: 'no',
    timeoutStart: '1min 30s',
    startedMonotonicUs: undefined,
    triggeredBy: [],
    triggers: [],
    consistsOf: [],
    wants: [],
    commands: [],
    startLimit: { burst: 5, interval: '10s' },
  };
}

describe('a crash loop caught in the moment it runs', () => {
  const journalOf = (n: number) => [
    '2026-12-06T22:20:01+0000 vm sh[370]: looper: cannot connect to redis at 127.0.0.1:6390: Connection refused',
    '2026-12-06T22:20:01+0000 vm systemd[1]: looper.service: Main process exited, code=exited, status=2/INVALIDARGUMENT',
    "2026-12-06T22:20:01+0000 vm systemd[1]: looper.service: Failed with result 'exit-code'.",
    `2026-12-06T22:20:02+0000 vm systemd[1]: looper.service: Scheduled restart job, restart counter is at ${n}.`,
    '2026-12-06T22:20:02+0000 vm systemd[1]: Stopped looper.service - Crashes every second.',
    '2026-12-06T22:20:02+0000 vm systemd[1]: Started looper.service - Crashes every second.',
  ];
  it('running, restarted again and again just now: the crash loop, not a running unit', async () => {
    const looping = { ...(await details('show-crash-loop.txt')), state: 'active' as const, subState: 'running', nRestarts: 12 };
    const v = unitVerdict(looping, journalOf(12));
    expect(v.kind).toBe('crash-loop');
    expect(v.headline).toMatch(/^looper\.service is restarting in a loop \(12 restarts so far; exit status 2.*; running again for the moment\)$/);
    expect(unitOutcome(looping, v, false)).toBe('failed');
  });
  it('running after a restart or two, or with no restart in its last lines: running', async () => {
    const base = { ...(await details('show-crash-loop.txt')), state: 'active' as const, subState: 'running' };
    expect(unitVerdict({ ...base, nRestarts: 1 }, journalOf(1)).kind).toBe('running');
    expect(unitVerdict({ ...base, nRestarts: 12 }, [...journalOf(12), ...Array.from({ length: 6 }, (_, i) => `2026-12-06T22:2${i}:00+0000 vm looper[371]: served request ${i}`)]).kind).toBe('running');
  });
});
