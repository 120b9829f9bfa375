import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checks } from '../../src/checks/index.js';
import type { Report } from '../../src/report/model.js';

/**
 * A user's own playbook with the generic checks, run by the built CLI on real programs and real
 * files: each playbook is one step whose every outcome ends in a diagnosis of the playbook's own
 * (GOT_OK, GOT_FAILED, …), so the code says which outcome the real thing gave.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const DIR = mkdtempSync(join(tmpdir(), 'wpt-generic-'));
chmodSync(DIR, 0o700);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

let n = 0;
/** A playbook file (0644, the test's own, in its own folder) of one step of `check` with `params`; each outcome ends in GOT_OUTCOME. */
function playbookOf(check: 'command' | 'file', params: object, extra = ''): string {
  const outcomes = checks[check].outcomes;
  const code = (o: string) => `GOT_${o.toUpperCase().replaceAll('-', '_')}`;
  const yaml = [
    'version: 2',
    `name: generic-${check}`,
    'steps:',
    ...(extra ? [extra] : []),
    '  it:',
    `    check: ${check}`,
    `    with: ${JSON.stringify(params)}`,
    `    on: { ${outcomes.map((o) => `${o}: ${code(o)}`).join(', ')} }`,
    'diagnoses:',
    ...outcomes.flatMap((o) => [`  ${code(o)}:`, `    title: "${o}: {{ steps.it.summary }}"`, `    explanation: The step's outcome was ${o}.`]),
  ].join('\n');
  const file = join(DIR, `playbook-${++n}.yaml`);
  writeFileSync(file, `${yaml}\n`, { mode: 0o644 });
  return file;
}

interface Run {
  status: number;
  report: Report;
  stderr: string;
  ms: number;
}

async function whyport(playbook: string, ...flags: string[]): Promise<Run> {
  const started = performance.now();
  const r = await execa(process.execPath, [CLI, '127.0.0.1', '9', '--playbook', playbook, '--json', '--yes', ...flags], { reject: false, timeout: 20_000, stdin: 'ignore' });
  if (!r.stdout.startsWith('{')) throw new Error(`no report (exit ${r.exitCode}): ${r.stderr}`);
  return { status: r.exitCode ?? -1, report: JSON.parse(r.stdout) as Report, stderr: r.stderr, ms: performance.now() - started };
}

const step = (r: Run) => r.report.steps.find((s) => s.id === 'it')!;

