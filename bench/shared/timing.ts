/**
 * Timing whole processes from outside: each command is spawned and timed by wall clock from spawn
 * to exit (node's start, loading, the walk and the exit all count), the cases of a group taking turns
 * round by round after a warm-up, and the medians kept. Runs inside the measured namespace (the
 * `__measure` helper), so that `ip netns exec` is not part of any measured time.
 */
import { spawn } from 'node:child_process';
import { CLI, endStatus, status } from './common.js';

export interface Cmd {
  label: string;
  argv: string[];
  /** Keep only the lines containing this (the `| grep` of the manual chain, done here). */
  grep?: string;
  /** Killed (SIGKILL) after this long; default RUN_TIMEOUT_MS. */
  timeoutMs?: number;
}

const RUN_TIMEOUT_MS = 120_000;

export interface Case {
  id: string;
  label: string;
  cmds: Cmd[];
  /** Parse the whyport JSON report of each run. */
  whyport?: boolean;
  /** A counter read before and after each run (the ssh case: sessions in sshd's log); the difference is kept. */
  counter?: () => number;
  /** Sets the stage before each run, outside the timed part (the namespaces case: park or bring home the listeners). */
  before?: () => Promise<void>;
}

interface Sample {
  total: number;
  parts: number[];
  report?: WhyportReport;
  problem?: string;
  counted?: number;
  /** The namespaces step's evidence.looked: how many other network namespaces whyport read. */
  looked?: number;
}

interface WhyportReport {
  durationMs: number;
  diagnosis: { code: string };
  steps: { id: string; durationMs: number; command?: string; outcome?: string; where?: string; evidence?: Record<string, unknown> }[];
  vantages?: { server?: { error?: string | null; commands?: number; ran?: string[] } };
}

export interface CaseResult {
  id: string;
  label: string;
  parts: string[];
  runs: number;
  median: number;
  min: number;
  max: number;
  partMedians: number[];
  diagnosis?: string;
  inProcessMs?: number;
  steps?: { id: string; medianMs: number; command: string; outcome: string; where?: string }[];
  /** Per run: the case's counter's difference (sessions sshd logged). */
  counted?: number[];
  /** Per run: the report's vantages.server.commands (null when it has none). */
  serverCommands?: (number | null)[];
  /** The last report's vantages.server.ran. */
  serverRan?: string[];
  /** Per run, in order: wall time, and the report's durationMs (null without a report). */
  totals: number[];
  inProcess: (number | null)[];
  /** Per run: the namespaces step's evidence.looked (null when the run had none); only when some run had it. */
  looked?: (number | null)[];
  problems: string[];
}

/** One command as a whole process: wall time from spawn to exit, its output, and why it failed if it did. */
function runOnce(cmd: Cmd): Promise<{ ms: number; stdout: string; stderr: string; code: number | null; error?: string }> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd.argv[0]!, cmd.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let spawnError: string | undefined;
    child.on('error', (e) => (spawnError = e.message));
    const timeoutMs = cmd.timeoutMs ?? RUN_TIMEOUT_MS;
    const timer = setTimeout(() => {
      spawnError = `timed out after ${timeoutMs / 1000} s`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      let stdout = Buffer.concat(out).toString('utf8');
      if (cmd.grep !== undefined) stdout = stdout.split('\n').filter((l) => l.includes(cmd.grep!)).join('\n');
      resolve({ ms, stdout, stderr: Buffer.concat(err).toString('utf8'), code, ...(spawnError ? { error: spawnError } : {}) });
    });
  });
}

