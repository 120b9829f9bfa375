import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, python3Path } from '../helpers/servers.js';
import { TmuxSession, tmuxSkipReason, trimScreen } from '../helpers/tmux.js';

/**
 * The real prompts on a real terminal: whyport runs in tmux, keys are typed into it, and the final
 * screen (the boxed report) and the exit status are read back (TESTBED.md).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const SGR = /\x1b\[[0-9;]*m/;

const TMUX_SKIP = tmuxSkipReason();
/** systemd runs as init here (else whyport does not ask for a unit). */
const SYSTEMD = existsSync('/run/systemd/system');
const PYTHON = python3Path();
if (TMUX_SKIP) console.warn(`skipping the prompt tests: ${TMUX_SKIP}`);

describe.skipIf(TMUX_SKIP !== undefined)('prompts in a real terminal (tmux)', () => {
  let session: TmuxSession | undefined;

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
  });

  afterEach(() => {
    session?.close();
    session = undefined;
  });

  const start = (args: string[], env: Record<string, string> = {}) => {
    session = TmuxSession.start([process.execPath, CLI, ...args], { cwd: ROOT, width: 120, height: 40, env });
    return session;
  };

  it('asks for the process, then the service only where systemd runs, and ends with the PROCESS_NOT_RUNNING box, exit 1', async () => {
    const port = await freePort();
    const t = start(['127.0.0.1', String(port)]);

    await t.waitFor(new RegExp(`\\? Which program should be listening on port ${port}\\?`));
    t.type('nosuchprog-xyz');
    t.sendKeys('Enter');

    if (SYSTEMD) {
      const screen = await t.waitFor(/\? Which systemd service runs it\?/);
      expect(screen).toContain('no process named nosuchprog-xyz is running');
      t.sendKeys('Enter'); // "Enter if you don't know"
    }

    const status = await t.waitForExit();
    const shown = trimScreen(t.capture());
    expect(status, shown).toBe(1);
    // The spinner lines of the steps, then the box with the verdict.
    // A free port may still carry another test's TIME_WAIT (freePort is an ephemeral port): either way nothing listens.
    expect(shown).toMatch(new RegExp(`✖ no (socket on port ${port} in any state|listener on port ${port}, but)`));
    expect(shown).toMatch(/process: nosuchprog-xyz \(your answer\)/);
    const box = /╭─ whyport · 127\.0\.0\.1:(\d+) ─+╮\n│ ✖ PROCESS_NOT_RUNNING +│\n│ +nosuchprog-xyz is not running +│\n╰─+╯/.exec(shown);
    expect(box, shown).not.toBeNull();
    expect(box![1]).toBe(String(port));
    expect(shown).toMatch(/How we got here/);
    if (SYSTEMD) {
      expect(shown).toMatch(/service: you did not know/);
      expect(shown).toContain('journalctl -k --grep nosuchprog-xyz -n 20 --no-pager');
    } else {
      // No question the host cannot use, and no journal to read where there is none.
      expect(shown).not.toMatch(/Which systemd service/);
      expect(shown).toMatch(/service: not asked — systemd does not run on this host/);
      expect(shown).toContain('dmesg --ctime --level=err,warn');
      expect(shown).not.toContain('journalctl');
    }
  });

  it.skipIf(!PYTHON)('a program name typed at the prompt that matches nothing gets a did-you-mean from what runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wpt-dym-'));
    const name = `wptdym${process.pid}`;
    writeFileSync(join(dir, `${name}.py`), 'import time\ntime.sleep(120)\n');
    const child = spawn(PYTHON!, [join(dir, `${name}.py`)], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const port = await freePort();
      const t = start(['127.0.0.1', String(port)]);
      await t.waitFor(/\? Which program should be listening on port/);
      const typo = name.slice(0, -1); // one letter short
      t.type(typo);
      t.sendKeys('Enter');
      if (SYSTEMD) {
        await t.waitFor(/\? Which systemd service runs it\?/);
        t.sendKeys('Enter');
      }
      await t.waitForExit();
      const shown = trimScreen(t.capture()).replace(/\n *(│ *)?/g, " ");
      expect(shown).toContain(`no process named ${typo} is running — did you mean ${name}?`);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Ctrl-C at the first prompt: exit 130 and a partial report', async () => {
    const port = await freePort();
    const t = start(['127.0.0.1', String(port)]);
    await t.waitFor(/\? Which program should be listening on port/);
    t.sendKeys('C-c');
    const status = await t.waitForExit();
    const shown = trimScreen(t.capture());
    expect(status, shown).toBe(130);
    expect(shown).toMatch(/Interrupted: this report is partial/);
    // What was found before the interruption is still there.
    expect(shown).toMatch(new RegExp(`no (socket on port ${port} in any state|listener on port ${port}, but)`));
    expect(shown).toMatch(/interrupted \(Ctrl-C\)/);
    expect(shown).toMatch(/╰─+╯/);
  });

  it("--fix's consent asked in the middle of a step: after the yes, that step's own result line is drawn below the prompt", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wpt-consent-'));
    try {
      const made = join(dir, 'made');
      const playbook = join(dir, 'consent.yaml');
      writeFileSync(
        playbook,
        [
          'version: 2',
          'name: consent',
          'steps:',
          '  restart:',
          '    check: command',
          `    with: { argv: [touch, ${JSON.stringify(made)}], changes: true }`,
          '    on: { ok: DONE, else: NOT_DONE }',
          'diagnoses:',
          '  DONE:',
          '    code: INCONCLUSIVE',
          '    title: "ran: {{ steps.restart.summary }}"',
          '    explanation: It ran.',
          '  NOT_DONE:',
          '    code: INCONCLUSIVE',
          '    title: "not run: {{ steps.restart.summary }}"',
          '    explanation: It did not run.',
          '',
        ].join('\n'),
        { mode: 0o644 },
      );
      const t = start(['127.0.0.1', '9', '--playbook', playbook, '--fix']);
      await t.waitFor(/changes things: run `touch \S+made` now\?/);
      t.type('y');
      t.sendKeys('Enter');
      const status = await t.waitForExit();
      const shown = trimScreen(t.capture());
      expect(status, shown).toBe(3);
      expect(existsSync(made), shown).toBe(true);
      // The prompt with its answer, then the step's line: its symbol and what it did.
      const after = shown.slice(shown.search(/changes things: run/));
      expect(after, shown).toMatch(/now\? (yes|Yes)[^\n]*\n\s*✔ touch \S+made exited 0/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--yes on a terminal never asks: the run ends by itself (NOT_LISTENING, exit 1)', async () => {
    const port = await freePort();
    const t = start(['127.0.0.1', String(port), '--yes']);
    const status = await t.waitForExit();
    const shown = trimScreen(t.capture());
    expect(status, shown).toBe(1);
    expect(shown).not.toMatch(/\? Which program/);
    expect(shown).toMatch(/✖ NOT_LISTENING/);
  });

  /** Runs whyport --yes on the terminal to its end and returns the screen with its SGR sequences. */
  const runToEnd = async (args: string[], env: Record<string, string> = {}) => {
    const t = start(args, env);
    const status = await t.waitForExit();
    const screen = t.capture({ escapes: true });
    t.close();
    expect(status, trimScreen(screen)).toBe(1);
    expect(screen).toMatch(/NOT_LISTENING/);
    return screen;
  };
  const reportPart = (screen: string) => screen.slice(screen.indexOf('╭'));

  it('on a terminal the steps and the report have colours; NO_COLOR=1 prints none', async () => {
    const port = await freePort();
    const coloured = await runToEnd(['127.0.0.1', String(port), '--yes']);
    expect(coloured).toMatch(SGR);
    expect(reportPart(coloured)).toMatch(SGR);

    const plain = await runToEnd(['127.0.0.1', String(port), '--yes'], { NO_COLOR: '1' });
    expect(plain).not.toMatch(SGR);
  });

  it('--no-color: the report has no colours', async () => {
    const port = await freePort();
    const screen = await runToEnd(['127.0.0.1', String(port), '--yes', '--no-color']);
    expect(reportPart(screen)).not.toMatch(SGR);
  });

  // Product bug: with --no-color (and no NO_COLOR) the spinner's step lines on stderr still start
  // with a coloured ✔/✖/ℹ (ora's symbols follow the environment, not the flag).
  it('--no-color: the step lines on stderr have no colours either', async () => {
    const port = await freePort();
    const screen = await runToEnd(['127.0.0.1', String(port), '--yes', '--no-color']);
    expect(screen).not.toMatch(SGR);
  });
});
