import { existsSync, readFileSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runner } from './runner.js';
import { showCommand } from './runner.js';

/** The ActiveState values systemd reports for a loaded (or once-loaded) unit. */
export type ActiveState = 'active' | 'inactive' | 'failed' | 'activating' | 'deactivating' | 'reloading';

const ACTIVE_STATES: readonly ActiveState[] = ['active', 'inactive', 'failed', 'activating', 'deactivating', 'reloading'];

/** How the unit's main process ended, as systemd records it (the waitid() si_code). */
export type ExecMainCode = 'exited' | 'killed' | 'dumped' | 'trapped' | 'stopped' | 'continued';

/** A unit systemd knows about, in one of its active states. */
export interface UnitDetails {
  state: ActiveState;
  /** Normalised name, e.g. `myapp.service`. */
  unit: string;
  /** `loaded` normally; `masked`, `bad-setting`, `error`, or `not-found` for a still-running unit whose file is gone. */
  loadState: string;
  description: string;
  /** e.g. `running`, `dead`, `failed`, `auto-restart`, `exited`. */
  subState: string;
  /** e.g. `success`, `exit-code`, `signal`, `timeout`, `core-dump`; undefined when systemd gives none. */
  result: string | undefined;
  /** undefined when no main process is running. */
  mainPid: number | undefined;
  /** undefined while the main process has never exited (running, or never started). */
  execMainCode: ExecMainCode | undefined;
  /** The exit status for `exited`, the signal number for `killed`/`dumped`. */
  execMainStatus: number | undefined;
  /** As `systemctl status` words it: `status=1/FAILURE`, `status=203/EXEC`, `signal=SEGV`. */
  execMainStatusText: string | undefined;
  /** When the unit entered its current state, as systemd prints it (`Mon 2026-11-23 09:18:24 UTC`). */
  since: string | undefined;
  /** The unit file; undefined for transient or not-found units. */
  fragmentPath: string | undefined;
  /** The unit's last journal lines, oldest first (journalctl, else the tail of `systemctl status`). */
  journal: string[];
  /** `Type=`: simple, exec, forking, oneshot, notify, dbus, idle; undefined for non-services. */
  type: string | undefined;
  /** How often systemd restarted it automatically since it was last started by hand (`NRestarts`). */
  nRestarts: number;
  /** `Restart=`: no, always, on-failure, … */
  restart: string | undefined;
  /** `TimeoutStartUSec` as systemd prints it (`1min 30s`, `infinity`). */
  timeoutStart: string | undefined;
  /** CLOCK_MONOTONIC µs when it last left the inactive state (the start of an activation). */
  startedMonotonicUs: number | undefined;
  /** The socket (or path, timer) units that start it: `ssh.socket`. */
  triggeredBy: string[];
  /** The units it starts (a socket's service). */
  triggers: string[];
  /** Units that are part of it (`PartOf=` seen from the other side): a wrapper's real services. */
  consistsOf: string[];
  /** Units it pulls in (`Wants=`): a wrapper's template instances, e.g. postgresql@15-main.service. */
  wants: string[];
  /** The commands of its start, each with how it ended when it ran (systemd forgets this at daemon-reload). */
  commands: ExecCommand[];
  /** `StartLimitBurst` starts within `StartLimitIntervalUSec`, after which systemd refuses (start-limit-hit). */
  startLimit: { burst: number | undefined; interval: string | undefined };
}

/** One ExecStartPre=/ExecStart=/ExecStartPost= line of a unit and how it ended. */
export interface ExecCommand {
  phase: 'ExecStartPre' | 'ExecStart' | 'ExecStartPost';
  /** The command line as systemd shows it (`/usr/sbin/nginx -t -q -g daemon on; master_process on;`). */
  argv: string;
  /** Its program's path. */
  path: string;
  /** `-` prefix: a failure is ignored. */
  ignoreErrors: boolean;
  /** undefined when it has not run since the unit was (re)loaded. */
  code: ExecMainCode | undefined;
  /** The exit status for `exited`, the signal number for `killed`/`dumped`. */
  status: number | undefined;
}

/** What `unitStatus` found out about one unit. */
export type UnitStatus =
  | { state: 'no-systemd'; unit: string; message: string }
  | { state: 'not-found'; unit: string }
  | { state: 'error'; unit: string; message: string }
  | UnitDetails;

