import type { Action, FirewallChain, FirewallRule, FirewallTable, Match } from '../../system/firewall/model.js';
import { matchesTri, type RuleMatch } from './match.js';
import type { Packet } from './model.js';

// The one rule walker: a chain of nftables or iptables rules, walked with first-match semantics
// for one packet, following jumps and gotos. What a verdict means is the table's to say: the
// filter walk asks whether the packet is let in, the nat walk where it is sent (a `Reading`).

/** Where the walk is: the chain, and the chains walked from the base chain to it (it included). */
export interface Frame {
  chain: FirewallChain;
  path: string[];
}

/** The actions that end a chain by themselves; the table's reading says what each means. */
export type Verdict = Extract<Action, { kind: 'accept' | 'drop' | 'reject' | 'nat' | 'unknown' }>;

/** How a chain's walk came back: an end the reading gave, a RETURN, or the end of the chain. */
export type Flow<E> = E | { kind: 'return' } | { kind: 'end' };

/** How the rule that ended a chain applied. */
export interface Settled {
  rule: FirewallRule;
  /** Its place in the chain. */
  index: number;
  match: RuleMatch;
  /** Its conditions were undecided and the reading chose to walk on as if they held. */
  taken: boolean;
}

/**
 * What a table makes of the walk: the packet, and what its verdicts and undecided rules mean.
 * `E` is the table's own end (a filter verdict, a DNAT target…); `kind` 'return' and 'end' are the walker's.
 */
export interface Reading<E extends { kind: string }> {
  table: FirewallTable;
  packet: Packet;
  /** Rules (and vmap entries) taken as applying, whatever their conditions say: to see whether the answer depends on them. */
  forced: ReadonlySet<object>;
  /** A random condition marks one branch of a choice (nat) rather than an undecided rule (filter); see `matchesTri`. */
  randomIsChoice?: boolean;
  /** What a verdict does: an end of the walk, or null to go on with the next rule. */
  verdict(rule: FirewallRule, action: Verdict, at: Frame): Flow<E> | null;
  /**
   * A rule (`key` is the rule) or a vmap entry of it (`key` is the entry) whose conditions the
   * packet does not decide: true walks on as if they held, false passes it over.
   */
  undecided(key: object, rule: FirewallRule, action: Action, why: string[], at: Frame): boolean;
  /** A rule of the chain `at` ended it (directly or through the chains it jumped to). */
  settled?(end: Flow<E>, how: Settled, at: Frame): void;
  /** A vmap entry of a random choice (nft `numgen … vmap`) led to `end`; `others` are the entries after it. */
  chose?(end: Flow<E>, rule: FirewallRule, others: readonly { action: Action }[], at: Frame): void;
}

/** Deeper than this, a chain of jumps is taken as a loop and ends. */
const MAX_DEPTH = 64;
const RETURN = { kind: 'return' } as const;
const END = { kind: 'end' } as const;

/**
 * Walks the chain `name` (entered from the chains in `path`): rules in order, the first that
 * applies and ends the chain decides; a jump comes back when its target returns or ends, a goto
 * returns with it; a vmap's first applying entry acts.
 */
export function walkChain<E extends { kind: string }>(r: Reading<E>, name: string, path: readonly string[] = []): Flow<E> {
  const chain = r.table.chains.find((c) => c.name === name);
  if (!chain || path.length > MAX_DEPTH) return END;
  const at: Frame = { chain, path: [...path, chain.name] };
  for (let index = 0; index < chain.rules.length; index++) {
    const rule = chain.rules[index]!;
    if (rule.action.kind === 'continue') continue;
    const match = ruleMatch(r, rule, rule.matches);
    if (match.tri === 'no') continue;
    const taken = match.tri === 'maybe';
    if (taken && !r.undecided(rule, rule, rule.action, match.why, at)) continue;
    const end = act(r, rule, rule.action, at);
    if (end === null) continue;
    r.settled?.(end, { rule, index, match, taken }, at);
    return end;
  }
  return END;
}

/** What a rule's action (or one of its vmap entries' actions) does to the walk; null: go on with the next rule. */
export function act<E extends { kind: string }>(r: Reading<E>, rule: FirewallRule, action: Action, at: Frame): Flow<E> | null {
  switch (action.kind) {
    case 'continue':
      return null;
    case 'return':
      return RETURN;
    case 'jump': {
      const end = walkChain(r, action.chain, at.path);
      return end.kind === 'return' || end.kind === 'end' ? null : end;
    }
    case 'goto': {
      // A goto does not come back: when the target ends, so does the chain that went to it.
      const end = walkChain(r, action.chain, at.path);
      return end.kind === 'end' ? RETURN : end;
    }
    case 'vmap':
      for (let i = 0; i < action.entries.length; i++) {
        const entry = action.entries[i]!;
        const match = ruleMatch(r, entry, [entry.match]);
        if (match.tri === 'no') continue;
        if (match.tri === 'maybe' && !r.undecided(entry, rule, entry.action, match.why, at)) continue;
        const end = act(r, rule, entry.action, at);
        if (end !== null && match.random) r.chose?.(end, rule, action.entries.slice(i + 1), at);
        return end;
      }
      return null;
    default:
      return r.verdict(rule, action, at);
  }
}

/** The matches of a rule or vmap entry; a forced one applies. */
function ruleMatch<E extends { kind: string }>(r: Reading<E>, key: object, matches: readonly Match[]): RuleMatch {
  const m = matchesTri(matches, r.packet, r.randomIsChoice);
  return r.forced.has(key) ? { ...m, tri: 'yes' } : m;
}

/** Whether an action can end or redirect the walk (a jump to a chain that only marks cannot). */
export function mayDecide(table: FirewallTable, action: Action, seen: Set<string> = new Set()): boolean {
  switch (action.kind) {
    case 'continue':
      return false;
    case 'jump':
    case 'goto': {
      if (seen.has(action.chain)) return false;
      seen.add(action.chain);
      const chain = table.chains.find((c) => c.name === action.chain);
      return chain?.rules.some((r) => mayDecide(table, r.action, seen)) ?? false;
    }
    case 'vmap':
      return action.entries.some((e) => mayDecide(table, e.action, seen));
    default:
      return true;
  }
}
