import type { FirewallRulesets } from '../../system/firewall/read.js';
import type { Action, FirewallChain, FirewallRule, FirewallTable, FirewallTool } from '../../system/firewall/model.js';
import { firewalldFix, nftOrIptablesFix, ufwFix, ufwRouteFix } from './fix.js';
import { firewalldView } from './firewalld.js';
import type { Base, BlockingRule, Decision, FixPlan, Packet, Undecided } from './model.js';
import { ufwView } from './ufw.js';
import { walkChain, type Reading } from './walk.js';

// nftables and iptables base chains, walked for the filter question: is the packet let in?

/** Whether a chain holds anything that could drop or reject. */
export function mayBlock(chain: FirewallChain): boolean {
  const blocks = (a: Action): boolean => a.kind === 'drop' || a.kind === 'reject' || (a.kind === 'vmap' && a.entries.some((e) => blocks(e.action)));
  return chain.policy === 'drop' || chain.rules.some((r) => blocks(r.action));
}

/** Where the filter walk of a base chain ended: a verdict on the packet, by a rule. */
type FilterEnd = { kind: 'accept' | 'drop' | 'reject' | 'unknown'; rule: FirewallRule; chain: string; path: string[]; action: Action };

/** The filter walk: does the packet get in? Undecided rules are passed over and listed in `undecided`. */
function filterReading(table: FirewallTable, p: Packet, forced: ReadonlySet<object>, undecided: Undecided[]): Reading<FilterEnd> {
  return {
    table,
    packet: p,
    forced,
    verdict: (rule, action, at) => {
      // NAT ends the chain and lets the packet on: not a block.
      const kind = action.kind === 'nat' ? 'accept' : action.kind;
      return { kind, rule, chain: at.chain.name, path: at.path, action };
    },
    undecided: (key, rule, _action, why, at) => {
      undecided.push({ key, text: rule.text, chain: at.chain.name, why });
      return false;
    },
  };
}

/** An nft or iptables base chain: walked rule by rule, described in the words of the front end (ufw, firewalld) that wrote it. */
export function chainBase(tool: FirewallTool, table: FirewallTable, chain: FirewallChain, rs: FirewallRulesets, binary: string | undefined): Base {
  const nft = tool === 'nftables';
  const tableLabel = nft ? `${table.family} ${table.name}` : table.name;
  return {
    tool,
    hook: chain.hook!,
    priority: chain.priority ?? 0,
    table: tableLabel,
    chain: chain.name,
    decide(p, forced, undecided, skipped) {
      const end = walkChain(filterReading(skipped?.size ? without(table, skipped) : table, p, forced, undecided), chain.name);
      if (end.kind === 'accept' || end.kind === 'drop' || end.kind === 'reject' || end.kind === 'unknown') {
        const d: Decision = { kind: end.kind === 'unknown' ? 'accept' : end.kind, rule: end.rule.text, chain: end.chain, path: end.path, matched: end.rule };
        if (end.kind === 'unknown') d.unknown = end.rule.text;
        if (end.action.kind === 'nat') d.nat = end.rule.text;
        if (end.action.kind === 'reject') d.rejectWith = end.action.with ?? (nft ? 'icmp port-unreachable' : 'icmp-port-unreachable');
        return d;
      }
      const policy = chain.policy ?? 'accept';
      const policyText = nft
        ? `type ${chain.type ?? 'filter'} hook ${chain.hook} priority ${priorityName(chain.priority ?? 0)}; policy ${policy};`
        : `-P ${chain.name} ${policy.toUpperCase()}`;
      return { kind: policy, chain: chain.name, path: [chain.name], policyText };
    },
    describe(d, p, plan) {
      const ref = { table: tableLabel, chain: d.chain, rule: d.rule ?? d.policyText ?? '' };
      const removal = plan ? { plan, chain: d.chain, ...(d.matched ? { rule: d.matched as FirewallRule } : {}) } : undefined;
      const to = p.daddr === undefined ? undefined : p.hook === 'forward' ? { address: p.daddr, way: 'forwarded' as const } : p.hook === 'output' ? { address: p.daddr, way: 'outgoing' as const } : undefined;
      const base: Omit<BlockingRule, 'verdict' | 'path' | 'clientSees'> = { tool, ...ref, fix: nftOrIptablesFix(tool, table, chain, p.dport, p.protocol, binary, removal, to) };
      if (d.rule === undefined) base.policy = true;
      if (d.rejectWith) base.rejectWith = d.rejectWith;
      if (p.hook === 'forward') return forwardView(base, rs, table, chain, d, p, plan);
      if (p.hook === 'output') return outputView(base, rs, table, chain, d, p, plan);
      // Front ends: say it in their words and fix it with their command.
      if (nft && table.name === 'firewalld' && rs.firewalld) return { ...base, ...firewalldView(rs.firewalld.zone, rs.firewalld.services ?? {}, p, d) };
      if (nft && table.name === 'firewalld') return { ...base, tool: 'firewalld', fix: firewalldFix(undefined, p.dport, p.protocol) };
      const viaUfw = d.path.some((c) => /^ufw6?-/.test(c)) || (rs.ufw?.active === true && d.rule === undefined && chain.name === 'INPUT' && table.name === 'filter');
      if (!nft && viaUfw && rs.ufw?.active) return { ...base, ...ufwView(rs.ufw, p, d, ref, plan) };
      if (viaUfw) return { ...base, tool: 'ufw', fix: ufwFix(d.rule === undefined, p.dport, p.protocol) };
      return base;
    },
  };
}

