import type { Host } from '../host/host.js';
import { readServiceTable } from '../port.js';
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
      return [...(await readServiceTable(host)).byName.keys()].filter((n) => n.startsWith(p)).sort();
    }
    // Names whyport would refuse as --service (SAFE_VALUE) are not offered: `systemd-fsck@dev-disk-by\x2duuid….service`.
    return (await serviceUnitNames(host, prefix, timeoutMs)).filter((n) => SAFE_VALUE.test(n));
  } catch {
    return [];
  }
}
