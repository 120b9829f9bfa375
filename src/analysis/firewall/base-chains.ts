import type { IptablesRuleset } from '../../system/firewall/iptables.js';
import type { FirewallChain, FirewallTable, Hook, TableFamily } from '../../system/firewall/model.js';
import type { NftRuleset, NftTable } from '../../system/firewall/nft-model.js';

// Which chains a packet enters: the nft tables and the iptables tables of its family, each base
// chain on a hook, for the filter walk (every table) and the nat walk (the NAT chains).

/** The rulesets the walks read: nft, and iptables of either backend. */
export interface KernelRulesets {
  iptables?: readonly IptablesRuleset[];
  nft?: NftRuleset;
}

/** A base chain of the rulesets, with the tool that holds it. */
export interface BaseChain {
  tool: 'nftables' | 'iptables' | 'ip6tables';
  table: FirewallTable;
  chain: FirewallChain & { hook: Hook };
  /** iptables: the command that edits it (`iptables`, `ip6tables-legacy`, …). */
  binary?: string;
}

const IPTABLES_TABLES = new Set(['filter', 'raw', 'mangle', 'nat', 'security']);
const IPTABLES_BUILTINS = new Set(['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);

/** Whether an nft table of family `f` sees packets of `family` (an inet table sees both). */
export const familySees = (f: TableFamily, family: 4 | 6): boolean => f === 'inet' || f === (family === 4 ? 'ip' : 'ip6');

/** The iptables rulesets of the family. */
export const iptablesOf = (rs: KernelRulesets, family: 4 | 6) => (rs.iptables ?? []).filter((r) => r.family === family);

/**
 * The nft tables that packets of `family` meet and that the walks read through nft: not dormant,
 * and not one that iptables-nft keeps (`ip filter` etc.), which is read through iptables when an
 * iptables ruleset of the nf_tables backend was given (its view is exact; nft -j shows its
 * extensions only by name).
 */
export function nftTablesOf(rs: KernelRulesets, family: 4 | 6): NftTable[] {
  const iptablesNftSeen = iptablesOf(rs, family).some((r) => r.backend !== 'legacy');
  return (rs.nft?.tables ?? []).filter((table) => {
    if (table.flags?.includes('dormant') || !familySees(table.family, family)) return false;
    const ownedByIptables = iptablesNftSeen && table.family !== 'inet' && IPTABLES_TABLES.has(table.name) && table.chains.some((c) => IPTABLES_BUILTINS.has(c.name));
    return !ownedByIptables;
  });
}

/**
 * The base chains on `hooks` that packets of `family` enter, nft's first then iptables', each in
 * the order read (the caller sorts by priority). `nat`: only NAT chains (nft `type nat`, iptables'
 * nat table); `all`: every table's.
 */
export function baseChains(rs: KernelRulesets, family: 4 | 6, hooks: readonly Hook[], tables: 'all' | 'nat'): BaseChain[] {
  const on = (chain: FirewallChain): chain is FirewallChain & { hook: Hook } => chain.hook !== undefined && hooks.includes(chain.hook);
  const out: BaseChain[] = [];
  for (const table of nftTablesOf(rs, family)) {
    for (const chain of table.chains) {
      if (on(chain) && (tables === 'all' || chain.type === 'nat')) out.push({ tool: 'nftables', table, chain });
    }
  }
  for (const ruleset of iptablesOf(rs, family)) {
    const tool = family === 4 ? 'iptables' : 'ip6tables';
    const binary = ruleset.binary ?? (ruleset.backend === 'legacy' ? `${tool}-legacy` : tool);
    for (const table of ruleset.tables) {
      if (tables === 'nat' && table.name !== 'nat') continue;
      for (const chain of table.chains) if (on(chain)) out.push({ tool, table, chain, binary });
    }
  }
  return out;
}
