import type { Runner } from '../runner.js';
import { UNIT_SUFFIX } from './units.js';
import { defineReader } from '../reader.js';
import { systemdRunsReader } from './units.js';

/** The last `lines` journal lines of a unit; falls back to the tail of `systemctl status`. */
export async function unitJournal(runner: Runner, unit: string, lines: number, timeoutMs: number): Promise<string[]> {
  const journal = await runner.run(
    ['journalctl', `--unit=${unit}`, '-n', String(lines), '--no-pager', '-o', 'short-iso'],
    { timeoutMs },
  );
  const fromJournal = journal.exitCode === 0 ? parseJournal(journal.stdout) : [];
  if (fromJournal.length > 0) return fromJournal.slice(-lines);
  // journalctl can be absent or unreadable (no permission, no persistent journal) while status still shows lines.
  const status = await runner.run(['systemctl', 'status', '--full', '-n', String(lines), '--no-pager', '--', unit], { timeoutMs });
  return statusLogTail(status.stdout).slice(-lines);
}

/** Journal lines from `journalctl` output, without its own `-- No entries --` / `-- Boot … --` markers. */
export function parseJournal(text: string): string[] {
  return text
    .split('\n')
    .map((l) => compactJournalLine(l.replace(/\r$/, '')))
    .filter((l) => l.trim() !== '' && !/^-- .* --$/.test(l));
}

/**
 * `2026-11-23T09:39:24+0000 app1 sh[93]: msg` (or syslog's `Nov 23 09:39:24 app1 …`) as
 * `09:39:24 sh[93]: msg`: the date and the host name are the same on every line of one unit's
 * recent journal, and without them the line that says why a service died fits on one line.
 */
export function compactJournalLine(line: string): string {
  const iso = /^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)\S* \S+ (.*)$/.exec(line);
  if (iso) return `${iso[1]} ${iso[2]}`;
  const syslog = /^[A-Z][a-z]{2} [ \d]\d (\d\d:\d\d:\d\d) \S+ (.*)$/.exec(line);
  return syslog ? `${syslog[1]} ${syslog[2]}` : line;
}

/** The log lines `systemctl status` prints after its header block (everything after the first blank line). */
export function statusLogTail(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const blank = lines.findIndex((l) => l.trim() === '');
  if (blank < 0) return [];
  return parseJournal(lines.slice(blank + 1).join('\n'));
}
/**
 * Units whose journal mentioned the port in the last day ("listening on :7071", "bind: address in
 * use"), most mentions first: the units that held the port recently. Empty without a journal.
 */
export async function unitsLoggingPort(runner: Runner, port: number, opts: { timeoutMs: number; since?: string }): Promise<string[]> {
  const argv = ['journalctl', `--since=${opts.since ?? '-24h'}`, '--no-pager', '--quiet', '--output=json', '--output-fields=_SYSTEMD_UNIT', '--lines=500', `--grep=(^|[^0-9.])${port}([^0-9]|$)`];
  const res = await runner.run(argv, { timeoutMs: opts.timeoutMs });
  if (res.exitCode !== 0) return [];
  const counts = new Map<string, number>();
  for (const line of res.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const unit = (JSON.parse(line) as { _SYSTEMD_UNIT?: unknown })._SYSTEMD_UNIT;
      if (typeof unit === 'string' && UNIT_SUFFIX.test(unit) && !unit.endsWith('.scope')) counts.set(unit, (counts.get(unit) ?? 0) + 1);
    } catch {
      // a truncated line at the timeout
    }
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([u]) => u);
}

/** The units whose journal mentioned the port in the last day, once per diagnosis (a guess: bounded wait). */
export const unitsLoggingPortOf = defineReader<{ port: number; timeoutMs: number }, string[]>({
  name: 'units logging the port',
  key: ({ port }) => String(port),
  read: async ({ port, timeoutMs }, s) => ((await s.read(systemdRunsReader, undefined)) ? unitsLoggingPort(s.host, port, { timeoutMs }) : []),
});
