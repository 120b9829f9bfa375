/**
 * Which lines of a unit's journal, or of a program's own log file, a person must see to know why
 * the service is not running. Pure functions of text: the journal arrives compacted by
 * `compactJournalLine` (`09:39:24 sh[93]: msg`), log files as the program wrote them.
 */

/** How many lines to choose, and how many of the last ones to keep for context. */
export interface LineSelectionOptions {
  /** At most this many lines come back (default 12). */
  max?: number;
  /** The last this many lines that are not noise are kept for context (default 3). */
  tail?: number;
}

const DEFAULT_MAX = 12;
const DEFAULT_TAIL = 3;
// A header such as redis's `*** FATAL CONFIG FILE ERROR ***` says little; the few lines after it
// (`>>> 'maxmemory lots'`, `argument must be a memory value`) are the reason.
const BODY_LINES = 4;

// Words a program or systemd uses when something went wrong.
const TROUBLE: readonly RegExp[] = [
  /\[(?:[\w-]+:)?(?:emerg|alert|crit|error)\]/i, // nginx `[emerg]`, apache `[core:error]`
  /\b(?:fatal|panic)\b/i,
  /error/i, // `error:`, `Error:`, `ValueError`, postgres `ERROR:`
  /\bfail(?:ed|ure|s|ing)?\b/i,
  /\b(?:denied|refused)\b/i,
  /\b(?:cannot|can't|can not|could not|couldn't|unable to)\b/i,
  /\binvalid\b/i,
  // sshd's "Bad configuration option: X" then "terminating, 1 bad configuration options".
  /\bbad\b/i,
  /\b(?:unknown|unrecognized|unsupported|missing)\b/i,
  /\bsyntax\b/i,
  /\bno such file\b/i,
  /\baddress already in use\b/i,
  /\b(?:not found|does not exist)\b/i,
  /\btimed out\b|\btimeout\b/i,
  /\bout of memory\b|\boom[-_ ]kill|\bOOM killer\b/i,
  /\bkilled process\b/i,
  /\bsegmentation fault\b|\bsegfault\b|\bcore dumped\b|\bdumped core\b/i,
  /\babort(?:ed)?\b/i, // not "aborting": postgres says "aborting any active transactions" at every shutdown
  /\bexception\b|^Traceback\b/i,
  // systemd's own words for a unit that died, will not start, or was never started.
  /\b(?:Main|Control) process exited\b/,
  /\bStart request repeated too quickly\b/,
  /\bScheduled restart job\b/,
  /\bcode=(?:killed|dumped)\b/,
  /\bKilling process\b/,
  /\bCondition check resulted in .* being skipped\b/,
  /\bUnknown (?:key|section|lvalue)\b/, // systemd 252: "Unknown key 'ExecStrat' in section [Service], ignoring."
  /\bRefusing\b/,
];

// Among those, the words that are the reason itself rather than its consequence.
const STRONG: readonly RegExp[] = [
  /\[(?:[\w-]+:)?(?:emerg|alert|crit)\]/i,
  /\b(?:FATAL|PANIC)\b/,
  /\*\*\*/,
  /\baddress already in use\b|\bpermission denied\b|\bno such file or directory\b|\bout of memory\b|\bsegmentation fault\b/i,
  /\bkilled process\b|\bkilled by the OOM killer\b/i,
];

// systemd's lines that say nothing about why: every start, stop and successful exit has them.
const MANAGER_NOISE: readonly RegExp[] = [
  /^(?:Started|Starting|Stopped|Stopping|Reloading|Reloaded|Finished|Listening on|Closed) /,
  /\bDeactivated successfully\.$/,
  /\bConsumed .* CPU time\b/,
  /: Succeeded\.$/,
  // Hiccups systemd itself shrugs off (seen in containers: `Failed to kill control group …, ignoring: Input/output error`).
  /\bFailed to .*, ignoring\b/,
];

