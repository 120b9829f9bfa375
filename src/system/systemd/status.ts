import type { Runner } from '../runner.js';
import { showCommand } from '../runner.js';
import { unitJournal } from './journal.js';
import { parseSystemctlShow, parseSystemctlShowBlocks, SHOW_PROPERTIES, statusFromProperties } from './show.js';
import { isUnitName, normaliseUnit, type UnitStatus } from './units.js';
import { defineReader } from '../reader.js';

// systemctl's own words when PID 1 is not systemd (containers, WSL1, chroots) or the bus is gone.
const NO_SYSTEMD = /System has not been booted with systemd|Failed to connect to bus|Host is down/;

const DEFAULT_JOURNAL_LINES = 10;

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
function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}


/** The states of several units in one `systemctl show` (unitStatuses), once per diagnosis for that list. */
export const unitStatusesOf = defineReader<readonly string[], UnitStatus[]>({ name: 'unit states', key: (units) => units.join(' '), read: (units, s) => unitStatuses(s.host, units, { timeoutMs: s.timeoutMs }) });
