import type { ListenerChange } from './diff.js';
import type { Listener } from './model.js';
import { bracketed } from '../net/endpoint.js';

/** Everything a `baseline check` report says. */
export interface CheckReport {
  /** The baseline file compared with. */
  file: string;
  baseline: { host: string; savedAt: string; listeners: number };
  /** This host's name, and when it was read (ISO 8601). */
  host: string;
  checkedAt: string;
  /** How many listeners this host has now (before filters). */
  listeners: number;
  /** The filters as given, e.g. ports ["22", "8000-8100"]. */
  ignored: { ports: string[]; programs: string[] };
  /** Already filtered and ordered: exposure changes first. */
  changes: ListenerChange[];
}

/** The JSON document's format version: raised only for changes that break readers. */
export const CHECK_REPORT_VERSION = 1;

/**
 * The report for machines: a stable document (fixed key order, `null` for an absent side) whose
 * `changes` are in the same order as the table.
 */
export function renderCheckJson(report: CheckReport): string {
  const doc = {
    whyport: 'baseline-check',
    version: CHECK_REPORT_VERSION,
    changed: report.changes.length > 0,
    file: report.file,
    baseline: { host: report.baseline.host, savedAt: report.baseline.savedAt, listeners: report.baseline.listeners },
    host: report.host,
    checkedAt: report.checkedAt,
    listeners: report.listeners,
    ignored: report.ignored,
    changes: report.changes.map((c) => ({
      kind: c.kind,
      exposure: c.exposure,
      protocol: c.protocol,
      port: c.port,
      family: c.family,
      fields: c.fields,
      before: c.before ? listenerJson(c.before) : null,
      after: c.after ? listenerJson(c.after) : null,
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function listenerJson(l: Listener) {
  return {
    protocol: l.protocol,
    address: l.address,
    port: l.port,
    family: l.family,
    device: l.device ?? null,
    program: l.program ?? null,
    unit: l.unit ?? null,
  };
}

const MARKS = { appeared: '+', disappeared: '-', changed: '~' } as const;

/** The report for people: a header, a table of changes (exposure first, marked ⚠), and a legend. */
export function renderCheckText(report: CheckReport): string {
  const lines: string[] = [];
  const n = report.changes.length;
  const since = `since ${report.baseline.savedAt}`;
  lines.push(n === 0 ? `whyport baseline check: no changes ${since}` : `whyport baseline check: ${n} change${n === 1 ? '' : 's'} ${since}`);
  const otherHost = report.baseline.host !== report.host ? `, saved on host ${report.baseline.host}` : '';
  lines.push(`baseline: ${report.file} (${report.baseline.listeners} listeners${otherHost}); now: ${report.listeners} listeners on ${report.host}`);
  const ignored = [
    report.ignored.ports.length > 0 ? `ports ${report.ignored.ports.join(', ')}` : '',
    report.ignored.programs.length > 0 ? `programs ${report.ignored.programs.join(', ')}` : '',
  ].filter(Boolean);
  if (ignored.length > 0) lines.push(`ignored: ${ignored.join('; ')}`);
  if (n === 0) return `${lines.join('\n')}\n`;

  const rows = report.changes.map((c) => [
    c.exposure ? '⚠' : MARKS[c.kind],
    c.kind,
    c.protocol,
    String(c.port),
    transition(c, (l) => showAddress(l), 'address'),
    transition(c, showOwner, 'program', 'unit'),
  ]);
  const header = ['', 'CHANGE', 'PROTO', 'PORT', 'ADDRESS', 'OWNER'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]!].length)));
  const format = (cells: string[]) =>
    `  ${cells.map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - [...cell].length))).join('  ')}`.trimEnd();
  lines.push('', format(header), ...rows.map(format));
  lines.push('');
  if (report.changes.some((c) => c.exposure)) lines.push('⚠ exposure: on loopback only in the baseline, reachable from other hosts now.');
  lines.push('+ appeared  - disappeared  ~ changed (address or owner; OLD → NEW)');
  if (report.changes.some((c) => [c.before, c.after].some((l) => l && l.program === undefined))) {
    lines.push("? no process seen holding it: another user's (run as root), a container's, or the kernel's");
  }
  return `${lines.join('\n')}\n`;
}

/** `old → new` when one of the fields changed, else the one value. */
function transition(c: ListenerChange, show: (l: Listener) => string, ...fields: ListenerChange['fields']): string {
  const only = c.after ?? c.before!;
  if (c.kind !== 'changed' || !fields.some((f) => c.fields.includes(f))) return show(only);
  return `${show(c.before!)} → ${show(c.after!)}`;
}

/**
 * IPv6 in brackets as ss and URLs write it; `*` is the IPv6 wildcard that also takes IPv4.
 * A bound device follows as `%dev`.
 */
export function showAddress(l: Pick<Listener, 'address' | 'family' | 'device'>): string {
  const address = bracketed(l.address);
  return l.device ? `${address}%${l.device}` : address;
}

/** `nginx (nginx.service)`; `?` for a holder that could not be seen. */
export function showOwner(l: Pick<Listener, 'program' | 'unit'>): string {
  const program = l.program ?? '?';
  return l.unit ? `${program} (${l.unit})` : program;
}
