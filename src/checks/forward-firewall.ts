import { isIP } from 'node:net';
import { port, text, z } from './params.js';
import { defineCheck, type DecideContext } from './check.js';
import { blockingRuleFields, e, fields } from './evidence.js';
import { endpointText } from '../net/endpoint.js';
import { isLoopback, normalizeAddress } from '../net/address.js';
import { dnatOf } from '../analysis/forwarding.js';
import { findForwardBlock, type BlockingRule, type FirewallVerdict } from '../analysis/firewall/verdict.js';
import { actionText, blockingRuleEvidence, deniedCommands, kernelUnlisted, listCommand, readingText, whereText } from '../analysis/firewall/words.js';
import type { KernelRulesets } from '../analysis/firewall/base-chains.js';
import type { FirewallReading } from '../system/firewall/read.js';
import { ipForwarding, type ForwardingReading } from '../system/ip-forwarding.js';
import { routeOfAddress, type RouteResult } from '../system/route.js';
import { showCommand } from '../text/command.js';

/** What the forward-firewall step reads: the nat rules and the target's addresses, then, for a DNAT to another namespace or machine, what decides whether it is forwarded. */
export interface ForwardFirewallReadings {
  nat: KernelRulesets;
  /** The target's addresses (none when it does not resolve). */
  addresses: string[];
  /** Read only once a DNAT rule sends the port on. */
  dnat?: {
    /** The destination is one of this host's own addresses: delivered here, not forwarded. */
    local: boolean;
    /** The rest only when it is not. */
    forwarding?: ForwardingReading;
    /** `ip route get DESTINATION`: the interface the forwarded packet leaves by. */
    route?: RouteResult;
    firewall?: FirewallReading;
    /** whyport runs as root: asked only when a tool refused to show its rules. */
    root?: boolean;
  };
}

/** What a client on another machine connects to: the target's addresses that are not loopback (its packets meet PREROUTING). */
const remoteAddresses = (addresses: readonly string[]) => addresses.filter((a) => !isLoopback(a));

/** The kernel's words for a forwarded packet dropped because forwarding is off: its drop reason (IPv4's ip_error) and the counter it grows. */
const FORWARDING_DROP = { 4: { reason: 'IP_INADDRERRORS', counter: 'IpInAddrErrors' }, 6: { reason: 'IPV6_FORWARDING_DISABLED', counter: 'Ip6InAddrErrors' } } as const;

/**
 * A DNAT rule sends the port to another network namespace (a container) or machine: do this
 * host's kernel and firewall let the connections of clients on other machines through? They pass
 * the forward hook — iptables' FORWARD with Docker's DOCKER-USER and DOCKER-ISOLATION chains,
 * ufw's route rules, nft `hook forward` chains — which a connection made on this host (through
 * OUTPUT) never meets, and the kernel forwards them only with net.ipv4.ip_forward (or IPv6's
 * forwarding) on.
 */
export const forwardFirewall = defineCheck({
  description: "For a port a DNAT rule sends to a container or another machine: whether this host forwards the connections (ip_forward) and whether a rule of its forward hook (FORWARD, DOCKER-USER, nft hook forward, ufw route) drops or rejects them",
  outcomes: ['blocks', 'allows', 'forwarding-off', 'not-forwarded', 'no-permission', 'unknown'],
  params: z.object({ port: port(), host: text() }),
  evidence: fields({
    destination: e.str(),
    oif: e.str(),
    sysctl: e.str(),
    ...blockingRuleFields,
    clientSees: e.str(),
    /** Forwarding off: the kernel's drop reason and counter (diagnosis.drop); `grew` is 0, whyport cannot send a forwarded packet itself to watch it grow. */
    drop: fields({ reason: e.str(), counter: e.str(), grew: e.num() }),
  }),
  describe: (p) => `reading what this host does with connections to port ${p.port} it forwards (ip_forward, the FORWARD chain)`,
  async read(p, ctx): Promise<ForwardFirewallReadings> {
    const [nat, res] = await Promise.all([ctx.facts.natRules(), ctx.facts.resolve(p.host)]);
    const addresses = res.ok ? res.addresses.map((a) => a.address) : [];
    const readings: ForwardFirewallReadings = { nat, addresses };
    const dnat = dnatOf(nat, remoteAddresses(addresses), p.port, ctx.target.protocol);
    if (!dnat || !isIP(normalizeAddress(dnat.to.address))) return readings;
    const to = normalizeAddress(dnat.to.address);
    if (await ctx.facts.isLocalAddress(to)) return { ...readings, dnat: { local: true } };
    const { firewallRules } = await import('../system/firewall/read.js');
    const [forwarding, route, firewall] = await Promise.all([ctx.facts.read(ipForwarding, isIP(to) === 6 ? 6 : 4), ctx.facts.read(routeOfAddress, to), ctx.facts.read(firewallRules, undefined)]);
    readings.dnat = { local: false, forwarding, route, firewall };
    if (!firewall.permission) readings.dnat.root = (await ctx.facts.identity()).root;
    return readings;
  },
  decide: (r, p, at) => decideForwardFirewall(r, p, at),
});

/** One sentence for a block in the forward hook: which rule, what it does, and to what. */
function blockText(b: BlockingRule, port: number, destination: string, what: string): string {
  const rule = b.policy ? `the default policy (${b.rule})` : `\`${b.rule}\``;
  const first = b.policy ? ': no rule accepts them first' : '';
  return `${whereText(b)}: ${rule} ${actionText(b)} the ${what} that the DNAT of port ${port} forwards to ${destination}${first}`;
}

