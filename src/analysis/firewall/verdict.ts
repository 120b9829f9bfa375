import type { FirewallRulesets } from '../../system/firewall/read.js';
import type { FirewallRule, FirewallTool, Hook, Match, TableFamily } from '../../system/firewall/model.js';
import type { UfwRule } from '../../system/firewall/ufw.js';
import { onlyThisPort } from './fix.js';
import { baseChains, familySees, iptablesOf, nftTablesOf } from './base-chains.js';
import { chainBase, mayBlock } from './chains.js';
import { firewalldBase } from './firewalld.js';
import { clientSees } from './reply.js';
import type { Base, BlockingRule, Decision, FindBlockingOptions, FirewallVerdict, FixPlan, Packet, PortFirewallVerdicts, Protocol, RuleRef, SourceRule, Undecided } from './model.js';
import { unknownBecause } from './match.js';
import { ufwBase, ufwMatches } from './ufw.js';

export type { BlockingRule, ClientSees, FindBlockingOptions, FirewallFix, FirewallVerdict, PortFirewallVerdicts, Protocol, RuleRef, SourceRule } from './model.js';
export type { FirewallRulesets } from '../../system/firewall/read.js';

/**
 * Decides what the host's firewall does with a NEW incoming TCP connection to `port` (or, with
 * `protocol: 'udp'`, the first datagram of a UDP flow: conntrack calls it new too), from a
 * remote client and separately over loopback. Every base chain the packet passes (prerouting, then
 * input, by priority; nftables and both iptables backends alike) is walked with first-match
 * semantics, following jumps and gotos: an accept ends only its own base chain, a drop or reject
 * anywhere ends the packet. Rules whose conditions cannot be decided without knowing the client
 * (source address, interface, rate limits) are assumed not to apply and are named in `caveats` when
 * they would change the verdict. A block says what the client gets back (`clientSees`): for UDP,
 * ICMP port unreachable means closed, another ICMP unreachable filtered, a drop open-or-filtered.
 */
export function findBlockingRules(port: number, rulesets: FirewallRulesets, opts: FindBlockingOptions = {}): PortFirewallVerdicts {
  const family = opts.family ?? 4;
  const protocol = opts.protocol ?? 'tcp';
  const notes: string[] = [];
  const bases = collectBases(rulesets, family, notes);
  // A connection to a local socket: the filter walk lets `--dst-type LOCAL` and `UNICAST` both apply to it.
  const dstTypes = ['LOCAL', 'UNICAST'];
  const remote: Packet = { family, protocol, dport: port, hook: 'input', dstTypes, srcTypes: ['UNICAST'] };
  if (opts.remoteAddress) remote.saddr = opts.remoteAddress;
  if (opts.localAddress) remote.daddr = opts.localAddress;
  if (opts.interface) remote.iif = opts.interface;
  const lo = family === 4 ? '127.0.0.1' : '::1';
  const loopback: Packet = { family, protocol, dport: port, hook: 'input', saddr: lo, daddr: lo, iif: 'lo', dstTypes, srcTypes: ['UNICAST', 'LOCAL'] };
  return {
    port,
    family,
    remote: verdictFor(bases, remote, rulesets, notes),
    loopback: verdictFor(bases, loopback, rulesets, notes),
    consulted: [...new Set(bases.map((b) => b.tool))],
  };
}

/** What is known of a new connection that a DNAT rule sends through this host to another namespace or machine. */
export interface ForwardedConnection {
  family: 4 | 6;
  protocol: Protocol;
  /** The port the client connected to, before the DNAT. */
  port: number;
  /** The address the client connected to (one of this host's), when known. */
  localAddress?: string;
  /** Where the DNAT sends it. */
  to: { address: string; port: number };
  /** The interface towards `to` (`ip route get`), when known: the bridge or veth behind which the container sits. */
  oif?: string;
  /** The client's address, when known. */
  remoteAddress?: string;
}

/** The priority of the destination NAT (NF_IP_PRI_NAT_DST): prerouting chains before it see the address the client connected to. */
const NAT_DST_PRIORITY = -100;

/**
 * Decides what the host's firewall does with a NEW connection from a client on another machine
 * that PREROUTING's DNAT sends on to `c.to` (a container, another namespace): the forward hook
 * (iptables' FORWARD with Docker's DOCKER-USER and DOCKER-ISOLATION chains, ufw's
 * ufw-before-forward and route rules, nft `hook forward` chains) is walked with the rewritten
 * destination and the interface towards it, and the prerouting chains with the destination the
 * client connected to (those that run after the DNAT, with the rewritten one). The interface the
 * client arrives on is unknown, except that it is not lo and not the one towards `c.to`: rules on
 * it are undecided and named in `caveats` where they would change the verdict, as for the input
 * walk. The nat chains are not walked: the DNAT that sent the packet here is the nat table's answer.
 */
