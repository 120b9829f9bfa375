import { text, z } from './params.js';
import { defineCheck } from './check.js';
import { e, fields } from './evidence.js';
import { asciiHostName } from '../net/host-name.js';

/** Is the target one of this machine's addresses? Decides between the server's and a client's view. */
export const target = defineCheck({
  description: "Resolve the host and tell whether its address belongs to this machine",
  outcomes: ['local', 'remote', 'unresolved'],
  params: z.object({ host: text() }),
  evidence: fields({ host: e.str(), error: e.str(), code: e.str(), durationMs: e.num(), addresses: e.list(e.str()), local: e.list(e.str()), interfaces: e.any() }),
  describe: (p) => `resolving ${p.host} and comparing with this machine's addresses`,
  async run(p, ctx) {
    const res = await ctx.facts.resolve(p.host);
    const command = res.ok && res.literal ? 'ip -br addr' : `getent ahosts ${asciiHostName(p.host)}`;
    if (!res.ok) {
      return { outcome: 'unresolved', status: 'fail', summary: res.error, command, evidence: { host: p.host, error: res.error, code: res.code, durationMs: res.durationMs } };
    }
    const addresses = res.addresses.map((a) => a.address);
    const own = await Promise.all(addresses.map((a) => ctx.facts.isLocalAddress(a)));
    const local = addresses.filter((_, i) => own[i]);
    const interfaces = await ctx.facts.localAddresses();
    const named = res.literal ? p.host : `${p.host} (${addresses.join(', ')})`;
    if (local.length > 0) {
      return {
        outcome: 'local',
        status: 'pass',
        summary: `${named} is ${local.length < addresses.length ? 'partly ' : ''}this machine: looking from the server's side`,
        command,
        evidence: { addresses, local, interfaces },
      };
    }
    return {
      outcome: 'remote',
      status: 'info',
      summary: `${named} is not an address of this machine: looking from the client's side`,
      command,
      evidence: { addresses, interfaces },
    };
  },
});
