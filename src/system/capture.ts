import type { Host } from '../host/host.js';

export type SynCapture = { kind: 'captured'; syns: number; lines: string[] } | { kind: 'cannot'; reason: string };

/**
 * Runs tcpdump on the host for a few packets or until the deadline, whichever comes first, and
 * counts the SYNs it printed. The caller makes the traffic meanwhile.
 */
export async function tcpSynArrivals(host: Host, filter: string, opts: { timeoutMs: number }): Promise<SynCapture> {
  const r = await host.run(['tcpdump', '-n', '-l', '-i', 'any', '-c', '2', filter], { timeoutMs: opts.timeoutMs });
  const hint = `tcpdump -ni any '${filter}' on the server while the client connects would tell whether the SYNs arrive`;
  if (r.missing) return { kind: 'cannot', reason: `tcpdump is not installed on the server: ${hint}` };
  if (/permission|Operation not permitted/i.test(r.stderr) && !/listening on/.test(r.stderr)) {
    return { kind: 'cannot', reason: `capturing on the server needs root (run with --sudo, or ssh as root): ${hint}` };
  }
  if (!/listening on/.test(r.stderr)) {
    const why = r.stderr.trim().split('\n').pop() || `exit status ${r.exitCode}`;
    return { kind: 'cannot', reason: `tcpdump did not start on the server (${why}): ${hint}` };
  }
  const lines = r.stdout.split('\n').filter((l) => /\bFlags \[S\]/.test(l));
  return { kind: 'captured', syns: lines.length, lines };
}
