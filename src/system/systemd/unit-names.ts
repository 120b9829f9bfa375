import type { Host } from '../../host/host.js';
import { systemdRunning } from './units.js';

/**
 * The service units of a machine by name, for shell completion of --service: the units systemd has
 * loaded (`systemctl list-units --all`, template instances included) and the unit files installed
 * (`systemctl list-unit-files`, also those never loaded). Asked at each Tab, so both commands run
 * at once with a short timeout, and whatever did not answer in time is simply left out.
 */

/** The two commands, each narrowed to names starting with `prefix` (systemctl's own glob). */
export function unitNameCommands(prefix: string): { loaded: string[]; files: string[] } {
  const pattern = prefix === '' ? [] : [`${prefix}*`];
  return {
    loaded: ['systemctl', 'list-units', '--type=service', '--all', '--no-legend', '--plain', ...pattern],
    // With a pattern, list-unit-files works out the enablement of the matching files only: 10 ms
    // instead of 500 ms for every unit file of a Debian 12 system.
    files: ['systemctl', 'list-unit-files', '--type=service', '--no-legend', '--plain', ...pattern],
  };
}

/**
 * The service names in `systemctl list-units --type=service --all --no-legend --plain`: UNIT LOAD
 * ACTIVE SUB DESCRIPTION. A unit that is only referenced (not-found and inactive) is left out: there
 * is nothing to diagnose by that name.
 */
export function parseLoadedServices(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split('\n')) {
    // Without --plain (or in older systemd) a failed unit's line starts with a bullet.
    const [unit, load, active] = line.replace(/^\s*[●*]\s*/, '').trim().split(/\s+/);
    if (!unit?.endsWith('.service')) continue;
    if (load === 'not-found' && active === 'inactive') continue;
    names.push(unit);
  }
  return names;
}

/**
 * The service names in `systemctl list-unit-files --type=service --no-legend`: UNIT-FILE STATE
 * PRESET. Templates (`getty@.service`) are left out: only their instances can be started.
 */
export function parseServiceUnitFiles(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const unit = line.trim().split(/\s+/)[0];
    if (!unit?.endsWith('.service') || unit.endsWith('@.service')) continue;
    names.push(unit);
  }
  return names;
}

/**
 * The service units whose name starts with `prefix`, sorted, each once. Empty at once when systemd
 * is not the running init (without it list-unit-files still reads the disk, for half a second);
 * empty too when systemctl is missing, fails, or does not answer within `timeoutMs`.
 */
export async function serviceUnitNames(host: Host, prefix: string, timeoutMs: number): Promise<string[]> {
  // A prefix systemctl would read as an option or a glob is no unit name's start.
  if (prefix.startsWith('-') || /[\s*?[\]\\]/.test(prefix)) return [];
  if (!(await systemdRunning(host))) return [];
  const commands = unitNameCommands(prefix);
  const [loaded, files] = await Promise.all([host.run(commands.loaded, { timeoutMs }), host.run(commands.files, { timeoutMs })]);
  // Only the output of a command that ran to its end: a killed one may have printed half a line.
  const names = [...(loaded.exitCode === 0 ? parseLoadedServices(loaded.stdout) : []), ...(files.exitCode === 0 ? parseServiceUnitFiles(files.stdout) : [])];
  return [...new Set(names.filter((n) => n.startsWith(prefix)))].sort();
}
