import { isIP } from 'node:net';
import { port, text, z } from './params.js';
import { defineCheck, type DecideContext } from './check.js';
import { blockingRuleFields, e, fields } from './evidence.js';
import { endpointText } from '../net/endpoint.js';
import { findOutputBlock, type BlockingRule, type Protocol } from '../analysis/firewall/verdict.js';
import { actionText, blockingRuleEvidence, deniedCommands, kernelUnlisted, listCommand, readingText, whereText } from '../analysis/firewall/words.js';
import type { FirewallReading } from '../system/firewall/read.js';
import { routeOfAddress, type RouteResult } from '../system/route.js';

/** What the client-firewall step reads: whether whyport runs as root, and only then this machine's rules and its route to the address. */
export interface ClientFirewallReadings {
  root: boolean;
  /** Read as root only: reading the rules needs it, and without them there is nothing to walk. */
  reading?: FirewallReading;
  /** `ip route get ADDRESS` (the probe step's, read once): the interface the connection leaves by, and its source address. */
  route?: RouteResult;
}

/** What a program on this machine gets from its own firewall's block, as measured (test/fixtures/output/*.connect.txt). */
function programGets(b: BlockingRule, protocol: Protocol): string {
  if (b.verdict === 'drop') {
    // A dropped SYN is retried, and connect() only ever times out; a dropped datagram fails the send itself.
    return protocol === 'tcp' ? 'its connections time out (the SYN never leaves this machine)' : 'its sends fail at once with EPERM ("Operation not permitted")';
  }
  if (b.clientSees.code === 'PORT_CLOSED') return protocol === 'tcp' ? 'its connections are refused at once (ECONNREFUSED), as if the port were closed' : 'its datagrams are answered by this machine itself with an ICMP port unreachable (ECONNREFUSED), as if the port were closed';
  return `its ${protocol === 'tcp' ? 'connections' : 'datagrams'} get ${b.clientSees.reply} from this machine itself (EHOSTUNREACH, "No route to host")`;
}

/** One sentence for a block: which rule of this machine's, what it does, and to what. */
function blockText(b: BlockingRule, destination: string, protocol: Protocol): string {
  const what = `outgoing ${protocol === 'udp' ? 'datagrams' : 'connections'} to ${destination}`;
  if (b.policy) return `${whereText(b)}: the default policy (${b.rule}) ${actionText(b)} ${what}: no rule lets them out first`;
  return `${whereText(b)}: \`${b.rule}\` ${actionText(b)} ${what}`;
}

/**
 * From a client whose probe failed: does this machine's own firewall stop the connection before it
 * leaves? Walks the output side for the address and port the probe tried — nft chains on the output
 * and postrouting hooks, iptables' OUTPUT (filter, raw, mangle) and POSTROUTING, ufw's `deny out`
 * rules and its default outgoing policy — with the interface and source address of the route there.
 * Reading the rules needs root: without it nothing is run but the check of the uid.
 */
export const clientFirewall = defineCheck({
  description: "Read this machine's own firewall (as root) and find the rule of its output side (nft output/postrouting hooks, iptables OUTPUT, ufw's outgoing rules) that drops or rejects what it sends to the address and port",
  outcomes: ['blocks', 'allows', 'no-permission', 'unknown'],
  params: z.object({ host: text(), port: port(), address: text() }),
  evidence: fields({
    address: e.str(),
    port: e.num(),
    destination: e.str(),
    oif: e.str(),
    source: e.str(),
    ...blockingRuleFields,
    /** What a program here gets from the block: a timeout, ECONNREFUSED, EPERM… */
    gets: e.str(),
  }),
  describe: (p, at) => `reading this machine's own firewall for outgoing ${at.target.protocol.toUpperCase()} to ${endpointText(p.address, p.port)}`,
  async read(p, ctx): Promise<ClientFirewallReadings> {
    const { root } = await ctx.facts.identity();
    if (!root) return { root };
    const { firewallRules } = await import('../system/firewall/read.js');
    const [reading, route] = await Promise.all([ctx.facts.read(firewallRules, undefined), ctx.facts.read(routeOfAddress, p.address)]);
    return { root, reading, route };
  },
  decide: (r, p, at) => decideClientFirewall(r, p, at),
});

/** The pure decision of the client-firewall step. */
export function decideClientFirewall(r: ClientFirewallReadings, p: { host: string; port: number; address: string }, at: DecideContext) {
  const protocol = at.target.protocol;
  const destination = endpointText(p.address, p.port);
  const what = `outgoing ${protocol.toUpperCase()} to ${destination}`;
  const base = { address: p.address, port: p.port, destination };
  const reading = r.reading;
  if (!r.root || !reading) {
    const summary = `this machine's own firewall was not read: that needs root (as root, whyport would also look for a rule here that drops or rejects ${what})`;
    return { outcome: 'no-permission' as const, status: 'info' as const, summary, command: 'sudo nft list ruleset', evidence: base };
  }
  const route = r.route;
  const oif = route?.kind === 'unicast' ? route.dev : undefined;
  const source = route?.src;
  const readCommands = reading.sources.filter((s) => s.status === 'ok').map((s) => s.command);
  const command = [...(route ? [route.command] : []), ...readCommands].join('; ');
  const withRoute = { ...base, ...(oif ? { oif } : {}), ...(source ? { source } : {}) };
  const findings: { code: string; summary: string }[] = [];
  if (!reading.permission) {
    const summary = `this machine's own firewall could not be read (${deniedCommands(reading)}: permission denied), so whether a rule here drops ${what} is not known`;
    findings.push({ code: 'FIREWALL_UNREADABLE', summary });
    return { outcome: 'no-permission' as const, status: 'info' as const, summary, command, evidence: withRoute, findings };
  }
  const unlisted = kernelUnlisted(reading);
  if (unlisted !== undefined) {
    const summary = `this machine's own firewall could not be checked: ${unlisted || 'neither nft nor iptables is installed, so the rules in the kernel cannot be listed'}`;
    findings.push({ code: 'FIREWALL_UNREADABLE', summary });
    return { outcome: 'unknown' as const, status: 'info' as const, summary, command, evidence: withRoute, findings };
  }
  const family = isIP(p.address) === 6 ? 6 : 4;
  const v = findOutputBlock(reading.rulesets, {
    family,
    protocol,
    address: p.address,
    port: p.port,
    ...(oif ? { oif } : {}),
    ...(source ? { source } : {}),
    ...(route?.kind === 'local' ? { local: true } : {}),
  });
  if (v.verdict !== 'accept') {
    const gets = programGets(v, protocol);
    return {
      outcome: 'blocks' as const,
      status: 'fail' as const,
      summary: `${blockText(v, destination, protocol)}: ${gets}`,
      command: listCommand(v),
      evidence: {
        ...withRoute,
        ...blockingRuleEvidence(v, `Let ${what} out`),
        gets,
        also: v.also.map((a) => blockText(a, destination, protocol)),
      },
    };
  }
  for (const c of v.caveats) findings.push({ code: 'FIREWALL_CAVEAT', summary: c });
  const by = v.by ? ` (let out by \`${v.by.rule}\`, ${whereText(v.by)})` : '';
  const leaves = oif ? `, which leaves by ${oif}${source ? ` from ${source}` : ''}` : '';
  const summary = `no rule of this machine's own firewall drops or rejects ${what}${leaves}${by}; ${readingText(reading)}`;
  return { outcome: 'allows' as const, status: 'pass' as const, summary, command, evidence: { ...withRoute, caveats: v.caveats }, ...(findings.length ? { findings } : {}) };
}
