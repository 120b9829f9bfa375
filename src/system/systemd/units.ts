import type { Host } from '../../host/host.js';
import { showCommand } from '../runner.js';
import { defineReader } from '../reader.js';

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


/** The unit types systemd has; a name ending in one of them is a unit name already. */
export const UNIT_SUFFIXES = ['service', 'socket', 'target', 'timer', 'mount', 'automount', 'swap', 'path', 'slice', 'scope', 'device'];
export const UNIT_SUFFIX = new RegExp(`\\.(${UNIT_SUFFIXES.join('|')})$`);

/** Appends `.service` when the name has no unit suffix, as systemctl itself does (`nginx` → `nginx.service`). */
export function normaliseUnit(unit: string): string {
  const name = unit.trim();
  return UNIT_SUFFIX.test(name) ? name : `${name}.service`;
}

/** The command a person would type to look at the unit, e.g. `systemctl status myapp`. */
export function statusCommand(unit: string): string {
  return showCommand(['systemctl', 'status', unit.trim()]);
}

/** A unit name systemctl can take as one argument: no option, no path, no space, no glob. */
export function isUnitName(name: string): boolean {
  return name !== '' && !name.startsWith('-') && !/[\s/*?[\]]/.test(name);
}

/** The directory that exists while systemd is the running init: the test systemd itself documents (sd_booted). */
export const SYSTEMD_MARKER = '/run/systemd/system';

/**
 * systemd is the running init (SYSTEMD_MARKER exists), on any host: one stat, which the ssh host
 * answers from its first round trip. Without it, systemctl and journalctl can only fail, so
 * guesses skip them.
 */
export async function systemdRunning(host: Host): Promise<boolean> {
  const [info] = await host.stat([SYSTEMD_MARKER]);
  return info !== undefined;
}

/** Whether systemd is the running init, once per diagnosis. */
export const systemdRunsReader = defineReader<void, boolean>({ name: 'systemd running', read: (_, s) => systemdRunning(s.host) });
