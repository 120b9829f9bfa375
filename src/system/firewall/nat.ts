import type { Host } from '../../host/host.js';
import { parseIptablesSave, type IptablesRuleset } from './iptables.js';
import { parseNftJson, type NftRuleset } from './nft.js';
import { NAT_READ_ARGV } from './nat-argv.js';

/** The commands that read the nat rules: a few ms each, unlike ufw's or firewalld's Python programs. */
export { NAT_READ_ARGV };

/**
 * The nat rules only — `nft -j list ruleset` and the nat tables of iptables-save and
 * ip6tables-save — for following a forward, which a closed port should not wait on ufw for. A tool
 * that is missing, refuses or prints what cannot be parsed is left out.
 */
export async function readNatRules(host: Host, opts: { timeoutMs: number }): Promise<{ iptables: IptablesRuleset[]; nft?: NftRuleset }> {
  const [nft, v4, v6] = await Promise.all(NAT_READ_ARGV.map((argv) => host.run(argv, { timeoutMs: opts.timeoutMs })));
  const parsed = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch {
      return undefined;
    }
  };
  const iptables: IptablesRuleset[] = [];
  for (const [r, family] of [[v4!, 4], [v6!, 6]] as const) {
    if (r.exitCode === 0 && r.stdout.trim()) {
      const set = parsed(() => parseIptablesSave(r.stdout, { family }));
      if (set) iptables.push(set);
    }
  }
  const nftSet = nft!.exitCode === 0 && nft!.stdout.trim() ? parsed(() => parseNftJson(nft!.stdout)) : undefined;
  return { iptables, ...(nftSet ? { nft: nftSet } : {}) };
}