/**
 * The properties read with `systemctl show`. The two *ExitTimestamp ones let `since` match what
 * `systemctl status` prints for activating and deactivating units.
 */
export const SHOW_PROPERTIES = [
  'Id',
  'LoadState',
  'ActiveState',
  'SubState',
  'Result',
  'MainPID',
  'ExecMainCode',
  'ExecMainStatus',
  'Description',
  'FragmentPath',
  'ActiveEnterTimestamp',
  'ActiveExitTimestamp',
  'InactiveEnterTimestamp',
  'InactiveExitTimestamp',
  'InactiveExitTimestampMonotonic',
  'Type',
  'NRestarts',
  'Restart',
  'TimeoutStartUSec',
  'TriggeredBy',
  'Triggers',
  'ConsistsOf',
  'Wants',
  'ExecStartPre',
  'ExecStart',
  'ExecStartPost',
  'StartLimitBurst',
  'StartLimitIntervalUSec',
] as const;

const UNIT_SUFFIXES = ['service', 'socket', 'target', 'timer', 'mount', 'automount', 'swap', 'path', 'slice', 'scope', 'device'];
const UNIT_SUFFIX = new RegExp(`\\.(${UNIT_SUFFIXES.join('|')})$`);

// systemctl's own words when PID 1 is not systemd (containers, WSL1, chroots) or the bus is gone.
const NO_SYSTEMD = /System has not been booted with systemd|Failed to connect to bus|Host is down/;

const DEFAULT_JOURNAL_LINES = 10;

/** Appends `.service` when the name has no unit suffix, as systemctl itself does (`nginx` → `nginx.service`). */
export function normaliseUnit(unit: string): string {
  const name = unit.trim();
  return UNIT_SUFFIX.test(name) ? name : `${name}.service`;
}

/** The command a person would type to look at the unit, e.g. `systemctl status myapp`. */
export function statusCommand(unit: string): string {
  return showCommand(['systemctl', 'status', unit.trim()]);
}

/**
 * Parses `systemctl show` output (`Key=value` lines) into a map; values may contain `=`. A key that
 * systemd prints once per value (`ExecStartPre=`, `Listen=`) keeps every value, joined by newlines.
 */
export function parseSystemctlShow(text: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).replace(/\r$/, '');
    props[key] = key in props && props[key] !== '' ? `${props[key]}\n${value}` : value;
  }
  return props;
}

/** `systemctl show` of several units prints one block per unit, separated by a blank line. */
export function parseSystemctlShowBlocks(text: string): Record<string, string>[] {
  return text
    .split(/\r?\n\s*\r?\n/)
    .map(parseSystemctlShow)
    .filter((p) => Object.keys(p).length > 0);
}

/**
 * One `{ path=… ; argv[]=… ; ignore_errors=no ; … ; code=exited ; status=1 }` value of an Exec*
 * property. `code=(null)` means it has not run since the last (re)load.
 */
export function parseExecCommand(phase: ExecCommand['phase'], value: string): ExecCommand | undefined {
  const body = /^\{\s*(.*?)\s*\}$/.exec(value.trim())?.[1];
  if (body === undefined) return undefined;
  const field = (name: string): string | undefined => {
    // argv[] may itself contain ' ; ' (nginx's -g 'daemon on; master_process on;'): it runs up to ' ; ignore_errors='.
    const re = name === 'argv[]' ? /argv\[\]=(.*?) ; (?:ignore_errors|flags)=/ : new RegExp(`(?:^| ; )${name.replace(/[[\]]/g, '\\$&')}=(.*?)(?= ; |$)`);
    return re.exec(body)?.[1];
  };
  const path = field('path') ?? '';
  const code = field('code');
  const statusText = field('status');
  const ran = code !== undefined && code !== '(null)';
  return {
    phase,
    path,
    argv: field('argv[]') ?? path,
    ignoreErrors: field('ignore_errors') === 'yes' || /(?:^|\|)ignore-failure/.test(field('flags') ?? ''),
    code: ran ? (CLD_NAMES[code] ?? undefined) : undefined,
    status: ran && statusText !== undefined && /^\d+/.test(statusText) ? Number.parseInt(statusText, 10) : undefined,
  };
}

function execCommands(props: Record<string, string>): ExecCommand[] {
  const out: ExecCommand[] = [];
  for (const phase of ['ExecStartPre', 'ExecStart', 'ExecStartPost'] as const) {
    for (const v of (props[phase] ?? '').split('\n')) {
      const c = v.trim() ? parseExecCommand(phase, v) : undefined;
      if (c) out.push(c);
    }
  }
  return out;
}

