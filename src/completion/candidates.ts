import type { Host } from '../host/host.js';
import { readServiceTable } from '../cli/port-argument.js';
import { SAFE_VALUE } from '../engine/safe.js';
import { serviceUnitNames } from '../system/systemd/unit-names.js';
import type { AskKind } from './spec.js';

/** How long Tab may wait for systemctl: a human presses it and waits. */
export const UNITS_TIMEOUT_MS = 1_000;

/**
 * The names this machine offers for a word that starts with `prefix` (`whyport __complete KIND
 * PREFIX`): the service names of its /etc/services (and whyport's built-in table) that PORT
 * accepts, or its systemd service units that --service accepts. Sorted; never throws.
 */
export async function candidates(kind: AskKind, prefix: string, host: Host, timeoutMs = UNITS_TIMEOUT_MS): Promise<string[]> {
  try {
    if (kind === 'ports') {
      // parsePort looks names up in lower case, as they are stored.
      const p = prefix.toLowerCase();
      const table = await readServiceTable(host);
      // After a slash, the protocols: `53/` → 53/tcp, 53/udp; `ntp/` → ntp/udp (what the name is known for).
      const slash = /^([a-z0-9][\w.+-]*)\/(\w*)$/.exec(p);
      if (slash) {
        const [, port, proto] = slash as unknown as [string, string, string];
        const known = /^\d+$/.test(port) ? (['tcp', 'udp'] as const) : (['tcp', 'udp'] as const).filter((x) => (x === 'udp' ? table.udp : table).byName.has(port));
        return known.filter((x) => x.startsWith(proto)).map((x) => `${port}/${x}`);
      }
      return [...new Set([...table.byName.keys(), ...table.udp.byName.keys()])].filter((n) => n.startsWith(p)).sort();
    }
    // Names whyport would refuse as --service (SAFE_VALUE) are not offered: `systemd-fsck@dev-disk-by\x2duuid….service`.
    return (await serviceUnitNames(host, prefix, timeoutMs)).filter((n) => SAFE_VALUE.test(n));
  } catch {
    return [];
  }
}