export function findForwardBlock(rulesets: FirewallRulesets, c: ForwardedConnection): FirewallVerdict {
  const notes: string[] = [];
  const bases = byHookAndPriority(
    baseChains(rulesets, c.family, ['prerouting', 'forward'], 'all')
      .filter((b) => (b.tool === 'nftables' ? b.chain.type !== 'nat' : b.table.name !== 'nat'))
      .map((b) => chainBase(b.tool, b.table, b.chain, rulesets, b.binary)),
  );
  const ufwInIptables = iptablesOf(rulesets, c.family).some((r) => r.tables.some((t) => t.chains.some((ch) => /^ufw6?-/.test(ch.name))));
  if (rulesets.ufw?.active && !ufwInIptables) notes.push("ufw: its route rules and default routed policy were not read from iptables, so whyport could not evaluate them for forwarded traffic");
  const common = { family: c.family, protocol: c.protocol, srcTypes: ['UNICAST'], ...(c.remoteAddress ? { saddr: c.remoteAddress } : {}), ...(c.oif ? { notIif: [c.oif] } : {}) };
  const before: Packet = { ...common, hook: 'prerouting', dport: c.port, dstTypes: ['LOCAL', 'UNICAST'], ...(c.localAddress ? { daddr: c.localAddress } : {}) };
  const after = { ...common, dport: c.to.port, daddr: c.to.address, dstTypes: ['UNICAST'], dnat: true };
  const prerouting: Packet = { ...after, hook: 'prerouting' };
  const forward: Packet = { ...after, hook: 'forward', ...(c.oif ? { oif: c.oif } : {}) };
  const packetOf = (b: Base): Packet => (b.hook === 'forward' ? forward : b.priority < NAT_DST_PRIORITY ? before : prerouting);
  return verdictFor(bases, packetOf, rulesets, notes);
}

/** What is known of a new connection a program on this host makes to another machine. */
export interface OutgoingConnection {
  family: 4 | 6;
  protocol: Protocol;
  /** The address and port it connects to. */
  address: string;
  port: number;
  /** From the route to `address` (`ip route get`): the interface it leaves by, and the source address this host gives it. */
  oif?: string;
  source?: string;
  /** `address` is one of this host's own (the route is `local`): the packet goes out on lo. */
  local?: boolean;
}

/**
 * Decides what this host's own firewall does with a NEW connection (or the first datagram of a UDP
 * flow) that a program here makes to `c.address` port `c.port`: every filter base chain on the
 * output hook (iptables' OUTPUT in filter, raw, mangle and security; nft `hook output` chains;
 * ufw's ufw-before-output, ufw-user-output and its default outgoing policy) and on postrouting,
 * by priority. A locally generated packet has no input interface; the interface it leaves by and
 * its source address come from the route. The nat chains are not walked (a DNAT on OUTPUT would
 * send it elsewhere: named in `caveats`).
 */
export function findOutputBlock(rulesets: FirewallRulesets, c: OutgoingConnection): FirewallVerdict {
  const notes: string[] = [];
  const chains = baseChains(rulesets, c.family, ['output', 'postrouting'], 'all');
  for (const b of chains) {
    const nat = b.tool === 'nftables' ? b.chain.type === 'nat' : b.table.name === 'nat';
    if (nat && b.chain.hook === 'output' && b.chain.rules.some((r) => r.action.kind === 'nat')) {
      notes.push(`${b.tool} ${b.tool === 'nftables' ? `${b.table.family} ${b.table.name}` : b.table.name} ${b.chain.name}: a NAT rule on the output hook may send the connection to another address or port (whyport walks the filter chains only)`);
    }
  }
  const bases = chains.filter((b) => (b.tool === 'nftables' ? b.chain.type !== 'nat' : b.table.name !== 'nat')).map((b) => chainBase(b.tool, b.table, b.chain, rulesets, b.binary));
  const ufwInIptables = iptablesOf(rulesets, c.family).some((r) => r.tables.some((t) => t.chains.some((ch) => /^ufw6?-/.test(ch.name))));
  if (rulesets.ufw?.active && !ufwInIptables) bases.push(ufwBase(rulesets.ufw, 'output'));
  // Postrouting sees the same packet with the same interfaces: one packet serves both hooks.
  const packet: Packet = {
    family: c.family,
    protocol: c.protocol,
    dport: c.port,
    hook: 'output',
    daddr: c.address,
    dstTypes: c.local ? ['LOCAL', 'UNICAST'] : ['UNICAST'],
    srcTypes: ['UNICAST', 'LOCAL'],
    ...(c.source ? { saddr: c.source } : {}),
    ...(c.local ? { oif: 'lo' } : c.oif ? { oif: c.oif } : {}),
  };
  return verdictFor(byHookAndPriority(bases), packet, rulesets, notes);
}