const unitList = (v: string | undefined): string[] => (v ?? '').split(/\s+/).filter(Boolean);

/**
 * Maps parsed `systemctl show` properties to a UnitStatus (journal left empty). Pure, so the
 * mapping is tested on captured output.
 */
export function statusFromProperties(unit: string, props: Record<string, string>): UnitStatus {
  // Id is the unit's real name: an alias (sshd → ssh.service) is reported as the unit it names.
  const name = nonEmpty(props.Id) ?? normaliseUnit(unit);
  const loadState = props.LoadState;
  const activeState = props.ActiveState;
  if (!loadState || !activeState) {
    return { state: 'error', unit: name, message: `systemctl show ${name} printed no LoadState/ActiveState` };
  }
  // A unit whose file was deleted while it ran is not-found yet still active: report what runs.
  if (loadState === 'not-found' && activeState === 'inactive') return { state: 'not-found', unit: name };
  if (!isActiveState(activeState)) {
    return { state: 'error', unit: name, message: `systemctl show ${name}: unexpected ActiveState=${activeState}` };
  }
  const code = execMainCode(props.ExecMainCode);
  const status = code === undefined ? undefined : integer(props.ExecMainStatus);
  return {
    state: activeState,
    unit: name,
    loadState,
    description: props.Description ?? '',
    subState: props.SubState ?? '',
    result: nonEmpty(props.Result),
    mainPid: positive(props.MainPID),
    execMainCode: code,
    execMainStatus: status,
    execMainStatusText: code === undefined || status === undefined ? undefined : exitText(code, status),
    since: nonEmpty(props[sinceProperty(activeState)]),
    fragmentPath: nonEmpty(props.FragmentPath),
    journal: [],
    type: nonEmpty(props.Type),
    nRestarts: integer(props.NRestarts) ?? 0,
    restart: nonEmpty(props.Restart),
    timeoutStart: nonEmpty(props.TimeoutStartUSec),
    startedMonotonicUs: positive(props.InactiveExitTimestampMonotonic),
    triggeredBy: unitList(props.TriggeredBy),
    triggers: unitList(props.Triggers),
    consistsOf: unitList(props.ConsistsOf),
    wants: unitList(props.Wants),
    commands: execCommands(props),
    startLimit: { burst: integer(props.StartLimitBurst), interval: nonEmpty(props.StartLimitIntervalUSec) },
  };
}

/**
 * Reads a unit's state with `systemctl show` and its last journal lines. Never throws: a missing
 * systemd, an unknown unit, a timeout or odd output each come back as their own state.
 */
export async function unitStatus(
  runner: Runner,
  unit: string,
  opts: { timeoutMs: number; journalLines?: number },
): Promise<UnitStatus> {
  const name = normaliseUnit(unit);
  if (!isUnitName(name)) {
    return { state: 'error', unit: name, message: `'${unit}' is not a systemd unit name` };
  }
  const argv = ['systemctl', 'show', '-p', SHOW_PROPERTIES.join(','), '--no-pager', '--', name];
  const show = await runner.run(argv, { timeoutMs: opts.timeoutMs });
  if (show.missing) return { state: 'no-systemd', unit: name, message: 'systemctl is not installed' };
  if (show.timedOut) {
    return { state: 'error', unit: name, message: `${showCommand(argv)} timed out after ${opts.timeoutMs} ms` };
  }
  const stderr = show.stderr.trim();
  if (show.exitCode !== 0) {
    if (NO_SYSTEMD.test(stderr)) return { state: 'no-systemd', unit: name, message: firstLine(stderr) };
    return {
      state: 'error',
      unit: name,
      message: `${showCommand(argv)} exited with ${show.exitCode}${stderr ? `: ${firstLine(stderr)}` : ''}`,
    };
  }
  const status = statusFromProperties(name, parseSystemctlShow(show.stdout));
  if (status.state === 'not-found' || status.state === 'error' || status.state === 'no-systemd') return status;
  const lines = opts.journalLines ?? DEFAULT_JOURNAL_LINES;
  return lines > 0 ? { ...status, journal: await unitJournal(runner, name, lines, opts.timeoutMs) } : status;
}

