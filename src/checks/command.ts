import { millis, pattern, z } from './params.js';
import { defineCheck, type Decision } from './check.js';
import { e, fields } from './evidence.js';
import { firstMatchingLine, lastLines, shownLine } from '../analysis/lines.js';
import { vetRegex } from '../text/safe-regex.js';
import { showCommand } from '../text/command.js';
import { COMMAND_OUTPUT_MAX_BYTES, commandRun, type CommandRun } from '../system/command-run.js';

/** A command's time limit unless the playbook gives one, and the most it may give. */
export const COMMAND_TIMEOUT_MS = { default: 5_000, max: 60_000 } as const;
/** How much of the output the evidence keeps: the last lines, bounded in number and in bytes. */
export const OUTPUT_SHOWN = { lines: 20, bytes: 4096 } as const;

export interface CommandParams {
  argv: (string | number)[];
  /** ms; COMMAND_TIMEOUT_MS.default when not given. */
  timeout?: number | undefined;
  match?: string | undefined;
  /** 0 when not given. */
  expectExit?: number | undefined;
  changes?: boolean | undefined;
}

export type CommandOutcome = 'ok' | 'failed' | 'matched' | 'timeout' | 'missing' | 'not-run';

/** What the command step found (the fields of its evidence schema). */
export interface CommandEvidence {
  argv: string[];
  command: string;
  expectExit: number;
  timeoutMs: number;
  changes?: boolean;
  exitCode?: number | null;
  output?: string[];
  line?: string;
  durationMs?: number;
  truncated?: boolean;
}

/** What the command step read: what the command did, or why it was not run. */
export type CommandReadings = { ran: CommandRun } | { notRun: 'no-consent' | 'declined' };

/**
 * A playbook's own command (`myapp --check-config`): argv run on the host through its runner, never
 * a shell, each item one word (a placeholder that is a list gives one word per item), with a time
 * limit and its output bounded. A command the playbook marks `changes: true` runs only with --fix's
 * consent.
 */
export const command = defineCheck({
  description:
    "Runs a command of the playbook's (argv, never a shell; on the server with vantage: server), with a timeout: its exit status, and whether a line of its output matches a regular expression; a command marked `changes: true` runs only with --fix (asked first unless --yes)",
  outcomes: ['ok', 'failed', 'matched', 'timeout', 'missing', 'not-run'] satisfies CommandOutcome[],
  params: z.object({
    argv: z.array(z.union([z.string(), z.number()])).check(z.minLength(1)),
    timeout: z.optional(millis(COMMAND_TIMEOUT_MS.max)),
    match: z.optional(pattern()),
    expectExit: z.optional(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(255))),
    changes: z.optional(z.boolean()),
  }),
  evidence: fields({
    argv: e.list(e.str()),
    command: e.str(),
    exitCode: e.nullable(e.num()),
    expectExit: e.num(),
    output: e.list(e.str()),
    line: e.str(),
    durationMs: e.num(),
    timeoutMs: e.num(),
    truncated: e.bool(),
    changes: e.bool(),
  }),
  describe: (p) => showCommand(words(p)),
  async read(p, ctx): Promise<CommandReadings> {
    const argv = words(p);
    if (p.changes) {
      const yes = ctx.mayChange ? await ctx.mayChange(showCommand(argv)) : undefined;
      if (yes === undefined) return { notRun: 'no-consent' };
      if (!yes) return { notRun: 'declined' };
    }
    return { ran: await ctx.facts.read(commandRun, { argv, timeoutMs: p.timeout ?? COMMAND_TIMEOUT_MS.default }) };
  },
  decide: (r, p) => decideCommand(r, p),
});

/** argv as words: every item one word, numbers as their text. */
function words(p: Pick<CommandParams, 'argv'>): string[] {
  return p.argv.map(String);
}

/**
 * The pure decision of the command step, first that applies: `not-run` (it changes things and
 * there was no consent), `missing` (no such program), `timeout`, `matched` (a line of stdout, then
 * of stderr, matches `match`), then `ok` or `failed` by the exit status against `expectExit`.
 */
export function decideCommand(r: CommandReadings, params: CommandParams): Decision<CommandOutcome, CommandEvidence> {
  const p = { ...params, timeout: params.timeout ?? COMMAND_TIMEOUT_MS.default, expectExit: params.expectExit ?? 0 };
  const argv = words(p);
  const cmd = showCommand(argv);
  const base = { argv, command: cmd, expectExit: p.expectExit, timeoutMs: p.timeout, ...(p.changes ? { changes: true } : {}) };
  if ('notRun' in r) {
    const why = r.notRun === 'declined' ? 'you declined to run it' : 'whyport changes nothing without --fix';
    return { outcome: 'not-run' as const, status: 'info' as const, command: cmd, summary: `not run: ${cmd} changes things, and ${why}`, evidence: base };
  }
  const ran = r.ran;
  const output = lastLines(`${ran.stdout}${ran.stdout && !ran.stdout.endsWith('\n') ? '\n' : ''}${ran.stderr}`, OUTPUT_SHOWN);
  const evidence = { ...base, exitCode: ran.exitCode, output, durationMs: ran.durationMs, ...(ran.truncated ? { truncated: true } : {}) };
  const cut = ran.truncated ? ` (output past ${COMMAND_OUTPUT_MAX_BYTES / 1024 / 1024} MiB not read)` : '';
  const last = output.at(-1);
  const said = last ? `: ${shownLine(last)}` : '';
  const result = (outcome: CommandOutcome, status: 'pass' | 'fail' | 'info', summary: string, more: Partial<CommandEvidence> = {}) => ({ outcome, status, command: cmd, summary, evidence: { ...evidence, ...more } });
  if (ran.missing) return result('missing', 'fail', `${argv[0]} is not installed here (no such program)`);
  if (ran.timedOut) return result('timeout', 'fail', `${cmd} did not finish within ${p.timeout} ms${said}`);
  if (p.match !== undefined) {
    const vetted = vetRegex(p.match);
    const hit = 'regex' in vetted ? firstMatchingLine([ran.stdout, ran.stderr], vetted.regex) : undefined;
    if (hit) return result('matched', 'info', `${cmd} printed a line matching /${p.match}/: ${shownLine(hit.line.trim())}${cut}`, { line: shownLine(hit.line) });
  }
  const status = ran.exitCode === null ? 'did not run to an exit' : `exited ${ran.exitCode}`;
  if (ran.exitCode === p.expectExit) return result('ok', 'pass', `${cmd} ${status}${p.expectExit === 0 ? '' : ', as expected'}${p.match !== undefined ? `, no line matching /${p.match}/` : ''}${cut}`);
  return result('failed', 'fail', `${cmd} ${status} (expected ${p.expectExit})${said}${cut}`);
}