const HOOK_ORDER: Partial<Record<Hook, number>> = { prerouting: 1, input: 2, forward: 2, output: 1, postrouting: 2 };

function collectBases(rs: FirewallRulesets, family: 4 | 6, notes: string[]): Base[] {
  for (const table of rs.nft?.tables ?? []) {
    if (table.flags?.includes('dormant')) continue;
    if (table.family === 'netdev' || (familySees(table.family, family) && table.chains.some((c) => c.hook === 'ingress'))) {
      // Ingress chains are bound to devices that nft -j does not name: not walked, but not hidden either.
      for (const chain of table.chains.filter((c) => c.hook === 'ingress' && mayBlock(c))) {
        notes.push(`nftables ${table.family} ${table.name} ${chain.name}: an ingress chain that can drop packets; whyport does not evaluate ingress chains`);
      }
    }
  }
  const bases: Base[] = baseChains(rs, family, ['prerouting', 'input'], 'all').map((b) => chainBase(b.tool, b.table, b.chain, rs, b.binary));
  const iptables = iptablesOf(rs, family);
  const ufwInIptables = iptables.some((r) => r.tables.some((t) => t.chains.some((c) => /^ufw6?-/.test(c.name))));
  const firewalldSeen = nftTablesOf(rs, family).some((t) => t.name === 'firewalld') || iptables.some((r) => r.tables.some((t) => t.chains.some((c) => /^(INPUT_ZONES|IN_\w+_allow)$/.test(c.name))));
  if (rs.ufw?.active && !ufwInIptables) bases.push(ufwBase(rs.ufw));
  if (rs.firewalld && !firewalldSeen) bases.push(firewalldBase(rs.firewalld.zone, rs.firewalld.services ?? {}));
  return byHookAndPriority(bases);
}

/** Bases in the order a packet meets them; the same hook and priority keep the order they were read in (a stable sort). */
function byHookAndPriority(bases: Base[]): Base[] {
  return bases
    .map((b, i) => ({ b, i }))
    .sort((x, y) => HOOK_ORDER[x.b.hook]! - HOOK_ORDER[y.b.hook]! || x.b.priority - y.b.priority || x.i - y.i)
    .map(({ b }) => b);
}

const MAX_UNDECIDED_TRIED = 32;

/** Why a rule is undecided when only the client's address is unknown. */
const CLIENT_ADDRESS = unknownBecause({ kind: 'saddr', prefixes: [], negate: false });

/** The conditions of an undecided rule or vmap entry, read from the key the walk gave it (none when it is neither). */
function undecidedMatches(key: object): readonly Match[] {
  if ('direction' in key) return ufwMatches(key as UfwRule);
  if ('matches' in key && Array.isArray(key.matches)) return key.matches as Match[];
  if ('match' in key && key.match && typeof key.match === 'object') return [key.match as Match];
  return [];
}

/** The sources a rule's conditions name (`! -s` ones as `not …`). */
function sourcesOf(matches: readonly Match[]): string[] {
  return matches.flatMap((m) => (m.kind === 'saddr' ? (m.prefixes ?? []).map((p) => (m.negate ? `not ${p}` : p)) : []));
}

/** The conditions of the rule that decided: an nft or iptables rule's own, a ufw rule's in the same terms. */
function matchesOf(rule: object): readonly Match[] {
  return 'direction' in rule ? ufwMatches(rule as UfwRule) : (rule as FirewallRule).matches;
}

/** What ports a rule's conditions cover, when that is more than one: `every port`, `ports 7000-7100`. */
function portsText(matches: readonly Match[]): string {
  const dports = matches.filter((m): m is Extract<Match, { kind: 'dport' }> => m.kind === 'dport');
  if (dports.length === 0) return 'every port';
  const ranges = dports.flatMap((m) => (m.ports ?? []).map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)));
  if (dports.some((m) => m.negate)) return `every port but ${ranges.join(', ')}`;
  return ranges.length ? `ports ${ranges.join(', ')}` : 'ports of a set whyport could not read';
}

