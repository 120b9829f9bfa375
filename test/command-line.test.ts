import { describe, expect, it } from 'vitest';
import { commandProgram, parseCommandLine } from '../src/cli/command-line.js';
import { UsageError } from '../src/errors.js';

function io() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

function group() {
  const c = io();
  const program = commandProgram(c.io, '1.2.3');
  let ran: string | undefined;
  const g = program.command('group').description('a command group');
  g.command('go').option('--json', 'JSON').action((o: { json?: boolean }) => void (ran = o.json ? 'json' : 'text'));
  return { program, c, ran: () => ran };
}

async function usageError(argv: string[]): Promise<UsageError> {
  const err = await parseCommandLine(group().program, argv, 'see whyport group --help').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  return err as UsageError;
}

describe('parseCommandLine: how every command parses', () => {
  it('runs the action the words select', async () => {
    const g = group();
    expect(await parseCommandLine(g.program, ['group', 'go', '--json'], 'see whyport group --help')).toBe('ran');
    expect(g.ran()).toBe('json');
  });

  it('help and version are printed on stdout, and are not errors', async () => {
    const g = group();
    expect(await parseCommandLine(g.program, ['group', 'go', '--help'], 'x')).toBe('printed');
    expect(g.c.out.stdout).toMatch(/^Usage: whyport group go \[options\]/);
    expect(g.c.out.stdout).toMatch(/-h, --help +show this help/);
    const v = group();
    expect(await parseCommandLine(v.program, ['-V'], 'x')).toBe('printed');
    expect(v.c.out.stdout).toBe('1.2.3\n');
  });

  it('a group without its subcommand: help on stderr, and the caller decides the status', async () => {
    const g = group();
    expect(await parseCommandLine(g.program, ['group'], 'x')).toBe('bare');
    expect(g.c.out.stderr).toMatch(/go \[options\]/);
  });

  it("bad usage is one UsageError: commander's first line, its suggestion in the hint", async () => {
    const e = await usageError(['group', 'go', '--jsn']);
    expect(e.message).toBe("unknown option '--jsn'");
    expect(e.hint).toBe('did you mean --json? (see whyport group --help)');
    const u = await usageError(['group', 'frob']);
    expect(u.message).toBe("unknown command 'frob'");
    expect(u.hint).toBe('see whyport group --help');
  });
});
