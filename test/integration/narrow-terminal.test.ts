import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { displayWidth } from '../../src/text/terminal.js';
import { freePort } from '../helpers/servers.js';
import { TmuxSession, tmuxSkipReason, trimScreen } from '../helpers/tmux.js';

/**
 * A 60-column terminal (tmux) and pipes: the progress lines on stderr and the report never run
 * past the edge, so the terminal never breaks a word; a report sent down a pipe is as wide as the
 * terminal the user still watches, or 80 columns (or $COLUMNS) when there is none.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const TMUX_SKIP = tmuxSkipReason();
// Long enough that the verdict, the fix command and several steps must wrap at 60 columns.
const PROGRAM = 'nightly-ledger-reconciliation-worker';

const RULE = /^─+$/m;

describe.skipIf(TMUX_SKIP !== undefined)('a 60-column terminal (tmux)', () => {
  let session: TmuxSession | undefined;
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
  });
  afterEach(() => {
    session?.close();
    session = undefined;
  });

  /** Runs `whyport 127.0.0.1 PORT --process PROGRAM --yes` (then `| cat` when piped); the screen as shown and as written. */
  async function run(piped: boolean): Promise<{ shown: string; written: string }> {
    const port = await freePort();
    const command = `${process.execPath} ${CLI} 127.0.0.1 ${port} --process ${PROGRAM} --yes${piped ? ' | cat' : ''}`;
    session = TmuxSession.start(['sh', '-c', command], { cwd: ROOT, width: 60, height: 80, env: { NO_COLOR: '1' } });
    await session.waitForExit();
    // Without -J tmux gives the rows as drawn; with it, the lines as written, wrapped rows joined.
    return { shown: session.capture({ joined: false }), written: session.capture() };
  }

  for (const piped of [false, true]) {
    it(piped ? 'a report piped through cat fits the terminal (60), not 80' : 'progress lines and the report fit: no line wraps, no word is cut', async () => {
      const { shown, written } = await run(piped);
      const screen = trimScreen(written);
      // (The verdict depends on what runs: `sh -c` names the program too; only the layout matters here.)
      expect(screen).toMatch(/^│ ✖ [A-Z_]+ +│$/m);
      // Nothing the terminal had to wrap: the rows drawn are the lines written.
      expect(trimScreen(shown), screen).toBe(screen);
      for (const line of screen.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(60);
      // The report is laid out for 60 columns: its box and its footer rule are exactly that wide.
      expect(screen).toMatch(/^╭─ whyport · 127\.0\.0\.1:\d+ ─+╮$/m);
      expect(screen.split('\n').find((l) => l.startsWith('╭'))!.length).toBe(60);
      expect(RULE.exec(screen)?.[0].length).toBe(60);
      // Long lines were broken between words: the program's name is whole wherever it appears.
      expect(screen.match(new RegExp(PROGRAM, 'g'))?.length ?? 0).toBeGreaterThanOrEqual(3);
      if (!piped) {
        // A step longer than a line continues under its text, indented, on stderr.
        expect(screen).toMatch(/^[✔✖ℹ] .+\n {2}\S/m);
      }
    });
  }
});

describe('no terminal at all', () => {
  const whyport = async (env: Record<string, string>) => {
    const port = await freePort();
    const r = await execa(process.execPath, [CLI, '127.0.0.1', String(port), '--process', PROGRAM, '--yes'], { reject: false, timeout: 20_000, cwd: ROOT, env, extendEnv: false, stdin: 'ignore' });
    return String(r.stdout);
  };

  it('80 columns', async () => {
    const out = await whyport({});
    for (const line of out.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(80);
    expect(RULE.exec(out)?.[0].length).toBe(80);
  });

  it('$COLUMNS when it is set', async () => {
    const out = await whyport({ COLUMNS: '60' });
    for (const line of out.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(60);
    expect(RULE.exec(out)?.[0].length).toBe(60);
  });
});
