import { showCommand } from '../../text/command.js';
import type { FirewallReading } from '../../system/firewall/read.js';
import type { BlockingRule, RuleRef } from './model.js';

// How a rule that blocks is said and looked up, for the checks that walk the firewall (the input
// hook's and the forward hook's).

/** The rule as a person finds it: "nftables table inet filter, chain input". */
export function whereText(r: RuleRef): string {
  if (r.tool === 'ufw') return 'ufw';
  if (r.tool === 'firewalld') return `firewalld (${r.chain})`;
  return `${r.tool} table ${r.table}, chain ${r.chain}`;
}

/** What the rule does: "drops", "rejects (with tcp-reset)". */
export function actionText(b: BlockingRule): string {
  if (b.verdict === 'drop') return 'drops';
  return b.rejectWith ? `rejects (with ${b.rejectWith})` : 'rejects';
}

/** What a person types to see the rule in its context. */
/**
 * The evidence every firewall step gives of the rule that blocks (the fields of
 * checks/evidence.ts's blockingRuleFields but `also`, which each step words itself): where it is,
 * what it does, and its fix — `fixSummary` says what the fix does when the fix itself does not.
 */
export function blockingRuleEvidence(b: BlockingRule & { caveats: string[] }, fixSummary: string) {
  return {
    tool: b.tool,
    table: b.table,
    chain: b.chain,
    rule: b.rule,
    verdict: b.verdict,
    action: actionText(b),
    policy: b.policy === true,
    path: b.path.join(' → '),
    detail: b.detail ?? '',
    where: whereText(b),
    /** The fix as argv (the playbook names its words one by one), and as typed. */
    fix: b.fix.argv,
    fixCommand: b.fix.command,
    fixNote: b.fix.note ?? '',
    /** What the fix changes: the rule it deletes, or the accept it puts ahead of a rule that blocks more than this port. */
    fixSummary: b.fix.summary ?? fixSummary,
    /** `remove` (the blocking rule goes) or `narrow` (it stays; an accept for this port alone goes ahead of it). */
    fixKind: b.fix.kind ?? 'narrow',
    caveats: b.caveats,
  };
}

export function listCommand(b: BlockingRule): string {
  switch (b.tool) {
    case 'nftables':
      return showCommand(['nft', '-a', 'list', 'chain', ...b.table.split(' '), b.chain]);
    case 'iptables':
    case 'ip6tables': {
      const binary = b.fix.argv[0] ?? b.tool;
      // A ufw fix's argv starts with ufw: the iptables command is then the tool's own.
      const cmd = binary === 'ufw' ? b.tool : binary;
      return showCommand([cmd, ...(b.table === 'filter' ? [] : ['-t', b.table]), '-S', b.chain]);
    }
    case 'ufw':
      return 'ufw status verbose';
    case 'firewalld':
      return 'firewall-cmd --list-all';
  }
}

/** Where the rules are read from: netfilter itself, whichever front end wrote them. */
export const KERNEL_SOURCES: ReadonlySet<string> = new Set(['nftables', 'iptables', 'ip6tables', 'iptables-legacy', 'ip6tables-legacy', 'iptables-nft', 'ip6tables-nft']);

/** What was read, in a few words: "read nftables, iptables; ufw inactive". */
export function readingText(reading: FirewallReading): string {
  const by = (s: string) => reading.sources.filter((x) => x.status === s).map((x) => x.name);
  const parts = [
    by('ok').length ? `read ${by('ok').join(', ')}` : '',
    by('inactive').length ? `${by('inactive').join(', ')} inactive` : '',
    by('missing').length ? `${by('missing').join(', ')} not installed` : '',
    by('error').length ? `${by('error').join(', ')} could not be asked` : '',
  ].filter(Boolean);
  return parts.join('; ');
}

/** The commands refused for want of permission, for a sentence: `nft -j list ruleset, iptables-save`. */
export function deniedCommands(reading: FirewallReading): string {
  return reading.sources.filter((s) => s.status === 'denied').map((s) => s.command).join(', ');
}

/**
 * Why the rules in the kernel could not be listed — the errors of nft and iptables, or '' when
 * neither is installed — or undefined when one of them was read. ufw and firewalld only ever act
 * through those rules: once they are read, a front end that cannot be asked hides nothing.
 */
export function kernelUnlisted(reading: FirewallReading): string | undefined {
  const kernel = reading.sources.filter((s) => KERNEL_SOURCES.has(s.name));
  if (kernel.some((s) => s.status === 'ok')) return undefined;
  return kernel
    .filter((s) => s.status === 'error')
    .map((s) => `${s.command}: ${s.error}`)
    .join('; ');
}
