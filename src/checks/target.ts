import { text, z } from './params.js';
import { defineCheck } from './check.js';
import { e, fields } from './evidence.js';
import { interfaceAddresses, resolution, type Resolution } from '../system/facts.js';
import { readOf } from '../system/reader.js';
import { asciiHostName } from '../net/host-name.js';

/** What the target step reads: the resolution of the host, which of its addresses are this machine's, and the machine's interface addresses. */
export interface TargetReadings {
  resolution: Resolution;
  /** For each resolved address, in order: it belongs to this machine. */
  own: boolean[];
  interfaces: string[];
}

/** Is the target one of this machine's addresses? Decides between the server's and a client's view. */
export const target = defineCheck({
  description: "Resolve the host and tell whether its address belongs to this machine",
  outcomes: ['local', 'remote', 'unresolved'],
  params: z.object({ host: text() }),
  evidence: fields({ host: e.str(), error: e.str(), code: e.str(), durationMs: e.num(), addresses: e.list(e.str()), local: e.list(e.str()), interfaces: e.any() }),
  describe: (p) => `resolving ${p.host} and comparing with this machine's addresses`,
  async read(p, ctx): Promise<TargetReadings> {
    const res = await ctx.facts.resolve(p.host);
    if (!res.ok) return { resolution: res, own: [], interfaces: [] };
    const own = await Promise.all(res.addresses.map((a) => ctx.facts.isLocalAddress(a.address)));
    return { resolution: res, own, interfaces: await ctx.facts.localAddresses() };
  },
  decide: decideTarget,
  prefetch: (p) => [readOf(resolution, p.host), readOf(interfaceAddresses, undefined)],
});

/** The pure decision of the target step: local when any resolved address is this machine's. */
export function decideTarget(r: TargetReadings, p: { host: string }) {
  const res = r.resolution;
  const command = res.ok && res.literal ? 'ip -br addr' : `getent ahosts ${asciiHostName(p.host)}`;
  if (!res.ok) {
    return { outcome: 'unresolved' as const, status: 'fail' as const, summary: res.error, command, evidence: { host: p.host, error: res.error, code: res.code, durationMs: res.durationMs } };
  }
  const addresses = res.addresses.map((a) => a.address);
  const local = addresses.filter((_, i) => r.own[i]);
  const interfaces = r.interfaces;
  const named = res.literal ? p.host : `${p.host} (${addresses.join(', ')})`;
  if (local.length > 0) {
    return {
      outcome: 'local' as const,
      status: 'pass' as const,
      summary: `${named} is ${local.length < addresses.length ? 'partly ' : ''}this machine: looking from the server's side`,
      command,
      evidence: { addresses, local, interfaces },
    };
  }
  return {
    outcome: 'remote' as const,
    status: 'info' as const,
    summary: `${named} is not an address of this machine: looking from the client's side`,
    command,
    evidence: { addresses, interfaces },
  };
}
