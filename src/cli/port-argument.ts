import type { Host } from '../host/host.js';
import { UsageError } from '../errors.js';
import { WELL_KNOWN_PORTS } from '../knowledge/well-known.js';

/** The transport protocols whyport diagnoses. */
export type Protocol = 'tcp' | 'udp';

/** A small table for machines without /etc/services (containers, minimal images). */
const BUILT_IN: readonly (readonly [string, number, readonly Protocol[]])[] = [
  ...WELL_KNOWN_PORTS.map((w) => [w.name, w.port, w.protocols ?? ['tcp']] as const),
  ['www', 80, ['tcp']], ['http', 80, ['tcp']], ['https', 443, ['tcp', 'udp']], ['ssh', 22, ['tcp']], ['smtp', 25, ['tcp']],
  ['domain', 53, ['tcp', 'udp']], ['dns', 53, ['tcp', 'udp']],
  ['postgres', 5432, ['tcp']], ['postgresql', 5432, ['tcp']], ['mysql', 3306, ['tcp']], ['redis', 6379, ['tcp']], ['mongodb', 27017, ['tcp']],
  ['ldaps', 636, ['tcp']], ['imaps', 993, ['tcp']], ['pop3s', 995, ['tcp']], ['telnet', 23, ['tcp']], ['rsync', 873, ['tcp']],
  // Names Debian's /etc/services knows for UDP only.
  ['ntp', 123, ['udp']], ['snmp', 161, ['tcp', 'udp']], ['syslog', 514, ['udp']], ['tftp', 69, ['udp']], ['bootps', 67, ['udp']],
  ['mdns', 5353, ['udp']], ['isakmp', 500, ['udp']], ['openvpn', 1194, ['tcp', 'udp']],
];

/** One protocol's half of the table: names (and aliases, lower case) → port, port → its first name. */
export interface ServiceNames {
  byName: Map<string, number>;
  byPort: Map<number, string>;
  /** The names that are an entry's own, not an alias (Debian's `shell 514/tcp cmd syslog`). */
  primaries: Set<string>;
}

export interface ServiceTable extends ServiceNames {
  /** The UDP entries (the TCP ones are byName/byPort, as most callers want). */
  udp: ServiceNames;
  source: string;
}

/** The host's /etc/services, read through the host; the built-in table alone when it is missing. */
export async function readServiceTable(host: Host, file = '/etc/services'): Promise<ServiceTable> {
  return serviceTable(await host.readFile(file).catch(() => undefined), file);
}

/** The TCP and UDP entries of an /etc/services text (names and aliases) over the built-in table; the built-in table alone for undefined. */
export function serviceTable(text: string | undefined, file = '/etc/services'): ServiceTable {
  const half = (): ServiceNames => ({ byName: new Map(), byPort: new Map(), primaries: new Set() });
  const halves: Record<Protocol, ServiceNames> = { tcp: half(), udp: half() };
  const add = (protocol: Protocol, names: readonly string[], port: number) => {
    const h = halves[protocol];
    h.primaries.add(names[0]!.toLowerCase());
    for (const name of names) if (!h.byName.has(name.toLowerCase())) h.byName.set(name.toLowerCase(), port);
    if (!h.byPort.has(port)) h.byPort.set(port, names[0]!.toLowerCase());
  };
  const source = text === undefined ? 'built-in' : file;
  if (text !== undefined) {
    for (const line of text.split('\n')) {
      const m = /^([A-Za-z0-9][\w.+-]*)\s+(\d+)\/(tcp|udp)\b([^#]*)/.exec(line);
      if (!m) continue;
      add(m[3] as Protocol, [m[1]!, ...m[4]!.trim().split(/\s+/).filter(Boolean)], Number(m[2]));
    }
  }
  // The built-in table fills gaps only; a machine's own file wins where they differ.
  for (const [name, port, protocols] of BUILT_IN) {
    for (const protocol of protocols) {
      const h = halves[protocol];
      if (!h.byName.has(name)) {
        h.byName.set(name, port);
        h.primaries.add(name);
      }
      if (!h.byPort.has(port)) h.byPort.set(port, name);
    }
  }
  return { ...halves.tcp, udp: halves.udp, source };
}

const PROTOCOL_HINT = 'give PORT or PORT/udp (e.g. 53/udp) or PORT/tcp; whyport diagnoses TCP and UDP';

/**
 * PORT as given on the command line: 1–65535 or a service name (`https` → 443), optionally with
 * `/tcp` or `/udp`. The protocol is the one written, else `--udp`'s, else the one /etc/services
 * knows the name for: `domain` is both (TCP unless UDP is asked for), `ntp` only UDP.
 */
export function parsePort(text: string, table: ServiceTable, asked?: Protocol): { port: number; name?: string; protocol: Protocol } {
  const t = text.trim();
  const slash = /^([^/]*)\/(.*)$/.exec(t);
  let written: Protocol | undefined;
  let body = t;
  if (slash) {
    const proto = slash[2]!.toLowerCase();
    if (proto === '') throw new UsageError(`'${text}' names no protocol after the '/'`, PROTOCOL_HINT);
    if (proto !== 'tcp' && proto !== 'udp') throw new UsageError(`'${text}': whyport does not diagnose ${proto}`, PROTOCOL_HINT);
    if (slash[1] === '') throw new UsageError(`'${text}' names no port before the '/'`, PROTOCOL_HINT);
    written = proto;
    body = slash[1]!;
  }
  if (written && asked && written !== asked) {
    throw new UsageError(`'${text}' says ${written}, but --${asked} was given`, 'say the protocol once: PORT/udp, or --udp');
  }
  const wanted = written ?? asked;
  if (/^\d+$/.test(body)) {
    const port = Number(body);
    if (port < 1 || port > 65535) throw new UsageError(`port ${body} is out of range`, 'a port is a number from 1 to 65535, or a service name such as https');
    const protocol = wanted ?? 'tcp';
    const name = (protocol === 'udp' ? table.udp : table).byPort.get(port);
    return name ? { port, name, protocol } : { port, protocol };
  }
  if (!/^[A-Za-z][\w.+-]*$/.test(body)) throw new UsageError(`'${text}' is not a port`, 'give a number from 1 to 65535, or a service name such as https (53/udp for UDP)');
  const name = body.toLowerCase();
  const tcp = table.byName.get(name);
  const udp = table.udp.byName.get(name);
  // An entry's own name beats an alias: `syslog` is 514/udp, though `shell 514/tcp` has it as an alias.
  const udpOwn = udp !== undefined && table.udp.primaries.has(name) && !table.primaries.has(name);
  const protocol: Protocol | undefined = wanted ?? (udpOwn ? 'udp' : tcp !== undefined ? 'tcp' : udp !== undefined ? 'udp' : undefined);
  const port = protocol === 'udp' ? udp : protocol === 'tcp' ? tcp : undefined;
  if (port === undefined) {
    const where = table.source === 'built-in' ? 'the built-in table' : table.source;
    if (protocol !== undefined) {
      const other = protocol === 'udp' ? tcp : udp;
      if (other !== undefined) throw new UsageError(`'${body}' is a ${protocol === 'udp' ? 'TCP' : 'UDP'} service only (port ${other}) in ${where}`, `give ${other}/${protocol} if you mean that port over ${protocol.toUpperCase()}`);
    }
    throw new UsageError(`unknown service name '${text}'`, `it is not in ${where}; give the port number instead`);
  }
  return { port, name, protocol: protocol! };
}