// Program lines printed on every start, harmless, that would otherwise look like trouble.
const HARMLESS: readonly RegExp[] = [
  /\bAH00558:/, // apache: "Could not reliably determine the server's fully qualified domain name"
  /\bWARNING Memory overcommit must be enabled\b/, // redis, on every Debian host with vm.overcommit_memory=0
  /\bWARNING: The TCP backlog setting of \d+ cannot be enforced\b/, // redis, when somaxconn is lower
];

// systemd's exit lines: the one line that says how the process ended.
const EXIT_LINE = /\b(?:Main|Control) process exited\b|\bkilled by the OOM killer\b|\bdumped core\b/;

// Where a run begins, or the one before it ended, in a log file with no systemd lines to tell.
// A postgres that refuses its configuration never says "starting PostgreSQL": only the end of the
// run before separates it.
const PROGRAM_STARTS: readonly RegExp[] = [
  /\bstarting PostgreSQL\b/,
  /\bRedis is starting\b/,
  /\bmysqld\b.*\bstarting as process\b/,
  /\bStarting MariaDB\b/,
];
const PROGRAM_ENDS: readonly RegExp[] = [
  /\bdatabase system is shut down\b/, // postgres
  /\bRedis is now ready to exit\b/,
  /\bAH0049[12]: caught SIG\w+, shutting down\b/, // apache
  /\bmysqld\b.*\bShutdown complete\b/,
];

// Lines that explain the line before them (postgres writes its HINT and DETAIL as lines of their own).
const EXPLAINS_PREVIOUS = /\b(?:HINT|DETAIL):\s/;

// The journal saying that the reason is in another log.
const POINTERS: readonly RegExp[] = [
  /\bexamine the log\b/i, // pg_ctl: "Examine the log output."
  /\b(?:see|check|consult|inspect|examine|look (?:at|in))\b[^.;]{0,40}\blog(?:s|file)?\b/i,
  /\blog\b[^.;]{0,40}\bmore information\b/i, // apache: "The Apache error log may have more information."
  /\bmore information\b[^.;]{0,40}\blog\b/i,
  /\bfor (?:more )?details,? see\b/i,
  /\bsee\b[^;]{0,80}\bfor (?:more )?(?:details|information)\b/i,
];
// …unless the other log is the journal itself.
const JOURNAL_ITSELF = /\bjournalctl\b|\bsystemctl status\b/;

// Parts of a line that change from one repeat to the next: times, pids, counters.
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const WEEKDAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const VOLATILE: readonly [RegExp, string][] = [
  [/^\d+:(?:[A-Z]|signal-handler \(\d+\)) /, '<pid> '], // redis `22836:M `
  [/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d|\s[A-Z]{2,5}\b)?/g, '<time>'],
  [/\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d/g, '<time>'],
  [new RegExp(`(?:${WEEKDAY} )?${MONTH} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?(?: \\d{4})?`, 'g'), '<time>'],
  [new RegExp(`\\b\\d\\d ${MONTH} \\d{4} \\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?`, 'g'), '<time>'],
  [/\b\d\d:\d\d:\d\d(?:\.\d+)?\b/g, '<time>'],
  [/\b\d+#\d+: (?:\*\d+ )?/g, '<pid>: '], // nginx `41#41: *5 `
  [/\[pid \d+(?::tid \d+)?\]/g, '[pid]'], // apache
  [/\[\d+\]/g, '[pid]'], // postgres `[182]`, journal identifiers `sh[93]`
  [/\b(pid|PID)([= ])\d+/g, '$1$2<n>'],
  [/\bprocess \d+/g, 'process <n>'],
  [/\bcounter is at \d+/g, 'counter is at <n>'],
];

type Kind = 'noise' | 'plain' | 'trouble';

interface Line {
  index: number;
  text: string;
  /** The journal identifier (`nginx`, `systemd`), or the one of the line this continues; undefined in log files. */
  ident: string | undefined;
  pid: string | undefined;
  message: string;
  /** systemd's or the kernel's words about the unit, not the program's own. */
  manager: boolean;
  /** Not a line of its own: the journal's indented next line of a multi-line message. */
  continuation: boolean;
  kind: Kind;
  strong: boolean;
  /** Index of the header line this one explains (`*** FATAL … ***` → its next lines). */
  headerOf?: number;
}

