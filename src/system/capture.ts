import type { Host } from '../host/host.js';
import { defineReader } from './reader.js';

export type SynCapture = { kind: 'captured'; syns: number; lines: string[] } | { kind: 'cannot'; reason: string };

/**
 * Runs tcpdump on the host for a few packets or until the deadline, whichever comes first, and
 * counts the SYNs it printed (for UDP: the datagrams). The caller makes the traffic meanwhile.
 */
export async function tcpSynArrivals(host: Host, filter: string, opts: { timeoutMs: number; protocol?: 'tcp' | 'udp' }): Promise<SynCapture> {
  const r = await host.run(['tcpdump', '-n', '-l', '-i', 'any', '-c', '2', filter], { timeoutMs: opts.timeoutMs });
  const what = opts.protocol === 'udp' ? 'datagrams' : 'SYNs';
  const hint = `tcpdump -ni any '${filter}' on the server while the client ${opts.protocol === 'udp' ? 'sends' : 'connects'} would tell whether the ${what} arrive`;
  if (r.missing) return { kind: 'cannot', reason: `tcpdump is not installed on the server: ${hint}` };
  if (/permission|Operation not permitted/i.test(r.stderr) && !/listening on/.test(r.stderr)) {
    return { kind: 'cannot', reason: `capturing on the server needs root (run with --sudo, or ssh as root): ${hint}` };
  }
  if (!/listening on/.test(r.stderr)) {
    const why = r.stderr.trim().split('\n').pop() || `exit status ${r.exitCode}`;
    return { kind: 'cannot', reason: `tcpdump did not start on the server (${why}): ${hint}` };
  }
  // tcpdump prints one line a packet: `IP 10.0.0.9.40000 > 10.0.0.5.53: 4660+ NS? . (17)`.
  const lines = r.stdout.split('\n').filter((l) => (opts.protocol === 'udp' ? / > \S+: /.test(l) : /\bFlags \[S\]/.test(l)));
  return { kind: 'captured', syns: lines.length, lines };
}

/** What tcpdump counted on the host for a filter while the caller made the traffic (its timeout is the capture's length). */
export const synArrivalsOf = defineReader<{ filter: string; timeoutMs: number; protocol: 'tcp' | 'udp' }, SynCapture>({
  name: 'packet capture',
  key: (k) => `${k.protocol} ${k.timeoutMs} ${k.filter}`,
  read: (k, s) => tcpSynArrivals(s.host, k.filter, { timeoutMs: k.timeoutMs, protocol: k.protocol }),
});

/**
 * The interface a packet came in by, from a line of `tcpdump -i any` (Linux cooked v2 names it:
 * `20:53:40.411614 vs    In  IP 10.9.0.7.34078 > 10.9.0.2.7070: Flags [S], …`); undefined for a
 * line without one (`IP 10.0.0.9.40000 > …`). Pure.
 */
export function interfaceOfCaptureLine(line: string): string | undefined {
  return /^(?:\d\d:\d\d:\d\d\.\d+\s+)?(\S+)\s+In\s+IP6?\s/.exec(line.trim())?.[1];
}
