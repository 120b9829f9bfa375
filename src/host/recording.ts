import { errorCode, HostError, type Host } from './host.js';
import type { TalkOptions } from './tcp-talk.js';
import { redactValue, uniqueRedactions, type Redaction } from '../text/redact.js';

// `whyport record`: every Host call of a diagnosis with what it answered, in one JSON file that
// `whyport HOST PORT --replay FILE` and `whyport playbook test` walk again elsewhere (replay.ts).
// The Host seam is where everything a diagnosis learns comes in, so recording it is recording the
// diagnosis: commands and their output, files, lookups, and the probes' results (a replay sends
// no packet). Secrets are redacted when the recording is written (text/redact.ts).

/** The recording format this whyport writes and reads. */
export const RECORDING_FORMAT = 1;
/** A recording stops growing here (it says so), and a bigger file is not read. */
export const MAX_RECORDING_BYTES = 20 * 1024 * 1024;

/** Which end of the diagnosis a call read: this machine, or the server over --ssh. */
export type Vantage = 'client' | 'server';

/** The Host methods a recording holds, each with the arguments that say what was asked (no timeouts, no signals). */
const ASKED = {
  run: (argv: readonly string[], options?: { input?: string; env?: Record<string, string> }) => [argv, { ...(options?.input !== undefined ? { input: options.input } : {}), ...(options?.env ? { env: options.env } : {}) }],
  readFile: (path: string) => [path],
  readFileTail: (path: string, bytes: number) => [path, bytes],
  listDir: (path: string) => [path],
  readLink: (path: string) => [path],
  stat: (paths: readonly string[]) => [paths],
  networkInterfaces: () => [],
  lookup: (name: string) => [name],
  nameservers: () => [],
  queryNameservers: (servers: readonly string[], name: string) => [servers, name],
  identity: () => [],
  connectTcp: (address: string, port: number) => [address, port],
  probeUdp: (address: string, port: number, opts: { payload?: Uint8Array; payloadName?: string }) => [address, port, opts.payload ? Buffer.from(opts.payload).toString('hex') : '', opts.payloadName ?? null],
  talk: (address: string, port: number, opts: TalkOptions) => [address, port, opts.steps.map((s) => ({ until: s.until, ...(s.send ? { send: Buffer.from(s.send).toString('hex') } : {}), ...(s.onlyAfter ? { onlyAfter: Buffer.from(s.onlyAfter).toString('hex') } : {}) })), opts.maxBytes],
  probeTls: (address: string, port: number, opts: { serverName?: string; alpn?: readonly string[] }) => [address, port, opts.serverName ?? null, opts.alpn ?? []],
  monotonicUs: () => [],
  socketOwners: (inodes: readonly number[], opts?: object) => [inodes, opts ?? {}],
  processes: (query: object) => [query],
  descendants: (pid: number) => [pid],
  socketInodes: (pids: readonly number[]) => [pids],
  netNamespaces: () => [],
  cgroups: (pids: readonly number[]) => [pids],
  unitFiles: (dirs: readonly string[], opts: object) => [dirs, opts],
  // The drops step's trace instance: recorded as asked (a replay answers them as they were, or refuses).
  writeFile: (path: string, text: string) => [path, text],
  makeDir: (path: string) => [path],
  removeDir: (path: string) => [path],
} satisfies Record<HostCall, (...args: never[]) => unknown[]>;

export type HostCall = Exclude<keyof Host, never>;

/** One call as recorded: what was asked, and its answer or its error. */
export interface RecordedCall {
  at: Vantage;
  call: HostCall;
  args: unknown[];
  result?: unknown;
  error?: { code: string; message: string };
}

/** What a recording says of each end: its name, and whether it was the machine whyport ran on. */
export interface RecordedVantages {
  client: { hostname: string; local: boolean };
  server?: {
    /** `--ssh`'s destination, as the report names it. */
    label: string;
    server: string;
    user: string | null;
    /** Why ssh failed, when it did (the replay fails the same way). */
    error: string | null;
    hostname?: string;
    as?: string;
    commands?: number;
    ran?: string[];
  };
}

/** A recording file (`whyport record HOST PORT -o FILE`). */
export interface Recording {
  whyport: { version: string; format: number };
  /** When it was recorded, ISO 8601 UTC. */
  recorded: string;
  target: { host: string; port: number; protocol: 'tcp' | 'udp'; portName?: string };
  /** What the walk was given: the playbook it walked, the inputs it ended with, the timeout. */
  options: { playbook: string; answers: Record<string, string>; timeoutMs: number };
  vantages: RecordedVantages;
  calls: RecordedCall[];
  /** What was redacted, kind and call, never the value. */
  redacted: Redaction[];
  /** The recording reached MAX_RECORDING_BYTES: these calls were left out (a replay answers them ENOREPLAY). */
  truncated?: { calls: number; limitBytes: number };
  /** The diagnosis the recorded walk reached: what `playbook test` expects of a replay. */
  expect?: { code: string };
}

/** The methods of a Host that a recording holds, in the order ASKED lists them. */
export const HOST_CALLS = Object.keys(ASKED) as HostCall[];

/** What was asked, as the recording keys it (the arguments of ASKED). */
export function askedOf(call: HostCall, args: readonly unknown[]): unknown[] {
  return (ASKED[call] as (...a: unknown[]) => unknown[])(...args);
}