/** One run of a case: its commands one after another (the stage set first), their times summed. */
async function runCase(c: Case): Promise<Sample> {
  const parts: number[] = [];
  let report: WhyportReport | undefined;
  let problem: string | undefined;
  await c.before?.();
  const before = c.counter?.();
  for (const cmd of c.cmds) {
    const r = await runOnce(cmd);
    parts.push(r.ms);
    if (r.error) problem = `${cmd.label}: ${r.error}`;
    if (c.whyport) {
      try {
        report = JSON.parse(r.stdout) as WhyportReport;
      } catch {
        problem = `${cmd.label}: exit ${r.code}, no JSON report; stderr: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ') || '(empty)'}`;
      }
    }
  }
  const counted = before === undefined ? undefined : c.counter!() - before;
  if (report?.vantages?.server?.error) problem = `the server's side was not diagnosed: ${report.vantages.server.error}`;
  const looked = report?.steps?.find((s) => s.id === 'namespaces')?.evidence?.looked;
  return {
    total: parts.reduce((a, b) => a + b, 0),
    parts,
    ...(report ? { report } : {}),
    ...(problem ? { problem } : {}),
    ...(counted === undefined ? {} : { counted }),
    ...(typeof looked === 'number' ? { looked } : {}),
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs the cases round-robin (A B C, A B C, …) so drift hits them alike; the first `warmup` rounds are dropped. */
export async function measureGroup(title: string, cases: Case[], runs: number, warmup: number): Promise<CaseResult[]> {
  const samples = new Map<string, Sample[]>(cases.map((c) => [c.id, []]));
  for (let round = 0; round < warmup + runs; round++) {
    status(`${title}: ${round < warmup ? 'warm-up' : `run ${round - warmup + 1}/${runs}`}`);
    for (const c of cases) {
      const s = await runCase(c);
      if (round >= warmup) samples.get(c.id)!.push(s);
    }
  }
  endStatus();
  return cases.map((c) => summarise(c, samples.get(c.id)!));
}

function summarise(c: Case, list: Sample[]): CaseResult {
  const totals = list.map((s) => s.total);
  const result: CaseResult = {
    id: c.id,
    label: c.label,
    parts: c.cmds.map((x) => x.label),
    runs: list.length,
    median: median(totals),
    min: Math.min(...totals),
    max: Math.max(...totals),
    partMedians: c.cmds.map((_, i) => median(list.map((s) => s.parts[i]!))),
    totals,
    inProcess: list.map((s) => s.report?.durationMs ?? null),
    ...(list.some((s) => s.looked !== undefined) ? { looked: list.map((s) => s.looked ?? null) } : {}),
    problems: [...new Set(list.flatMap((s) => (s.problem ? [s.problem] : [])))],
  };
  const reports = list.flatMap((s) => (s.report ? [s.report] : []));
  if (reports.length > 0) {
    result.diagnosis = [...new Set(reports.map((r) => r.diagnosis?.code))].join(', ');
    result.inProcessMs = median(reports.map((r) => r.durationMs));
    const ids = reports[reports.length - 1]!.steps.map((s) => s.id);
    result.steps = ids.map((id) => {
      const seen = reports.flatMap((r) => r.steps.filter((s) => s.id === id));
      const last = seen[seen.length - 1]!;
      return { id, medianMs: median(seen.map((s) => s.durationMs)), command: last.command ?? '', outcome: last.outcome ?? '', ...(last.where ? { where: last.where } : {}) };
    });
    const last = reports[reports.length - 1]!;
    if (last.vantages?.server) {
      result.serverCommands = list.map((s) => s.report?.vantages?.server?.commands ?? null);
      result.serverRan = last.vantages.server.ran ?? [];
    }
  }
  if (c.counter) result.counted = list.flatMap((s) => (s.counted === undefined ? [] : [s.counted]));
  return result;
}

/** `node -e 0`: node's own start and exit, the part of every floor that whyport cannot go below. */
export const NODE_NOOP: Cmd = { label: 'node -e 0', argv: [process.execPath, '-e', '0'] };

/** The installed whyport (`dist/cli.cjs`) with these arguments, labelled as typed. */
export function whyportCmd(args: string[]): Cmd {
  return { label: `node dist/cli.cjs ${args.join(' ')}`, argv: [process.execPath, CLI, ...args] };
}
