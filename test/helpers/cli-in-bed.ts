import { join } from 'node:path';
import type { Report, StepRecord } from '../../src/report/model.js';
import { REPO_ROOT, type SystemdTestbed } from './nspawn.js';

/** The built CLI; the container sees the host's /usr and the repository at the same paths. */
export const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const NODE = process.execPath;

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  argv: string[];
}

export interface JsonRun extends Run {
  report: Report;
}

/** The real CLI inside the container, next to its systemd; stdin is not a TTY (nsenter gets /dev/null). */
export async function whyportIn(bed: SystemdTestbed, args: string[], timeoutMs = 20_000): Promise<Run> {
  // NODE_EXTRA_CA_CERTS from the host points at a file the volatile container lacks: node warns.
  const r = await bed.exec([NODE, CLI, ...args], { timeoutMs, env: { NODE_EXTRA_CA_CERTS: '' } });
  if (r.timedOut) throw new Error(`whyport ${args.join(' ')} timed out after ${timeoutMs} ms\nstderr: ${r.stderr}`);
  return { status: r.exitCode, stdout: r.stdout, stderr: r.stderr, argv: args };
}

/** The same with --json --yes, the report parsed: --json prints exactly one JSON document (CONTRACT.md). */
export async function whyportJsonIn(bed: SystemdTestbed, args: string[], timeoutMs?: number): Promise<JsonRun> {
  const r = await whyportIn(bed, [...args, '--json', '--yes'], timeoutMs);
  try {
    return { ...r, report: JSON.parse(r.stdout) as Report };
  } catch {
    throw new Error(`whyport ${r.argv.join(' ')} printed no JSON (exit ${r.status}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** One line per step, for assertion messages: the path the walk took. */
export function trace(r: JsonRun): string {
  const steps = r.report.steps.map((s) => `  ${s.id} → ${s.outcome}: ${s.summary}`).join('\n');
  const evidence = (r.report.diagnosis.evidence ?? []).map((l) => `    | ${l}`).join('\n');
  return `whyport ${r.argv.join(' ')} → ${r.report.diagnosis.code} (exit ${r.status}) "${r.report.diagnosis.title}" via\n${steps}\n  evidence:\n${evidence}${r.stderr ? `\nstderr: ${r.stderr}` : ''}`;
}

/** The step `id` of the report; throws with the trace when the walk did not pass it. */
export function step(r: JsonRun, id: string): StepRecord {
  const s = r.report.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step '${id}' in the report:\n${trace(r)}`);
  return s;
}

/** Polls `cond` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
