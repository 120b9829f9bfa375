import type { Match } from '../../system/firewall/model.js';
import type { UfwRule, UfwStatus } from '../../system/firewall/ufw.js';
import { ufwFix, ufwOutFix } from './fix.js';
import { matchesTri } from './match.js';
import type { Base, BlockingRule, Decision, FixPlan, Packet, Tri, Undecided } from './model.js';

// ufw: its own rules in its own order, for its words and as a stand-in when iptables was not read.

type UfwDecision = { kind: 'accept' | 'drop' | 'reject'; rule?: UfwRule; chain: string; loopback?: boolean };

/** Which of ufw's rules and defaults a packet meets: `in` on the input hook, `out` for a packet a program here sends. */
const directionOf = (p: Packet): 'in' | 'out' => (p.hook === 'output' ? 'out' : 'in');

function ufwDecide(status: Extract<UfwStatus, { active: true }>, p: Packet, forced: ReadonlySet<object>, undecided: Undecided[], skipped?: ReadonlySet<object>): UfwDecision {
  const six = p.family === 6 ? '6' : '';
  const dir = directionOf(p);
  const io = dir === 'in' ? 'input' : 'output';
  // ufw's before.rules accept everything on lo ahead of the user rules (-i lo in, -o lo out).
  if ((dir === 'in' ? p.iif : p.oif) === 'lo') return { kind: 'accept', chain: `ufw${six}-before-${io}`, loopback: true };
  for (const rule of status.rules) {
    if (rule.direction !== dir || rule.v6 !== (p.family === 6) || skipped?.has(rule)) continue;
    const tri = forced.has(rule) ? { tri: 'yes' as Tri, why: [] } : matchesTri(ufwMatches(rule), p);
    if (tri.tri === 'no') continue;
    if (tri.tri === 'maybe') {
      undecided.push({ key: rule, text: rule.text, chain: `ufw${six}-user-${io}`, why: tri.why });
      continue;
    }
    const kind = rule.action === 'deny' ? 'drop' : rule.action === 'reject' ? 'reject' : 'accept';
    return { kind, rule, chain: `ufw${six}-user-${io}` };
  }
  const d = dir === 'in' ? status.defaults.incoming : status.defaults.outgoing;
  return { kind: d === 'deny' ? 'drop' : d === 'reject' ? 'reject' : 'accept', chain: dir === 'in' ? 'INPUT' : 'OUTPUT' };
}

/** A ufw rule's conditions in the walker's terms. */
export function ufwMatches(rule: UfwRule): Match[] {
  const m: Match[] = [];
  const protocol = rule.to.protocol ?? rule.from.protocol;
  if (protocol) m.push({ kind: 'protocol', protocols: [protocol], negate: false });
  if (rule.to.ports) m.push({ kind: 'dport', protocol: 'th', ports: rule.to.ports, negate: false });
  else if (rule.to.app) m.push({ kind: 'other', text: `application profile ${rule.to.app}` });
  if (rule.to.address) m.push({ kind: 'daddr', prefixes: [rule.to.address], negate: false });
  // `on IFACE` is where an `in` rule's packets arrive and where an `out` rule's leave.
  if (rule.to.interface) m.push({ kind: rule.direction === 'out' ? 'oif' : 'iif', names: [rule.to.interface], negate: false });
  if (rule.from.address) m.push({ kind: 'saddr', prefixes: [rule.from.address], negate: false });
  if (rule.from.ports || rule.from.app) m.push({ kind: 'sport', protocol: 'th', ports: rule.from.ports ?? null, negate: false });
  return m;
}

const UFW_POLICY_TEXT = (status: Extract<UfwStatus, { active: true }>, p: Packet) =>
  directionOf(p) === 'in' ? `Default: ${status.defaults.incoming} (incoming)` : `Default: ${status.defaults.outgoing} (outgoing)`;

/** The fix for a ufw block: `ufw allow`/`delete` for what comes in, `ufw allow out`/`delete … out` for what a program here sends. */
function fixFor(status: Extract<UfwStatus, { active: true }>, p: Packet, policy: boolean, rule: UfwRule | undefined, plan: FixPlan | undefined) {
  if (directionOf(p) === 'out' && p.daddr !== undefined) return ufwOutFix(policy, p.daddr, p.dport, p.protocol, rule, plan);
  return ufwFix(policy, p.dport, p.protocol, rule, plan);
}

/** A block the kernel rules decided, said with ufw's own rule or default policy. */
export function ufwView(status: Extract<UfwStatus, { active: true }>, p: Packet, d: Decision, kernel: { table: string; chain: string; rule: string }, plan?: FixPlan): Partial<BlockingRule> {
  const u = ufwDecide(status, p, new Set(), []);
  const detail = `ufw's rules become iptables rules: ${kernel.rule} (table ${kernel.table}, chain ${kernel.chain})`;
  if (u.kind !== 'accept' && u.rule) return { tool: 'ufw', rule: u.rule.text, chain: u.chain, policy: false, detail, fix: fixFor(status, p, false, u.rule, plan) };
  if (u.kind !== 'accept') return { tool: 'ufw', rule: UFW_POLICY_TEXT(status, p), chain: u.chain, policy: true, detail, fix: fixFor(status, p, true, undefined, plan) };
  // ufw's own rules would let it through: something in before.rules/after.rules blocks it.
  return { tool: 'ufw', detail: `not one of ufw's user rules: ${kernel.rule} comes from /etc/ufw/before*.rules or after*.rules`, fix: fixFor(status, p, d.rule === undefined, undefined, undefined) };
}

/** ufw's rules as a base chain of the input (or output) hook, for when iptables itself could not be read. */
export function ufwBase(status: Extract<UfwStatus, { active: true }>, hook: 'input' | 'output' = 'input'): Base {
  const base = hook === 'input' ? 'INPUT' : 'OUTPUT';
  return {
    tool: 'ufw',
    hook,
    priority: 0,
    table: 'filter',
    chain: base,
    decide(p, forced, undecided, skipped) {
      const u = ufwDecide(status, p, forced, undecided, skipped);
      if (u.loopback) return { kind: 'accept', rule: hook === 'input' ? '-A ufw-before-input -i lo -j ACCEPT' : '-A ufw-before-output -o lo -j ACCEPT', chain: u.chain, path: [base, u.chain] };
      // ufw's reject rules answer TCP with a reset and UDP with ICMP port unreachable (its user.rules).
      const ruleReject = p.protocol === 'tcp' ? 'tcp-reset' : 'icmp-port-unreachable';
      if (u.rule) return { kind: u.kind, rule: u.rule.text, chain: u.chain, path: [base, u.chain], matched: u.rule, ...(u.kind === 'reject' ? { rejectWith: ruleReject } : {}) };
      return { kind: u.kind, chain: base, path: [base], policyText: UFW_POLICY_TEXT(status, p), ...(u.kind === 'reject' ? { rejectWith: 'icmp-port-unreachable' } : {}) };
    },
    describe(d, p, plan) {
      const rule = status.rules.find((r) => r.text === d.rule);
      const out: Omit<BlockingRule, 'verdict' | 'path' | 'clientSees'> = { tool: 'ufw', table: 'filter', chain: d.chain, rule: d.rule ?? d.policyText ?? '', fix: fixFor(status, p, d.rule === undefined, rule, plan) };
      if (d.rule === undefined) out.policy = true;
      if (d.rejectWith) out.rejectWith = d.rejectWith;
      return out;
    },
  };
}
