import { showCommand } from '../runner.js';
import { addressIn, specIsLoopback, specIsMulticastOrBroadcast } from './address.js';
import type { FirewalldService, FirewalldZone } from './firewalld.js';
import type { IptablesRuleset } from './iptables.js';
import type { Action, FirewallChain, FirewallRule, FirewallTable, FirewallTool, Hook, Match, TableFamily } from './model.js';
import type { NftRuleset } from './nft.js';
import type { UfwRule, UfwStatus } from './ufw.js';

/** Everything read from the host's firewall; any part may be missing (not installed, not readable). */
export interface FirewallRulesets {
  nft?: NftRuleset;
  /** iptables / ip6tables, from the nf_tables or the legacy backend (one entry each). */
  iptables?: IptablesRuleset[];
  ufw?: UfwStatus;
  firewalld?: { zone: FirewalldZone; services?: Record<string, FirewalldService> };
}

/** A rule, located the way the user would look for it. */
export interface RuleRef {
  tool: FirewallTool;
  /** nft or iptables table (`inet filter`, `filter`); for a ufw or firewalld view, the table their rules live in. */
  table: string;
  chain: string;
  /** As the user would see it: `tcp dport 7071 drop`, `-A INPUT -p tcp -m tcp --dport 7071 -j DROP`, `7071/tcp DENY IN Anywhere`. */
  rule: string;
}

/** The command that lets the port in, for the tool that blocks it. */
export interface FirewallFix {
  argv: string[];
  /** argv as a person types it. */
  command: string;
  /** What the command does not do (persist across reboots, …). */
  note?: string;
}

/** The rule (or policy) that drops or rejects the connection, and the command that lets it in. */
export interface BlockingRule extends RuleRef {
  verdict: 'drop' | 'reject';
  /** The chain's default policy (or ufw's default, firewalld's zone target) decided, not a rule. */
  policy?: boolean;
  /** For reject: how (`tcp-reset`, `icmpx admin-prohibited`, …). */
  rejectWith?: string;
  /** Chains walked from the base chain to the rule, e.g. `['INPUT', 'ufw-before-input', 'ufw-user-input']`. */
  path: string[];
  /** For ufw and firewalld: the kernel rule their configuration became, and what in that configuration blocks. */
  detail?: string;
  fix: FirewallFix;
}

/** What a NEW incoming TCP connection to the port meets. */
export type FirewallVerdict =
  | { verdict: 'accept'; by?: RuleRef; caveats: string[] }
  | (BlockingRule & { caveats: string[]; also: BlockingRule[] });

/** The verdicts for one port and family, from a remote client and over loopback. */
export interface PortFirewallVerdicts {
  port: number;
  family: 4 | 6;
  /** From another machine (any interface but lo, a non-loopback source). */
  remote: FirewallVerdict;
  /** From this machine over loopback (iif lo, 127.0.0.1 / ::1). */
  loopback: FirewallVerdict;
  /** Tools whose rules were walked. */
  consulted: FirewallTool[];
}

/** What is known about the client; anything left out is treated as unknown, never guessed. */
export interface FindBlockingOptions {
  /** IPv4 (default) or IPv6 connections. */
  family?: 4 | 6;
  /** The client's address, when known: rules restricted to sources are then decided instead of noted. */
  remoteAddress?: string;
  /** The address the client connects to, when known. */
  localAddress?: string;
  /** The interface remote clients arrive on, when known. */
  interface?: string;
}

/**
 * Decides what the host's firewall does with a NEW incoming TCP connection to `port`, from a
 * remote client and separately over loopback. Every base chain the packet passes (prerouting, then
 * input, by priority; nftables and both iptables backends alike) is walked with first-match
 * semantics, following jumps and gotos: an accept ends only its own base chain, a drop or reject
 * anywhere ends the packet. Rules whose conditions cannot be decided without knowing the client
 * (source address, interface, rate limits) are assumed not to apply and are named in `caveats` when
 * they would change the verdict.
 */
export function findBlockingRules(port: number, rulesets: FirewallRulesets, opts: FindBlockingOptions = {}): PortFirewallVerdicts {
  const family = opts.family ?? 4;
  const notes: string[] = [];
  const bases = collectBases(rulesets, family, notes);
  const remote: Packet = { family, dport: port, loopback: false };
  if (opts.remoteAddress) remote.saddr = opts.remoteAddress;
  if (opts.localAddress) remote.daddr = opts.localAddress;
  if (opts.interface) remote.iif = opts.interface;
  const lo = family === 4 ? '127.0.0.1' : '::1';
  const loopback: Packet = { family, dport: port, loopback: true, saddr: lo, daddr: lo, iif: 'lo' };
  return {
    port,
    family,
    remote: verdictFor(bases, remote, rulesets, notes),
    loopback: verdictFor(bases, loopback, rulesets, notes),
    consulted: [...new Set(bases.map((b) => b.tool))],
  };
}

