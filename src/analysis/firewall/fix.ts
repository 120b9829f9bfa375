import { showCommand } from '../../text/command.js';
import type { FirewallChain, FirewallTable, FirewallTool } from '../../system/firewall/model.js';
import type { FirewallFix } from './model.js';

// The command that lets the port in, in the words of the tool whose rule blocks it.

/** A fix: its argv, and the same as a person types it. */
export function fixOf(argv: string[], note?: string): FirewallFix {
  const fix: FirewallFix = { argv, command: showCommand(argv) };
  if (note) fix.note = note;
  return fix;
}

/** Inserts an accept for the port ahead of the blocking rule, in the chain that holds it. */
export function nftOrIptablesFix(tool: FirewallTool, table: FirewallTable, chain: FirewallChain, port: number, binary: string | undefined): FirewallFix {
  if (tool === 'nftables') {
    return fixOf(['nft', 'insert', 'rule', table.family, table.name, chain.name, 'tcp', 'dport', String(port), 'accept'], 'takes effect at once; add the rule to the ruleset file (/etc/nftables.conf) to keep it after a reboot');
  }
  const t = table.name === 'filter' ? [] : ['-t', table.name];
  return fixOf([binary ?? tool, ...t, '-I', chain.name, '-p', 'tcp', '--dport', String(port), '-j', 'ACCEPT'], `takes effect at once; save the rules (${tool === 'ip6tables' ? 'ip6tables-save > /etc/iptables/rules.v6' : 'netfilter-persistent save'}) to keep it after a reboot`);
}

/** `ufw allow PORT/tcp`, inserted first when a rule (not the default policy) blocks. */
export function ufwFix(policy: boolean, port: number): FirewallFix {
  // `ufw allow` appends (or updates an identical rule in place): enough against the default policy,
  // but a range or a source rule listed earlier would still win, so insert it first then.
  return policy ? fixOf(['ufw', 'allow', `${port}/tcp`]) : fixOf(['ufw', 'insert', '1', 'allow', `${port}/tcp`]);
}

/** `firewall-cmd --add-port`, in the zone when it is known. */
export function firewalldFix(zone: string | undefined, port: number): FirewallFix {
  const z = zone ? [`--zone=${zone}`] : [];
  return fixOf(['firewall-cmd', ...z, `--add-port=${port}/tcp`], `runtime only: run it again with --permanent to keep it after a reload`);
}