/**
 * A block of a forwarded connection: in ufw's words when its FORWARD chains decided (its route
 * rules and default routed policy); else the kernel rule itself. firewalld's zone view is about
 * what comes in to this host, so it is not used for what passes through.
 */
function forwardView(base: Omit<BlockingRule, 'verdict' | 'path' | 'clientSees'>, rs: FirewallRulesets, table: FirewallTable, chain: FirewallChain, d: Decision, p: Packet, plan: FixPlan | undefined): Omit<BlockingRule, 'verdict' | 'path' | 'clientSees'> {
  const viaUfw = d.path.some((c) => /^ufw6?-/.test(c)) || (rs.ufw?.active === true && d.rule === undefined && chain.name === 'FORWARD' && table.name === 'filter');
  if (!viaUfw || p.daddr === undefined) return base;
  const policyText = rs.ufw?.active ? `Default: ${rs.ufw.defaults.routed} (routed)` : undefined;
  const detail = `ufw's route rules and its default routed policy become iptables rules: ${base.rule} (table ${base.table}, chain ${base.chain})`;
  if (d.rule === undefined && policyText) return { ...base, tool: 'ufw', rule: policyText, chain: 'FORWARD', detail, fix: ufwRouteFix(true, p.daddr, p.dport, p.protocol, plan) };
  return { ...base, tool: 'ufw', detail, fix: ufwRouteFix(d.rule === undefined, p.daddr, p.dport, p.protocol, plan) };
}

/**
 * A block of a connection a program on this host makes: in ufw's words when its output chains (or
 * OUTPUT's policy under ufw) decided — its `deny out` rules and default outgoing policy; firewalld's
 * output rules come from its policies, which whyport does not read: the kernel rule, said so.
 */
function outputView(base: Omit<BlockingRule, 'verdict' | 'path' | 'clientSees'>, rs: FirewallRulesets, table: FirewallTable, chain: FirewallChain, d: Decision, p: Packet, plan: FixPlan | undefined): Omit<BlockingRule, 'verdict' | 'path' | 'clientSees'> {
  if (base.tool === 'nftables' && table.name === 'firewalld') {
    return { ...base, detail: `a rule firewalld made from its policies (firewall-cmd --list-all-policies); an nft change is undone at firewalld's next reload` };
  }
  const viaUfw = d.path.some((c) => /^ufw6?-/.test(c)) || (rs.ufw?.active === true && d.rule === undefined && chain.name === 'OUTPUT' && table.name === 'filter');
  if (base.tool !== 'nftables' && viaUfw && rs.ufw?.active) return { ...base, ...ufwView(rs.ufw, p, d, { table: base.table, chain: base.chain, rule: base.rule }, plan) };
  return base;
}

/** The table with some rules taken out (the same rule objects otherwise), to ask what decides without them. */
function without(table: FirewallTable, skipped: ReadonlySet<object>): FirewallTable {
  return { ...table, chains: table.chains.map((c) => (c.rules.some((r) => skipped.has(r)) ? { ...c, rules: c.rules.filter((r) => !skipped.has(r)) } : c)) };
}

const PRIORITY_NAMES: Record<number, string> = { [-300]: 'raw', [-150]: 'mangle', [-100]: 'dstnat', 0: 'filter', 50: 'security', 100: 'srcnat' };

function priorityName(prio: number): string {
  if (PRIORITY_NAMES[prio]) return PRIORITY_NAMES[prio]!;
  for (const [v, name] of Object.entries(PRIORITY_NAMES)) {
    const d = prio - Number(v);
    if (Math.abs(d) <= 10 && d !== 0) return `${name} ${d > 0 ? '+' : '-'} ${Math.abs(d)}`;
  }
  return String(prio);
}