// ---------------------------------------------------------------------------------------------
// The packet and how one match applies to it.

interface Packet {
  family: 4 | 6;
  dport: number;
  loopback: boolean;
  saddr?: string;
  daddr?: string;
  iif?: string;
}

type Tri = 'yes' | 'no' | 'maybe';

/** Why a match could not be decided, in words for a caveat. */
function unknownBecause(m: Match): string {
  switch (m.kind) {
    case 'saddr':
      return "the client's address";
    case 'daddr':
      return 'the address the client connects to';
    case 'iif':
      return 'the interface the connection arrives on';
    case 'sport':
      return "the client's source port";
    case 'dport':
      return 'the content of a set whyport could not read';
    default:
      return m.kind === 'other' ? `a condition whyport does not evaluate (${m.text})` : `a condition whyport does not evaluate (${m.kind})`;
  }
}

const flip = (t: Tri, negate: boolean): Tri => (t === 'maybe' || !negate ? t : t === 'yes' ? 'no' : 'yes');
const bool = (b: boolean): Tri => (b ? 'yes' : 'no');

function wildcardMatch(name: string, pattern: string): boolean {
  if (pattern.endsWith('*') || pattern.endsWith('+')) return name.startsWith(pattern.slice(0, -1));
  return name === pattern;
}

function addressTri(addr: string | undefined, prefixes: readonly string[] | null, unknownDefault: (p: string) => Tri): Tri {
  if (prefixes === null) return 'maybe';
  if (addr === undefined) {
    const each = prefixes.map(unknownDefault);
    return each.includes('maybe') ? 'maybe' : each.includes('yes') ? 'yes' : 'no';
  }
  const each = prefixes.map((p) => addressIn(addr, p));
  if (each.includes(true)) return 'yes';
  return each.includes(null) ? 'maybe' : 'no';
}

function matchTri(m: Match, p: Packet): Tri {
  switch (m.kind) {
    case 'dport':
      if (m.protocol !== 'tcp' && m.protocol !== 'th') return 'no';
      if (m.ports === null) return 'maybe';
      return flip(bool(m.ports.some(([lo, hi]) => p.dport >= lo && p.dport <= hi)), m.negate);
    case 'sport':
      if (m.protocol !== 'tcp' && m.protocol !== 'th') return 'no';
      // A client's source port is ephemeral: only a range covering all of them decides.
      if (m.ports !== null && m.ports.some(([lo, hi]) => lo <= 1024 && hi >= 65535)) return flip('yes', m.negate);
      return 'maybe';
    case 'protocol':
      return flip(bool(m.protocols.some((x) => x === 'tcp' || x === '6')), m.negate);
    case 'iif':
      if (p.iif !== undefined) return flip(bool(m.names.some((n) => wildcardMatch(p.iif!, n))), m.negate);
      // Remote, interface unknown: it is not lo, and anything else may be it.
      return m.names.every((n) => n === 'lo') ? flip('no', m.negate) : 'maybe';
    case 'oif':
      // On the input path no output interface is set yet.
      return flip('no', m.negate);
    case 'saddr':
      return flip(addressTri(p.saddr, m.prefixes, (s) => (specIsLoopback(s) ? 'no' : 'maybe')), m.negate);
    case 'daddr':
      return flip(addressTri(p.daddr, m.prefixes, (s) => (specIsLoopback(s) || specIsMulticastOrBroadcast(s) ? 'no' : 'maybe')), m.negate);
    case 'ctstate':
      return flip(bool(m.states.includes('new')), m.negate);
    case 'family':
      return bool(m.family === p.family);
    case 'tcpflags': {
      const flags = ['syn'];
      const masked = flags.filter((f) => m.mask.includes(f));
      const hit = m.op === 'any' ? masked.length > 0 : masked.length === m.set.length && m.set.every((f) => masked.includes(f));
      return flip(bool(hit), m.negate);
    }
    case 'dsttype':
      return flip(bool(m.types.some((t) => t === 'LOCAL' || t === 'UNICAST')), m.negate);
    case 'srctype':
      return flip(bool(m.types.some((t) => t === 'UNICAST' || (p.loopback && t === 'LOCAL'))), m.negate);
    case 'rpfilter':
      return bool(!m.failing);
    case 'dnat':
      return flip('no', m.negate);
    case 'other':
      return 'maybe';
  }
}

