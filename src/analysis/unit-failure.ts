import { SIGNAL_MEANINGS, isConfigTest } from '../knowledge/failure-words.js';
import { signalName } from '../knowledge/signals.js';
import type { ExecCommand, ExecMainCode, UnitDetails } from '../system/systemd/units.js';

/**
 * What happened to a unit, in words that match what happened: a failed configuration test is not
 * "its main process exited", a unit restarting in a loop is not "still starting", a signal is
 * named. Pure: a function of `systemctl show` and the journal, tested on captured output.
 */
export type UnitKind =
  | 'running'
  | 'exited'
  | 'starting'
  | 'stopped'
  | 'stopping'
  | 'exit'
  | 'signal'
  | 'config-test'
  | 'pre-start'
  | 'start-command'
  | 'crash-loop'
  | 'start-limit'
  | 'timeout'
  | 'result';

export interface UnitVerdict {
  kind: UnitKind;
  /** For a title: `myapp.service has failed (exit status 1)`. */
  headline: string;
  /** A clause for an explanation: `systemd started myapp.service and its main process exited with exit status 1`. */
  story: string;
  /** `exit status 1`, `killed by SIGKILL — the OOM killer, or someone`, or the unit's result. */
  exit: string;
  /** How long an activation has lasted so far, when it is still starting. */
  startingForMs?: number;
}

/** How the last process of a start ended: the main process, else a control process (ExecStartPre, a forking ExecStart). */
interface Ending {
  process: 'main' | 'control';
  code: ExecMainCode;
  status: number;
  command?: ExecCommand;
}

const EXITED_LINE = /\b(Main|Control) process exited, code=(\w+), status=(\d+)/;

/** The most recent process ending systemd recorded, from its properties or, after a daemon-reload made it forget, from the journal. */
export function lastEnding(s: UnitDetails, journal: readonly string[]): Ending | undefined {
  const failedCommand = s.commands.find((c) => !c.ignoreErrors && c.code !== undefined && (c.code !== 'exited' || (c.status ?? 0) !== 0));
  const mainIsControl = s.type === 'forking' || s.type === 'oneshot';
  if (failedCommand && (failedCommand.phase !== 'ExecStart' || mainIsControl || s.execMainCode === undefined)) {
    return { process: failedCommand.phase === 'ExecStart' && !mainIsControl ? 'main' : 'control', code: failedCommand.code!, status: failedCommand.status ?? 0, command: failedCommand };
  }
  if (s.execMainCode !== undefined && s.execMainStatus !== undefined && (s.execMainCode !== 'exited' || s.execMainStatus !== 0)) {
    return { process: 'main', code: s.execMainCode, status: s.execMainStatus };
  }
  for (let i = journal.length - 1; i >= 0; i--) {
    const m = EXITED_LINE.exec(journal[i]!);
    if (!m) continue;
    const code = (['exited', 'killed', 'dumped'] as const).find((c) => c === m[2]) ?? 'exited';
    const process = m[1] === 'Main' ? 'main' : 'control';
    // Which command a control process was: ExecStart itself for forking/oneshot, else the first pre-start command.
    const command = process === 'control' ? (mainIsControl ? s.commands.find((c) => c.phase === 'ExecStart') : s.commands.find((c) => c.phase === 'ExecStartPre' && !c.ignoreErrors)) : undefined;
    return { process, code, status: Number(m[3]), ...(command ? { command } : {}) };
  }
  // A start command whose failure systemd was told to ignore (`ExecStart=-/usr/bin/pg_ctlcluster …`)
  // still says why the service never came up (Result: protocol, no PID file).
  const ignored = s.commands.find((c) => c.ignoreErrors && c.code !== undefined && (c.code !== 'exited' || (c.status ?? 0) !== 0));
  if (ignored) return { process: 'control', code: ignored.code!, status: ignored.status ?? 0, command: ignored };
  return undefined;
}

/** `exit status 1`, `killed by SIGKILL — the OOM killer, or someone`. */
export function endingText(e: Pick<Ending, 'code' | 'status'>, journal: readonly string[] = []): string {
  if (e.code === 'exited') return `exit status ${e.status}`;
  const name = signalName(e.status) ?? `signal ${e.status}`;
  if (name === 'SIGKILL' && journal.some((l) => /killed by the OOM killer|oom-kill|Out of memory/i.test(l))) return 'killed by SIGKILL — the OOM killer (out of memory)';
  const meaning = SIGNAL_MEANINGS[name];
  return `killed by ${name}${e.code === 'dumped' ? ' (core dumped)' : ''}${meaning ? ` — ${meaning}` : ''}`;
}