/** A unit name systemctl can take as one argument: no option, no path, no space, no glob. */
export function isUnitName(name: string): boolean {
  return name !== '' && !name.startsWith('-') && !/[\s/*?[\]]/.test(name);
}

/**
 * The states of several units in one `systemctl show` (no journal): the members of a wrapper, the
 * sockets of a service, the candidates of a guess. Units systemd cannot be asked about are left out.
 */
export async function unitStatuses(runner: Runner, units: readonly string[], opts: { timeoutMs: number }): Promise<UnitStatus[]> {
  const names = [...new Set(units.map(normaliseUnit))].filter(isUnitName);
  if (names.length === 0) return [];
  const res = await runner.run(['systemctl', 'show', '-p', SHOW_PROPERTIES.join(','), '--no-pager', '--', ...names], { timeoutMs: opts.timeoutMs });
  if (res.exitCode !== 0) return [];
  const blocks = parseSystemctlShowBlocks(res.stdout);
  // One block per unit, in the order asked (Id tells for certain where it is printed).
  return blocks.map((props, i) => statusFromProperties(props.Id ?? names[i] ?? '', props));
}

/** A socket unit and what it listens on, from `systemctl show '*.socket'`. */
export interface SocketUnit {
  unit: string;
  /** `[::]:22`, `0.0.0.0:80`, `127.0.0.1:7078`, `/run/foo.sock`, each with its kind: Stream, Datagram, … */
  listen: { address: string; kind: string }[];
  /** The service it starts; for Accept=yes the template (`foo@.service`), one instance per connection. */
  service: string | undefined;
  accept: boolean;
  state: string;
  subState: string;
  result: string | undefined;
}

/** Parses `systemctl show '*.socket' -p Id,Listen,Triggers,Accept,ActiveState,SubState,Result`. */
export function parseSocketUnits(text: string): SocketUnit[] {
  return parseSystemctlShowBlocks(text)
    .filter((p) => p.Id?.endsWith('.socket'))
    .map((p) => {
      const unit = p.Id!;
      const accept = p.Accept === 'yes';
      const service = unitList(p.Triggers)[0] ?? (accept ? unit.replace(/\.socket$/, '@.service') : unit.replace(/\.socket$/, '.service'));
      return {
        unit,
        listen: (p.Listen ?? '')
          .split('\n')
          .map((l) => /^(.*) \((\w+)\)$/.exec(l.trim()))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => ({ address: m[1]!, kind: m[2]! })),
        service,
        accept,
        state: p.ActiveState ?? '',
        subState: p.SubState ?? '',
        result: nonEmpty(p.Result),
      };
    });
}

/** The port of a socket unit's Listen address (`[::]:22` → 22); undefined for a path or netlink. */
export function listenPort(address: string): number | undefined {
  const m = /:(\d+)$/.exec(address);
  return m && /^(\[.*\]|[\d.]+|\*)?:\d+$/.test(address) ? Number(m[1]) : /^\d+$/.test(address) ? Number(address) : undefined;
}

/** The command a person would type to list the socket units: `systemctl list-sockets --all`. */
export const LIST_SOCKETS_COMMAND = 'systemctl list-sockets --all';

/** The socket units of this systemd (loaded ones, any state); [] without systemd. */
export async function socketUnits(runner: Runner, opts: { timeoutMs: number }): Promise<SocketUnit[]> {
  const res = await runner.run(['systemctl', 'show', '--no-pager', '-p', 'Id,Listen,Triggers,Accept,ActiveState,SubState,Result', '--', '*.socket'], { timeoutMs: opts.timeoutMs });
  return res.exitCode === 0 ? parseSocketUnits(res.stdout) : [];
}

/**
 * The loaded instances of a template (`openvpn@` → openvpn@client.service, …), from
 * `systemctl list-units --all`. Empty when none is loaded.
 */
export async function instancesOf(runner: Runner, template: string, opts: { timeoutMs: number }): Promise<string[]> {
  const prefix = template.replace(/@(\.service)?$/, '');
  if (!isUnitName(prefix)) return [];
  const res = await runner.run(['systemctl', 'list-units', '--all', '--plain', '--no-legend', '--no-pager', '--type=service', '--', `${prefix}@*.service`], { timeoutMs: opts.timeoutMs });
  if (res.exitCode !== 0) return [];
  return res.stdout
    .split('\n')
    .map((l) => l.trim().replace(/^[^\w@.-]+\s*/, '').split(/\s+/)[0] ?? '')
    .filter((u) => u.startsWith(`${prefix}@`) && u.endsWith('.service') && !u.endsWith('@.service'));
}

/** The last `lines` journal lines of a unit; falls back to the tail of `systemctl status`. */
async function unitJournal(runner: Runner, unit: string, lines: number, timeoutMs: number): Promise<string[]> {
  const journal = await runner.run(
    ['journalctl', `--unit=${unit}`, '-n', String(lines), '--no-pager', '-o', 'short-iso'],
    { timeoutMs },
  );
  const fromJournal = journal.exitCode === 0 ? parseJournal(journal.stdout) : [];
  if (fromJournal.length > 0) return fromJournal.slice(-lines);
  // journalctl can be absent or unreadable (no permission, no persistent journal) while status still shows lines.
  const status = await runner.run(['systemctl', 'status', '-n', String(lines), '--no-pager', '--', unit], { timeoutMs });
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

/** Unit directories in systemd's search order (admin, runtime, vendor). */
export const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

const MAX_UNIT_FILE_BYTES = 1 << 20;

/**
 * Unit files (and their `*.d/*.conf` drop-ins) that mention `port` as a whole number outside
 * comments — `--port 7071`, `:7071`, `PORT=7071`. Guesses to offer at a prompt, in search order,
 * each unit once. EnvironmentFile= contents are not followed.
 */
export async function unitsMentioningPort(port: number, dirs: string[] = UNIT_DIRS): Promise<string[]> {
  const found = new Set<string>();
  // On merged-/usr systems (Debian 12) /lib/systemd/system and /usr/lib/systemd/system are one dir.
  const seen = new Set<string>();
  for (const dir of dirs) {
    const real = await realpath(dir).catch(() => undefined);
    if (real === undefined || seen.has(real)) continue;
    seen.add(real);
    for (const entry of await listDir(dir)) {
      if (UNIT_SUFFIX.test(entry) && (await readUnitText(join(dir, entry))).some((t) => mentionsPort(t, port))) {
        found.add(entry);
      } else if (entry.endsWith('.d') && UNIT_SUFFIX.test(entry.slice(0, -2))) {
        const dropIns = (await listDir(join(dir, entry))).filter((f) => f.endsWith('.conf'));
        for (const f of dropIns) {
          if ((await readUnitText(join(dir, entry, f))).some((t) => mentionsPort(t, port))) found.add(entry.slice(0, -2));
        }
      }
    }
  }
  return [...found];
}

/** True when unit-file text mentions `port` as a whole number on a line that is not a comment. */
export function mentionsPort(text: string, port: number): boolean {
  // Standing alone as a value (`--port 7071`, `:7071`, `PORT=7071`, `7071/tcp`): not part of a
  // word (FirewallD1, polkit-1), a longer number, a path or a dotted version/address.
  const re = new RegExp(`(?<=^|[\\s:=,("'\\[])${port}(?=$|[\\s/,)"'\\];])`);
  return text.split('\n').some((line) => !/^\s*[#;]/.test(line) && re.test(line));
}

async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

// [] for anything that is not a readable regular file of sane size: masks (→ /dev/null), dangling links.
async function readUnitText(path: string): Promise<string[]> {
  // Synchronous on purpose: hundreds of tiny files, where an awaited read costs more than the read.
  try {
    const info = statSync(path);
    if (!info.isFile() || info.size > MAX_UNIT_FILE_BYTES) return [];
    return [readFileSync(path, 'utf8')];
  } catch {
    return [];
  }
}

/** The systemd unit a process runs in, from /proc/PID/cgroup; undefined when none (or no such process). */
export async function unitOfPid(pid: number): Promise<string | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : unitFromCgroup(text);
}

/**
 * The unit in a /proc/PID/cgroup text: the cgroup v2 line (`0::/system.slice/nginx.service`),
 * else v1's `name=systemd` hierarchy. The deepest unit in the path wins, so a process inside a
 * container seen from the host maps to the container's unit — except under `user@UID.service`,
 * which is returned itself because the units below it belong to a user manager, not the system one.
 */
export function unitFromCgroup(text: string): string | undefined {
  const lines = text.split('\n').filter(Boolean);
  const v2 = lines.filter((l) => l.startsWith('0::'));
  const v1 = lines.filter((l) => /^\d+:name=systemd:/.test(l));
  for (const line of [...v2, ...v1]) {
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    const unit = unitFromCgroupPath(path);
    if (unit) return unit;
  }
  return undefined;
}

function unitFromCgroupPath(path: string): string | undefined {
  let unit: string | undefined;
  for (const part of path.split('/')) {
    // Slices only group other units; no process runs in a slice itself.
    if (!UNIT_SUFFIX.test(part) || part.endsWith('.slice')) continue;
    unit = part;
    if (/^user@\d+\.service$/.test(part)) break;
  }
  return unit;
}

function isActiveState(s: string): s is ActiveState {
  return (ACTIVE_STATES as readonly string[]).includes(s);
}

// The same timestamp `systemctl status` shows after "since" for each state.
function sinceProperty(state: ActiveState): string {
  switch (state) {
    case 'active':
    case 'reloading':
      return 'ActiveEnterTimestamp';
    case 'activating':
      return 'InactiveExitTimestamp';
    case 'deactivating':
      return 'ActiveExitTimestamp';
    case 'inactive':
    case 'failed':
      return 'InactiveEnterTimestamp';
  }
}

const CLD_CODES: Record<string, ExecMainCode> = {
  '1': 'exited',
  '2': 'killed',
  '3': 'dumped',
  '4': 'trapped',
  '5': 'stopped',
  '6': 'continued',
};

// The same, by the names the Exec* properties use.
const CLD_NAMES: Record<string, ExecMainCode> = Object.fromEntries(Object.values(CLD_CODES).map((c) => [c, c]));

function execMainCode(value: string | undefined): ExecMainCode | undefined {
  return value === undefined ? undefined : CLD_CODES[value];
}

// Names systemctl status (v252) prints after `status=N/`; LSB (2-7) and BSD (64-78) codes are shown bare.
// Verified against the real systemctl for every code 200-255.
const EXIT_NAMES: Record<number, string> = {
  0: 'SUCCESS',
  1: 'FAILURE',
  200: 'CHDIR',
  201: 'NICE',
  202: 'FDS',
  203: 'EXEC',
  204: 'MEMORY',
  205: 'LIMITS',
  206: 'OOM_ADJUST',
  207: 'SIGNAL_MASK',
  208: 'STDIN',
  209: 'STDOUT',
  210: 'CHROOT',
  211: 'IOPRIO',
  212: 'TIMERSLACK',
  213: 'SECUREBITS',
  214: 'SETSCHEDULER',
  215: 'CPUAFFINITY',
  216: 'GROUP',
  217: 'USER',
  218: 'CAPABILITIES',
  219: 'CGROUP',
  220: 'SETSID',
  221: 'CONFIRM',
  222: 'STDERR',
  224: 'PAM',
  225: 'NETWORK',
  226: 'NAMESPACE',
  227: 'NO_NEW_PRIVILEGES',
  228: 'SECCOMP',
  229: 'SELINUX_CONTEXT',
  230: 'PERSONALITY',
  231: 'APPARMOR',
  232: 'ADDRESS_FAMILIES',
  233: 'RUNTIME_DIRECTORY',
  235: 'CHOWN',
  236: 'SMACK_PROCESS_LABEL',
  237: 'KEYRING',
  238: 'STATE_DIRECTORY',
  239: 'CACHE_DIRECTORY',
  240: 'LOGS_DIRECTORY',
  241: 'CONFIGURATION_DIRECTORY',
  242: 'NUMA_POLICY',
  243: 'CREDENTIALS',
  244: 'BPF',
  255: 'EXCEPTION',
};

/** `status=1/FAILURE`, `status=2`, `signal=SEGV` — the wording of `systemctl status`. */
export function exitText(code: ExecMainCode, status: number): string {
  if (code === 'exited') {
    const label = EXIT_NAMES[status];
    return label ? `status=${status}/${label}` : `status=${status}`;
  }
  const signame = Object.entries(osConstants.signals).find(([, n]) => n === status)?.[0];
  return `signal=${signame ? signame.replace(/^SIG/, '') : status}`;
}

function integer(value: string | undefined): number | undefined {
  if (value === undefined || !/^-?\d+$/.test(value)) return undefined;
  return Number(value);
}

function positive(value: string | undefined): number | undefined {
  const n = integer(value);
  return n !== undefined && n > 0 ? n : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
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

/**
 * systemd is the running init: the test systemd itself documents (sd_booted). Without it,
 * systemctl and journalctl can only fail, so guesses skip them.
 */
export function systemdRunning(): boolean {
  return existsSync('/run/systemd/system');
}
