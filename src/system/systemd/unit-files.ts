import type { Host, UnitFileText } from '../../host/host.js';
import { mayRunScript, scriptNames, scriptOf } from '../../knowledge/program-names.js';
import { UNIT_SUFFIXES } from './units.js';
import { defineReader } from '../reader.js';

/** Unit directories in systemd's search order (admin, runtime, vendor). */
export const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

const MAX_UNIT_FILE_BYTES = 1 << 20;

/**
 * Unit files (and their `*.d/*.conf` drop-ins) that mention `port` as a whole number outside
 * comments — `--port 7071`, `:7071`, `PORT=7071`. Guesses to offer at a prompt, in search order,
 * each unit once. EnvironmentFile= contents are not followed. One host call reads them all.
 */
export async function unitsMentioningPort(host: Host, port: number, dirs: readonly string[] = UNIT_DIRS): Promise<string[]> {
  return unitsMentioning(await readUnitFiles(host, dirs), port);
}

/** Every unit file and drop-in of the unit directories, in one host call. */
export function readUnitFiles(host: Host, dirs: readonly string[] = UNIT_DIRS): Promise<UnitFileText[]> {
  return host.unitFiles(dirs, { suffixes: UNIT_SUFFIXES, maxBytes: MAX_UNIT_FILE_BYTES });
}

/** The units whose files (or drop-ins) mention `port`, in search order, each once. */
export function unitsMentioning(files: readonly UnitFileText[], port: number): string[] {
  const mentions = portMention(port);
  return [...new Set(files.filter((f) => mentions(f.text)).map((f) => f.unit))];
}

/** What a unit that mentions a port runs: the service (itself, or the one its socket starts) and that service's program. */
export interface UnitProgram {
  unit: string;
  service: string;
  /** The ExecStart= command of the service, as argv (`/usr/sbin/sshd -D $SSHD_OPTS`). */
  execStart: string[];
  /** The program as a person names it: the binary's base name, or the script an interpreter runs. */
  program: string;
}

/**
 * The program a unit runs: for a service its ExecStart=, for a socket the ExecStart= of the
 * service it starts (Service=, else the socket's own name, `NAME@.service` with Accept=yes).
 * A unit name is never a program name: undefined when no ExecStart= can be read.
 */
export function programOfUnit(files: readonly UnitFileText[], unit: string): UnitProgram | undefined {
  const texts = (u: string) => files.filter((f) => f.unit === u).map((f) => f.text);
  let service = unit;
  if (unit.endsWith('.socket')) {
    const socket = unitSection(texts(unit), 'Socket');
    const stem = unit.slice(0, -'.socket'.length);
    service = socket.Service?.at(-1) || (/^(yes|true|on|1)$/i.test(socket.Accept?.at(-1) ?? '') ? `${stem}@.service` : `${stem}.service`);
  }
  if (!service.endsWith('.service')) return undefined;
  const starts = unitSection(texts(service), 'Service').ExecStart ?? [];
  const line = starts.find((l) => l.trim() !== '');
  if (!line) return undefined;
  const execStart = commandWords(line);
  const program = programOfArgv(execStart);
  return program ? { unit, service, execStart, program } : undefined;
}

/**
 * The settings of one section across a unit file and its drop-ins, in order, each key's values in
 * order; an empty assignment (`ExecStart=`) clears what came before, as systemd does.
 */
export function unitSection(texts: readonly string[], section: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const text of texts) {
    let inside = false;
    // A backslash at the end of a line continues it.
    for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
      const header = /^\[(.+)\]$/.exec(line);
      if (header) {
        inside = header[1] === section;
        continue;
      }
      const eq = line.indexOf('=');
      if (!inside || eq < 1) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      out[key] = value === '' ? [] : [...(out[key] ?? []), value];
    }
  }
  return out;
}

/** The words of an Exec line: its prefixes (`-@:+!`) dropped, quotes removed. */
export function commandWords(line: string): string[] {
  const words = (line.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^(["'])(.*)\1$/, '$2'));
  if (words[0]) words[0] = words[0].replace(/^[-@:+!]+/, '');
  return words;
}

/** The program an argv runs, as a person names it: `env` and its assignments skipped, an interpreter's script by its name; undefined for an interpreter that runs no named script. */
export function programOfArgv(argv: readonly string[]): string | undefined {
  let words = [...argv];
  if (words[0]?.split('/').pop() === 'env') {
    words = words.slice(1);
    while (words.length && (words[0]!.startsWith('-') || /^\w+=/.test(words[0]!))) words.shift();
  }
  const binary = words[0]?.split('/').pop();
  if (!binary || binary.includes('$')) return undefined;
  const script = scriptOf(binary, words);
  if (script && !script.includes('$')) return scriptNames(script).at(-1) ?? binary;
  // `node -e …`, `sh -c …`: an interpreter names no program of its own (any node would match).
  return mayRunScript(binary) ? undefined : binary;
}

/** The first unit file of each unit that is installed (`/lib/systemd/system/nginx.service`), in one host call; undefined where none is. */
export async function installedUnitFiles(host: Host, units: readonly string[], dirs: readonly string[] = UNIT_DIRS): Promise<(string | undefined)[]> {
  const paths = units.map((u) => dirs.map((d) => `${d}/${u}`));
  const infos = await host.stat(paths.flat());
  return paths.map((candidates, i) => candidates.find((_, j) => infos[i * dirs.length + j] !== undefined));
}

/** True when unit-file text mentions `port` as a whole number on a line that is not a comment. */
export function mentionsPort(text: string, port: number): boolean {
  return portMention(port)(text);
}

/** mentionsPort for one port, its expression built once for every file (a diagnosis reads hundreds). */
function portMention(port: number): (text: string) => boolean {
  const digits = String(port);
  // Standing alone as a value (`--port 7071`, `:7071`, `PORT=7071`, `7071/tcp`): not part of a
  // word (FirewallD1, polkit-1), a longer number, a path or a dotted version/address.
  const re = new RegExp(`(?<=^|[\\s:=,("'\\[])${digits}(?=$|[\\s/,)"'\\];])`);
  // Most files do not hold the digits at all: they are never split into lines.
  return (text) => text.includes(digits) && text.split('\n').some((line) => !/^\s*[#;]/.test(line) && re.test(line));
}

/** Every unit file, once per diagnosis (one host call; over ssh, one round trip). */
export const allUnitFiles = defineReader<void, UnitFileText[]>({ name: 'unit files', read: (_, s) => readUnitFiles(s.host) });