/** All of a rule's matches: no if any says no, maybe if any is undecided, else yes. */
function matchesTri(matches: readonly Match[], p: Packet): { tri: Tri; why: string[] } {
  let tri: Tri = 'yes';
  const why: string[] = [];
  for (const m of matches) {
    const t = matchTri(m, p);
    if (t === 'no') return { tri: 'no', why: [] };
    if (t === 'maybe') {
      tri = 'maybe';
      why.push(unknownBecause(m));
    }
  }
  return { tri, why };
}

// ---------------------------------------------------------------------------------------------
// Base chains, and walking one.

/** What one base chain (or a ufw/firewalld view of one) decides. */
interface Decision {
  kind: 'accept' | 'drop' | 'reject';
  /** The rule that decided; absent when the policy did. */
  rule?: string;
  chain: string;
  path: string[];
  rejectWith?: string;
  /** Set when the policy decided: its text as the tool shows it. */
  policyText?: string;
  /** An accept that is really a verdict whyport cannot follow (userspace queue, unknown target). */
  unknown?: string;
  /** A NAT rule ended the chain: the destination may now be another host or port. */
  nat?: string;
}

/** A rule that might apply: assumed not to, and tried the other way to see if it matters. */
interface Undecided {
  key: object;
  text: string;
  chain: string;
  why: string[];
}

interface Base {
  tool: FirewallTool;
  hook: Hook;
  priority: number;
  /** `inet filter`, `filter`… */
  table: string;
  chain: string;
  decide(p: Packet, forced: ReadonlySet<object>, undecided: Undecided[]): Decision;
  /** The user-facing description and the fix of a block this base decided. */
  describe(d: Decision, p: Packet): Omit<BlockingRule, 'verdict' | 'path'>;
}

