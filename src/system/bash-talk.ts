import type { CommandResult } from '../host/runner.js';
import type { ProbeOutcome } from '../host/tcp-connect.js';
import type { TalkEnd, TalkResult } from '../host/tcp-talk.js';
import { socketErrno } from './strerror.js';

// A talk made on another host by bash's /dev/tcp (host/ssh/talk.ts, TALK_SCRIPT, whose
// output and exit statuses this reads), as the TalkResult node:net would have given.

/** What TALK_SCRIPT printed, as a TalkResult: pure, for tests on captured output. `durationMs` is the caller's. */
export function parseTalkOutput(address: string, port: number, r: Pick<CommandResult, 'exitCode' | 'stdout' | 'stderr' | 'timedOut'>, durationMs: number): TalkResult {
  const lines = r.stdout.split('\n');
  const base = { address, port, answers: [] as string[], durationMs };
  if (!lines.includes('connected')) {
    const fail = (outcome: ProbeOutcome, errno: string): TalkResult => ({ ...base, outcome, errno });
    if (r.exitCode === 124 || r.timedOut) return fail('timeout', 'ETIMEDOUT');
    const errno = /Connection timed out/.test(r.stderr) ? 'ETIMEDOUT' : socketErrno(r.stderr);
    if (errno) return fail(errno === 'ECONNREFUSED' ? 'refused' : errno === 'ETIMEDOUT' ? 'timeout' : 'unreachable', errno);
    return fail('error', r.exitCode === 9 ? 'no bash on the server' : r.stderr.trim().split('\n').pop() || `exit status ${r.exitCode}`);
  }
  const answers = lines.filter((l) => l.startsWith('answer ')).map((l) => l.slice(7).replace(/[^0-9a-f]/g, ''));
  const m = /^end (\w+) (\d+)$/m.exec(r.stdout);
  let end: TalkEnd = 'error';
  let endErrno: string | undefined;
  if (m) {
    end = m[1] as TalkEnd;
    // A read or write that failed says why on stderr; a plain EOF says nothing.
    if ((end === 'eof' || end === 'reset') && /Connection reset by peer|Broken pipe/.test(r.stderr)) {
      end = 'reset';
      endErrno = /Broken pipe/.test(r.stderr) ? 'EPIPE' : 'ECONNRESET';
    } else if (end === 'eof' && /read error/.test(r.stderr)) {
      end = 'error';
      endErrno = r.stderr.trim().split('\n').pop();
    }
  } else {
    // The remote timeout stopped the script mid-talk: the wait was overrun.
    end = r.exitCode === 124 || r.timedOut ? 'silent' : 'error';
  }
  return {
    ...base,
    answers,
    outcome: 'connected',
    end,
    ...(endErrno ? { endErrno } : {}),
    ...(m ? { endMs: Number(m[2]) } : {}),
  };
}

