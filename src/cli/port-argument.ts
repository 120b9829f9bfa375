import type { Host } from '../host/host.js';
import { UsageError } from '../errors.js';

export { serviceTable, type Protocol, type ServiceNames, type ServiceTable } from '../knowledge/services.js';
import { serviceTable, type Protocol, type ServiceTable } from '../knowledge/services.js';

/** The host's /etc/services, read through the host; the built-in table alone when it is missing. */
export async function readServiceTable(host: Host, file = '/etc/services'): Promise<ServiceTable> {
  return serviceTable(await host.readFile(file).catch(() => undefined), file);
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
