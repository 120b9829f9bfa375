import { errorCode, type Host } from '../host/host.js';
import { SOMAXCONN_FILE } from '../knowledge/thresholds.js';
import { showCommand } from './runner.js';
import { defineReader } from './reader.js';

/** One reading of the kernel's count of connections dropped because an accept queue was full. */
export interface OverflowReading {
  value: number;
  /** Where it was read: iproute2's nstat, or /proc/net/netstat when nstat is missing. */
  source: 'nstat' | '/proc/net/netstat';
  /** What a person would type to read the same. */
  command: string;
}

/** Two readings over an interval, and how much the counter grew in between. */
export interface OverflowSample {
  first: number;
  second: number;
  growth: number;
  intervalMs: number;
  source: OverflowReading['source'];
  command: string;
}

// -a: absolute values, -s: leave nstat's history file alone (the user's next `nstat` must still
// show what changed since *their* last run), -z: print the counter even when it is 0.
const NSTAT_ARGV = ['nstat', '-asz', 'TcpExtListenOverflows'];

/** TcpExtListenOverflows in `nstat` output; undefined when the line is missing. */
export function parseNstat(text: string, counter = 'TcpExtListenOverflows'): number | undefined {
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name === counter && value !== undefined && /^\d+$/.test(value)) return Number(value);
  }
  return undefined;
}

/**
 * A TcpExt counter in /proc/net/netstat, which pairs a line of names with a line of values
 * (`TcpExt: SyncookiesSent … ListenOverflows …` then `TcpExt: 0 … 12 …`).
 */
export function parseProcNetstat(text: string, counter = 'ListenOverflows'): number | undefined {
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/).slice(1);
    const values = lines[i + 1]!.split(/\s+/).slice(1);
    const at = names.indexOf(counter);
    if (at >= 0 && values[at] !== undefined && /^\d+$/.test(values[at]!)) return Number(values[at]);
  }
  return undefined;
}

/** The counter now, from nstat, else /proc/net/netstat; a string says why neither could be read. */
export async function readListenOverflows(host: Host, opts: { timeoutMs: number; netstatFile?: string }): Promise<OverflowReading | string> {
  const file = opts.netstatFile ?? '/proc/net/netstat';
  const res = await host.run(NSTAT_ARGV, { timeoutMs: opts.timeoutMs });
  let why: string;
  if (!res.missing && res.exitCode === 0) {
    const value = parseNstat(res.stdout);
    if (value !== undefined) return { value, source: 'nstat', command: showCommand(['nstat', '-az', 'TcpExtListenOverflows']) };
    why = 'nstat printed no TcpExtListenOverflows';
  } else {
    why = res.missing ? 'nstat is not installed' : `nstat failed (exit ${res.exitCode ?? 'signal'})`;
  }
  try {
    const value = parseProcNetstat(await host.readFile(file));
    if (value !== undefined) return { value, source: '/proc/net/netstat', command: `grep TcpExt: ${file}` };
    return `${why}, and ${file} has no ListenOverflows`;
  } catch (err) {
    return `${why}, and ${file} could not be read (${errorCode(err) ?? String(err)})`;
  }
}

/**
 * Reads the counter twice, `intervalMs` apart. The counter is the whole network namespace's, not
 * one socket's: growth while one queue is full is strong evidence, not proof, that it is this one.
 */
export async function sampleListenOverflows(
  host: Host,
  opts: { timeoutMs: number; intervalMs: number; netstatFile?: string; sleep?: (ms: number) => Promise<void> },
): Promise<OverflowSample | string> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const first = await readListenOverflows(host, opts);
  if (typeof first === 'string') return first;
  const started = performance.now();
  await sleep(opts.intervalMs);
  const second = await readListenOverflows(host, opts);
  if (typeof second === 'string') return second;
  return {
    first: first.value,
    second: second.value,
    growth: Math.max(0, second.value - first.value),
    intervalMs: Math.round(performance.now() - started),
    source: second.source,
    command: second.command,
  };
}

/**
 * net.core.somaxconn: the kernel cuts every listen backlog to it, so where the backlog itself
 * cannot be read (netstat, /proc/net/tcp) it is at least an upper bound. undefined if unreadable.
 */
export async function readSomaxconn(host: Host, file = SOMAXCONN_FILE): Promise<number | undefined> {
  try {
    const n = Number((await host.readFile(file)).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** net.core.somaxconn, once per diagnosis (the backlog's bound where the table does not show it). */
export const somaxconnOf = defineReader<void, number | undefined>({ name: 'somaxconn', read: (_, s) => readSomaxconn(s.host) });

/** The listen-overflow counter read twice, `intervalMs` apart (what one sampling costs is the wait: once per diagnosis). */
export const listenOverflowsOf = defineReader<number, OverflowSample | string>({
  name: 'listen overflows',
  key: (intervalMs) => String(intervalMs),
  read: (intervalMs, s) => sampleListenOverflows(s.host, { timeoutMs: s.timeoutMs, intervalMs }),
});
