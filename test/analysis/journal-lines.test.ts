import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { filterLogLines, informativeLines, mentionsTrouble, pointsElsewhere } from '../../src/analysis/journal-lines.js';
import { parseJournal, statusLogTail } from '../../src/system/systemd/journal.js';

// Real journals of real Debian services and small units under a real systemd (journal/capture.sh),
// and the programs' own log files (program-logs/capture.sh, and the copies next to the journals).
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');
const journal = async (name: string): Promise<string[]> => parseJournal(await readFile(join(FIXTURES, 'journal', `${name}.txt`), 'utf8'));
const logFile = async (dir: string, name: string): Promise<string[]> => (await readFile(join(FIXTURES, dir, name), 'utf8')).split('\n');

// `20:41:52 apachectl[141]: msg` → `apachectl: msg`: what stays the same when the fixtures are captured again.
const bare = (lines: string[]): string[] => lines.map((l) => l.replace(/^\d\d:\d\d:\d\d (\S+?)(?:\[\d+\])?: /, '$1: '));
const indexOf = (lines: string[], part: string): number => lines.findIndex((l) => l.includes(part));

describe('informativeLines', () => {
  it('keeps what apache says between its start and systemd\'s verdict, and drops AH00558 and the start/stop chatter', async () => {
    const lines = await journal('apache2-port-in-use');
    expect(lines.some((l) => l.includes('AH00558'))).toBe(true);
    expect(bare(informativeLines(lines))).toEqual([
      'apachectl: (98)Address already in use: AH00072: make_sock: could not bind to address 127.0.0.1:8080',
      // Not an error word itself, but between two of apache's lines of the same start.
      'apachectl: no listening sockets available, shutting down',
      'apachectl: AH00015: Unable to open logs',
      "apachectl: Action 'start' failed.",
      'apachectl: The Apache error log may have more information.',
      'systemd: apache2.service: Control process exited, code=exited, status=1/FAILURE',
      "systemd: apache2.service: Failed with result 'exit-code'.",
      'systemd: Failed to start apache2.service - The Apache HTTP Server.',
    ]);
  });

  it('collapses a crash loop of 40 restarts into one line per message, newest text, with the count', async () => {
    const lines = await journal('crashloop-start-limit');
    expect(lines.length).toBeGreaterThan(250);
    const chosen = informativeLines(lines);
    expect(bare(chosen)).toEqual([
      'crashloop.sh: crashloop: bind 127.0.0.1:7071: Address already in use (×40)',
      'systemd: crashloop.service: Main process exited, code=exited, status=1/FAILURE (×40)',
      // The newest counter, not the first one.
      'systemd: crashloop.service: Scheduled restart job, restart counter is at 40. (×40)',
      'systemd: crashloop.service: Start request repeated too quickly.',
      "systemd: crashloop.service: Failed with result 'exit-code'. (×41)",
      'systemd: Failed to start crashloop.service - Crash loop until the start limit.',
    ]);
    // The newest occurrence is the one shown: its time and pid are those of the last cycle.
    const lastBind = lines.filter((l) => l.includes('Address already in use')).at(-1)!;
    expect(chosen[0]).toBe(`${lastBind} (×40)`);
  });

  it('keeps the lines after redis\'s FATAL header: they say which setting is wrong', async () => {
    const lines = await journal('redis-server-config-error');
    const chosen = bare(informativeLines(lines));
    expect(chosen.slice(0, 4)).toEqual([
      'redis-server: *** FATAL CONFIG FILE ERROR (Redis 7.0.15) *** (×5)',
      'redis-server: Reading the configuration file, at line 2277 (×5)',
      "redis-server: >>> 'maxmemory lots' (×5)",
      'redis-server: argument must be a memory value (×5)',
    ]);
    expect(chosen).toContain('systemd: redis-server.service: Start request repeated too quickly.');
    expect(chosen.some((l) => /Started|Stopped|Starting/.test(l))).toBe(false);
  });

  it('shows systemd\'s own lines when the program wrote nothing to the journal (redis logs to a file)', async () => {
    const lines = await journal('redis-server-cache-port-in-use');
    expect(lines.every((l) => l.includes('systemd[1]'))).toBe(true);
    expect(bare(informativeLines(lines))).toEqual([
      'systemd: redis-server@cache.service: Main process exited, code=exited, status=1/FAILURE (×5)',
      'systemd: redis-server@cache.service: Scheduled restart job, restart counter is at 5. (×5)',
      'systemd: redis-server@cache.service: Start request repeated too quickly.',
      "systemd: redis-server@cache.service: Failed with result 'exit-code'. (×6)",
      'systemd: Failed to start redis-server@cache.service - Advanced key-value store (cache). (×6)',
    ]);
    expect(pointsElsewhere(lines)).toBe(false);
  });

  it('keeps a reason at the top of a 200-line journal', async () => {
    const lines = await journal('longlog-reason-early');
    const reason = indexOf(lines, 'cannot bind 127.0.0.1:7071: Permission denied');
    expect(lines.length).toBeGreaterThan(190);
    expect(reason).toBeGreaterThanOrEqual(0);
    expect(reason).toBeLessThan(10);
    const chosen = informativeLines(lines);
    expect(chosen[0]).toBe(lines[reason]);
    expect(chosen).toContain(lines.find((l) => l.includes('Main process exited, code=exited, status=1/FAILURE')));
    expect(chosen).toContain(lines.find((l) => l.includes('queue closed by peer')));
    // Of the 190 "processed batch" lines only the last ones, for context.
    expect(chosen.filter((l) => l.includes('processed batch')).length).toBeLessThanOrEqual(3);
    expect(chosen.length).toBeLessThanOrEqual(12);
  });

  it('never cuts off the first reason when 60 later errors fill the budget', async () => {
    const lines = await journal('noisy-reason-early');
    const errors = lines.filter((l) => l.includes('error: upstream timed out'));
    expect(errors.length).toBe(60);
    const chosen = informativeLines(lines);
    expect(chosen.length).toBe(12);
    expect(chosen[0]).toContain('could not open /var/lib/noisy/cache.db: Permission denied');
    expect(chosen).toContain(lines.find((l) => l.includes('Main process exited, code=exited, status=3/NOTIMPLEMENTED')));
    expect(chosen).toContain(lines.find((l) => l.includes('too many upstream errors, exiting')));
    // The rest are the newest of the many, in journal order.
    const kept = chosen.filter((l) => errors.includes(l));
    expect(kept.length).toBeGreaterThan(5);
    expect(kept).toEqual(errors.slice(-kept.length));
  });

  it('prefers the latest attempt and the program\'s own lines when four attempts failed four ways', async () => {
    const lines = await journal('nginx-four-attempts');
    const all = bare(informativeLines(lines));
    expect(all.length).toBeLessThanOrEqual(12);
    expect(all.filter((l) => l.startsWith('nginx:') && l.includes('[emerg]'))).toHaveLength(5);

    const five = bare(informativeLines(lines, { max: 5 }));
    expect(five).toEqual([
      expect.stringContaining('cannot load certificate "/etc/ssl/certs/whyport-missing.pem"'),
      'nginx: nginx: configuration file /etc/nginx/nginx.conf test failed (×3)',
      'systemd: nginx.service: Control process exited, code=exited, status=1/FAILURE (×4)',
      "systemd: nginx.service: Failed with result 'exit-code'. (×4)",
      'systemd: Failed to start nginx.service - A high performance web server and a reverse proxy server. (×4)',
    ]);
    const three = bare(informativeLines(lines, { max: 3 }));
    expect(three[0]).toContain('cannot load certificate');
    expect(three).toContain('nginx: nginx: configuration file /etc/nginx/nginx.conf test failed (×3)');
    expect(three).toContain('systemd: nginx.service: Control process exited, code=exited, status=1/FAILURE (×4)');
    // One more line: the attempt before, rather than older systemd lines.
    expect(bare(informativeLines(lines, { max: 6, tail: 0 })).at(0)).toContain('open() "/etc/nginx/missing.conf" failed');
  });

  it('keeps the bind errors of the latest start and the config error of the one before', async () => {
    const chosen = bare(informativeLines(await journal('nginx-port-in-use')));
    expect(chosen).toContain('nginx: nginx: [emerg] bind() to 127.0.0.1:8080 failed (98: Address already in use) (×5)');
    expect(chosen).toContain('nginx: nginx: [emerg] still could not bind()');
    expect(indexOf(chosen, 'unknown directive "lisen"')).toBeLessThan(indexOf(chosen, 'bind() to'));
  });

  it('keeps what pg_ctlcluster copied from the log into the journal, and sees the pointer to the log', async () => {
    const lines = await journal('postgresql-15-main-bad-setting');
    const chosen = bare(informativeLines(lines));
    expect(chosen).toContainEqual(expect.stringContaining('LOG:  invalid value for parameter "shared_buffers": "lots"'));
    expect(chosen).toContainEqual(expect.stringContaining('FATAL:  configuration file "/etc/postgresql/15/main/conf.d/tuning.conf" contains errors'));
    expect(chosen).toContain('postgresql@15-main: Examine the log output.');
    expect(chosen).toContain("systemd: postgresql@15-main.service: Failed with result 'protocol'.");
    // The run before (started and stopped fine) leaves nothing.
    expect(chosen.some((l) => /Started|Stopped|Deactivated/.test(l))).toBe(false);
    expect(pointsElsewhere(lines)).toBe(true);
  });

  it('keeps a signal, a failed ExecStartPre and a typo in a key name', async () => {
    expect(bare(informativeLines(await journal('killed-sigkill')))).toEqual([
      'sh: killed: loading 2 GB index',
      'systemd: killed.service: Main process exited, code=killed, status=9/KILL',
      "systemd: killed.service: Failed with result 'signal'.",
    ]);
    expect(bare(informativeLines(await journal('prefail-control-process'))).slice(0, 2)).toEqual([
      'sh: prefail: config check: /etc/prefail.conf: No such file or directory',
      'systemd: prefail.service: Control process exited, code=exited, status=2/INVALIDARGUMENT',
    ]);
    expect(bare(informativeLines(await journal('typo-bad-setting')))).toEqual([
      "systemd: /etc/systemd/system/typo.service:5: Unknown key 'ExecStrat' in section [Service], ignoring.",
      'systemd: typo.service: Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.',
    ]);
  });

  it('drops what systemd itself shrugs off', () => {
    // Seen in some captures of nginx-port-in-use here (systemd in a container on cgroup v1), not in all.
    const lines = [
      '20:31:40 nginx[122]: nginx: [emerg] still could not bind()',
      '20:31:40 systemd[1]: nginx.service: Control process exited, code=exited, status=1/FAILURE',
      '20:31:40 systemd[1]: nginx.service: Failed to kill control group /system.slice/nginx.service, ignoring: Input/output error',
      '20:31:40 systemd[1]: nginx.service: Failed to kill control group /system.slice/nginx.service, ignoring: Input/output error',
      "20:31:40 systemd[1]: nginx.service: Failed with result 'exit-code'.",
    ];
    expect(informativeLines(lines)).toEqual([lines[0], lines[1], lines[4]]);
  });

  it('keeps the OOM killer\'s lines', () => {
    // The OOM kill cannot be provoked here (the container gets no memory controller under this
    // host's cgroup v1): the lines as systemd 252 and the kernel word them.
    const lines = [
      '09:12:01 systemd[1]: myapp.service: A process of this unit has been killed by the OOM killer.',
      '09:12:01 systemd[1]: myapp.service: Main process exited, code=killed, status=9/KILL',
      "09:12:01 systemd[1]: myapp.service: Failed with result 'oom-kill'.",
      '09:12:01 systemd[1]: myapp.service: Consumed 2.345s CPU time.',
      '09:12:01 kernel: Out of memory: Killed process 4121 (myapp) total-vm:2097152kB, anon-rss:1048576kB',
    ];
    expect(informativeLines(lines)).toEqual([lines[0], lines[1], lines[2], lines[4]]);
  });

  it('shows the last systemd lines when they are all there is', async () => {
    const lines = (await journal('apache2-port-in-use')).filter((l) => /systemd\[1\]: (Started|Starting|Stopping|Stopped|apache2.service: Deactivated)/.test(l));
    expect(lines.length).toBeGreaterThan(3);
    expect(informativeLines(lines)).toEqual(lines.slice(-3));
  });

  it('reads the journal lines of systemctl status too', async () => {
    const lines = statusLogTail(await readFile(join(FIXTURES, 'systemctl', 'status-failed.txt'), 'utf8'));
    expect(bare(informativeLines(lines))).toEqual([
      'sh: myapp: cannot open /etc/myapp/myapp.conf',
      'systemd: myapp.service: Main process exited, code=exited, status=1/FAILURE',
      "systemd: myapp.service: Failed with result 'exit-code'.",
    ]);
  });

  it('honours max and tail', async () => {
    const lines = await journal('longlog-reason-early');
    expect(informativeLines(lines, { max: 0 })).toEqual([]);
    expect(informativeLines([], {})).toEqual([]);
    expect(informativeLines(lines, { tail: 0 }).some((l) => l.includes('processed batch'))).toBe(false);
    expect(informativeLines(lines, { max: 1 })).toEqual([lines.find((l) => l.includes('Permission denied'))]);
  });
});

