import type { CommandResult, RunOptions } from '../runner.js';
import type { TalkOptions, TalkResult } from '../tcp-talk.js';
import { parseTalkOutput } from '../../system/bash-talk.js';

/**
 * Host.talk on a server over ssh: bash's /dev/tcp (the one socket a stock server always has, as
 * for the remote connect and UDP probe) driven by a constant script, every value a positional
 * parameter. Bytes travel in hex both ways; bash reads the socket one byte at a time (`read -n 1
 * -d ''`, a NUL comes back as an empty read), so it never reads past an answer, and `read -t 0`
 * says whether more bytes of a chunk are already there. Timing is bash's $EPOCHREALTIME (bash 5).
 *
 * $1 address, $2 port, $3 µs a step may wait, $4 the most bytes read, then per step three words:
 * the bytes to send in hex, the previous answer it needs in hex, `line` or `chunk` (`-` for none).
 * Prints `connected`, one `answer HEX` per step that ran, then `end KIND MS` (MS from the
 * connect); exit 2 when the connect fails (bash's error on stderr), 9 without bash.
 */
export const TALK_SCRIPT = [
  'command -v bash >/dev/null 2>&1 || exit 9',
  // Bytes, not characters: in a UTF-8 locale `read -n 1` would take a whole multibyte character.
  'export LC_ALL=C',
  `exec bash -c '`,
  'trap "" PIPE',
  'a=$1 p=$2 wait=$3 max=$4; shift 4',
  // µs now in $t: $EPOCHREALTIME (bash 5); an older bash counts whole seconds (the remote timeout still bounds it all).
  'tick() { if [ -n "$EPOCHREALTIME" ]; then t=${EPOCHREALTIME/[.,]/}; else t=$((SECONDS * 1000000)); fi; }',
  'exec 3<>"/dev/tcp/$a/$p" || exit 2',
  'tick; t0=$t',
  'echo connected',
  'fin() { tick; echo "answer $ans"; echo "end $1 $(( (t - t0) / 1000 ))"; exit 0; }',
  'n=0 prev= ans=',
  'while [ $# -ge 3 ]; do',
  '  send=$1 after=$2 until=$3; shift 3',
  '  if [ "$after" != - ] && [ "$prev" != "$after" ]; then break; fi',
  '  ans=',
  '  if [ "$send" != - ]; then b=; h=$send; while [ -n "$h" ]; do b="$b\\x${h:0:2}"; h=${h:2}; done; printf "$b" >&3 || fin reset; fi',
  '  tick; dl=$((t + wait))',
  '  while :; do',
  '    tick; left=$((dl - t)); [ $left -le 0 ] && fin silent',
  '    IFS= read -r -d "" -n 1 -t "$((left / 1000000)).$(printf %06d $((left % 1000000)))" c <&3; s=$?',
  '    [ $s -gt 128 ] && fin silent',
  '    [ $s -ne 0 ] && fin eof',
  `    printf -v h %02x "'"'"'$c"; h=\${h: -2}; ans=$ans$h; n=$((n + 1))`,
  '    [ $n -ge $max ] && fin limit',
  '    if [ "$until" = line ]; then [ "$h" = 0a ] && break; else read -t 0 <&3 || break; fi',
  '  done',
  '  echo "answer $ans"; prev=$ans; ans=',
  'done',
  `tick; echo "end complete $(( (t - t0) / 1000 ))"' bash "$@"`,
].join('\n');

/** The argv that runs TALK_SCRIPT for one talk. */
export function talkArgv(address: string, port: number, opts: TalkOptions): string[] {
  const hex = (b: Uint8Array | undefined) => (b && b.length ? Buffer.from(b).toString('hex') : '-');
  return [
    'sh',
    '-c',
    TALK_SCRIPT,
    'sh',
    address,
    String(port),
    String(Math.max(1, Math.round(opts.waitMs * 1000))),
    String(Math.max(1, Math.floor(opts.maxBytes))),
    ...opts.steps.flatMap((s) => [hex(s.send), s.onlyAfter ? hex(s.onlyAfter) : '-', s.until]),
  ];
}

/**
 * Host.talk through a remote runner (the ssh session's exec): one remote command per talk. The
 * ssh host (./host.ts) hooks it in as `talk: (a, p, o) => talkOverShell((argv, ro) => session.exec(argv, ro), a, p, o)`.
 */
export async function talkOverShell(exec: (argv: readonly string[], options: RunOptions) => Promise<CommandResult>, address: string, port: number, opts: TalkOptions): Promise<TalkResult> {
  if (opts.signal?.aborted) return { address, port, outcome: 'error', errno: 'ABORT_ERR', answers: [], durationMs: 0 };
  const started = performance.now();
  // Connect, then each step's wait, and a second for bash itself; the remote `timeout` bounds it all.
  const budget = opts.connectTimeoutMs + opts.steps.length * opts.waitMs + 1_000;
  const r = await exec(talkArgv(address, port, opts), { timeoutMs: budget, ...(opts.signal ? { signal: opts.signal } : {}) });
  const durationMs = Math.round(performance.now() - started);
  if (opts.signal?.aborted) return { address, port, outcome: 'error', errno: 'ABORT_ERR', answers: [], durationMs };
  return parseTalkOutput(address, port, r, durationMs);
}