const HOOK_ORDER: Partial<Record<Hook, number>> = { prerouting: 1, input: 2 };
const IPTABLES_TABLES = new Set(['filter', 'raw', 'mangle', 'nat', 'security']);
const IPTABLES_BUILTINS = new Set(['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);

/** Whether a chain holds anything that could drop or reject. */
function mayBlock(chain: FirewallChain): boolean {
  const blocks = (a: Action): boolean => a.kind === 'drop' || a.kind === 'reject' || (a.kind === 'vmap' && a.entries.some((e) => blocks(e.action)));
  return chain.policy === 'drop' || chain.rules.some((r) => blocks(r.action));
}

function collectBases(rs: FirewallRulesets, family: 4 | 6, notes: string[]): Base[] {
  const bases: Base[] = [];
  const familyOk = (f: TableFamily) => f === 'inet' || (family === 4 ? f === 'ip' : f === 'ip6');
  const iptables = (rs.iptables ?? []).filter((r) => r.family === family);
  // iptables-nft keeps its rules in nft tables `ip filter` etc.: read them through iptables (whose
  // view is exact; nft -j shows its extensions only by name) and skip them in the nft ruleset.
  const iptablesNftSeen = iptables.some((r) => r.backend !== 'legacy');
  const ufwInIptables = iptables.some((r) => r.tables.some((t) => t.chains.some((c) => /^ufw6?-/.test(c.name))));
  let firewalldSeen = false;

  for (const table of rs.nft?.tables ?? []) {
    if (table.flags?.includes('dormant')) continue;
    if (table.family === 'netdev' || (familyOk(table.family) && table.chains.some((c) => c.hook === 'ingress'))) {
      // Ingress chains are bound to devices that nft -j does not name: not walked, but not hidden either.
      for (const chain of table.chains.filter((c) => c.hook === 'ingress' && mayBlock(c))) {
        notes.push(`nftables ${table.family} ${table.name} ${chain.name}: an ingress chain that can drop packets; whyport does not evaluate ingress chains`);
      }
    }
    if (!familyOk(table.family)) continue;
    const ownedByIptables = iptablesNftSeen && table.family !== 'inet' && IPTABLES_TABLES.has(table.name) && table.chains.some((c) => IPTABLES_BUILTINS.has(c.name));
    if (ownedByIptables) continue;
    if (table.name === 'firewalld') firewalldSeen = true;
    for (const chain of table.chains) {
      if (!chain.hook || HOOK_ORDER[chain.hook] === undefined) continue;
      bases.push(chainBase('nftables', table, chain, rs, undefined));
    }
  }
  for (const ruleset of iptables) {
    const tool: FirewallTool = family === 4 ? 'iptables' : 'ip6tables';
    const binary = ruleset.binary ?? (ruleset.backend === 'legacy' ? `${tool}-legacy` : tool);
    for (const table of ruleset.tables) {
      if (table.chains.some((c) => /^(INPUT_ZONES|IN_\w+_allow)$/.test(c.name))) firewalldSeen = true;
      for (const chain of table.chains) {
        if (!chain.hook || HOOK_ORDER[chain.hook] === undefined) continue;
        bases.push(chainBase(tool, table, chain, rs, binary));
      }
    }
  }
  if (rs.ufw?.active && !ufwInIptables) bases.push(ufwBase(rs.ufw));
  if (rs.firewalld && !firewalldSeen) bases.push(firewalldBase(rs.firewalld.zone, rs.firewalld.services ?? {}));
  // Stable sort: same hook and priority keep the order they were read in.
  return bases
    .map((b, i) => ({ b, i }))
    .sort((x, y) => HOOK_ORDER[x.b.hook]! - HOOK_ORDER[y.b.hook]! || x.b.priority - y.b.priority || x.i - y.i)
    .map(({ b }) => b);
}

type WalkEnd =
  | { kind: 'accept' | 'drop' | 'reject' | 'unknown'; rule: FirewallRule; chain: string; path: string[]; action: Action }
  | { kind: 'return' | 'end' };

const MAX_DEPTH = 64;

function walk(table: FirewallTable, name: string, p: Packet, path: string[], forced: ReadonlySet<object>, undecided: Undecided[]): WalkEnd {
  const chain = table.chains.find((c) => c.name === name);
  if (!chain || path.length > MAX_DEPTH) return { kind: 'end' };
  const here = [...path, chain.name];
  for (const rule of chain.rules) {
    if (rule.action.kind === 'continue') continue;
    const m = forced.has(rule) ? { tri: 'yes' as Tri, why: [] } : matchesTri(rule.matches, p);
    if (m.tri === 'no') continue;
    if (m.tri === 'maybe') {
      undecided.push({ key: rule, text: rule.text, chain: chain.name, why: m.why });
      continue;
    }
    const end = act(rule.action, rule, table, chain, p, here, forced, undecided);
    if (end) return end;
  }
  return { kind: 'end' };
}

function act(action: Action, rule: FirewallRule, table: FirewallTable, chain: FirewallChain, p: Packet, here: string[], forced: ReadonlySet<object>, undecided: Undecided[]): WalkEnd | null {
  switch (action.kind) {
    case 'continue':
      return null;
    case 'accept':
    case 'drop':
    case 'reject':
      return { kind: action.kind, rule, chain: chain.name, path: here, action };
    case 'nat':
      // NAT ends the chain and lets the packet on: not a block.
      return { kind: 'accept', rule, chain: chain.name, path: here, action };
    case 'unknown':
      return { kind: 'unknown', rule, chain: chain.name, path: here, action };
    case 'return':
      return { kind: 'return' };
    case 'jump': {
      const end = walk(table, action.chain, p, here, forced, undecided);
      return end.kind === 'return' || end.kind === 'end' ? null : end;
    }
    case 'goto': {
      // A goto does not come back: when the target ends, so does the chain that went to it.
      const end = walk(table, action.chain, p, here, forced, undecided);
      return end.kind === 'end' ? { kind: 'return' } : end;
    }
    case 'vmap':
      for (const entry of action.entries) {
        const t = forced.has(entry) ? 'yes' : matchTri(entry.match, p);
        if (t === 'no') continue;
        if (t === 'maybe') {
          undecided.push({ key: entry, text: rule.text, chain: chain.name, why: [unknownBecause(entry.match)] });
          continue;
        }
        return act(entry.action, rule, table, chain, p, here, forced, undecided);
      }
      return null;
  }
}

function chainBase(tool: FirewallTool, table: FirewallTable, chain: FirewallChain, rs: FirewallRulesets, binary: string | undefined): Base {
  const nft = tool === 'nftables';
  const tableLabel = nft ? `${table.family} ${table.name}` : table.name;
  return {
    tool,
    hook: chain.hook!,
    priority: chain.priority ?? 0,
    table: tableLabel,
    chain: chain.name,
    decide(p, forced, undecided) {
      const end = walk(table, chain.name, p, [], forced, undecided);
      if (end.kind === 'accept' || end.kind === 'drop' || end.kind === 'reject' || end.kind === 'unknown') {
        const d: Decision = { kind: end.kind === 'unknown' ? 'accept' : end.kind, rule: end.rule.text, chain: end.chain, path: end.path };
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
    describe(d, p) {
      const ref = { table: tableLabel, chain: d.chain, rule: d.rule ?? d.policyText ?? '' };
      const base: Omit<BlockingRule, 'verdict' | 'path'> = { tool, ...ref, fix: nftOrIptablesFix(tool, table, chain, p.dport, binary) };
      if (d.rule === undefined) base.policy = true;
      if (d.rejectWith) base.rejectWith = d.rejectWith;
      // Front ends: say it in their words and fix it with their command.
      if (nft && table.name === 'firewalld' && rs.firewalld) return { ...base, ...firewalldView(rs.firewalld.zone, rs.firewalld.services ?? {}, p, d) };
      if (nft && table.name === 'firewalld') return { ...base, tool: 'firewalld', fix: firewalldFix(undefined, p.dport) };
      const viaUfw = d.path.some((c) => /^ufw6?-/.test(c)) || (rs.ufw?.active === true && d.rule === undefined && chain.name === 'INPUT' && table.name === 'filter');
      if (!nft && viaUfw && rs.ufw?.active) return { ...base, ...ufwView(rs.ufw, p, d, ref) };
      if (viaUfw) return { ...base, tool: 'ufw', fix: ufwFix(d.rule === undefined, p.dport) };
      return base;
    },
  };
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

function fixOf(argv: string[], note?: string): FirewallFix {
  const fix: FirewallFix = { argv, command: showCommand(argv) };
  if (note) fix.note = note;
  return fix;
}

function nftOrIptablesFix(tool: FirewallTool, table: FirewallTable, chain: FirewallChain, port: number, binary: string | undefined): FirewallFix {
  if (tool === 'nftables') {
    return fixOf(['nft', 'insert', 'rule', table.family, table.name, chain.name, 'tcp', 'dport', String(port), 'accept'], 'takes effect at once; add the rule to the ruleset file (/etc/nftables.conf) to keep it after a reboot');
  }
  const t = table.name === 'filter' ? [] : ['-t', table.name];
  return fixOf([binary ?? tool, ...t, '-I', chain.name, '-p', 'tcp', '--dport', String(port), '-j', 'ACCEPT'], `takes effect at once; save the rules (${tool === 'ip6tables' ? 'ip6tables-save > /etc/iptables/rules.v6' : 'netfilter-persistent save'}) to keep it after a reboot`);
}

function ufwFix(policy: boolean, port: number): FirewallFix {
  // `ufw allow` appends (or updates an identical rule in place): enough against the default policy,
  // but a range or a source rule listed earlier would still win, so insert it first then.
  return policy ? fixOf(['ufw', 'allow', `${port}/tcp`]) : fixOf(['ufw', 'insert', '1', 'allow', `${port}/tcp`]);
}

function firewalldFix(zone: string | undefined, port: number): FirewallFix {
  const z = zone ? [`--zone=${zone}`] : [];
  return fixOf(['firewall-cmd', ...z, `--add-port=${port}/tcp`], `runtime only: run it again with --permanent to keep it after a reload`);
}

// ---------------------------------------------------------------------------------------------
// ufw: its own rules in its own order, for its words and as a stand-in when iptables was not read.

type UfwDecision = { kind: 'accept' | 'drop' | 'reject'; rule?: UfwRule; chain: string; loopback?: boolean };

function ufwDecide(status: Extract<UfwStatus, { active: true }>, p: Packet, forced: ReadonlySet<object>, undecided: Undecided[]): UfwDecision {
  const six = p.family === 6 ? '6' : '';
  // ufw's before.rules accept everything on lo ahead of the user rules.
  if (p.iif === 'lo') return { kind: 'accept', chain: `ufw${six}-before-input`, loopback: true };
  for (const rule of status.rules) {
    if (rule.direction !== 'in' || rule.v6 !== (p.family === 6)) continue;
    const tri = forced.has(rule) ? { tri: 'yes' as Tri, why: [] } : matchesTri(ufwMatches(rule), p);
    if (tri.tri === 'no') continue;
    if (tri.tri === 'maybe') {
      undecided.push({ key: rule, text: rule.text, chain: `ufw${six}-user-input`, why: tri.why });
      continue;
    }
    const kind = rule.action === 'deny' ? 'drop' : rule.action === 'reject' ? 'reject' : 'accept';
    return { kind, rule, chain: `ufw${six}-user-input` };
  }
  const d = status.defaults.incoming;
  return { kind: d === 'deny' ? 'drop' : d === 'reject' ? 'reject' : 'accept', chain: 'INPUT' };
}

function ufwMatches(rule: UfwRule): Match[] {
  const m: Match[] = [];
  const protocol = rule.to.protocol ?? rule.from.protocol;
  if (protocol) m.push({ kind: 'protocol', protocols: [protocol], negate: false });
  if (rule.to.ports) m.push({ kind: 'dport', protocol: 'th', ports: rule.to.ports, negate: false });
  else if (rule.to.app) m.push({ kind: 'other', text: `application profile ${rule.to.app}` });
  if (rule.to.address) m.push({ kind: 'daddr', prefixes: [rule.to.address], negate: false });
  if (rule.to.interface) m.push({ kind: 'iif', names: [rule.to.interface], negate: false });
  if (rule.from.address) m.push({ kind: 'saddr', prefixes: [rule.from.address], negate: false });
  if (rule.from.ports || rule.from.app) m.push({ kind: 'sport', protocol: 'th', ports: rule.from.ports ?? null, negate: false });
  return m;
}

const UFW_POLICY_TEXT = (status: Extract<UfwStatus, { active: true }>) => `Default: ${status.defaults.incoming} (incoming)`;

function ufwView(status: Extract<UfwStatus, { active: true }>, p: Packet, d: Decision, kernel: { table: string; chain: string; rule: string }): Partial<BlockingRule> {
  const u = ufwDecide(status, p, new Set(), []);
  const detail = `ufw's rules become iptables rules: ${kernel.rule} (table ${kernel.table}, chain ${kernel.chain})`;
  if (u.kind !== 'accept' && u.rule) return { tool: 'ufw', rule: u.rule.text, chain: u.chain, policy: false, detail, fix: ufwFix(false, p.dport) };
  if (u.kind !== 'accept') return { tool: 'ufw', rule: UFW_POLICY_TEXT(status), chain: 'INPUT', policy: true, detail, fix: ufwFix(true, p.dport) };
  // ufw's own rules would let it in: something in before.rules/after.rules blocks it.
  return { tool: 'ufw', detail: `not one of ufw's user rules: ${kernel.rule} comes from /etc/ufw/before*.rules or after*.rules`, fix: ufwFix(d.rule === undefined, p.dport) };
}

function ufwBase(status: Extract<UfwStatus, { active: true }>): Base {
  return {
    tool: 'ufw',
    hook: 'input',
    priority: 0,
    table: 'filter',
    chain: 'INPUT',
    decide(p, forced, undecided) {
      const u = ufwDecide(status, p, forced, undecided);
      if (u.loopback) return { kind: 'accept', rule: '-A ufw-before-input -i lo -j ACCEPT', chain: u.chain, path: ['INPUT', u.chain] };
      if (u.rule) return { kind: u.kind, rule: u.rule.text, chain: u.chain, path: ['INPUT', u.chain], ...(u.kind === 'reject' ? { rejectWith: 'tcp-reset' } : {}) };
      return { kind: u.kind, chain: 'INPUT', path: ['INPUT'], policyText: UFW_POLICY_TEXT(status), ...(u.kind === 'reject' ? { rejectWith: 'icmp-port-unreachable' } : {}) };
    },
    describe(d, p) {
      const out: Omit<BlockingRule, 'verdict' | 'path'> = { tool: 'ufw', table: 'filter', chain: d.chain, rule: d.rule ?? d.policyText ?? '', fix: ufwFix(d.rule === undefined, p.dport) };
      if (d.rule === undefined) out.policy = true;
      if (d.rejectWith) out.rejectWith = d.rejectWith;
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// firewalld: the zone from `firewall-cmd --list-all`, in the order firewalld builds its chains.

type ZoneStep = { key: object; text: string; matches: Match[]; kind: 'accept' | 'drop' | 'reject' | 'none'; richRule?: string };

function zoneSteps(zone: FirewalldZone, services: Record<string, FirewalldService>): ZoneStep[] {
  const steps: { prio: number; stage: number; step: ZoneStep }[] = [];
  const serviceMatches = (name: string): Match[] => {
    const svc = services[name];
    if (!svc) return [{ kind: 'other', text: `service ${name} (its ports were not read)` }];
    const ranges = svc.ports.filter((x) => x.protocol === 'tcp').map((x) => x.ports);
    const anyTcp = svc.protocols.includes('tcp');
    return anyTcp ? [] : [{ kind: 'dport', protocol: 'tcp', ports: ranges, negate: false }];
  };
  for (const r of zone.richRules) {
    const m: Match[] = [];
    if (r.family) m.push({ kind: 'family', family: r.family === 'ipv4' ? 4 : 6 });
    if (r.source?.address) m.push({ kind: 'saddr', prefixes: [r.source.address], negate: r.source.invert });
    else if (r.source) m.push({ kind: 'other', text: 'source ipset or MAC address' });
    if (r.destination?.address) m.push({ kind: 'daddr', prefixes: [r.destination.address], negate: r.destination.invert });
    if (r.service) m.push(...serviceMatches(r.service));
    if (r.port) m.push({ kind: 'protocol', protocols: [r.port.protocol], negate: false }, { kind: 'dport', protocol: 'th', ports: [r.port.ports], negate: false });
    if (r.protocol) m.push({ kind: 'protocol', protocols: [r.protocol], negate: false });
    if (r.sourcePort) m.push({ kind: 'sport', protocol: 'th', ports: [r.sourcePort.ports], negate: false });
    if (r.limit !== undefined) m.push({ kind: 'other', text: `limit value="${r.limit}"` });
    const kind = r.action === 'accept' ? 'accept' : r.action === 'drop' ? 'drop' : r.action === 'reject' ? 'reject' : 'none';
    // Rich rules with priority 0 go to the zone's deny chain (drop, reject) or allow chain (accept);
    // negative priorities run before both, positive after.
    const stage = kind === 'accept' ? 2 : 1;
    steps.push({ prio: r.priority ?? 0, stage: (r.priority ?? 0) === 0 ? stage : 0, step: { key: r, text: `rich rule: ${r.text}`, matches: m, kind, richRule: r.text } });
  }
  for (const port of zone.ports) {
    steps.push({ prio: 0, stage: 2, step: { key: port, text: `ports: ${port.ports[0] === port.ports[1] ? port.ports[0] : port.ports.join('-')}/${port.protocol}`, matches: [{ kind: 'protocol', protocols: [port.protocol], negate: false }, { kind: 'dport', protocol: 'th', ports: [port.ports], negate: false }], kind: 'accept' } });
  }
  for (const name of zone.services) steps.push({ prio: 0, stage: 2, step: { key: { name }, text: `services: ${name}`, matches: serviceMatches(name), kind: 'accept' } });
  for (const proto of zone.protocols) steps.push({ prio: 0, stage: 2, step: { key: { proto }, text: `protocols: ${proto}`, matches: [{ kind: 'protocol', protocols: [proto], negate: false }], kind: 'accept' } });
  for (const sp of zone.sourcePorts) steps.push({ prio: 0, stage: 2, step: { key: sp, text: `source-ports: ${sp.ports.join('-')}/${sp.protocol}`, matches: [{ kind: 'protocol', protocols: [sp.protocol], negate: false }, { kind: 'sport', protocol: 'th', ports: [sp.ports], negate: false }], kind: 'accept' } });
  return steps.sort((a, b) => a.prio - b.prio || a.stage - b.stage).map((s) => s.step);
}

type ZoneDecision = { kind: 'accept' | 'drop' | 'reject'; step?: ZoneStep; loopback?: boolean };

function zoneDecide(zone: FirewalldZone, services: Record<string, FirewalldService>, p: Packet, forced: ReadonlySet<object>, undecided: Undecided[]): ZoneDecision {
  if (p.iif === 'lo') return { kind: 'accept', loopback: true };
  for (const step of zoneSteps(zone, services)) {
    if (step.kind === 'none') continue;
    const t = forced.has(step.key) ? { tri: 'yes' as Tri, why: [] } : matchesTri(step.matches, p);
    if (t.tri === 'no') continue;
    if (t.tri === 'maybe') {
      undecided.push({ key: step.key, text: step.text, chain: `zone ${zone.name}`, why: t.why });
      continue;
    }
    return { kind: step.kind, step };
  }
  const target = zone.target.toUpperCase();
  return { kind: target === 'ACCEPT' ? 'accept' : target === 'DROP' ? 'drop' : 'reject' };
}

function firewalldView(zone: FirewalldZone, services: Record<string, FirewalldService>, p: Packet, d: Decision): Partial<BlockingRule> {
  const kernel = `nft rule ${d.rule ?? d.policyText ?? ''} (table inet firewalld, chain ${d.chain})`;
  // firewalld names its chains after zones (filter_IN_public_allow): the walk tells which zone
  // handled the connection, which need not be the default zone that --list-all shows.
  const walked = d.path.map((c) => /^filter_IN_(.+?)(?:_(?:pre|log|deny|allow|post))?$/.exec(c)?.[1]).find((z) => z !== undefined);
  if (walked && walked !== zone.name) {
    return { tool: 'firewalld', detail: `zone ${walked} does not allow ${p.dport}/tcp; in the kernel: ${kernel}`, fix: firewalldFix(walked, p.dport) };
  }
  const z = zoneDecide(zone, services, p, new Set(), []);
  if (z.kind !== 'accept' && z.step?.richRule) {
    return { tool: 'firewalld', detail: `zone ${zone.name}: ${z.step.text}; in the kernel: ${kernel}`, fix: fixOf(['firewall-cmd', `--zone=${zone.name}`, `--remove-rich-rule=${z.step.richRule}`], 'runtime only: run it again with --permanent to keep it after a reload') };
  }
  if (z.kind !== 'accept') {
    return { tool: 'firewalld', detail: `zone ${zone.name} (target: ${zone.target}) allows no service, port or rich rule for ${p.dport}/tcp; in the kernel: ${kernel}`, fix: firewalldFix(zone.name, p.dport) };
  }
  // The listed zone lets it in, so another zone applies (an interface or source bound elsewhere).
  return { tool: 'firewalld', detail: `blocked by ${kernel}, although zone ${zone.name} allows it: the connection is handled by another zone (firewall-cmd --get-active-zones)`, fix: firewalldFix(undefined, p.dport) };
}

function firewalldBase(zone: FirewalldZone, services: Record<string, FirewalldService>): Base {
  return {
    tool: 'firewalld',
    hook: 'input',
    priority: 10,
    table: 'firewalld',
    chain: `zone ${zone.name}`,
    decide(p, forced, undecided) {
      const z = zoneDecide(zone, services, p, forced, undecided);
      const chain = `zone ${zone.name}`;
      if (z.loopback) return { kind: 'accept', rule: 'iifname "lo" accept', chain: 'filter_INPUT', path: ['filter_INPUT'] };
      if (z.step) return { kind: z.kind, rule: z.step.text, chain, path: [chain], ...(z.kind === 'reject' ? { rejectWith: 'icmpx admin-prohibited' } : {}) };
      return { kind: z.kind, chain, path: [chain], policyText: `target: ${zone.target}`, ...(z.kind === 'reject' ? { rejectWith: 'icmpx admin-prohibited' } : {}) };
    },
    describe(d, p) {
      const out: Omit<BlockingRule, 'verdict' | 'path'> = { tool: 'firewalld', table: 'firewalld', chain: d.chain, rule: d.rule ?? d.policyText ?? '', fix: firewalldFix(zone.name, p.dport) };
      if (d.rule === undefined) out.policy = true;
      if (d.rejectWith) out.rejectWith = d.rejectWith;
      const rich = zone.richRules.find((r) => d.rule === `rich rule: ${r.text}`);
      if (rich) out.fix = fixOf(['firewall-cmd', `--zone=${zone.name}`, `--remove-rich-rule=${rich.text}`], 'runtime only: run it again with --permanent to keep it after a reload');
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Putting the bases together.

const MAX_UNDECIDED_TRIED = 32;

function verdictFor(bases: Base[], p: Packet, rs: FirewallRulesets, notes: readonly string[]): FirewallVerdict {
  const blocks: BlockingRule[] = [];
  let by: RuleRef | undefined;
  const caveats: string[] = [...notes];
  for (const base of bases) {
    const undecided: Undecided[] = [];
    const d = base.decide(p, new Set(), undecided);
    if (d.unknown) caveats.push(`${base.tool} ${base.table} ${d.chain}: "${d.unknown}" hands the packet to something whyport cannot follow`);
    if (d.nat) caveats.push(`${base.tool} ${base.table} ${d.chain}: "${d.nat}" rewrites the destination, so the connection may be forwarded (e.g. to a container) past the input chains walked here`);
    // Would an undecided rule, if it did apply, change this base's outcome? Then say so.
    for (const u of undecided.slice(0, MAX_UNDECIDED_TRIED)) {
      const alt = base.decide(p, new Set([u.key]), []);
      if ((alt.kind === 'accept') !== (d.kind === 'accept')) {
        caveats.push(`${base.tool} ${base.table} ${u.chain}: "${u.text}" would ${alt.kind} it, depending on ${[...new Set(u.why)].join(' and ')}`);
      }
    }
    if (d.kind === 'accept') {
      if (!by && d.rule !== undefined && !d.unknown && !d.nat) by = { tool: base.tool, table: base.table, chain: d.chain, rule: d.rule };
      continue;
    }
    blocks.push({ verdict: d.kind, path: d.path, ...base.describe(d, p) });
  }
  if (rs.firewalld?.zone.notes.length) caveats.push(`firewalld: ${rs.firewalld.zone.notes.join(' ')}`);
  const [block, ...also] = blocks;
  if (!block) return by ? { verdict: 'accept', by, caveats } : { verdict: 'accept', caveats };
  // A caveat about an accept in a later base cannot undo an earlier block; keep them all the same,
  // they say what else stands in the way or might let it through.
  return { ...block, caveats, also };
}