describe('pointsElsewhere', () => {
  it('hears pg_ctl and apache point at their own logs', async () => {
    expect(pointsElsewhere(await journal('postgresql-15-main-bad-setting'))).toBe(true);
    expect(pointsElsewhere(await journal('apache2-port-in-use'))).toBe(true);
  });

  it('does not count the journal itself, nor journals that say nothing of the kind', async () => {
    // What `systemctl start` printed for the same units: it points at journalctl and systemctl status.
    expect(pointsElsewhere(await logFile('journal', 'prefail-systemctl-start.stderr.txt'))).toBe(false);
    expect(pointsElsewhere(await logFile('journal', 'typo-systemctl-start.stderr.txt'))).toBe(false);
    for (const name of ['crashloop-start-limit', 'nginx-four-attempts', 'redis-server-config-error', 'longlog-reason-early']) {
      expect(pointsElsewhere(await journal(name)), name).toBe(false);
    }
  });

  it('hears the other usual wordings', () => {
    // mod_ssl's AH02312, and phrasings programs commonly use.
    expect(pointsElsewhere(['09:00:00 apachectl[5]: AH02312: Fatal error initialising mod_ssl, exiting. See /var/log/apache2/error.log for more information'])).toBe(true);
    expect(pointsElsewhere(['09:00:00 app[5]: startup failed, check the error log'])).toBe(true);
    expect(pointsElsewhere(['09:00:00 app[5]: for details see /var/lib/app/crash.txt'])).toBe(true);
    expect(pointsElsewhere(['09:00:00 app[5]: see "journalctl -xe" for details'])).toBe(false);
  });
});

