import { showCommand } from '../../text/command.js';
import type { FirewallChain, FirewallTable, FirewallTool } from '../../system/firewall/model.js';
import type { UfwRule } from '../../system/firewall/ufw.js';
import { FIREWALLD_UDP_SERVICES } from '../../knowledge/firewalld-services.js';
import type { FirewallFix, Protocol } from './model.js';

// The command that lets the port in, in the words of the tool whose rule blocks it.

/** A fix: its argv, and the same as a person types it. */
export function fixOf(argv: string[], note?: string): FirewallFix {
  const fix: FirewallFix = { argv, command: showCommand(argv) };
  if (note) fix.note = note;
  return fix;
}

/** Inserts an accept for the port ahead of the blocking rule, in the chain that holds it. */
export function nftOrIptablesFix(tool: FirewallTool, table: FirewallTable, chain: FirewallChain, port: number, protocol: Protocol, binary: string | undefined): FirewallFix {
  if (tool === 'nftables') {
    return fixOf(['nft', 'insert', 'rule', table.family, table.name, chain.name, protocol, 'dport', String(port), 'accept'], 'takes effect at once; add the rule to the ruleset file (/etc/nftables.conf) to keep it after a reboot');
  }
  const t = table.name === 'filter' ? [] : ['-t', table.name];
  return fixOf([binary ?? tool, ...t, '-I', chain.name, '-p', protocol, '--dport', String(port), '-j', 'ACCEPT'], `takes effect at once; save the rules (${tool === 'ip6tables' ? 'ip6tables-save > /etc/iptables/rules.v6' : 'netfilter-persistent save'}) to keep it after a reboot`);
}

/**
 * `ufw allow PORT/PROTO`, inserted first when a rule (not the default policy) blocks. A blocking
 * rule that is the same as the allow but for its action (`53/udp DENY IN Anywhere`, `7071/tcp
 * DENY IN Anywhere`) is updated in place by `ufw allow`: ufw skips an `insert` of it ("Skipping
 * inserting existing rule", test/fixtures/ufw/udp-fix-insert.txt), so that fix would do nothing.
 */
export function ufwFix(policy: boolean, port: number, protocol: Protocol, rule?: UfwRule): FirewallFix {
  const spec = `${port}/${protocol}`;
  // `ufw allow` appends (or updates an identical rule in place): enough against the default policy,
  // but a range or a source rule listed earlier would still win, so insert it first then.
  const inPlace = rule !== undefined && sameRuleBut(rule, port, protocol);
  return policy || inPlace ? fixOf(['ufw', 'allow', spec]) : fixOf(['ufw', 'insert', '1', 'allow', spec]);
}

/** The rule is `PORT/PROTO … Anywhere` for just this port, with nothing else to tell it from `ufw allow PORT/PROTO`. */
function sameRuleBut(rule: UfwRule, port: number, protocol: Protocol): boolean {
  const { to, from } = rule;
  const onePort = to.ports?.length === 1 && to.ports[0]![0] === port && to.ports[0]![1] === port;
  return onePort && to.protocol === protocol && !to.address && !to.interface && !to.app && !from.address && !from.ports && !from.app && rule.direction === 'in';
}

/** `firewall-cmd --add-port`, in the zone when it is known; for UDP, the stock service that covers the port is named too. */
export function firewalldFix(zone: string | undefined, port: number, protocol: Protocol): FirewallFix {
  const z = zone ? [`--zone=${zone}`] : [];
  const runtime = 'runtime only: run it again with --permanent to keep it after a reload';
  const service = protocol === 'udp' ? FIREWALLD_UDP_SERVICES[port] : undefined;
  const or = service ? `; or let the service in: ${showCommand(['firewall-cmd', ...z, `--add-service=${service.name}`])} (${service.ports})` : '';
  return fixOf(['firewall-cmd', ...z, `--add-port=${port}/${protocol}`], `${runtime}${or}`);
}