interface Entry {
  key: string;
  /** The newest occurrence: its text is shown and its place is where the entry goes. */
  last: Line;
  count: number;
  kind: Kind;
  strong: boolean;
  /** The key of the header entry this one belongs to. */
  header?: string;
}

/**
 * The lines of a unit's journal (oldest first, compacted) that say why it is not running: error
 * lines of the program and systemd's exit, restart and start-limit lines, plus the last few lines
 * for context, in journal order and at most `max`. Repeats that differ only in time, pid or
 * counter (a crash loop) become one line, the newest, with ` (×N)`. systemd's start/stop chatter
 * is dropped unless nothing else is left. When too much is left, the program's own lines and the
 * latest start win over systemd's and older ones, and the first strong error of the latest start
 * (usually the cause; what follows is often its consequence) is always kept.
 */
export function informativeLines(lines: readonly string[], opts: LineSelectionOptions = {}): string[] {
  return select(parseJournalLines(lines), opts, journalCycleStart);
}

/**
 * The same choice for a program's own log file (`/var/log/nginx/error.log`…), whose lines carry
 * the program's own timestamps: error lines and the last few lines, the latest preferred, repeats
 * collapsed, at most `max`, in file order.
 */
export function filterLogLines(lines: readonly string[], opts: LineSelectionOptions = {}): string[] {
  return select(parseLogLines(lines), opts, logCycleStart);
}

/**
 * True when the journal says the reason is in another log: pg_ctl's "Examine the log output.",
 * apache's "The Apache error log may have more information.", "see the error log", "for details
 * see …". A pointer to `journalctl` or `systemctl status` does not count: that is the journal.
 */
export function pointsElsewhere(lines: readonly string[]): boolean {
  return parseJournalLines(lines).some((l) => isPointer(l.message));
}

/**
 * True when a line uses the words of something gone wrong (error markers, "failed", "could not",
 * systemd's exit and restart lines…): what decides that a line of a log is worth showing.
 */
export function mentionsTrouble(line: string): boolean {
  return classify({ index: 0, text: line, ident: undefined, pid: undefined, message: line, manager: false, continuation: false }).kind === 'trouble';
}

function isPointer(message: string): boolean {
  return !JOURNAL_ITSELF.test(message) && POINTERS.some((re) => re.test(message));
}

