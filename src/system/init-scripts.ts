import type { Host } from '../host/host.js';
import { defineReader } from './reader.js';

/** Where sysvinit and OpenRC keep their service scripts. */
export const INIT_DIR = '/etc/init.d';
const MAX_SCRIPTS = 200;
const MAX_SCRIPT_BYTES = 256 * 1024;
/** Files of /etc/init.d that start no service. */
const NOT_SERVICES = new Set(['README', 'skeleton', 'rc', 'rcS', 'functions', 'halt', 'reboot', 'single', 'killprocs', 'sendsigs', 'umountfs', 'umountroot']);

/** An init script that starts a program, and the command that starts it through the host's init. */
export interface InitScript {
  name: string;
  path: string;
  /** `service NAME start` (sysvinit, Debian's init-system-helpers) or `rc-service NAME start` (OpenRC). */
  start: string[];
}

/**
 * The init scripts (sysvinit or OpenRC, /etc/init.d) that start `program`: the one named after it,
 * one whose LSB header `Provides:` it, or one that runs its binary (`/usr/sbin/sshd`: Debian's
 * /etc/init.d/ssh). [] where there are none. The scripts are read in one batch (over ssh, one
 * round trip: the host sends reads asked together as one).
 */
export async function initScriptsFor(host: Host, program: string): Promise<InitScript[]> {
  let names: string[];
  try {
    names = (await host.listDir(INIT_DIR)).filter((n) => !n.startsWith('.') && !NOT_SERVICES.has(n) && !/\.(dpkg-\w+|sh|orig|bak)$/.test(n)).sort();
  } catch {
    return [];
  }
  names = names.slice(0, MAX_SCRIPTS);
  const paths = names.map((n) => `${INIT_DIR}/${n}`);
  const infos = await host.stat(paths);
  const readable = names.filter((_, i) => infos[i]?.kind === 'file' && infos[i]!.size <= MAX_SCRIPT_BYTES);
  const texts = await Promise.all(readable.map((n) => host.readFile(`${INIT_DIR}/${n}`).catch(() => '')));
  return readable.flatMap((name, i) => (initScriptRuns(name, texts[i]!, program) ? [{ name, path: `${INIT_DIR}/${name}`, start: startCommand(name, texts[i]!) }] : []));
}

/** Whether the init script `name` with this text starts `program`. */
export function initScriptRuns(name: string, text: string, program: string): boolean {
  if (text === '' || program === '') return false;
  if (name === program) return true;
  const provides = /^#\s*Provides:\s*(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  if (provides.includes(program)) return true;
  const escaped = program.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // The program's binary in a bin directory: DAEMON=/usr/sbin/sshd, --exec /usr/sbin/sshd, command="/usr/sbin/sshd"
  // (not RUNDIR=/run/redis: a directory named like the program is not the program).
  return new RegExp(`/s?bin/${escaped}(?=$|[\\s"';:)])`, 'm').test(text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n'));
}

/** How the host's init starts the script: OpenRC's rc-service for an openrc-run script, else `service`. */
export function startCommand(name: string, text: string): string[] {
  return /^#!\s*\S*openrc-run/.test(text) ? ['rc-service', name, 'start'] : ['service', name, 'start'];
}

/** The init scripts that start a program, once per diagnosis. */
export const initScriptsOf = defineReader<string, InitScript[]>({ name: 'init scripts', key: (p) => p, read: (program, s) => initScriptsFor(s.host, program).catch(() => []) });
