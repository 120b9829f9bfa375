import type { DiagnoseOptions } from '../cli/diagnose-args.js';
import { checks } from '../checks/index.js';
import { guessers } from '../checks/guesses.js';
import type { CheckContext } from '../checks/check.js';
import { walk, type WalkResult, type WalkUI } from '../engine/walk.js';
import { UsageError, formatLintError } from '../errors.js';
import { didYouMean } from '../playbook/suggest.js';
import type { Playbook } from '../playbook/schema.js';
import { openPlaybook } from '../playbook/source.js';
import { makeContext, prefetch, type EarlyStart } from './context.js';
import { EXIT, exitStatusFor, type AppliedFix, type Report, type Vantages } from '../report/model.js';
import type { ServerEnd } from './both-ends.js';
import type { Host } from '../host/host.js';
import { localHost } from '../host/local.js';
import type { Recording } from '../host/recording.js';
import { underlying } from '../host/abortable.js';
import { showCommand, type Runner } from '../system/runner.js';
import { silentUI, terminalUI } from '../ui/terminal.js';

const FIX_TIMEOUT_MS = 60_000;
const RECHECK_TRIES = 4;
const RECHECK_PAUSE_MS = 750;

export interface DiagnoseIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The machine diagnosed (the local one unless a test gives another). */
  host?: Host;
  /** Overrides the terminal UI (tests). */
  ui?: WalkUI & { confirm?(message: string): Promise<boolean>; stop?(): void };
  signal?: AbortSignal;
  /** The playbook and context main started early (see context.ts beginDiagnosis). */
  early?: EarlyStart;
  /** whyport's version, for the report (main passes the one it prints for --version). */
  version?: string;
  /** When the run started and what time it is, in ms since the epoch (tests pin them); default: the process's own start. */
  clock?: RunClock;
  /** The name of the machine whyport runs on (tests pin it); default: what the local Host says of itself. */
  hostname?: string;
  /** The width of the text report (tests pin it); default: the terminal's, see outputColumns. */
  columns?: number;
  /** With --replay: the recording, already read (playbook test); read from opts.replay.file otherwise. */
  replay?: Recording;
}

/** The run's start and the time now, in ms since the epoch. */
export interface RunClock {
  startedAt: number;
  now(): number;
}

// performance.timeOrigin is the process's start: the report's "took" is the whole run as the user
// waited for it, node's own start-up, prompts and a --fix included, not only the walk.
const processClock: RunClock = { startedAt: performance.timeOrigin, now: () => performance.timeOrigin + performance.now() };

