import { chmod, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DiagnoseOptions } from '../cli/diagnose-args.js';
import { UsageError } from '../errors.js';
import { MAX_RECORDING_BYTES, parseRecording, RECORDING_FORMAT, RecordingError, type Recorder, type Recording } from '../host/recording.js';
import { replayHost } from '../host/replay.js';
import { SshError } from '../host/ssh/session.js';
import { readUserFile, UserFileError } from '../host/user-file.js';
import { redactionSummary } from '../text/redact.js';
import type { Vantages } from '../report/model.js';
import type { ServerEnd, ServerLink } from './both-ends.js';

// The files of `whyport record` and `--replay`, and the two ends of a recorded diagnosis. The
// recording and the replay themselves are Hosts (host/recording.ts, host/replay.ts).

/** The recording in FILE, read bounded and checked; a UsageError of one line (exit status 2) otherwise. */
export async function loadRecording(file: string): Promise<Recording> {
  let text: string;
  try {
    text = await readUserFile(file, MAX_RECORDING_BYTES);
  } catch (err) {
    if (err instanceof UserFileError) throw new UsageError(`cannot read the recording ${file}: ${err.reason}`, `a file written by whyport record HOST PORT -o FILE (at most ${MAX_RECORDING_BYTES / 1024 / 1024} MB)`);
    throw err;
  }
  try {
    return parseRecording(text, file);
  } catch (err) {
    if (err instanceof RecordingError) throw new UsageError(err.message, 'a file written by whyport record HOST PORT -o FILE, whole');
    throw err;
  }
}

/**
 * Makes sure FILE can be written before the diagnosis runs (so a typo does not cost a whole
 * walk): a regular file or none, in a directory that exists.
 */
export async function checkRecordingFile(file: string): Promise<void> {
  let handle;
  try {
    // O_APPEND without O_TRUNC: an existing file is left as it is until the recording replaces it.
    handle = await open(file, 'a', 0o600);
    const info = await handle.stat();
    if (!info.isFile()) throw new UsageError(`-o ${file}: not a regular file`, 'name a file the recording is written to');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new UsageError(`-o ${file}: cannot write it (${code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : code})`, 'name a file in a directory you can write');
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Writes the recording to FILE (mode 0600: it holds what a server said of itself), replacing it whole. */
export async function saveRecording(file: string, recording: Recording): Promise<void> {
  const text = `${JSON.stringify(recording, null, 1)}\n`;
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
    } finally {
      await handle.close();
    }
    await chmod(temporary, 0o600);
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new UsageError(`-o ${file}: cannot write the recording (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'name a file in a directory you can write');
  }
}

/** What a recorded diagnosis had as it ended: the recording, and the line saying what it holds. */
export function finishRecording(
  recorder: Recorder,
  run: { opts: DiagnoseOptions; version: string; startedAt: string; clientHost: string; clientLocal: boolean; vantages?: Vantages; code?: string },
): { recording: Recording; line: string } {
  const { opts } = run;
  const server = run.vantages?.server;
  const recording = recorder.recording({
    whyport: { version: run.version, format: RECORDING_FORMAT },
    recorded: run.startedAt,
    target: { host: opts.host, port: opts.port, protocol: opts.protocol, ...(opts.portName ? { portName: opts.portName } : {}) },
    options: { playbook: opts.playbook, answers: opts.answers, timeoutMs: opts.timeoutMs },
    vantages: {
      client: { hostname: run.clientHost, local: run.clientLocal },
      ...(server
        ? {
            server: {
              label: opts.ssh ? `${opts.ssh.target.destination}${opts.ssh.target.port ? `:${opts.ssh.target.port}` : ''}` : server.host,
              server: server.host,
              user: server.user,
              error: server.error,
              ...(server.hostname !== undefined ? { hostname: server.hostname } : {}),
              ...(server.as !== undefined ? { as: server.as } : {}),
              ...(server.commands !== undefined ? { commands: server.commands } : {}),
              ...(server.ran ? { ran: server.ran } : {}),
            },
          }
        : {}),
    },
    ...(run.code ? { expect: { code: run.code } } : {}),
  });
  const redacted = redactionSummary(recording.redacted);
  const full = recording.truncated ? `; it reached ${MAX_RECORDING_BYTES / 1024 / 1024} MB and left out ${recording.truncated.calls} calls (a replay finds them unreadable)` : '';
  const line = `recorded ${recording.calls.length} host calls${run.code ? ` (expect ${run.code})` : ''}${full}; ${redacted ? `redacted: ${redacted}` : 'nothing needed redacting'}`;
  return { recording, line };
}

/** The options of a replay: the recording's target, inputs and timeout; the command line's playbook only when it named one. */
export function replayOptions(opts: DiagnoseOptions, recording: Recording, file: string, ownPlaybook: boolean): DiagnoseOptions {
  const t = recording.target;
  if (opts.host !== t.host || opts.port !== t.port || opts.protocol !== t.protocol) {
    const recorded = `${t.host} ${t.port}${t.protocol === 'udp' ? '/udp' : ''}`;
    throw new UsageError(`${file} is a recording of ${recorded}, not of ${opts.host} ${opts.port}${opts.protocol === 'udp' ? '/udp' : ''}`, `whyport ${recorded} --replay ${file}`);
  }
  return {
    ...opts,
    ...(t.portName ? { portName: t.portName } : {}),
    answers: { ...recording.options.answers, ...opts.answers },
    playbook: ownPlaybook ? opts.playbook : recording.options.playbook,
    timeoutMs: recording.options.timeoutMs,
    yes: true,
    interactive: false,
  };
}

/** The server end of a recording made with --ssh: what ssh said then, and the server's recorded calls. */
export function replayedServerEnd(recording: Recording): ServerEnd {
  const s = recording.vantages.server!;
  const host = replayHost(recording, 'server');
  const link: ServerLink = {
    settings: { batchMode: true, target: { server: s.server, ...(s.user !== null ? { user: s.user } : {}) } },
    label: s.label,
    open: () => (s.error !== null ? Promise.reject(new SshError(s.error)) : Promise.resolve()),
    facts: s.error === null && s.hostname !== undefined ? { identity: { hostname: s.hostname }, user: s.as } : undefined,
    commands: s.commands ?? 0,
    log: s.ran ?? [],
    close: async () => {},
    closeSync: () => {},
  };
  return { session: link, host, walkHost: () => host };
}

/** A server end whose walks are recorded (the fix, never run with record, is not). */
export function recordedServerEnd(end: ServerEnd, recorder: Recorder): ServerEnd {
  return { ...end, walkHost: () => recorder.wrap(end.walkHost(), 'server') };
}