describe('command, on real programs', () => {
  it('true: ok; false: failed, with its exit status', async () => {
    const [ok, failed] = await Promise.all([whyport(playbookOf('command', { argv: ['true'] })), whyport(playbookOf('command', { argv: ['false'] }))]);
    expect(ok.report.diagnosis.code).toBe('GOT_OK');
    expect(ok.status).toBe(1);
    expect(step(ok)).toMatchObject({ check: 'command', outcome: 'ok', command: 'true', evidence: { exitCode: 0, argv: ['true'] } });
    expect(failed.report.diagnosis.code).toBe('GOT_FAILED');
    expect(step(failed).summary).toBe('false exited 1 (expected 0)');
  });

  it('cat of a file that is not there: failed, its own words in the output; matched by an expression', async () => {
    const [failed, matched] = await Promise.all([
      whyport(playbookOf('command', { argv: ['cat', join(DIR, 'nothing here')] })),
      whyport(playbookOf('command', { argv: ['python3', '-c', 'import sys; print("myapp: config error: line 3", file=sys.stderr); sys.exit(2)'], match: 'config error: line \\d+' })),
    ]);
    expect(step(failed).evidence.output).toEqual([`cat: '${join(DIR, 'nothing here')}': No such file or directory`]);
    expect(step(failed).command).toBe(`cat '${join(DIR, 'nothing here')}'`);
    expect(matched.report.diagnosis.code).toBe('GOT_MATCHED');
    expect(step(matched).evidence).toMatchObject({ line: 'myapp: config error: line 3', exitCode: 2 });
  });

  it('sleep past its timeout: timeout, in about the time given; a program that is not installed: missing', async () => {
    const [slow, missing] = await Promise.all([whyport(playbookOf('command', { argv: ['sleep', '10'], timeout: 300 })), whyport(playbookOf('command', { argv: ['wpt-no-such-program', '--check'] }))]);
    expect(slow.report.diagnosis.code).toBe('GOT_TIMEOUT');
    expect(step(slow).durationMs).toBeLessThan(3_000);
    expect(missing.report.diagnosis.code).toBe('GOT_MISSING');
    expect(step(missing).summary).toBe('wpt-no-such-program is not installed here (no such program)');
  });

  it('a program that prints 50 MB: its output read to 1 MiB only, the last lines shown bounded', async () => {
    const r = await whyport(playbookOf('command', { argv: ['python3', '-c', 'import sys\nfor i in range(500000): sys.stdout.write("line %d of a program that talks too much\\n" % i)'] }));
    const s = step(r);
    expect(s.evidence.truncated).toBe(true);
    expect((s.evidence.output as string[]).length).toBeLessThanOrEqual(20);
    expect(Buffer.byteLength((s.evidence.output as string[]).join('\n'))).toBeLessThanOrEqual(4096);
    expect(JSON.stringify(r.report).length).toBeLessThan(64 * 1024);
  });

  it('a placeholder is whole words: a list gives one word per item, spaces and quotes kept inside each', async () => {
    const first = "  first:\n    check: command\n    with: { argv: [python3, -c, \"print('a b'); print(\\\"it's; rm -rf x\\\")\"] }\n    on: { else: it }";
    const r = await whyport(playbookOf('command', { argv: ['python3', '-c', 'import sys; print(sys.argv[1:])', '{{ steps.first.evidence.output }}', '{{ target.port }}'] }, first));
    expect(step(r).evidence.output).toEqual([`['a b', "it's; rm -rf x", '9']`]);
    expect(step(r).command).toBe(`python3 -c 'import sys; print(sys.argv[1:])' 'a b' 'it'\\''s; rm -rf x' 9`);
  });

  it('changes: true runs only with --fix: not-run without it, and the file stays unmade', async () => {
    const made = join(DIR, 'made-by-the-playbook');
    const pb = playbookOf('command', { argv: ['touch', made], changes: true });
    const without = await whyport(pb);
    expect(without.report.diagnosis.code).toBe('GOT_NOT_RUN');
    expect(step(without).summary).toBe(`not run: touch ${made} changes things, and whyport changes nothing without --fix`);
    expect(existsSync(made)).toBe(false);
    const withFix = await whyport(pb, '--fix');
    expect(withFix.report.diagnosis.code).toBe('GOT_OK');
    expect(existsSync(made)).toBe(true);
  });
});

describe('file, on real files', () => {
  const conf = join(DIR, 'myapp.conf');
  writeFileSync(conf, 'listen = 7071\nworkers = 4\n', { mode: 0o640 });
  chmodSync(conf, 0o640);
  const heartbeat = join(DIR, 'heartbeat');
  writeFileSync(heartbeat, '');
  const twoHoursAgo = (Date.now() - 2 * 3_600_000) / 1000;
  utimesSync(heartbeat, twoHoursAgo, twoHoursAgo);
  const live = join(DIR, 'live.pid');
  writeFileSync(live, `${process.pid}\n`);
  // A process that has ended: its pid is free (and not reused within the test).
  const ended = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
  const dead = join(DIR, 'dead.pid');
  writeFileSync(dead, `${ended}\n`);
  const folder = join(DIR, 'run');
  mkdirSync(folder);

  it('a 0640 file of the runner with the line asked for: ok, with its mode, owner and the line', async () => {
    const me = process.getuid!();
    const r = await whyport(playbookOf('file', { path: conf, kind: 'file', mode: '0640', owner: String(me), contains: '^listen\\s*=\\s*7071$' }));
    expect(r.report.diagnosis.code).toBe('GOT_OK');
    expect(step(r)).toMatchObject({ outcome: 'ok', command: `stat -c '%F %a %U %y' ${conf}`, evidence: { kind: 'file', mode: '0640', uid: me, size: 26, line: 'listen = 7071', lineNumber: 1 } });
  });

  it('the first failure wins: wrong-mode, wrong-kind, no-match, missing, stale', async () => {
    const runs = await Promise.all([
      whyport(playbookOf('file', { path: conf, mode: '0600' })),
      whyport(playbookOf('file', { path: folder, kind: 'file' })),
      whyport(playbookOf('file', { path: conf, contains: '^listen = 80$' })),
      whyport(playbookOf('file', { path: join(DIR, 'nothing.pid'), pidfile: true })),
      whyport(playbookOf('file', { path: heartbeat, olderThan: '10m' })),
      whyport(playbookOf('file', { path: folder, kind: 'dir', olderThan: '10m' })),
    ]);
    expect(runs.map((r) => r.report.diagnosis.code)).toEqual(['GOT_WRONG_MODE', 'GOT_WRONG_KIND', 'GOT_NO_MATCH', 'GOT_MISSING', 'GOT_STALE', 'GOT_OK']);
    expect(step(runs[0]!).summary).toBe(`${conf} has mode 0640, not 0600`);
    expect(step(runs[1]!).summary).toBe(`${folder} is a directory, not a regular file`);
    expect(step(runs[4]!).summary).toMatch(/was last modified 2 h ago \(.*\), longer ago than 10m$/);
    expect(step(runs[4]!).evidence.ageSeconds).toBeGreaterThanOrEqual(7200);
  });

  it('a pidfile of a live process: ok; of one that ended: dead-pid', async () => {
    const [alive, gone] = await Promise.all([whyport(playbookOf('file', { path: live, pidfile: true })), whyport(playbookOf('file', { path: dead, pidfile: true }))]);
    expect(step(alive)).toMatchObject({ outcome: 'ok', evidence: { pid: process.pid, alive: true } });
    expect(gone.report.diagnosis.code).toBe('GOT_DEAD_PID');
    expect(step(gone).summary).toBe(`${dead} names pid ${ended}, which is not running (a stale pidfile)`);
  });
});