/** The run's start as ISO 8601 in UTC, to the second: what a ticket needs, no more. */
export function isoSecond(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Runs one diagnosis end to end: walk, optional fix and re-check, report. Returns the exit status. */
export async function diagnose(given: DiagnoseOptions, io: DiagnoseIO): Promise<number> {
  const clock = io.clock ?? processClock;
  // --replay: the walk reads the recording (host/replay.ts), with the target and inputs recorded.
  let opts = given;
  let recording: Recording | undefined;
  if (given.replay) {
    const record = await import('./record.js');
    recording = io.replay ?? (await record.loadRecording(given.replay.file));
    opts = record.replayOptions(given, recording, given.replay.file, given.replay.ownPlaybook);
    io.stderr(`whyport: replaying ${given.replay.file}: recorded ${recording.recorded} on ${recording.vantages.client.hostname}${recording.vantages.server ? ` and ${recording.vantages.server.label}` : ''}; nothing is read or sent here\n`);
  }
  // whyport record: every host call of the walk is recorded (host/recording.ts), written at the end.
  const recorder = opts.record ? new (await import('../host/recording.js')).Recorder() : undefined;
  if (opts.record) await (await import('./record.js')).checkRecordingFile(opts.record.file);
  const playbook = io.early?.playbook ?? (await openPlaybook(opts.playbook));
  for (const w of playbook.warnings) io.stderr(`${formatLintError(w)}\n`);
  checkSetInputs(opts.setInputs ?? [], playbook);
  const machine = io.host ?? (io.early ? underlying(io.early.ctx.host) : localHost);
  const host = recording ? (await import('../host/replay.js')).replayHost(recording, 'client') : recorder ? recorder.wrap(machine, 'client') : machine;
  const context = (): CheckContext => makeContext(opts, host, io.signal);

  if (opts.watch) {
    const { watch } = await import('./watch.js');
    const signal = io.signal ?? new AbortController().signal;
    return watch(
      async () => {
        // A fresh context per try: Facts caches host scans for one diagnosis only.
        const r = await walk({ playbook, ctx: context(), checks, guessers, answers: opts.answers, interactive: false, ui: silentUI, signal });
        return { code: r.diagnosis.code, title: r.diagnosis.title, exitStatus: exitStatusFor(r.diagnosis.code) };
      },
      { intervalMs: opts.watch.intervalMs, ...(opts.watch.max !== undefined ? { max: opts.watch.max } : {}), out: io.stdout, signal },
    );
  }
  const showProgress = opts.format === 'text' || opts.interactive;
  const ui = io.ui ?? (showProgress && process.stderr.isTTY && (process.stderr.columns ?? 0) > 0 ? await terminalUI({ spinner: true, color: opts.color }) : { ...silentUI, stop() {} });
  let result: WalkResult;
  let vantages: Vantages | undefined;
  let end: ServerEnd | undefined;
  let recheck: () => Promise<WalkResult>;
  const closeOnExit = () => end?.session.closeSync();
  try {
    const ctx = io.early && !recording && !recorder ? io.early.ctx : context();
    if (ctx !== io.early?.ctx) prefetch(playbook, ctx);
    // A playbook's command that changes the host runs with --fix's consent: --yes (or no TTY), else a yes at the prompt.
    const mayChange = async (command: string, where: 'client' | 'server' | undefined): Promise<boolean> => {
      if (opts.yes) return true;
      if (!ui.confirm) return false;
      const on = where === 'server' && end ? ` on ${end.session.label}` : '';
      return ui.confirm(`The playbook's next step changes things: run \`${command}\`${on} now?`);
    };
    const base = { playbook, checks, guessers, answers: opts.answers, interactive: opts.interactive, ui, ...(io.signal ? { signal: io.signal } : {}), ...(opts.fix ? { mayChange } : {}) };
    if (opts.ssh || recording?.vantages.server) {
      const both = await import('./both-ends.js');
      both.checkBothEnds(playbook);
      const record = recording || recorder ? await import('./record.js') : undefined;
      if (recording) end = record!.replayedServerEnd(recording);
      else {
        end = both.serverEnd(opts, playbook, io.signal);
        if (recorder) end = record!.recordedServerEnd(end, recorder);
      }
      process.once('exit', closeOnExit);
      ({ result, vantages } = await both.walkBothEnds(playbook, opts, end, base, ctx));
      // On stderr too, in one line: with --json the report alone would hide it from the person.
      if (vantages.server.error) io.stderr(`whyport: --ssh: ${vantages.server.error}\n`);
      const server = end;
      recheck = async () => (await both.walkBothEnds(playbook, opts, server, { ...base, answers: result.answers, interactive: false, ui: silentUI }, context())).result;
    } else {
      result = await walk({ ...base, ctx });
      recheck = () => walk({ playbook, ctx: context(), checks, guessers, answers: result.answers, interactive: false, ui: silentUI, ...(io.signal ? { signal: io.signal } : {}) });
    }
  } catch (err) {
    await end?.session.close();
    throw err;
  } finally {
    ui.stop?.();
  }
  try {
    await finish();
  } finally {
    await end?.session.close();
    process.off('exit', closeOnExit);
  }
  if (recorder && opts.record) {
    const record = await import('./record.js');
    const identity = await host.identity().catch(() => undefined);
    const { recording: made, line } = record.finishRecording(recorder, {
      opts,
      version: io.version ?? 'unknown',
      startedAt: isoSecond(clock.startedAt),
      clientHost: identity?.hostname ?? 'unknown',
      clientLocal: typeof machine.probeTls === 'function',
      ...(vantages ? { vantages } : {}),
      ...(result.interrupted ? {} : { code: result.diagnosis.code }),
    });
    await record.saveRecording(opts.record.file, made);
    io.stderr(`whyport: ${opts.record.file}: ${line}\n`);
  }
  if (result.interrupted) return EXIT.interrupted;
  return exitStatusFor(result.diagnosis.code);

  async function finish(): Promise<void> {
    if (opts.fix && !result.interrupted && result.fixArgv.length > 0) {
      const commands = result.fixArgv.map(showCommand);
      let go = opts.yes;
      if (!go && ui.confirm) {
        try {
          go = await ui.confirm(`Run ${commands.map((c) => `\`${c}\``).join(' then ')}${end ? ` on ${end.session.label}` : ''} now?`);
        } catch {
          go = false;
          result.interrupted = true;
        }
      }
      // Over ssh the fix runs on the server, and the re-check walks both ends again.
      if (go) result.diagnosis.applied = await applyFix(result, { runner: end?.host ?? host, recheck });
    } else if (opts.fix && result.fixArgv.length === 0 && !result.interrupted) {
      io.stderr(`whyport: --fix: ${result.diagnosis.code} has no fix whyport can apply${result.diagnosis.fix ? '; the commands shown are for you to run' : ''}\n`);
    }

    const report: Report = {
      version: 1,
      target: result.target,
      playbook: { name: playbook.name, source: playbook.source },
      steps: result.steps,
      diagnosis: result.diagnosis,
      durationMs: Math.max(0, Math.round(clock.now() - clock.startedAt)),
      // The machine whyport runs on: the diagnosed host locally; with --ssh the client, not the server.
      whyport: { version: io.version ?? 'unknown', host: io.hostname ?? (await host.identity().catch(() => undefined))?.hostname ?? 'unknown', startedAt: isoSecond(clock.startedAt) },
      ...(result.findings.length ? { findings: result.findings } : {}),
      ...(result.interrupted ? { interrupted: true } : {}),
      ...(vantages ? { vantages } : {}),
    };
    await printReport(report, opts, io);
  }
}

/** Each `--set NAME=…` names an input of the playbook: a typo is refused, not silently ignored. */
function checkSetInputs(names: readonly string[], playbook: Playbook): void {
  const known = Object.keys(playbook.inputs);
  for (const name of names) {
    if (known.includes(name)) continue;
    const listed = known.length ? `its inputs: ${known.join(', ')}` : 'it has no inputs';
    const close = didYouMean(name, known);
    throw new UsageError(`--set ${name}: the playbook ${playbook.name} has no input '${name}'`, close ? `${close} (${listed})` : listed);
  }
}

async function applyFix(result: WalkResult, deps: { runner: Runner; recheck: () => Promise<WalkResult> }): Promise<AppliedFix> {
  let exitCode: number | null = 0;
  let output = '';
  const ran: string[] = [];
  for (const argv of result.fixArgv) {
    ran.push(showCommand(argv));
    const r = await deps.runner.run(argv, { timeoutMs: FIX_TIMEOUT_MS });
    output += r.stdout + r.stderr;
    exitCode = r.missing ? 127 : r.exitCode;
    if (r.missing) output += `${argv[0]}: command not found\n`;
    if (r.timedOut) output += `${showCommand(argv)}: timed out after ${FIX_TIMEOUT_MS} ms\n`;
    if (exitCode !== 0) break;
  }
  let after = result.diagnosis.code;
  if (exitCode === 0) {
    // A service that was just started may need a moment to bind its port.
    for (let i = 0; i < RECHECK_TRIES; i++) {
      after = (await deps.recheck()).diagnosis.code;
      if (after === 'REACHABLE') break;
      await new Promise((r) => setTimeout(r, RECHECK_PAUSE_MS));
    }
  }
  return { command: ran.join(' && '), exitCode, verified: after === 'REACHABLE', ...(output.trim() ? { output: output.trim() } : {}), after };
}

async function printReport(report: Report, opts: DiagnoseOptions, io: DiagnoseIO): Promise<void> {
  if (opts.format === 'json') {
    const { renderJson } = await import('../report/json.js');
    io.stdout(renderJson(report));
  } else if (opts.format === 'markdown') {
    const { renderMarkdown } = await import('../report/markdown.js');
    io.stdout(renderMarkdown(report, { brief: opts.brief }));
  } else {
    const { renderText } = await import('../report/text.js');
    const { outputColumns } = await import('../text/terminal.js');
    const width = io.columns ?? outputColumns({ stdout: process.stdout.columns, stderr: process.stderr.columns, env: process.env.COLUMNS });
    io.stdout(renderText(report, { color: opts.color, width, verbose: opts.verbose, brief: opts.brief }));
  }
}