const JOURNAL_LINE = /^(\d\d:\d\d:\d\d) ([^\s:[]+)(?:\[(\d+)\])?: ?(.*)$/;

function parseJournalLines(lines: readonly string[]): Line[] {
  const parsed: Line[] = [];
  let ident: string | undefined;
  let pid: string | undefined;
  for (const [index, raw] of lines.entries()) {
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') continue;
    const m = JOURNAL_LINE.exec(text);
    // A line that is not `TIME IDENT[PID]: …` continues the message before it (journalctl indents them).
    if (m) {
      ident = m[2];
      pid = m[3];
    }
    const message = m ? (m[4] ?? '') : text.trim();
    const manager = ident === 'systemd' || ident === 'kernel' || ident === 'systemd-coredump';
    parsed.push(classify({ index, text, ident, pid, message, manager, continuation: !m }));
  }
  markBodies(parsed);
  markLastWords(parsed);
  return parsed;
}

// When none of a program's lines before systemd says its process exited uses the words TROUBLE
// knows, its last lines are its last words, and the reason (sshd's "terminating, 1 bad
// configuration options" says nothing TROUBLE would catch).
const LAST_WORDS = 2;

function markLastWords(lines: Line[]): void {
  for (let i = 0; i < lines.length; i++) {
    const exit = lines[i]!;
    if (!exit.manager || !/\b(?:Main|Control) process exited\b/.test(exit.message)) continue;
    const words: Line[] = [];
    for (let j = i - 1; j >= 0; j--) {
      const l = lines[j]!;
      if (l.manager && /^(?:Starting|Started) /.test(l.message)) break;
      if (!l.manager && l.kind !== 'noise') words.push(l);
    }
    if (words.some((l) => l.kind === 'trouble')) continue;
    for (const l of words.slice(0, LAST_WORDS)) l.kind = 'trouble';
  }
}

function parseLogLines(lines: readonly string[]): Line[] {
  const parsed: Line[] = [];
  for (const [index, raw] of lines.entries()) {
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') continue;
    parsed.push(classify({ index, text, ident: undefined, pid: undefined, message: text, manager: false, continuation: /^\s/.test(text) }));
  }
  markBodies(parsed);
  return parsed;
}

function classify(l: Omit<Line, 'kind' | 'strong'>): Line {
  const noise = (l.manager && MANAGER_NOISE.some((re) => re.test(l.message))) || HARMLESS.some((re) => re.test(l.message));
  const trouble = !noise && (TROUBLE.some((re) => re.test(l.message)) || isPointer(l.message));
  return { ...l, kind: noise ? 'noise' : trouble ? 'trouble' : 'plain', strong: trouble && STRONG.some((re) => re.test(l.message)) };
}

// The lines that explain a header (`*** FATAL CONFIG FILE ERROR ***`, `…exited with status 1:`,
// `Traceback (most recent call last):`), or continue a trouble line, count as trouble with it.
function markBodies(lines: Line[]): void {
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i]!;
    if (head.kind !== 'trouble' || head.manager) continue;
    const isHeader = /(?::|\*\*\*)\s*$/.test(head.message) || /^Traceback\b/.test(head.message);
    for (let j = i + 1; j < lines.length && j <= i + BODY_LINES; j++) {
      const next = lines[j]!;
      const sameProcess = next.ident === head.ident && next.pid === head.pid;
      if (!sameProcess || next.kind === 'noise' || !(isHeader || next.continuation || EXPLAINS_PREVIOUS.test(next.message))) break;
      next.headerOf ??= head.index;
      if (next.kind === 'plain') next.kind = 'trouble';
    }
  }
}

/** The first line of the latest start: systemd's last `Starting …`, or `Started …` for units that only say that. */
function journalCycleStart(lines: readonly Line[]): number {
  let start = 0;
  let starting = false;
  for (const l of lines) {
    if (!l.manager) continue;
    if (/^Starting /.test(l.message)) {
      start = l.index;
      starting = true;
    } else if (/^Started /.test(l.message)) {
      if (!starting) start = l.index;
      starting = false;
    } else if (l.kind === 'trouble') {
      starting = false;
    }
  }
  return start;
}

function logCycleStart(lines: readonly Line[]): number {
  let start = 0;
  for (const l of lines) {
    if (PROGRAM_STARTS.some((re) => re.test(l.message))) start = l.index;
    else if (PROGRAM_ENDS.some((re) => re.test(l.message))) start = l.index + 1;
  }
  return start;
}

function collapseKey(l: Line): string {
  let m = l.message;
  for (const [re, to] of VOLATILE) m = m.replace(re, to);
  return `${l.ident ?? ''}\u0000${m}`;
}

