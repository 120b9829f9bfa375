import { WELL_KNOWN_PORTS } from './well-known.js';

// The names of ports: /etc/services parsed over a built-in table. Pure, so that the command line
// (src/cli/port-argument.ts) and a nested walk (src/engine/follow.ts) name a port the same way.

/** The transport protocols whyport diagnoses. */
export type Protocol = 'tcp' | 'udp';

/** A small table for machines without /etc/services (containers, minimal images). */
const BUILT_IN_SERVICES: readonly (readonly [string, number, readonly Protocol[]])[] = [
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
  for (const [name, port, protocols] of BUILT_IN_SERVICES) {
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
