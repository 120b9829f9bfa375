import type { Ora } from 'ora';
import type { Question, WalkUI } from '../engine/walk.js';
import { InterruptedError } from '../engine/walk.js';
import type { StepRecord } from '../report/model.js';
import { clean, commandLines, displayWidth, hang, truncate } from '../text/terminal.js';

/**
 * A finished step as its progress line shows it, after ora's "✔ " (two columns): the summary, and
 * the command beside it when both fit in `width`, else under it; lines break between words (a
 * command with a trailing backslash), continuation lines start under the text, and none is wider than `width`.
 */
export function progressLines(record: Pick<StepRecord, 'summary' | 'command'>, width: number, dim: (s: string) => string = (s) => s): string {
  const summary = clean(record.summary).replace(/\s*\n\s*/g, ' ');
  const command = clean(record.command).replace(/\s*\n\s*/g, ' ');
  if (!command) return hang(summary, width, '', '  ').join('\n');
  if (2 + displayWidth(`${summary}  $ ${command}`) <= width) return `${summary}${dim(`  $ ${command}`)}`;
  return [...hang(summary, width, '', '  '), ...commandLines(command, width, '  $ ', '      ').map(dim)].join('\n');
}

/**
 * The walk's UI on a terminal: an ora spinner per step on stderr and @inquirer/prompts questions
 * (also on stderr, so --json keeps stdout clean). Both are loaded only when a diagnosis runs.
 */
export async function terminalUI(opts: { spinner: boolean; color: boolean }): Promise<WalkUI & { stop(): void; confirm(message: string): Promise<boolean> }> {
  const ora = opts.spinner ? (await import('ora')).default : undefined;
  let current: Ora | undefined;
  // Our own symbols, coloured only when colours are on: ora's follow the environment, not --no-color.
  const paint = (code: number, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[39m` : s);
  const symbol = (r: StepRecord) => (r.status === 'pass' ? paint(32, '✔') : r.status === 'fail' ? paint(31, '✖') : paint(34, 'ℹ'));

  const promptContext = { output: process.stderr, clearPromptOnDone: false };
  // Read at each line: the terminal may be resized while whyport runs.
  const columns = () => Math.max(20, process.stderr.columns || 80);
  const asking = async <T>(fn: () => Promise<T>): Promise<T> => {
    // The prompt itself stays on screen as the record of the answer: no spinner line after it.
    current?.stop();
    current = undefined;
    try {
      return await fn();
    } catch (err) {
      if (err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError')) throw new InterruptedError();
      throw err;
    }
  };

  // One line while it spins (ora redraws it): cut to fit, so the terminal never wraps it.
  const spin = (text: string) => ora?.({ text: truncate(clean(text).replace(/\s*\n\s*/g, ' '), columns() - 3), stream: process.stderr, color: opts.color ? 'cyan' : false, isEnabled: true, discardStdin: false }).start();

  return {
    stepStarted(_id, text) {
      if (!ora) return;
      current?.stop();
      current = spin(text);
    },
    stepFinished(record) {
      if (!current) return;
      const dim = (t: string) => (opts.color ? `\x1b[2m${t}\x1b[22m` : t);
      current.stopAndPersist({ symbol: symbol(record), text: progressLines(record, columns(), dim) });
      current = undefined;
    },
    async ask(q: Question) {
      const { input, search } = await import('@inquirer/prompts');
      return asking(async () => {
        if (q.guesses.length === 0 && q.choices.length === 0) {
          return input({ message: `${q.message} (Enter if you don't know)`, ...(q.default ? { default: q.default } : {}), validate: q.validate }, promptContext);
        }
        const offered = [
          ...q.guesses.map((g) => ({ value: g.value, name: g.value, description: g.reason })),
          ...q.choices.filter((c) => !q.guesses.some((g) => g.value === c)).map((c) => ({ value: c, name: c })),
        ];
        const DONT_KNOW = '\u0000unknown';
        const answer = await search(
          {
            message: `${q.message} (type to filter or enter another name)`,
            source: (term) => {
              const t = (term ?? '').trim();
              const matches = offered.filter((o) => o.value.includes(t));
              const typed = t && !offered.some((o) => o.value === t) ? [{ value: t, name: `${t}`, description: 'use what you typed' }] : [];
              return [...typed, ...matches, { value: DONT_KNOW, name: "I don't know", description: 'skip: whyport reasons without it' }];
            },
            validate: (v) => (v === DONT_KNOW ? true : q.validate(String(v))),
          },
          promptContext,
        );
        return answer === DONT_KNOW ? '' : String(answer);
      });
    },
    async confirm(message) {
      const { confirm } = await import('@inquirer/prompts');
      // Asked in the middle of a step (a command that changes the host): once answered, the step
      // spins on below the prompt, so its result line is drawn when it ends.
      const running = current?.text;
      const yes = await asking(() => confirm({ message, default: false }, promptContext));
      if (running !== undefined) current = spin(running);
      return yes;
    },
    stop() {
      current?.stop();
      current = undefined;
    },
  };
}

/** A UI that shows nothing and never asks: --json without a TTY, re-checks after a fix, tests. */
export const silentUI: WalkUI = {
  stepStarted() {},
  stepFinished() {},
  async ask() {
    return '';
  },
};
