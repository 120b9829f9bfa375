/** Printing the results: times, rows of a case, ratios against their targets, the machine it ran on. */
import { cpus, loadavg, release } from 'node:os';
import type { CaseResult } from './timing.js';

export const f1 = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const loadText = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');

/** A case's median (min … max), its parts' medians, and its problems. */
export function caseRows(label: string, r: CaseResult | undefined, indent = '  '): string[] {
  if (!r) return [];
  const lines = [`${indent}${label.padEnd(58 - indent.length)}${f1(r.median).padStart(8)} ms   (${f1(r.min)} … ${f1(r.max)}, n=${r.runs})`];
  if (r.parts.length > 1) r.parts.forEach((p, i) => lines.push(`${indent}    ${p.padEnd(54 - indent.length)}${f1(r.partMedians[i]!).padStart(8)} ms`));
  for (const p of r.problems) lines.push(`${indent}    ! ${p}`);
  return lines;
}

/** a / b against its target; "(missed)" when it is not met. */
export function targetRow(label: string, a: CaseResult | undefined, b: CaseResult | undefined, goal: string, ok: (x: number) => boolean): string {
  if (!a || !b) return `  ${label.padEnd(44)}     n/a`;
  const x = a.median / b.median;
  return `  ${label.padEnd(44)}${ratio(a.median, b.median).padStart(8)}   target ${goal}${ok(x) ? '' : '   (missed)'}`;
}

export function machineLines(loadBefore: number[], how: string): string[] {
  return [
    `  node ${process.version}, Linux ${release()}, ${cpus().length} CPUs; ${how}`,
    `  load average at start ${loadText(loadBefore)}, at end ${loadText(loadavg())}${Math.max(loadBefore[0]!, loadavg()[0]!) > cpus().length ? '  (busy machine: times are noisy)' : ''}`,
  ];
}

export const signed = (n: number) => `${n >= 0 ? '+' : '−'}${f1(Math.abs(n))}`;

/** "3" when every run agrees, else "2–4 (per run: 2 3 4 …)"; "?" for a run without the number. */
export function perRun(xs: readonly (number | null)[] | undefined): string {
  if (!xs || xs.length === 0) return 'n/a';
  const known = xs.filter((x): x is number => x !== null);
  if (known.length === xs.length && new Set(known).size === 1) return `${known[0]} every run (n=${xs.length})`;
  const range = known.length ? `${Math.min(...known)}–${Math.max(...known)}` : '?';
  return `${range} (per run: ${xs.map((x) => x ?? '?').join(' ')})`;
}
