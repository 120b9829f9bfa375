import { describe, expect, it } from 'vitest';
import { safeParse } from 'zod/mini';
import { command, decideCommand, type CommandReadings } from '../../src/checks/command.js';
import { lastLines } from '../../src/analysis/lines.js';
import { captured } from '../helpers/fixtures.js';

// The command step's decision from what the program did: real runs of real programs
// (test/fixtures/capture-command.sh), and the runner's words for a missing program and a timeout.

/** A captured run as the runner returns it. */
const ran = (name: string, more: Partial<Extract<CommandReadings, { ran: unknown }>['ran']> = {}): CommandReadings => {
  const c = captured('command', name);
  return { ran: { exitCode: c.exitCode, stdout: c.stdout, stderr: c.stderr, missing: false, timedOut: false, durationMs: 4, ...more } };
};

describe('decideCommand', () => {
  it('ok: the exit status expected (0 unless expectExit says)', () => {
    const d = decideCommand(ran('seq-100'), { argv: ['seq', 1, 100] });
    expect(d).toMatchObject({ outcome: 'ok', status: 'pass', command: 'seq 1 100', summary: 'seq 1 100 exited 0', evidence: { argv: ['seq', '1', '100'], exitCode: 0, expectExit: 0, timeoutMs: 5000 } });
    const expected = decideCommand(ran('cat-no-such-file'), { argv: ['cat', '/nonexistent/myapp.conf'], expectExit: 1 });
    expect(expected).toMatchObject({ outcome: 'ok', summary: 'cat /nonexistent/myapp.conf exited 1, as expected' });
  });

  it('failed: another exit status, with the last line it printed', () => {
    const d = decideCommand(ran('cat-no-such-file'), { argv: ['cat', '/nonexistent/myapp.conf'] });
    expect(d).toMatchObject({ outcome: 'failed', status: 'fail', summary: 'cat /nonexistent/myapp.conf exited 1 (expected 0): cat: /nonexistent/myapp.conf: No such file or directory' });
    expect(d.evidence.output).toEqual(['cat: /nonexistent/myapp.conf: No such file or directory']);
  });

  it('matched: a line of stdout or stderr matches, whatever the exit status; the line is evidence', () => {
    const argv = ['myapp', '--check-config'];
    const d = decideCommand(ran('python-config-error'), { argv, match: 'config error: line \\d+' });
    expect(d).toMatchObject({ outcome: 'matched', status: 'info', evidence: { line: 'myapp: config error: line 3: unknown key listn', exitCode: 2 } });
    expect(d.summary).toBe('myapp --check-config printed a line matching /config error: line \\d+/: myapp: config error: line 3: unknown key listn');
    // No line matches: the exit status decides.
    expect(decideCommand(ran('python-config-error'), { argv, match: '^OK$' })).toMatchObject({ outcome: 'failed', summary: 'myapp --check-config exited 2 (expected 0): myapp: config error: line 3: unknown key listn' });
    expect(decideCommand(ran('seq-100'), { argv: ['seq', 1, 100], match: '^1000$' }).summary).toBe('seq 1 100 exited 0, no line matching /^1000$/');
  });

  it('missing and timeout come first: a program that is not there, or did not finish', () => {
    const none: CommandReadings = { ran: { exitCode: null, stdout: '', stderr: '', missing: true, timedOut: false, durationMs: 2 } };
    expect(decideCommand(none, { argv: ['myapp', '--check-config'], match: '.*' })).toMatchObject({ outcome: 'missing', summary: 'myapp is not installed here (no such program)' });
    const slow: CommandReadings = { ran: { exitCode: null, stdout: 'loading /etc/myapp.conf\n', stderr: '', missing: false, timedOut: true, durationMs: 300 } };
    expect(decideCommand(slow, { argv: ['sleep', '10'], timeout: 300, match: 'loading' })).toMatchObject({ outcome: 'timeout', status: 'fail', summary: 'sleep 10 did not finish within 300 ms: loading /etc/myapp.conf', evidence: { exitCode: null, timeoutMs: 300 } });
  });

  it('not-run: a command that changes things, without --fix or declined', () => {
    const p = { argv: ['systemctl', 'restart', 'myapp'], changes: true };
    expect(decideCommand({ notRun: 'no-consent' }, p)).toMatchObject({ outcome: 'not-run', status: 'info', summary: 'not run: systemctl restart myapp changes things, and whyport changes nothing without --fix', evidence: { changes: true } });
    expect(decideCommand({ notRun: 'declined' }, p).summary).toBe('not run: systemctl restart myapp changes things, and you declined to run it');
  });

  it('the output shown is its last 20 lines, at most 4 KiB; a truncated output says so', () => {
    const d = decideCommand(ran('seq-100', { truncated: true }), { argv: ['seq', 1, 100] });
    expect(d.evidence.output).toEqual(Array.from({ length: 20 }, (_, i) => String(81 + i)));
    expect(d.evidence.truncated).toBe(true);
    expect(d.summary).toBe('seq 1 100 exited 0 (output past 1 MiB not read)');
    const long = decideCommand(ran('long-line'), { argv: ['python3', '-c', 'print("x" * 10000)'] });
    expect(Buffer.byteLength(long.evidence.output!.join('\n'))).toBeLessThanOrEqual(4096);
    expect(long.evidence.output![0]).toMatch(/^…x+$/);
    expect(long.command).toBe(`python3 -c 'print("x" * 10000)'`);
  });
});

describe('lastLines', () => {
  it('keeps whole lines from the end within the bytes, blank lines left out', () => {
    expect(lastLines('a\n\nbb\nccc\n', { lines: 20, bytes: 8 })).toEqual(['bb', 'ccc']);
    expect(lastLines('a\nb\nc', { lines: 2, bytes: 100 })).toEqual(['b', 'c']);
  });
});

describe("the command check's parameters", () => {
  const parse = (v: unknown) => safeParse(command.params, v);
  it('argv is a list of words; the timeout is bounded; the expression is vetted', () => {
    expect(parse({ argv: ['true'] }).success).toBe(true);
    expect(parse({ argv: [] }).success).toBe(false);
    expect(parse({ argv: 'true' }).success).toBe(false);
    expect(parse({ argv: ['sleep', '1'], timeout: '60000' }).data).toMatchObject({ timeout: 60000 });
    expect(parse({ argv: ['sleep', '1'], timeout: 60001 }).error?.issues[0]?.message).toBe('60001 ms is not a timeout whyport takes: a whole number of milliseconds from 1 to 60000');
    expect(parse({ argv: ['x'], match: '(a+)+$' }).error?.issues[0]?.message).toMatch(/^the regular expression \/\(a\+\)\+\$\/ repeats a group that itself repeats/);
    expect(parse({ argv: ['x'], match: 'a(' }).error?.issues[0]?.message).toMatch(/^the regular expression \/a\(\/ does not compile: /);
    expect(parse({ argv: ['x'], changes: 'yes' }).success).toBe(false);
  });
});
