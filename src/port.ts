import type { Host } from './host/host.js';
import { UsageError } from './errors.js';
import { WELL_KNOWN_PORTS } from './knowledge/well-known.js';

/** A small table for machines without /etc/services (containers, minimal images). */
const BUILT_IN: Record<string, number> = Object.fromEntries([
  ...WELL_KNOWN_PORTS.map((w) => [w.name, w.port] as const),
  ['www', 80], ['http', 80], ['https', 443], ['ssh', 22], ['smtp', 25], ['domain', 53], ['dns', 53],
  ['postgres', 5432], ['postgresql', 5432], ['mysql', 3306], ['redis', 6379], ['mongodb', 27017],
  ['ldaps', 636], ['imaps', 993], ['pop3s', 995], ['telnet', 23], ['ntp', 123], ['snmp', 161], ['rsync', 873],
]);

export interface ServiceTable {
  byName: Map<string, number>;
  byPort: Map<number, string>;
  source: string;
}

/** The host's /etc/services, read through the host; the built-in table alone when it is missing. */
export async function readServiceTable(host: Host, file = '/etc/services'): Promise<ServiceTable> {
  return serviceTable(await host.readFile(file).catch(() => undefined), file);
}

/** The TCP entries of an /etc/services text (names and aliases) over the built-in table; the built-in table alone for undefined. */
export function serviceTable(text: string | undefined, file = '/etc/services'): ServiceTable {
  const byName = new Map<string, number>();
  const byPort = new Map<number, string>();
  const source = text === undefined ? 'built-in' : file;
  if (text !== undefined) {
    for (const line of text.split('\n')) {
      const m = /^([A-Za-z0-9][\w.+-]*)\s+(\d+)\/tcp\b([^#]*)/.exec(line);
      if (!m) continue;
      const port = Number(m[2]);
      for (const name of [m[1]!, ...m[3]!.trim().split(/\s+/).filter(Boolean)]) {
        if (!byName.has(name.toLowerCase())) byName.set(name.toLowerCase(), port);
      }
      if (!byPort.has(port)) byPort.set(port, m[1]!);
    }
  }
  for (const [name, port] of Object.entries(BUILT_IN)) {
    if (!byName.has(name)) byName.set(name, port);
    if (!byPort.has(port)) byPort.set(port, name);
  }
  return { byName, byPort, source };
}

/** PORT as given on the command line: 1–65535, or a service name (`https` → 443). */
export function parsePort(text: string, table: ServiceTable): { port: number; name?: string } {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const port = Number(t);
    if (port < 1 || port > 65535) throw new UsageError(`port ${t} is out of range`, 'a TCP port is a number from 1 to 65535, or a service name such as https');
    const name = table.byPort.get(port);
    return name ? { port, name } : { port };
  }
  if (!/^[A-Za-z][\w.+-]*$/.test(t)) throw new UsageError(`'${text}' is not a port`, 'give a number from 1 to 65535, or a service name such as https');
  const port = table.byName.get(t.toLowerCase());
  if (port === undefined) {
    throw new UsageError(`unknown service name '${text}'`, `it is not in ${table.source === 'built-in' ? 'the built-in table' : table.source}; give the port number instead`);
  }
  return { port, name: t.toLowerCase() };
}
