import type { Match } from '../../system/firewall/model.js';
import type { UfwRule, UfwStatus } from '../../system/firewall/ufw.js';
import { ufwFix } from './fix.js';
import { matchesTri } from './match.js';
import type { Base, BlockingRule, Decision, FixPlan, Packet, Tri, Undecided } from './model.js';

// ufw: its own rules in its own order, for its words and as a stand-in when iptables was not read.

type UfwDecision = { kind: 'accept' | 'drop' | 'reject'; rule?: UfwRule; chain: string; loopback?: boolean };

function ufwDecide(status: Extract<UfwStatus, { active: true }>, p: Packet, forced: ReadonlySet<object>, undecided: Undecided[], skipped?: ReadonlySet<object>): UfwDecision {
  const six = p.family === 6 ? '6' : '';
  // ufw's before.rules accept everything on lo ahead of the user rules.
  if (p.iif === 'lo') return { kind: 'accept', chain: `ufw${six}-before-input`, loopback: true };
  for (const rule of status.rules) {
    if (rule.direction !== 'in' || rule.v6 !== (p.family === 6) || skipped?.has(rule)) continue;
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

/** A ufw rule's conditions in the walker's terms. */
export function ufwMatches(rule: UfwRule): Match[] {
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

/** A block the kernel rules decided, said with ufw's own rule or default policy. */
export function ufwView(status: Extract<UfwStatus, { active: true }>, p: Packet, d: Decision, kernel: { table: string; chain: string; rule: string }, plan?: FixPlan): Partial<BlockingRule> {
  const u = ufwDecide(status, p, new Set(), []);
  const detail = `ufw's rules become iptables rules: ${kernel.rule} (table ${kernel.table}, chain ${kernel.chain})`;
  if (u.kind !== 'accept' && u.rule) return { tool: 'ufw', rule: u.rule.text, chain: u.chain, policy: false, detail, fix: ufwFix(false, p.dport, p.protocol, u.rule, plan) };
  if (u.kind !== 'accept') return { tool: 'ufw', rule: UFW_POLICY_TEXT(status), chain: 'INPUT', policy: true, detail, fix: ufwFix(true, p.dport, p.protocol, undefined, plan) };
  // ufw's own rules would let it in: something in before.rules/after.rules blocks it.
  return { tool: 'ufw', detail: `not one of ufw's user rules: ${kernel.rule} comes from /etc/ufw/before*.rules or after*.rules`, fix: ufwFix(d.rule === undefined, p.dport, p.protocol) };
}

/** ufw's rules as a base chain, for when iptables itself could not be read. */
export function ufwBase(status: Extract<UfwStatus, { active: true }>): Base {
  return {
    tool: 'ufw',
    hook: 'input',
    priority: 0,
    table: 'filter',
    chain: 'INPUT',
    decide(p, forced, undecided, skipped) {
      const u = ufwDecide(status, p, forced, undecided, skipped);
      if (u.loopback) return { kind: 'accept', rule: '-A ufw-before-input -i lo -j ACCEPT', chain: u.chain, path: ['INPUT', u.chain] };
      // ufw's reject rules answer TCP with a reset and UDP with ICMP port unreachable (its user.rules).
      const ruleReject = p.protocol === 'tcp' ? 'tcp-reset' : 'icmp-port-unreachable';
      if (u.rule) return { kind: u.kind, rule: u.rule.text, chain: u.chain, path: ['INPUT', u.chain], matched: u.rule, ...(u.kind === 'reject' ? { rejectWith: ruleReject } : {}) };
      return { kind: u.kind, chain: 'INPUT', path: ['INPUT'], policyText: UFW_POLICY_TEXT(status), ...(u.kind === 'reject' ? { rejectWith: 'icmp-port-unreachable' } : {}) };
    },
    describe(d, p, plan) {
      const rule = status.rules.find((r) => r.text === d.rule);
      const out: Omit<BlockingRule, 'verdict' | 'path' | 'clientSees'> = { tool: 'ufw', table: 'filter', chain: d.chain, rule: d.rule ?? d.policyText ?? '', fix: ufwFix(d.rule === undefined, p.dport, p.protocol, rule, plan) };
      if (d.rule === undefined) out.policy = true;
      if (d.rejectWith) out.rejectWith = d.rejectWith;
      return out;
    },
  };
}
