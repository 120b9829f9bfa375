import { describe, expect, it } from 'vitest';
import { baseChains, type KernelRulesets } from '../../../src/analysis/firewall/base-chains.js';
import type { IptablesRuleset, IptablesTable } from '../../../src/system/firewall/iptables.js';
import type { Hook } from '../../../src/system/firewall/model.js';
import type { NftChain, NftTable } from '../../../src/system/firewall/nft-model.js';

// Which base chains each walk enters, on plain objects: the filter walk every table's on
// prerouting and input, the nat walk the NAT chains of one hook, the proxies' FORWARD chain.

const nftChain = (name: string, hook: Hook, type = 'filter'): NftChain => ({ name, hook, type, priority: 0, rules: [] });
const nftTable = (family: NftTable['family'], name: string, chains: NftChain[], flags?: string[]): NftTable => ({ family, name, chains, sets: [], ...(flags ? { flags } : {}) });
const iptTable = (name: string, ...chains: [string, Hook][]): IptablesTable => ({ family: 'ip', name, chains: chains.map(([c, hook]) => ({ name: c, hook, type: name, builtin: true, rules: [] })) });
const iptables = (backend: IptablesRuleset['backend'], ...tables: IptablesTable[]): IptablesRuleset => ({ family: 4, backend, format: 'save', tables, warnings: [] });

const names = (rs: KernelRulesets, hooks: Hook[], tables: 'all' | 'nat', family: 4 | 6 = 4) => baseChains(rs, family, hooks, tables).map((b) => `${b.tool} ${b.table.name} ${b.chain.name}${b.binary ? ` (${b.binary})` : ''}`);

const nft = {
  tables: [
    nftTable('inet', 'filter', [nftChain('input', 'input'), nftChain('forward', 'forward'), nftChain('output', 'output')]),
    nftTable('ip', 'nat', [nftChain('prerouting', 'prerouting', 'nat'), nftChain('output', 'output', 'nat'), nftChain('mangle', 'prerouting', 'filter')]),
    nftTable('ip6', 'six', [nftChain('input', 'input')]),
    nftTable('inet', 'off', [nftChain('input', 'input')], ['dormant']),
    // What iptables-nft keeps in nft: read through iptables when its ruleset is given.
    nftTable('ip', 'filter', [nftChain('INPUT', 'input'), nftChain('FORWARD', 'forward')]),
  ],
};
const ipt = iptables('nf_tables', iptTable('filter', ['INPUT', 'input'], ['FORWARD', 'forward']), iptTable('nat', ['PREROUTING', 'prerouting'], ['OUTPUT', 'output']));

describe('baseChains', () => {
  it('filter: every table of the family on prerouting and input, nft first; dormant tables and other families left out', () => {
    expect(names({ nft }, ['prerouting', 'input'], 'all')).toEqual(['nftables filter input', 'nftables nat prerouting', 'nftables nat mangle', 'nftables filter INPUT']);
    expect(names({ nft }, ['input'], 'all', 6)).toEqual(['nftables filter input', 'nftables six input']);
  });

  it("nat: only NAT chains of the hook, nft's by type and iptables' by table", () => {
    expect(names({ nft, iptables: [ipt] }, ['prerouting'], 'nat')).toEqual(['nftables nat prerouting', 'iptables nat PREROUTING (iptables)']);
    expect(names({ nft, iptables: [ipt] }, ['output'], 'nat')).toEqual(['nftables nat output', 'iptables nat OUTPUT (iptables)']);
  });

  it('forward: the FORWARD chains, those of iptables-nft read once, through iptables', () => {
    expect(names({ nft, iptables: [ipt] }, ['forward'], 'all')).toEqual(['nftables filter forward', 'iptables filter FORWARD (iptables)']);
    // The legacy backend keeps its own tables: nft's `ip filter` is another one, walked as well.
    const legacy = iptables('legacy', iptTable('filter', ['FORWARD', 'forward']));
    expect(names({ nft, iptables: [legacy] }, ['forward'], 'all')).toEqual(['nftables filter forward', 'nftables filter FORWARD', 'iptables filter FORWARD (iptables-legacy)']);
  });
});