function select(lines: Line[], opts: LineSelectionOptions, cycleStart: (lines: readonly Line[]) => number): string[] {
  const max = Math.max(0, Math.floor(opts.max ?? DEFAULT_MAX));
  const tail = Math.max(0, Math.floor(opts.tail ?? DEFAULT_TAIL));
  if (max === 0 || lines.length === 0) return [];

  const meaningful = lines.filter((l) => l.kind !== 'noise');
  // Only systemd's start/stop lines: they are all there is to say.
  if (meaningful.length === 0) return lines.slice(-Math.min(max, Math.max(tail, 1))).map((l) => l.text);

  const { entries, keyOf } = collapse(meaningful);
  const ordered = [...entries.values()].sort((a, b) => a.last.index - b.last.index);

  // The latest start: lines after its first line, and lines of a process that also logged after
  // it (journald may file a program's first lines before systemd's `Started`).
  const start = cycleStart(lines);
  const laterProcesses = new Set(meaningful.filter((l) => l.index >= start && l.pid !== undefined).map((l) => `${l.ident}[${l.pid}]`));
  const latest = (e: Entry): boolean => e.last.index >= start || laterProcesses.has(`${e.last.ident}[${e.last.pid}]`);

  const tailKeys = new Set(tail > 0 ? meaningful.slice(-tail).map((l) => keyOf.get(l.index)) : []);
  const trouble = ordered.filter((e) => e.kind === 'trouble');
  const program = trouble.filter((e) => !e.last.manager);
  const manager = trouble.filter((e) => e.last.manager);
  const newestFirst = (a: Entry, b: Entry): number => b.last.index - a.last.index;

  const latestProgram = program.filter(latest);
  const cause = latestProgram.find((e) => e.strong) ?? latestProgram[0];
  const exit = [...manager].reverse().find((e) => EXIT_LINE.test(e.last.message)) ?? [...manager].reverse().find(latest);
  const ranked: (Entry | undefined)[] = [
    cause,
    exit,
    ...latestProgram.filter((e) => e.strong).sort(newestFirst),
    ...latestProgram.filter((e) => !e.strong).sort(newestFirst),
    ...manager.filter(latest).sort(newestFirst),
    ...ordered.filter((e) => tailKeys.has(e.key)).sort(newestFirst),
    ...program.filter((e) => !latest(e)).sort(newestFirst),
    ...manager.filter((e) => !latest(e)).sort(newestFirst),
  ];

  const chosen = new Set<Entry>();
  const take = (e: Entry | undefined): void => {
    if (!e || chosen.has(e) || chosen.size >= max) return;
    chosen.add(e);
    // A header's explanation goes with it.
    for (const body of ordered) if (body.header === e.key) take(body);
  };
  for (const e of ranked) {
    // A body line is taken with its header, not before it.
    if (e?.header !== undefined && !chosen.has(entries.get(e.header)!)) take(entries.get(e.header));
    take(e);
  }
  // A line between two chosen lines of the same process, repeated as often as one of them,
  // reads as part of them (apache's "no listening sockets available, shutting down" between the
  // bind error and AH00015). Log files name no process, so there this would join unrelated lines.
  for (let i = ordered.length - 2; i > 0 && chosen.size < max; i--) {
    const [prev, e, next] = [ordered[i - 1]!, ordered[i]!, ordered[i + 1]!];
    const sameProcess = (o: Entry): boolean => o.last.pid !== undefined && o.last.ident === e.last.ident && o.last.pid === e.last.pid;
    if (!chosen.has(e) && chosen.has(prev) && chosen.has(next) && sameProcess(prev) && sameProcess(next) && (e.count === prev.count || e.count === next.count)) {
      chosen.add(e);
    }
  }
  return ordered.filter((e) => chosen.has(e)).map((e) => (e.count > 1 ? `${e.last.text} (×${e.count})` : e.last.text));
}

// One entry per message that differs only in volatile parts; `keyOf` maps a line's index to its entry's key.
function collapse(lines: readonly Line[]): { entries: Map<string, Entry>; keyOf: Map<number, string> } {
  const entries = new Map<string, Entry>();
  const keyOf = new Map<number, string>();
  for (const l of lines) {
    const key = collapseKey(l);
    keyOf.set(l.index, key);
    const e = entries.get(key);
    const header = l.headerOf === undefined ? undefined : keyOf.get(l.headerOf);
    if (!e) {
      entries.set(key, { key, last: l, count: 1, kind: l.kind, strong: l.strong, ...(header !== undefined && { header }) });
      continue;
    }
    e.last = l;
    e.count++;
    if (l.kind === 'trouble') e.kind = 'trouble';
    e.strong ||= l.strong;
    if (header !== undefined) e.header = header;
  }
  return { entries, keyOf };
}