/** The pure decision of the forward-firewall step. */
export function decideForwardFirewall(r: ForwardFirewallReadings, p: { port: number }, at: DecideContext) {
  const protocol = at.target.protocol;
  const what = protocol === 'udp' ? 'datagrams' : 'connections';
  const dnat = dnatOf(r.nat, remoteAddresses(r.addresses), p.port, protocol);
  const look = `iptables -t nat -S; nft list ruleset | grep -n 'dnat'`;
  if (!dnat || !r.dnat) {
    return { outcome: 'not-forwarded' as const, status: 'info' as const, summary: `no DNAT rule sends port ${p.port} through this host's forward hook (a proxy on this host connects on its own, through OUTPUT)`, command: look, evidence: {} };
  }
  const to = normalizeAddress(dnat.to.address);
  const destination = endpointText(to, dnat.to.port);
  if (r.dnat.local) {
    return { outcome: 'not-forwarded' as const, status: 'info' as const, summary: `the DNAT sends port ${p.port} to ${destination}, an address of this host: it is delivered here, not forwarded`, command: look, evidence: { destination } };
  }
  const family = isIP(to) === 6 ? 6 : 4;
  const fwd = r.dnat.forwarding;
  const sysctl = fwd?.sysctl ?? (family === 6 ? 'net.ipv6.conf.all.forwarding' : 'net.ipv4.ip_forward');
  const route = r.dnat.route;
  const oif = route?.kind === 'unicast' ? route.dev : undefined;
  const towards = oif ? ` (out through ${oif})` : '';
  const sysctlCommand = showCommand(['sysctl', sysctl]);
  if (fwd?.on === false) {
    const drop = { ...FORWARDING_DROP[family], grew: 0 };
    return {
      outcome: 'forwarding-off' as const,
      status: 'fail' as const,
      summary: `${sysctl} = 0: this host does not forward ${family === 6 ? 'IPv6' : 'IPv4'} packets, so the kernel drops the ${what} that the DNAT of port ${p.port} sends to ${destination}${towards} (counted in ${drop.counter})`,
      command: sysctlCommand,
      evidence: { destination, ...(oif ? { oif } : {}), sysctl, drop, fix: ['sysctl', '-w', `${sysctl}=1`] },
    };
  }
  const forwardingText = fwd?.on ? `this host forwards ${family === 6 ? 'IPv6' : 'IPv4'} (${sysctl} = 1)` : `${sysctl} could not be read (${fwd?.error ?? 'not asked'})`;
  const reading = r.dnat.firewall;
  const base = { destination, ...(oif ? { oif } : {}), sysctl };
  const findings: { code: string; summary: string }[] = [];
  if (!reading) return { outcome: 'unknown' as const, status: 'info' as const, summary: `${forwardingText}; the firewall was not read`, command: sysctlCommand, evidence: base };
  const readCommands = reading.sources.filter((s) => s.status === 'ok').map((s) => s.command);
  const command = [sysctlCommand, ...(route ? [route.command] : []), ...readCommands].join('; ');
  if (!reading.permission) {
    const summary = `${forwardingText}; whether a rule of the forward hook drops the ${what} forwarded to ${destination} is not known: the firewall rules cannot be read${r.dnat.root ? '' : ' without root'} (${deniedCommands(reading)}: permission denied)`;
    findings.push({ code: 'FIREWALL_UNREADABLE', summary });
    return { outcome: 'no-permission' as const, status: 'info' as const, summary, command, evidence: base, findings };
  }
  const unlisted = kernelUnlisted(reading);
  if (unlisted !== undefined) {
    const summary = `${forwardingText}; the forward hook could not be checked: ${unlisted || 'neither nft nor iptables is installed'}`;
    findings.push({ code: 'FIREWALL_UNREADABLE', summary });
    return { outcome: 'unknown' as const, status: 'info' as const, summary, command, evidence: base, findings };
  }
  const v: FirewallVerdict = findForwardBlock(reading.rulesets, {
    family,
    protocol,
    port: p.port,
    to: { address: to, port: dnat.to.port },
    ...(oif ? { oif } : {}),
    ...(remoteAddresses(r.addresses)[0] ? { localAddress: remoteAddresses(r.addresses)[0]! } : {}),
  });
  if (v.verdict !== 'accept') {
    return {
      outcome: 'blocks' as const,
      status: 'fail' as const,
      summary: blockText(v, p.port, destination, what),
      command: listCommand(v),
      evidence: {
        ...base,
        ...blockingRuleEvidence(v, `Let forwarded ${protocol.toUpperCase()} to ${destination} through`),
        clientSees: v.clientSees.reply,
        also: v.also.map((a) => blockText(a, p.port, destination, what)),
      },
    };
  }
  for (const c of v.caveats) findings.push({ code: 'FIREWALL_CAVEAT', summary: c });
  const by = v.by ? ` (accepted by \`${v.by.rule}\`, ${whereText(v.by)})` : '';
  const summary = `${forwardingText}, and no rule of its forward hook drops or rejects the ${what} forwarded to ${destination}${towards}${by}; ${readingText(reading)}`;
  return { outcome: 'allows' as const, status: 'pass' as const, summary, command, evidence: { ...base, caveats: v.caveats }, ...(findings.length ? { findings } : {}) };
}
