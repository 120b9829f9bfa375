import { signalName } from '../../knowledge/signals.js';
import { normaliseUnit, type ActiveState, type ExecCommand, type ExecMainCode, type UnitStatus } from './units.js';

const ACTIVE_STATES: readonly ActiveState[] = ['active', 'inactive', 'failed', 'activating', 'deactivating', 'reloading'];

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

/** The words of a unit-list property (`TriggeredBy=a.socket b.path`). */
export const unitList = (v: string | undefined): string[] => (v ?? '').split(/\s+/).filter(Boolean);

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
  const signame = signalName(status);
  return `signal=${signame ? signame.replace(/^SIG/, '') : status}`;
}

export function integer(value: string | undefined): number | undefined {
  if (value === undefined || !/^-?\d+$/.test(value)) return undefined;
  return Number(value);
}

export function positive(value: string | undefined): number | undefined {
  const n = integer(value);
  return n !== undefined && n > 0 ? n : undefined;
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