describe('the validator on the new checks, and the playbook file itself', () => {
  const validate = (file: string) => execa(process.execPath, [CLI, 'playbook', 'validate', file], { reject: false, timeout: 20_000 });

  it('an unknown parameter, a bad expression, a mode that is not octal: file:line:col each', async () => {
    const file = join(DIR, 'bad.yaml');
    writeFileSync(
      file,
      [
        'version: 2',
        'name: bad',
        'steps:',
        '  config:',
        '    check: command',
        "    with: { argv: [myapp, --check-config], match: '(\\w+)*$', timout: 300 }",
        '    on: { else: pidfile }',
        '  pidfile:',
        '    check: file',
        "    with: { path: /run/myapp.pid, mode: rw-r--r--, kind: pipe, contains: 'a(' }",
        '    on: { else: DONE }',
        'diagnoses:',
        '  DONE: { title: done, explanation: done. }',
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    const r = await validate(file);
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.split('\n');
    expect(lines).toContain(`${file}:6:62: error: steps.config.with.timout: check 'command' has no parameter 'timout' — did you mean 'timeout'?`);
    expect(lines.find((l) => l.includes('steps.config.with.match'))).toMatch(new RegExp(`^${file}:6:51: error: steps\\.config\\.with\\.match: the regular expression /\\(\\\\w\\+\\)\\*\\$/ repeats a group that itself repeats`));
    expect(lines).toContain(`${file}:10:41: error: steps.pidfile.with.mode: 'rw-r--r--' is not a file mode: write it in octal, like 0640 or 755`);
    expect(lines).toContain(`${file}:10:58: error: steps.pidfile.with.kind: 'pipe' is not a kind of file whyport tells: file, dir, socket, fifo, symlink`);
    expect(lines.find((l) => l.includes('steps.pidfile.with.contains'))).toMatch(/:10:74: error: steps\.pidfile\.with\.contains: the regular expression \/a\(\/ does not compile: Unterminated group$/);
  });

  it('a playbook in a folder every user may write to is refused: one line, exit 2', async () => {
    const open = join(DIR, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const pb = playbookOf('command', { argv: ['true'] });
    const moved = join(open, 'myapp.yaml');
    writeFileSync(moved, '');
    spawnSync('cp', [pb, moved]);
    const r = await execa(process.execPath, [CLI, '127.0.0.1', '9', '--playbook', moved, '--json', '--yes'], { reject: false, timeout: 20_000, stdin: 'ignore' });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`whyport: refusing the playbook ${moved}: its folder ${open} is writable by every user (mode 0777), and a playbook runs commands — chmod go-w ${open}, or move the playbook where only you can change it`);
    chmodSync(open, 0o755);
    chmodSync(moved, 0o664);
    const group = await execa(process.execPath, [CLI, 'playbook', 'validate', moved], { reject: false, timeout: 20_000 });
    expect(group.exitCode).toBe(2);
    expect(group.stderr).toMatch(/^whyport: refusing the playbook .*: it is writable by its group \(mode 0664\), and a playbook runs commands — chmod go-w /);
  });
});
