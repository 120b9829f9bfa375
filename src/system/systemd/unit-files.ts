import type { Host } from '../../host/host.js';
import { UNIT_SUFFIXES } from './units.js';

/** Unit directories in systemd's search order (admin, runtime, vendor). */
export const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

const MAX_UNIT_FILE_BYTES = 1 << 20;

/**
 * Unit files (and their `*.d/*.conf` drop-ins) that mention `port` as a whole number outside
 * comments — `--port 7071`, `:7071`, `PORT=7071`. Guesses to offer at a prompt, in search order,
 * each unit once. EnvironmentFile= contents are not followed. One host call reads them all.
 */
export async function unitsMentioningPort(host: Host, port: number, dirs: readonly string[] = UNIT_DIRS): Promise<string[]> {
  const files = await host.unitFiles(dirs, { suffixes: UNIT_SUFFIXES, maxBytes: MAX_UNIT_FILE_BYTES });
  return [...new Set(files.filter((f) => mentionsPort(f.text, port)).map((f) => f.unit))];
}

/** The first unit file of each unit that is installed (`/lib/systemd/system/nginx.service`), in one host call; undefined where none is. */
export async function installedUnitFiles(host: Host, units: readonly string[], dirs: readonly string[] = UNIT_DIRS): Promise<(string | undefined)[]> {
  const paths = units.map((u) => dirs.map((d) => `${d}/${u}`));
  const infos = await host.stat(paths.flat());
  return paths.map((candidates, i) => candidates.find((_, j) => infos[i * dirs.length + j] !== undefined));
}

/** True when unit-file text mentions `port` as a whole number on a line that is not a comment. */
export function mentionsPort(text: string, port: number): boolean {
  // Standing alone as a value (`--port 7071`, `:7071`, `PORT=7071`, `7071/tcp`): not part of a
  // word (FirewallD1, polkit-1), a longer number, a path or a dotted version/address.
  const re = new RegExp(`(?<=^|[\\s:=,("'\\[])${port}(?=$|[\\s/,)"'\\];])`);
  return text.split('\n').some((line) => !/^\s*[#;]/.test(line) && re.test(line));
}
