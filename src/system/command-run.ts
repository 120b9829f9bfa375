import type { CommandResult } from '../host/runner.js';
import { defineReader } from './reader.js';

/** The most of a playbook's command's stdout, and of its stderr, whyport keeps: a program may print gigabytes. */
export const COMMAND_OUTPUT_MAX_BYTES = 1024 * 1024;

/** A command a playbook runs (the `command` check): argv, never a shell, and how long it may take. */
export interface CommandRunKey {
  argv: readonly string[];
  timeoutMs: number;
}

/** What the command did, as the runner says: exit status, output (each stream bounded), time. */
export type CommandRun = Pick<CommandResult, 'exitCode' | 'stdout' | 'stderr' | 'missing' | 'timedOut' | 'durationMs' | 'truncated'>;

/**
 * Runs a playbook's command on the host (on the server over --ssh), once per diagnosis for the same
 * argv and timeout, with its output bounded to COMMAND_OUTPUT_MAX_BYTES a stream.
 */
export const commandRun = defineReader<CommandRunKey, CommandRun>({
  name: 'command',
  key: (k) => JSON.stringify([k.argv, k.timeoutMs]),
  async read(k, s) {
    const r = await s.host.run(k.argv, { timeoutMs: k.timeoutMs, maxBytes: COMMAND_OUTPUT_MAX_BYTES });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, missing: r.missing, timedOut: r.timedOut, durationMs: r.durationMs, ...(r.truncated ? { truncated: true } : {}) };
  },
});
