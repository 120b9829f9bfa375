import { mkdir, readFile, writeFile } from 'node:fs/promises';
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

/** What varies from run to run and says nothing about the report: a report with these taken out. */
export function substance(text: string, machine: string): string {
  return text
    .replaceAll(machine, 'HOST')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d{4}|Z)/g, 'TIME') // journal lines; a report's whyport.startedAt
    .replace(/[A-Z][a-z]{2} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]+/g, 'TIME')
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [A-Z]+/g, 'TIME') // PostgreSQL's own log lines
    .replace(/\b\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\b/g, 'TIME') // nginx's own log lines
    .replace(/\b\d\d:\d\d:\d\d\b/g, 'TIME') // journal lines keep only the time of day
    .replace(/"(startedMonotonicUs|startingForMs)": \d+/g, '"$1": N')
    .replace(/\[\d+\]/g, '[PID]')
    .replace(/\b\d+#\d+: \*\d+ /g, 'PID#TID: *CONN ') // nginx's own log lines: pid#tid and the connection's number
    .replace(/\b\d+#\d+:/g, 'PID#TID:')
    .replace(/\bpids? [\d, ]+/g, 'PIDS')
    .replace(/fe80::[\da-f:]+/g, 'fe80::LINK') // the veth's random MAC
    .replace(/\b10\.213\.\d+\.(\d+)\b/g, '10.213.N.$1') // the ssh tests' namespaces take a /24 per run
    .replace(/\b\d+(?:\.\d+)? m?s\b/g, 'DURATION')
    .replace(/"(durationMs|endMs)": \d+/g, '"$1": N')
    .replace(/[\s│─]+/g, '');
}

/**
 * Saves a real report for the README to quote (the files are committed), rewriting it only when
 * it changed in substance — not just times, pids, durations or the container's name — or always
 * with UPDATE_OUTPUT=1, so the tree stays clean from run to run.
 */
export async function saveOutput(dir: string, name: string, text: string, machine: string): Promise<void> {
  const file = join(dir, name);
  const old = await readFile(file, 'utf8').catch(() => undefined);
  if (process.env.UPDATE_OUTPUT !== '1' && old !== undefined && substance(old, /wpt-sd-\d+-\d+/.exec(old)?.[0] ?? machine) === substance(text, machine)) return;
  await mkdir(dir, { recursive: true });
  await writeFile(file, text);
}
