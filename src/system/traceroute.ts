import { showCommand } from './runner.js';
import { defineReader } from './reader.js';

/**
 * A traceroute to the port itself (Dmitry Butskoy's traceroute 2.1, Debian's `traceroute`): TCP
 * SYNs (-T, raw packets: root) or UDP datagrams (-U, no privilege) to PORT with growing TTLs, one
 * probe a hop, every hop at once, so the whole trace takes about one wait. Each router on the way
 * answers the probe whose TTL ends at it with an ICMP time exceeded; where the packets are dropped
 * the rows turn to `*`; a router that rejects answers with an ICMP error that traceroute marks
 * (`!X` admin-prohibited, `!H`, `!N`, `!P`); the destination answers SYN-ACK or RST (UDP: port
 * unreachable) and ends the trace.
 */

/** One row of the trace: the hop (TTL), who answered (none: `*`), and traceroute's mark for an ICMP error. */
export interface TraceHop {
  ttl: number;
  address?: string;
  rttMs?: number;
  /** `!X` admin-prohibited, `!H` host, `!N` network, `!P` protocol unreachable, `!F`, `!S`, `!<N>`. */
  annotation?: string;
}

/** What traceroute printed and how it ended, before it is tied to a run. */
export type TraceParse =
  | { kind: 'traced'; hops: TraceHop[]; destination?: string }
  /** No raw socket: not root (traceroute: "You do not have enough privileges…"). */
  | { kind: 'not-permitted'; error: string }
  /** The kernel refused to send a probe ("send: Operation not permitted"): this machine's own output rules. */
  | { kind: 'send-refused'; error: string; hops: TraceHop[] }
  | { kind: 'failed'; error: string; hops: TraceHop[] };

/** One trace, as run. */
export type TraceResult = (TraceParse | { kind: 'missing' }) & {
  /** As a person would type it. */
  command: string;
  argv: string[];
  /** Ended from outside at whyport's bound: the rows are those printed by then. */
  cut?: boolean;
  durationMs: number;
};

const HEADER = /^traceroute to \S+ \(([^)]+)\)/m;
const ROW = /^\s*(\d+)\s+(.*)$/;
const ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]*:[0-9a-f:.]*)$/i;

/**
 * Reads what `traceroute -n -q 1 …` printed (stdout, stderr, exit status). Pure. The last row may
 * be unfinished when the trace was ended from outside; it counts as far as it goes.
 */
export function parseTraceroute(stdout: string, stderr: string, exitCode: number | null): TraceParse {
  const destination = HEADER.exec(stdout)?.[1];
  const hops: TraceHop[] = [];
  for (const line of stdout.split('\n')) {
    if (/^traceroute to /.test(line)) continue;
    const row = ROW.exec(line);
    if (!row) continue;
    const hop: TraceHop = { ttl: Number(row[1]) };
    const words = row[2]!.trim().split(/\s+/);
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (hop.address === undefined && ADDRESS.test(w)) hop.address = w;
      else if (hop.rttMs === undefined && words[i + 1] === 'ms' && Number.isFinite(Number(w))) hop.rttMs = Number(w);
      else if (hop.annotation === undefined && /^!\S*$/.test(w)) hop.annotation = w;
    }
    hops.push(hop);
  }
  const said = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (said.some((l) => /not have enough privileges/i.test(l)) || (hops.length === 0 && said.some((l) => /^socket: operation not permitted/i.test(l)))) {
    return { kind: 'not-permitted', error: said[0]! };
  }
  const send = said.find((l) => /^send(?:to)?: operation not permitted/i.test(l));
  if (send) return { kind: 'send-refused', error: send, hops };
  if (exitCode !== 0 && exitCode !== null && said.length > 0) return { kind: 'failed', error: said.join('; '), hops };
  return { kind: 'traced', hops, ...(destination ? { destination } : {}) };
}

/** Seconds traceroute waits for a probe: a second, less when the probe timeout is shorter. */
export function traceWaitSeconds(timeoutMs: number): number {
  return Math.round(Math.max(0.5, Math.min(1, timeoutMs / 1000)) * 10) / 10;
}

/** When whyport ends a trace that has not ended itself: never more than about --timeout + 1.5 s after it starts. */
export function traceBoundMs(timeoutMs: number): number {
  return Math.min(timeoutMs + 1_000, traceWaitSeconds(timeoutMs) * 1000 + 2_000);
}

/** How many hops are traced, all at once (-N = -m): one wait for the whole path. */
export const TRACE_MAX_HOPS = 30;

/** The argv of a trace to ADDRESS port PORT: TCP SYNs (-T) or UDP datagrams to that port (-U), numeric, one probe a hop. */
export function tracerouteArgv(address: string, port: number, protocol: 'tcp' | 'udp', timeoutMs: number): string[] {
  const hops = String(TRACE_MAX_HOPS);
  return ['traceroute', protocol === 'udp' ? '-U' : '-T', '-n', '-p', String(port), '-q', '1', '-w', String(traceWaitSeconds(timeoutMs)), '-N', hops, '-m', hops, address];
}

export interface TraceKey {
  address: string;
  port: number;
  protocol: 'tcp' | 'udp';
  timeoutMs: number;
}

/** One trace to an address and port, once per diagnosis; ended at the bound, the rows printed by then kept. */
export const tracerouteOf = defineReader<TraceKey, TraceResult>({
  name: 'traceroute',
  key: (k) => `${k.protocol} ${k.address} ${k.port} ${k.timeoutMs}`,
  async read(k, s) {
    const argv = tracerouteArgv(k.address, k.port, k.protocol, k.timeoutMs);
    const command = showCommand(argv);
    const r = await s.host.run(argv, { timeoutMs: traceBoundMs(k.timeoutMs) });
    if (r.missing) return { kind: 'missing', command, argv, durationMs: r.durationMs };
    return { ...parseTraceroute(r.stdout, r.stderr, r.exitCode), command, argv, durationMs: r.durationMs, ...(r.timedOut ? { cut: true } : {}) };
  },
});
