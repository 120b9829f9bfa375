import { errorCode, type Host } from '../host/host.js';
import { EPHEMERAL_RANGE_FILE, RMEM_DEFAULT_FILE, RMEM_MAX_FILE } from '../knowledge/thresholds.js';
import type { TcpSocket } from './socket.js';
import { readSocketTable } from './socket-query.js';
import { defineReader } from './reader.js';

/** The host's UDP counters (the whole network namespace's, IPv4 and IPv6 added up). */
export interface UdpCounters {
  /** Datagrams dropped because a socket's receive buffer was full (UdpRcvbufErrors + Udp6RcvbufErrors). */
  rcvbufErrors: number;
  /** Datagrams not delivered for any reason, full buffers included (UdpInErrors + Udp6InErrors). */
  inErrors: number;
}

/** What a person would type to read the same counters. */
export const UDP_COUNTERS_COMMAND = 'nstat -az UdpRcvbufErrors Udp6RcvbufErrors';

/**
 * The `Udp:` counters of /proc/net/snmp, which pairs a line of names with a line of values
 * (`Udp: InDatagrams NoPorts InErrors … RcvbufErrors …` then `Udp: 0 0 48 … 48 …`). UdpLite's
 * lines are another protocol and left alone. undefined when the lines are missing.
 */
export function parseSnmpUdp(text: string): Record<string, number> | undefined {
  const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return undefined;
  const names = lines[0]!.trim().split(/\s+/).slice(1);
  const values = lines[1]!.trim().split(/\s+/).slice(1);
  const out: Record<string, number> = {};
  names.forEach((name, i) => {
    if (values[i] !== undefined && /^\d+$/.test(values[i]!)) out[name] = Number(values[i]);
  });
  return out;
}

/** The `Udp6…` counters of /proc/net/snmp6, one `Name value` a line. */
export function parseSnmp6Udp(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name?.startsWith('Udp6') && value !== undefined && /^\d+$/.test(value)) out[name] = Number(value);
  }
  return out;
}

/** The counters now; a string says why they could not be read. snmp6 is absent without IPv6. */
export async function readUdpCounters(host: Host): Promise<UdpCounters | string> {
  let v4: Record<string, number> | undefined;
  try {
    v4 = parseSnmpUdp(await host.readFile('/proc/net/snmp'));
  } catch (err) {
    return `/proc/net/snmp could not be read (${errorCode(err) ?? String(err)})`;
  }
  if (!v4 || v4.RcvbufErrors === undefined) return '/proc/net/snmp has no Udp RcvbufErrors';
  const v6 = await host.readFile('/proc/net/snmp6').then(parseSnmp6Udp, () => ({}) as Record<string, number>);
  return { rcvbufErrors: v4.RcvbufErrors + (v6.Udp6RcvbufErrors ?? 0), inErrors: (v4.InErrors ?? 0) + (v6.Udp6InErrors ?? 0) };
}

/** net.core.rmem_max (the most SO_RCVBUF may ask for) and rmem_default (what a socket gets unasked); null where unreadable. */
export async function readRmem(host: Host): Promise<{ rmemMax: number | null; rmemDefault: number | null }> {
  const [rmemMax, rmemDefault] = await Promise.all([RMEM_MAX_FILE, RMEM_DEFAULT_FILE].map((f) => readNumber(host, f)));
  return { rmemMax: rmemMax!, rmemDefault: rmemDefault! };
}

/** net.ipv4.ip_local_port_range, the ports the kernel gives clients; undefined where unreadable. */
export async function readEphemeralRange(host: Host): Promise<[number, number] | undefined> {
  const text = await host.readFile(EPHEMERAL_RANGE_FILE).catch(() => undefined);
  const m = text ? /^\s*(\d+)\s+(\d+)/.exec(text) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

async function readNumber(host: Host, file: string): Promise<number | null> {
  const text = await host.readFile(file).catch(() => undefined);
  return text !== undefined && /^\s*\d+\s*$/.test(text) ? Number(text) : null;
}

/** The port's UDP sockets and the host's counters, read together. */
export interface UdpReading {
  sockets: TcpSocket[];
  counters: UdpCounters | string;
}

/** Two readings `windowMs` apart, and the host's buffer limits. */
export interface UdpDropSample {
  first: UdpReading;
  second: UdpReading;
  windowMs: number;
  rmemMax: number | null;
  rmemDefault: number | null;
}

/**
 * Reads the port's UDP sockets (their drop counters and queues, without owners) and the host's
 * counters, waits `intervalMs`, and reads them again: a drop counter that grew meanwhile is a
 * socket dropping datagrams now, one that did not is history. A string says why the sockets
 * could not be read. The host's counters are the namespace's: growth there is every socket's.
 */
export async function sampleUdpDrops(
  host: Host,
  port: number,
  opts: { timeoutMs: number; intervalMs: number; sleep?: (ms: number) => Promise<void> },
): Promise<UdpDropSample | string> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const read = async (): Promise<UdpReading> => {
    const [table, counters] = await Promise.all([readSocketTable(host, port, { timeoutMs: opts.timeoutMs, protocol: 'udp', owners: false }), readUdpCounters(host)]);
    return { sockets: table.sockets, counters };
  };
  try {
    const [first, rmem] = await Promise.all([read(), readRmem(host)]);
    const started = performance.now();
    await sleep(opts.intervalMs);
    const second = await read();
    return { first, second, windowMs: Math.round(performance.now() - started), ...rmem };
  } catch (err) {
    return (err as Error).message;
  }
}

/** The port's UDP drop counters and queues watched over `intervalMs`; a string says why they could not be. */
export const udpDropsOf = defineReader<{ port: number; intervalMs: number }, UdpDropSample | string>({
  name: 'UDP drops',
  key: ({ port, intervalMs }) => `${port} ${intervalMs}`,
  read: ({ port, intervalMs }, s) => sampleUdpDrops(s.host, port, { timeoutMs: s.timeoutMs, intervalMs }),
});