/**
 * Remove the rule that blocked, or narrow it? Removing is right only when the rule is about this
 * port alone and, without it, every base chain the packet passes lets it in (asked by walking the
 * firewall again with the rule taken out). A default policy, a rule that matches more ports, or a
 * second rule or policy behind it is narrowed instead: an accept for this port alone ahead of it.
 */
function planFor(bases: readonly Base[], d: Decision, p: Packet, packetOf: PacketOf = () => p): FixPlan {
  if (d.matched === undefined || d.rule === undefined) return { kind: 'narrow', why: `the default policy (${d.policyText ?? 'drop'}) blocks every port that no rule lets in` };
  const matches = matchesOf(d.matched);
  if (!onlyThisPort(matches, p.dport)) return { kind: 'narrow', why: `\`${d.rule}\` blocks ${portsText(matches)}, not port ${p.dport} alone` };
  const skipped = new Set([d.matched]);
  for (const b of bases) {
    const next = b.decide(packetOf(b), new Set(), [], skipped);
    if (next.kind === 'accept') continue;
    const by = next.rule !== undefined ? `\`${next.rule}\`` : `the default policy (${next.policyText ?? 'drop'})`;
    return { kind: 'narrow', why: `deleting \`${d.rule}\` alone would not open the port: ${by} would block it next` };
  }
  return { kind: 'remove' };
}

/** The packet as one base chain sees it (before or after the destination NAT). */
type PacketOf = (base: Base) => Packet;

function verdictFor(bases: Base[], packet: Packet | PacketOf, rs: FirewallRulesets, notes: readonly string[]): FirewallVerdict {
  const blocks: BlockingRule[] = [];
  let by: RuleRef | undefined;
  const caveats: string[] = [...notes];
  const sourceRules: SourceRule[] = [];
  const packetOf: PacketOf = typeof packet === 'function' ? packet : () => packet;
  for (const base of bases) {
    const p = packetOf(base);
    const undecided: Undecided[] = [];
    const d = base.decide(p, new Set(), undecided);
    if (d.unknown) caveats.push(`${base.tool} ${base.table} ${d.chain}: "${d.unknown}" hands the packet to something whyport cannot follow`);
    if (d.nat) caveats.push(`${base.tool} ${base.table} ${d.chain}: "${d.nat}" rewrites the destination, so the ${p.protocol === 'udp' ? 'datagram' : 'connection'} may be forwarded (e.g. to a container) past the input chains walked here`);
    // Would an undecided rule, if it did apply, change this base's outcome? Then say so.
    for (const u of undecided.slice(0, MAX_UNDECIDED_TRIED)) {
      const alt = base.decide(p, new Set([u.key]), []);
      if ((alt.kind === 'accept') !== (d.kind === 'accept')) {
        caveats.push(`${base.tool} ${base.table} ${u.chain}: "${u.text}" would ${alt.kind} it, depending on ${[...new Set(u.why)].join(' and ')}`);
        if (u.why.every((w) => w === CLIENT_ADDRESS)) sourceRules.push({ tool: base.tool, table: base.table, chain: u.chain, rule: u.text, verdict: alt.kind, from: sourcesOf(u.matches ?? undecidedMatches(u.key)) });
      }
    }
    if (d.kind === 'accept') {
      if (!by && d.rule !== undefined && !d.unknown && !d.nat) by = { tool: base.tool, table: base.table, chain: d.chain, rule: d.rule };
      continue;
    }
    // The first block is the one the fix is for: remove its rule, or narrow it (see planFor).
    const described = base.describe(d, p, blocks.length === 0 ? planFor(bases, d, p, packetOf) : undefined);
    blocks.push({ verdict: d.kind, path: d.path, ...described, clientSees: clientSees(d.kind, described.rejectWith, p) });
  }
  if (rs.firewalld?.zone.notes.length) caveats.push(`firewalld: ${rs.firewalld.zone.notes.join(' ')}`);
  const [block, ...also] = blocks;
  const sources = sourceRules.length ? { sourceRules } : {};
  if (!block) return by ? { verdict: 'accept', by, caveats, ...sources } : { verdict: 'accept', caveats, ...sources };
  // A caveat about an accept in a later base cannot undo an earlier block; keep them all the same,
  // they say what else stands in the way or might let it through.
  return { ...block, caveats, also, ...sources };
}
