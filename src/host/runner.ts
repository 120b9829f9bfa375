import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** What one external command did. A non-zero exit is data, not an exception. */
export interface CommandResult {
  argv: readonly string[];
  /** null when the command did not run to an exit (missing, timed out, killed). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** The program is not installed (ENOENT). */
  missing: boolean;
  timedOut: boolean;
  durationMs: number;
  /** Output past RunOptions.maxBytes was dropped (the command may have ended on the broken pipe). */
  truncated?: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  /**
   * The most of stdout (and of stderr) kept, in bytes: past it the command's output is no longer
   * read (a program that prints gigabytes), and CommandResult.truncated says so.
   */
  maxBytes?: number;
  /** Written to the command's stdin; stdin is closed (never inherited) otherwise. */
  input?: string;
  env?: Record<string, string>;
  /** Ends the command at once when aborted (Ctrl-C): the child is killed, the result says so. */
  signal?: AbortSignal;
}

/** The one seam through which every external command runs: argv only, never a shell. */
export interface Runner {
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/** What every command gets on top of whyport's environment: the C locale parsers expect, no colours, no pager. */
export const COMMAND_ENV: Readonly<Record<string, string>> = { LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '', PAGER: 'cat' };

/** The real runner, on execa: argv array, timeout, `reject: false`, C locale so parsers see stable text. */
export const execaRunner: Runner = {
  async run(argv, options = {}) {
    const [file, ...args] = argv;
    if (!file) throw new Error('empty command');
    const started = performance.now();
    // Loaded on first use: `whyport --help` and argument errors never pay for it.
    const { execa } = await import('execa');
    const result = await execa(file, args, {
      reject: false,
      shell: false,
      // No command whyport runs depends on the working directory, and one the user cannot enter
      // (sudo -u nobody from /root) would make every spawn fail.
      cwd: '/',
      timeout: options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      // Ctrl-C: SIGTERM now, SIGKILL if it lingers (whyport itself exits at once, the child too).
      ...(options.signal ? { cancelSignal: options.signal, forceKillAfterDelay: 200 } : {}),
      input: options.input,
      stdin: options.input === undefined ? 'ignore' : 'pipe',
      env: { ...COMMAND_ENV, ...options.env },
      stripFinalNewline: false,
      windowsHide: true,
      // execa stops reading a stream past maxBuffer (the program then meets a closed pipe).
      ...(options.maxBytes !== undefined ? { maxBuffer: options.maxBytes } : {}),
    });
    const code = (result as { code?: string }).code;
    return {
      argv,
      exitCode: typeof result.exitCode === 'number' ? result.exitCode : null,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      missing: code === 'ENOENT' || (code === 'EACCES' && foundNowhere(file)),
      timedOut: Boolean(result.timedOut),
      durationMs: Math.round(performance.now() - started),
      ...((result as { isMaxBuffer?: boolean }).isMaxBuffer ? { truncated: true } : {}),
    };
  },
};

/**
 * execvp answers EACCES, not ENOENT, for a program that is nowhere when a folder of PATH could not
 * be searched (root's PATH, /root/… first, kept by `sudo -u nobody`): that is a missing program,
 * unless a file of that name is there and only not executable.
 */
function foundNowhere(file: string): boolean {
  if (file.includes('/')) return false;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, file), constants.F_OK);
      return false;
    } catch {
      // Not there, or the folder cannot be searched: either way not a program this user can run.
    }
  }
  return true;
}

// Pure, so the decision code can show commands without importing the runner; re-exported here
// because every reader that runs a command also shows it.
export { showCommand } from '../text/command.js';
