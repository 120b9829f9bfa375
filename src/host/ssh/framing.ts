import { randomBytes } from 'node:crypto';
import type { CommandResult, RunOptions } from '../runner.js';
import { shellCommandLine } from '../shell-quote.js';
import { REMOTE_SCRIPTS } from './remote-scripts.js';

// How whyport's commands travel to the server and their output back: each argv under a remote
// timeout, several in one `sh -s` script, and output framed by a random boundary and NULs, so no
// text a command prints can pass for a frame. Pure: the session (session.ts) does the I/O.

/** A fresh boundary for one framed output: 18 hex digits, never guessed by what a command prints. */
export function newBoundary(): string {
  return randomBytes(9).toString('hex');
}

/**
 * argv under a remote timeout, with the C locale and no pager: `timeout -k 1 N env … argv`. A fixed
 * PATH with the sbin directories: a non-root login's PATH often lacks them (nft, ss, iptables).
 */
export function bounded(argv: readonly string[], timeoutMs: number, env: Record<string, string> = {}): string[] {
  const vars = Object.entries({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '', PAGER: 'cat', ...env });
  return ['timeout', '-k', '1', `${Math.max(1, Math.ceil(timeoutMs / 1000))}`, 'env', ...vars.map(([k, v]) => `${k}=${v}`), ...argv];
}

/** One command of a batch. */
export interface BatchItem {
  argv: readonly string[];
  options?: RunOptions;
}

/**
 * The script `sh -s -- BOUNDARY` reads on its stdin to run the items one after the other, each
 * under its own timeout, framing each one's stdout, stderr and exit status with the boundary. It
 * holds each argv quoted once (shell-quote.ts) and nothing else of the caller's. `timeoutMs` is
 * the sum of the items' own.
 */
export function batchScript(items: readonly BatchItem[]): { script: string; timeoutMs: number } {
  const lines = ['b=$1'];
  let total = 0;
  items.forEach(({ argv, options = {} }, i) => {
    const timeoutMs = options.timeoutMs ?? 5_000;
    total += timeoutMs;
    lines.push(`printf '\\0%s %d\\0' "$b" ${i}; printf '\\0%s %d\\0' "$b" ${i} >&2`);
    lines.push(`${shellCommandLine(bounded(argv, timeoutMs, options.env))} </dev/null`);
    lines.push(`printf '\\0%s rc %d %d\\0' "$b" ${i} $?`);
  });
  return { script: `${lines.join('\n')}\n`, timeoutMs: total };
}

/**
 * Each item's result from the output of a batchScript run (`r`, of the whole `sh -s`), and `head`:
 * what the stdout held before the first frame (a command run before the script, see session.ts).
 */
export function splitBatch(items: readonly BatchItem[], r: CommandResult, boundary: string, durationMs: number): { results: CommandResult[]; head: string } {
  const split = (text: string) => {
    const parts = new Map<number, string>();
    const re = new RegExp(`\\x00${boundary} (\\d+)\\x00`, 'g');
    const marks = [...text.matchAll(re)];
    marks.forEach((m, k) => {
      const from = m.index! + m[0].length;
      const to = k + 1 < marks.length ? marks[k + 1]!.index! : text.length;
      parts.set(Number(m[1]), text.slice(from, to));
    });
    return parts;
  };
  const outs = split(r.stdout);
  const errs = split(r.stderr);
  const first = r.stdout.indexOf(`\0${boundary} `);
  const head = first < 0 ? r.stdout : r.stdout.slice(0, first);
  const results = items.map(({ argv }, i) => {
    let out = outs.get(i) ?? '';
    const rc = new RegExp(`\\x00${boundary} rc ${i} (\\d+)\\x00`).exec(out);
    out = rc ? out.slice(0, rc.index) : out;
    const exitCode = rc ? Number(rc[1]) : null;
    // The session already dropped sshd's debug lines from the whole stderr.
    const stderr = errs.get(i) ?? (rc ? '' : r.stderr);
    return { argv, exitCode, stdout: out, stderr, missing: missingProgram(exitCode, stderr), timedOut: exitCode === 124 || (rc === null && r.timedOut), durationMs };
  });
  return { results, head };
}

/** env says 127 for a program it cannot find (timeout says 124 when it had to stop the command). */
export function missingProgram(exitCode: number | null, stderr: string): boolean {
  return exitCode === 127 && /env: .*No such file or directory/.test(stderr);
}

/** Splits the NUL-framed output of the remote scripts into sections by their boundary (remote-scripts.ts). */
export function sections(out: string, boundary: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const parts = out.split(`\0${boundary} `);
  for (const part of parts.slice(1)) {
    const nul = part.indexOf('\0');
    const name = part.slice(0, nul);
    map.set(name, part.slice(nul + 1).split('\0').filter((r) => r !== ''));
  }
  return map;
}

/** A remote command as the log shows it: whyport's scripts by name, other commands as typed. */
export function showRemote(argv: readonly string[]): string {
  if (argv[0] === 'sh' && argv[1] === '-c') {
    const name = Object.entries(REMOTE_SCRIPTS).find(([, text]) => text === argv[2])?.[0] ?? 'script';
    return `sh -c <${name}> ${argv.slice(4).filter((a) => !/^[0-9a-f]{18}$/.test(a)).join(' ')}`.trim();
  }
  return shellCommandLine(argv);
}