/** A call in a few words, for the list of redactions: `readFile /etc/redis/redis.conf`, `run ps -eo …`. */
export function describeCall(call: HostCall, args: readonly unknown[]): string {
  const words = args.flatMap((a) => (typeof a === 'string' || typeof a === 'number' ? [String(a)] : Array.isArray(a) && a.every((x) => typeof x === 'string' || typeof x === 'number') ? [a.join(' ')] : []));
  const text = `${call} ${words.join(' ')}`.trim();
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

/** The file a call read, when it read one (its text is redacted knowing where it came from). */
export function pathOf(call: HostCall, args: readonly unknown[]): string | undefined {
  return (call === 'readFile' || call === 'readFileTail') && typeof args[0] === 'string' ? args[0] : undefined;
}

/**
 * Records every Host call it passes through, in the order asked, with its answer, until the
 * recording would outgrow `limitBytes`; later calls then pass through unrecorded and are counted.
 */
export class Recorder {
  readonly calls: RecordedCall[] = [];
  #bytes = 0;
  #dropped = 0;

  constructor(readonly limitBytes: number = MAX_RECORDING_BYTES) {}

  /** `host`, each call recorded as read at `at`. */
  wrap(host: Host, at: Vantage): Host {
    const wrapped: Record<string, unknown> = {};
    for (const call of HOST_CALLS) {
      const method = host[call] as ((...a: unknown[]) => Promise<unknown>) | undefined;
      if (typeof method !== 'function') continue;
      wrapped[call] = (...args: unknown[]) => {
        const entry: RecordedCall = { at, call, args: askedOf(call, args) };
        const full = this.#bytes > this.limitBytes;
        if (!full) this.calls.push(entry);
        const keep = (answered: Partial<RecordedCall>) => {
          if (full) return void this.#dropped++;
          Object.assign(entry, answered);
          this.#bytes += JSON.stringify(entry).length;
          if (this.#bytes > this.limitBytes) {
            this.calls.splice(this.calls.indexOf(entry), 1);
            this.#dropped++;
          }
        };
        return method.apply(host, args).then(
          (result) => {
            keep({ result });
            return result;
          },
          (err: unknown) => {
            keep({ error: { code: errorCode(err) ?? 'EIO', message: (err as Error)?.message ?? String(err) } });
            throw err;
          },
        );
      };
    }
    return wrapped as unknown as Host;
  }

  /** The calls left out once the recording was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The recording, its secrets redacted (what was redacted listed), ready to write. */
  recording(meta: Omit<Recording, 'calls' | 'redacted' | 'truncated'>): Recording {
    const found: Redaction[] = [];
    // A call still in flight as the walk ended (a read begun early that no step waited for) has no answer to replay.
    const calls = this.calls.filter((c) => 'result' in c || c.error).map((c) => {
      const where = `${c.at === 'server' ? 'server: ' : ''}${describeCall(c.call, c.args)}`;
      const path = pathOf(c.call, c.args);
      const args = redactValue(c.args, where, found);
      // JSON has no undefined: a stat of a missing path is null in the file (replay.ts turns it back).
      return { at: c.at, call: c.call, args, ...('result' in c ? { result: redactValue(c.result ?? null, where, found, path) } : {}), ...(c.error ? { error: redactValue(c.error, where, found) } : {}) };
    });
    return { ...meta, calls, redacted: uniqueRedactions(found), ...(this.#dropped ? { truncated: { calls: this.#dropped, limitBytes: this.limitBytes } } : {}) };
  }
}

/** A recording file could not be used: one line saying why (the CLI exits 2). */
export class RecordingError extends HostError {
  constructor(message: string) {
    super(message, 'EBADRECORDING');
    this.name = 'RecordingError';
  }
}

/**
 * The recording in `text` (a file's whole text), checked: whyport's format and version, a target,
 * a list of calls each naming a known Host method. Throws RecordingError in one line otherwise.
 */
export function parseRecording(text: string, file: string): Recording {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new RecordingError(`${file} is not a whyport recording: not JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const r = data as Partial<Recording> | null;
  if (!r || typeof r !== 'object' || !r.whyport || typeof r.whyport !== 'object') throw new RecordingError(`${file} is not a whyport recording (no "whyport" field)`);
  if (r.whyport.format !== RECORDING_FORMAT) throw new RecordingError(`${file} is a recording of format ${JSON.stringify(r.whyport.format)}; this whyport reads format ${RECORDING_FORMAT}`);
  const t = r.target;
  if (!t || typeof t.host !== 'string' || !Number.isInteger(t.port) || t.port < 1 || t.port > 65535 || (t.protocol !== 'tcp' && t.protocol !== 'udp')) throw new RecordingError(`${file}: its target is not a host, a port and tcp or udp`);
  const o = r.options;
  if (!o || typeof o.playbook !== 'string' || !o.answers || typeof o.answers !== 'object' || !Number.isInteger(o.timeoutMs)) throw new RecordingError(`${file}: its options are missing or malformed`);
  if (!r.vantages?.client || typeof r.vantages.client.hostname !== 'string') throw new RecordingError(`${file}: its vantages are missing`);
  if (!Array.isArray(r.calls)) throw new RecordingError(`${file}: its calls are missing`);
  const known = new Set<string>(HOST_CALLS);
  r.calls.forEach((c, i) => {
    if (!c || typeof c !== 'object' || !known.has(c.call) || !Array.isArray(c.args) || (c.at !== 'client' && c.at !== 'server') || (!('result' in c) && !c.error)) {
      throw new RecordingError(`${file}: calls[${i}] is not a recorded host call`);
    }
  });
  if (r.expect !== undefined && typeof r.expect?.code !== 'string') throw new RecordingError(`${file}: expect.code is not a diagnosis code`);
  if (!Array.isArray(r.redacted)) throw new RecordingError(`${file}: its list of redactions is missing`);
  return r as Recording;
}
