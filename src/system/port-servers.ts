import type { Host } from '../host/host.js';
import { wellKnown } from '../knowledge/well-known.js';
import { defineReader } from './reader.js';
import { systemdRunsReader } from './systemd/units.js';

/** What should serve a port nothing listens on, and how to start it on this host; and the search for what is configured to use the port. */
export interface ServeAdvice {
  /** The words of the fix: what usually serves the port and how to start it, or what to look for. */
  text: string;
  /** How this host starts the well-known program: `systemctl start ssh`, `service ssh start`, `/usr/sbin/sshd`. */
  start?: string[];
  /** Lists the configuration and unit files that mention the port. */
  find: string[];
}

const BIN_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];
const UNIT_DIRS = ['/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];

/** The files whose presence says whether the port's well-known program is installed, and how: its units, init scripts, binaries. */
export function servePaths(port: number, protocol: 'tcp' | 'udp'): { units: string[]; unitPaths: string[]; initPaths: string[]; binPaths: string[]; all: string[] } | undefined {
  const w = wellKnown(port, protocol);
  if (!w) return undefined;
  const units = w.units.filter((u) => !u.includes('@'));
  const unitPaths = units.flatMap((u) => UNIT_DIRS.map((d) => `${d}/${u}.service`));
  const initPaths = units.map((u) => `/etc/init.d/${u}`);
  const binPaths = w.programs.flatMap((p) => BIN_DIRS.map((d) => `${d}/${p}`));
  return { units, unitPaths, initPaths, binPaths, all: [...unitPaths, ...initPaths, ...binPaths] };
}

/**
 * For a port nothing listens on: which well-known program usually serves it, whether it is
 * installed here, and how this host starts it (its systemd unit where systemd runs, its
 * /etc/init.d script with `service` where that is what there is, else the program itself). Always
 * the search that lists what mentions the port in /etc and the unit folders. Reads only stat().
 */
export async function serveAdvice(host: Host, port: number, protocol: 'tcp' | 'udp', systemdRunning: () => Promise<boolean>): Promise<ServeAdvice> {
  // /etc holds /etc/systemd/system; both unit folders, for systems where /lib is not /usr/lib.
  const find = ['grep', '-rlswI', '--', String(port), '/etc', '/usr/lib/systemd/system', '/lib/systemd/system'];
  const mentions = `the configuration and unit files that mention port ${port} (the search below) say what is meant to use it`;
  const w = wellKnown(port, protocol);
  if (!w) return { text: `Start the program that should serve port ${port}: ${mentions}`, find };

  const { units, unitPaths, initPaths, binPaths, all } = servePaths(port, protocol)!;
  // Whether systemd runs is a fact of the diagnosis (memoised, asked by later steps too): asked alongside.
  // Over ssh the stat went with the first round trip (both-ends.ts preloads statArgv(servePaths)).
  const [running, found] = await Promise.all([systemdRunning(), host.stat(all)]);
  const has = (i: number) => found[i]?.kind === 'file';
  const unit = units.find((_, u) => UNIT_DIRS.some((_, d) => has(u * UNIT_DIRS.length + d)));
  const init = units.find((_, u) => has(unitPaths.length + u));
  const binary = binPaths.find((_, b) => has(unitPaths.length + initPaths.length + b));
  const usual = `Port ${port} (${w.name}) is usually served by ${w.programs.slice(0, 3).join(' or ')}`;

  let start: string[] | undefined;
  let how = '';
  if (running && unit) [start, how] = [['systemctl', 'start', unit], `its service ${unit}`];
  else if (init) [start, how] = [['service', init, 'start'], `its init script /etc/init.d/${init}${running ? '' : ' (this host runs no systemd)'}`];
  else if (binary) [start, how] = [[binary], `${binary} itself (no service of it is installed${running ? '' : ', and this host runs no systemd'})`];
  if (start) return { text: `${usual}, installed here and not running: start it with ${how}, below; if something else should serve the port, ${mentions}`, start, find };
  return { text: `${usual}, which is not installed here: install the program that should serve the port and start it; ${mentions}`, find };
}

/** For a port nothing listens on: what should serve it and how this host starts it (serveAdvice), once per diagnosis. */
export const serveAdviceOf = defineReader<{ port: number; protocol: 'tcp' | 'udp' }, ServeAdvice>({
  name: 'serve advice',
  key: ({ port, protocol }) => `${protocol}:${port}`,
  read: ({ port, protocol }, s) => serveAdvice(s.host, port, protocol, () => s.read(systemdRunsReader, undefined)),
});
