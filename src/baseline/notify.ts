import type { Runner } from '../system/runner.js';
import { showCommand } from '../system/runner.js';

/** How long a notify command may take: mail and webhook clients answer in seconds, not minutes. */
export const NOTIFY_TIMEOUT_MS = 60_000;

/** What became of the notify command: it ran and exited 0, or why not (one line, for stderr). */
export type NotifyOutcome = { ok: true } | { ok: false; message: string };

/**
 * Runs the user's notify command (argv, no shell) with the report on its stdin. A command that
 * is missing, cannot start, times out or exits non-zero is an outcome the caller reports, never
 * an exception: the check's own report is already out by then.
 */
export async function runNotify(runner: Runner, argv: readonly string[], report: string, opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<NotifyOutcome> {
  const timeoutMs = opts.timeoutMs ?? NOTIFY_TIMEOUT_MS;
  const shown = showCommand(argv);
  // The runner pins LC_ALL=C for the parsers; the user's mailer should see the user's locale
  // (the report holds UTF-8 arrows). An empty LC_ALL is ignored by setlocale, so LANG applies.
  const result = await runner.run(argv, { input: report, timeoutMs, env: { LC_ALL: opts.env?.LC_ALL ?? '' } });
  if (result.missing) return { ok: false, message: `the notify command '${argv[0]}' was not found (${shown})` };
  if (result.timedOut) return { ok: false, message: `the notify command did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped (${shown})` };
  if (result.exitCode === null) return { ok: false, message: `the notify command could not be started or was killed by a signal (${shown})` };
  if (result.exitCode !== 0) {
    const said = result.stderr.trim().split('\n').slice(-1)[0];
    return { ok: false, message: `the notify command exited with ${result.exitCode} (${shown})${said ? `: ${said}` : ''}` };
  }
  return { ok: true };
}