/** The command line shortened for a title: `nginx -t -q …`. */
function shortCommand(argv: string): string {
  const words = argv.trim().split(/\s+/);
  const program = (words[0] ?? '').split('/').pop() ?? '';
  const rest = words.slice(1);
  const shown = [program, ...rest.slice(0, 3)].join(' ');
  return rest.length > 3 ? `${shown} …` : shown;
}

/** A running unit restarted this often, with a restart among its last journal lines, is in a crash loop caught running. */
const CRASH_LOOP_RESTARTS = 3;
const RESTART_LINES = 6;
const SCHEDULED_RESTART = /\bScheduled restart job, restart counter is at \d+/;

/**
 * The verdict for a unit in `s`'s state. `nowMonotonicUs` (CLOCK_MONOTONIC, as systemd's
 * *TimestampMonotonic) gives a start in progress its duration.
 */
export function unitVerdict(s: UnitDetails, journal: readonly string[], nowMonotonicUs?: number): UnitVerdict {
  const u = s.unit;
  const ending = lastEnding(s, journal);
  const exit = ending ? endingText(ending, journal) : s.result && s.result !== 'success' ? `result ${s.result}` : 'no exit status recorded';
  const limitHit = s.result === 'start-limit-hit' || journal.slice(-6).some((l) => l.includes('Start request repeated too quickly'));

  if (s.state === 'active' || s.state === 'reloading') {
    if (s.subState === 'exited') return { kind: 'exited', headline: `${u} is active (exited)`, story: `${u} ran its start commands and they exited, as a one-shot unit does`, exit };
    // Caught in the moment between a restart and its next death: running, yet restarted again and again just now.
    if (s.subState === 'running' && s.nRestarts >= CRASH_LOOP_RESTARTS && journal.slice(-RESTART_LINES).some((l) => SCHEDULED_RESTART.test(l))) {
      const n = s.nRestarts;
      return {
        kind: 'crash-loop',
        headline: `${u} is restarting in a loop (${n} restarts so far; ${exit}; running again for the moment)`,
        story: `${u} keeps dying: its last run ended with ${exit}, and systemd has restarted it ${n} times so far (Restart=${s.restart ?? 'on-failure'}); it runs again only until it dies the same way`,
        exit,
      };
    }
    return { kind: 'running', headline: `${u} is active (${s.subState})`, story: `${u} is running`, exit };
  }
  if (s.state === 'activating' && s.subState === 'auto-restart') {
    const n = s.nRestarts;
    const times = n === 1 ? 'once' : `${n} times`;
    return {
      kind: 'crash-loop',
      headline: `${u} is restarting in a loop (${n} restart${n === 1 ? '' : 's'} so far; ${exit})`,
      story: `${u} keeps dying: its main process ended with ${exit}, and systemd has restarted it ${times} so far (Restart=${s.restart ?? 'on-failure'}), each time to see it die again before it could serve`,
      exit,
    };
  }
  if (s.state === 'activating' || s.state === 'deactivating') {
    const startingForMs = s.state === 'activating' && s.startedMonotonicUs !== undefined && nowMonotonicUs !== undefined ? Math.max(0, Math.round((nowMonotonicUs - s.startedMonotonicUs) / 1000)) : undefined;
    const since = startingForMs !== undefined ? ` for ${seconds(startingForMs)}` : '';
    const limit = s.timeoutStart ? `; systemd waits up to ${s.timeoutStart} (TimeoutStartSec)` : '';
    if (s.state === 'deactivating') return { kind: 'stopping', headline: `${u} is stopping (${s.subState})`, story: `${u} is being stopped`, exit };
    return {
      kind: 'starting',
      headline: `${u} is still starting (${s.subState}${since}${limit})`,
      story: `${u} has been starting${since}${s.type === 'notify' ? ', and has not yet told systemd it is ready (Type=notify)' : ''}${limit}`,
      exit,
      ...(startingForMs !== undefined ? { startingForMs } : {}),
    };
  }
  if (s.state === 'inactive' && (s.result === undefined || s.result === 'success')) {
    return { kind: 'stopped', headline: `${u} is stopped`, story: `${u} is not running: it was stopped, or never started`, exit };
  }
  // failed, or inactive with a result that says why
  if (limitHit) {
    const burst = s.startLimit.burst !== undefined && s.startLimit.interval ? ` (more than ${s.startLimit.burst} starts within ${s.startLimit.interval})` : '';
    return {
      kind: 'start-limit',
      headline: `${u} has failed: it died too often and systemd stopped trying (start-limit-hit; ${exit})`,
      story: `${u} failed each time it was started (${exit}), was restarted too often${burst}, and systemd stopped starting it: it stays failed until someone resets it`,
      exit,
    };
  }
  if (s.result === 'timeout') {
    return {
      kind: 'timeout',
      headline: `${u} has failed: it did not finish starting within ${s.timeoutStart ?? 'its start timeout'} (Result: timeout)`,
      story: `systemd started ${u}, waited ${s.timeoutStart ?? 'its TimeoutStartSec'} for it to be ready, then gave up and stopped it`,
      exit,
    };
  }
  if (ending?.process === 'control' && ending.command) {
    const c = ending.command;
    if (c.phase === 'ExecStartPre' && isConfigTest(c.argv)) {
      return {
        kind: 'config-test',
        headline: `${u} has failed: its configuration test failed (${shortCommand(c.argv)}, ${exit})`,
        story: `before starting ${u}, systemd ran its configuration test (${c.argv.trim()}), which failed with ${exit}, so the program itself was never started`,
        exit,
      };
    }
    if (c.phase === 'ExecStartPre' || c.phase === 'ExecStartPost') {
      const when = c.phase === 'ExecStartPre' ? 'before' : 'after';
      return {
        kind: 'pre-start',
        headline: `${u} has failed: a command it runs ${when} starting failed (${shortCommand(c.argv)}, ${exit})`,
        story: `systemd ran ${u}'s ${c.phase}= command (${c.argv.trim()}) ${when} starting it, and it failed with ${exit}`,
        exit,
      };
    }
    return {
      kind: 'start-command',
      headline: `${u} has failed: its start command failed (${shortCommand(c.argv)}, ${exit})`,
      story: `systemd ran ${u}'s start command (${c.argv.trim()}), which ended with ${exit} before the service was up`,
      exit,
    };
  }
  if (ending) {
    const signal = ending.code !== 'exited';
    return {
      kind: signal ? 'signal' : 'exit',
      headline: `${u} has failed (${exit})`,
      story: signal ? `systemd started ${u} and its main process was ${exit.replace(/ — /, ' (')}${exit.includes(' — ') ? ')' : ''}` : `systemd started ${u} and its main process exited with ${exit}`,
      exit,
    };
  }
  return { kind: 'result', headline: `${u} has failed (${exit})`, story: `${u} failed (${s.result ? `Result: ${s.result}` : 'systemd recorded no reason'})`, exit };
}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** How the unit step words a unit's state: a unit restarting in a loop has failed, whatever its ActiveState says; a failed socket fails its service. */
export function unitOutcome(s: UnitDetails, v: UnitVerdict, socketFailed: boolean): 'active' | 'activating' | 'inactive' | 'failed' {
  if (socketFailed) return 'failed';
  if (s.state === 'inactive') return 'inactive';
  switch (v.kind) {
    case 'running':
    case 'exited':
      return 'active';
    case 'starting':
      return 'activating';
    case 'stopped':
    case 'stopping':
      return 'inactive';
    default:
      return 'failed';
  }
}

/**
 * The real services of a unit that stays `active (exited)` only to group them: its `ConsistsOf=`
 * (units that are PartOf= it) and the template instances it `Wants=`.
 */
export function wrapperMembers(s: UnitDetails): string[] {
  if (!(s.state === 'active' && s.subState === 'exited')) return [];
  const services = (list: string[]) => list.filter((u) => u.endsWith('.service'));
  return [...new Set([...services(s.consistsOf), ...services(s.wants).filter((u) => u.includes('@'))])];
}

/** Worst first: the member that explains the port best. */
const SEVERITY: Record<string, number> = { failed: 0, activating: 1, inactive: 2, deactivating: 3, reloading: 4, active: 5 };

/** The member of a wrapper or template that is in the worst state (or the first active one that has a main process). */
export function worstMember<U extends Pick<UnitDetails, 'state' | 'mainPid'>>(members: readonly U[]): U | undefined {
  return [...members].sort((a, b) => (SEVERITY[a.state] ?? 9) - (SEVERITY[b.state] ?? 9) || Number(b.mainPid !== undefined) - Number(a.mainPid !== undefined))[0];
}
