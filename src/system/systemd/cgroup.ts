import type { Host } from '../../host/host.js';
import { UNIT_SUFFIX } from './units.js';
import { defineReader } from '../reader.js';

/** The systemd unit each process runs in, from /proc/PID/cgroup (one host call); undefined when none or gone. */
export async function unitsOfPids(host: Host, pids: readonly number[]): Promise<(string | undefined)[]> {
  if (pids.length === 0) return [];
  const texts = await host.cgroups(pids);
  return texts.map((t) => (t === undefined ? undefined : unitFromCgroup(t)));
}

/** The systemd unit one process runs in; undefined when none (or no such process). */
export async function unitOfPid(host: Host, pid: number): Promise<string | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return (await unitsOfPids(host, [pid]))[0];
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

/** The systemd unit of each pid (in the order given), in one host call, once per diagnosis for that set of pids. */
export const unitsOfPidsOf = defineReader<readonly number[], (string | undefined)[]>({ name: 'units of processes', key: (pids) => pids.join(','), read: (pids, s) => unitsOfPids(s.host, pids) });
