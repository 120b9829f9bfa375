import { port, positive, text, z } from './params.js';
import type { ProbeResult } from '../system/tcp-connect.js';
import { endpointText } from '../net/endpoint.js';
import { defineCheck } from './check.js';
import { e, fields } from './evidence.js';

const RANK = ['connected', 'refused', 'unreachable', 'timeout', 'error'] as const;

/**
 * TCP connect to every address the host resolves to, concurrently. Each address is probed on its
 * own, so `localhost` → ::1 failing while 127.0.0.1 works (Node ≥ 17 and many clients try ::1
 * first) shows up as `partial` instead of being hidden by happy-eyeballs.
 */
export const connect = defineCheck({
  description: 'Connect over TCP to every resolved address of the host',
  outcomes: ['connected', 'partial', 'refused', 'timeout', 'unreachable', 'unresolved'],
  params: z.object({ host: text(), port: port(), timeout: z.optional(positive()) }),
  evidence: fields({ error: e.str(), probes: e.list(e.any()), timeoutMs: e.num() }),
  describe: (p) => `connecting to ${p.host} port ${p.port}`,
  async run(p, ctx) {
    const timeout = p.timeout ?? ctx.timeoutMs;
    const command = `nc -vz -w ${Math.max(1, Math.ceil(timeout / 1000))} ${p.host} ${p.port}`;
    const res = await ctx.facts.resolve(p.host);
    if (!res.ok) return { outcome: 'unresolved', status: 'fail', summary: res.error, command, evidence: { error: res.error } };
    const probes = await Promise.all(res.addresses.map((a) => ctx.host.connectTcp(a.address, p.port, timeout)));
    const ok = probes.filter((r) => r.outcome === 'connected');
    const evidence = { probes, timeoutMs: timeout };
    if (ok.length === probes.length) {
      return { outcome: 'connected', status: 'pass', summary: `connected to ${list(ok)}`, command, evidence };
    }
    if (ok.length > 0) {
      const bad = probes.filter((r) => r.outcome !== 'connected');
      return {
        outcome: 'partial',
        status: 'fail',
        summary: `connected to ${list(ok)}, but ${bad.map(describeFailure).join('; ')}`,
        command,
        evidence,
      };
    }
    const worst = [...probes].sort((a, b) => RANK.indexOf(a.outcome) - RANK.indexOf(b.outcome))[0]!;
    const outcome = worst.outcome === 'error' || worst.outcome === 'connected' ? 'unreachable' : worst.outcome;
    return { outcome, status: 'fail', summary: probes.map(describeFailure).join('; '), command, evidence };
  },
});

function list(rs: ProbeResult[]): string {
  return rs.map((r) => endpointText(r.address, r.port)).join(', ');
}

function describeFailure(r: ProbeResult): string {
  const where = endpointText(r.address, r.port);
  switch (r.outcome) {
    case 'refused':
      return `${where} refused the connection (ECONNREFUSED)`;
    case 'timeout':
      return `no answer from ${where} within ${r.durationMs} ms`;
    case 'unreachable':
      return `${where} is unreachable (${r.errno})`;
    default:
      return `${where}: ${r.errno ?? r.outcome}`;
  }
}