describe('filterLogLines', () => {
  it('keeps nginx\'s bind errors collapsed, after the proxy errors of the run before', async () => {
    const lines = await logFile('program-logs', 'nginx-error.log');
    const chosen = filterLogLines(lines);
    expect(chosen.at(-2)).toMatch(/\[emerg\] \d+#\d+: bind\(\) to 127\.0\.0\.1:18080 failed \(98: Address already in use\) \(×5\)$/);
    expect(chosen.at(-1)).toMatch(/\[emerg\] \d+#\d+: still could not bind\(\)$/);
    expect(chosen.filter((l) => l.includes('connect() failed (111: Connection refused)'))).toHaveLength(3);
    expect(filterLogLines(lines, { max: 2 })).toEqual(chosen.slice(-2));
  });

  it('keeps postgres\'s HINT with its line and the latest start first', async () => {
    const lines = await logFile('program-logs', 'postgresql-15-main.log');
    const chosen = filterLogLines(lines);
    expect(chosen.at(-1)).toMatch(/FATAL: {2}invalid value for parameter "shared_buffers": "lots"$/);
    const bind = indexOf(chosen, 'could not bind IPv4 address "127.0.0.1": Address already in use');
    expect(chosen[bind + 1]).toContain('HINT:  Is another postmaster already running on port 15432?');
    expect(chosen).toContainEqual(expect.stringContaining('FATAL:  could not create any TCP/IP sockets'));
    // "aborting any active transactions" is every fast shutdown, not a reason.
    expect(chosen.some((l) => l.includes('aborting any active transactions'))).toBe(false);
    expect(filterLogLines(lines, { max: 1 })).toEqual([chosen.at(-1)]);
  });

  it('collapses redis\'s repeated bind failures and drops its overcommit warning', async () => {
    const lines = await logFile('program-logs', 'redis-server.log');
    expect(lines.some((l) => l.includes('WARNING Memory overcommit must be enabled'))).toBe(true);
    const chosen = filterLogLines(lines);
    expect(chosen.some((l) => l.includes('overcommit'))).toBe(false);
    expect(chosen.at(-2)).toMatch(/^\d+:M .* # Warning: Could not create server TCP listening socket 127\.0\.0\.1:16379: bind: Address already in use \(×3\)$/);
    expect(chosen.at(-1)).toMatch(/# Failed listening on port 16379 \(TCP\), aborting\. \(×3\)$/);
    // The newest occurrence's text: the pid of the third attempt.
    const lastPid = lines.filter((l) => l.includes('Failed listening')).at(-1)!.split(':')[0];
    expect(chosen.at(-1)!.startsWith(`${lastPid}:M `)).toBe(true);
  });

  it('keeps mod_ssl\'s emerg and apache\'s last word', async () => {
    const chosen = filterLogLines(await logFile('program-logs', 'apache2-error.log'));
    expect(chosen).toContainEqual(expect.stringMatching(/\[ssl:emerg\] .* AH02565: Certificate and private key .* do not match$/));
    expect(chosen.at(-1)).toBe('AH00016: Configuration Failed');
    expect(chosen.some((l) => l.includes('AH00558'))).toBe(false);
  });

  it('has nothing to say about Debian\'s apache error.log when the reason went to the journal', async () => {
    const lines = await logFile('journal', 'apache2-port-in-use.error.log');
    const chosen = filterLogLines(lines);
    expect(chosen).toEqual(lines.filter(Boolean).slice(-3));
    expect(chosen.some(mentionsTrouble)).toBe(false);
  });

  it('reads Debian\'s postgres log of the failed start', async () => {
    const chosen = filterLogLines(await logFile('journal', 'postgresql-15-main-bad-setting.postgresql-15-main.log'));
    expect(chosen[0]).toMatch(/LOG: {2}invalid value for parameter "shared_buffers": "lots"$/);
    expect(chosen).toContain('Examine the log output.');
    expect(chosen.some((l) => l.includes('ready to accept connections'))).toBe(false);
  });
});

describe('mentionsTrouble', () => {
  it('tells error lines from ordinary ones', async () => {
    const lines = (await logFile('program-logs', 'postgresql-15-main.log')).filter(Boolean);
    const trouble = lines.filter(mentionsTrouble).map((l) => l.replace(/^.*?\] /, ''));
    expect(trouble).toEqual([
      'postgres@postgres ERROR:  relation "orders" does not exist at character 22',
      'LOG:  could not bind IPv4 address "127.0.0.1": Address already in use',
      'WARNING:  could not create listen socket for "127.0.0.1"',
      'FATAL:  could not create any TCP/IP sockets',
      'FATAL:  invalid value for parameter "shared_buffers": "lots"',
    ]);
  });
});

describe('last words: reasons without any error word', () => {
  it("sshd's 'Bad configuration option' before each Control process exited of a start-limit loop is kept, the earlier 'Received signal 15; terminating.' is not", async () => {
    const text = await readFile(join(FIXTURES, 'systemd-real', 'journal-ssh-bad-config.txt'), 'utf8');
    const chosen = informativeLines(parseJournal(text));
    expect(chosen.some((l) => /sshd\[\d+\]: \/etc\/ssh\/sshd_config: line \d+: Bad configuration option: BogusOption \(×4\)$/.test(l)), chosen.join('\n')).toBe(true);
    expect(chosen.some((l) => l.includes('Received signal 15'))).toBe(false);
    expect(chosen.some((l) => l.includes('Start request repeated too quickly'))).toBe(true);
  });
});
