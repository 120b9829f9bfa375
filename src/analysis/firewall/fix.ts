import { showCommand } from '../../text/command.js';
import type { FirewallChain, FirewallRule, FirewallTable, FirewallTool, Match } from '../../system/firewall/model.js';
import type { UfwRule } from '../../system/firewall/ufw.js';
import { FIREWALLD_UDP_SERVICES } from '../../knowledge/firewalld-services.js';
import type { FirewallFix, FixPlan, Protocol } from './model.js';

// The command that lets the port in, in the words of the tool whose rule blocks it: the rule that
// drops it removed when that rule is about this port alone and nothing else would block it then;
// otherwise the rule stays and an accept for this port alone goes ahead of it (narrowing it).

/** A fix: its argv, and the same as a person types it. */
export function fixOf(argv: string[], note?: string, extra: Pick<FirewallFix, 'summary' | 'kind'> = {}): FirewallFix {
  const fix: FirewallFix = { argv, command: showCommand(argv), ...extra };
  if (note) fix.note = note;
  return fix;
}

/** Whether a rule's own matches name this one port and no other (`tcp dport 7071`, `--dport 7071`): removing it opens nothing else. */
export function onlyThisPort(matches: readonly Match[], port: number): boolean {
  const dports = matches.filter((m): m is Extract<Match, { kind: 'dport' }> => m.kind === 'dport');
  return dports.length > 0 && dports.every((m) => !m.negate && m.ports !== null && m.ports.length === 1 && m.ports[0]![0] === port && m.ports[0]![1] === port);
}

/** Where a connection that leaves this host goes: forwarded (after a DNAT) or outgoing (a program here connects). */
export interface Destination {
  address: string;
  way: 'forwarded' | 'outgoing';
}

const NFT_PERSIST = 'takes effect at once; change the ruleset file (/etc/nftables.conf) the same way to keep it after a reboot';
const iptablesPersist = (tool: FirewallTool) => `takes effect at once; save the rules (${tool === 'ip6tables' ? 'ip6tables-save > /etc/iptables/rules.v6' : 'netfilter-persistent save'}) to keep it after a reboot`;

/**
 * The fix for a block in an nft or iptables chain: with a `remove` plan, delete the very rule
 * that matched (nft by its handle, iptables by its exact spec, in the chain that holds it); else
 * insert an accept for the port alone at the top of the base chain the packet enters. A connection
 * that leaves for another machine (`to`: forwarded, its destination after DNAT; or outgoing, made
 * by a program on this host) is narrowed to that address and port, so the accept lets nothing
 * else through the forward or output hook.
 */
export function nftOrIptablesFix(tool: FirewallTool, table: FirewallTable, chain: FirewallChain, port: number, protocol: Protocol, binary: string | undefined, removal?: { plan: FixPlan; rule?: FirewallRule; chain: string }, to?: Destination): FirewallFix {
  const t = table.name === 'filter' ? [] : ['-t', table.name];
  const forwardTo = to?.address;
  const what = to ? `${to.way} ${protocol.toUpperCase()} to ${to.address} port ${port}` : `the port`;
  if (removal?.plan.kind === 'remove' && removal.rule) {
    const summary = `Delete the rule \`${removal.rule.text}\` (${tool === 'nftables' ? `${table.family} ${table.name}` : `table ${table.name}`}, chain ${removal.chain}): it is about port ${port} alone, and nothing else blocks ${what} without it`;
    const handle = (removal.rule as { handle?: number }).handle;
    if (tool === 'nftables' && handle !== undefined) {
      return fixOf(['nft', 'delete', 'rule', table.family, table.name, removal.chain, 'handle', String(handle)], NFT_PERSIST, { summary, kind: 'remove' });
    }
    const args = (removal.rule as { args?: string[] }).args;
    if (tool !== 'nftables' && args?.length) {
      return fixOf([binary ?? tool, ...t, '-D', removal.chain, ...args], iptablesPersist(tool), { summary, kind: 'remove' });
    }
  }
  const why = removal?.plan.kind === 'narrow' ? `${removal.plan.why}, so it stays; ` : '';
  const where = `${tool === 'nftables' ? `${table.family} ${table.name}` : `table ${table.name}`} chain ${chain.name}`;
  if (forwardTo) {
    const six = forwardTo.includes(':');
    const summary = `Let ${what} ${to!.way === 'outgoing' ? 'out' : 'through'} ahead of what blocks it: an accept for that destination alone, first in ${where}`;
    if (tool === 'nftables') {
      return fixOf(['nft', 'insert', 'rule', table.family, table.name, chain.name, six ? 'ip6' : 'ip', 'daddr', forwardTo, protocol, 'dport', String(port), 'accept'], `${why}${NFT_PERSIST}`, { summary, kind: 'narrow' });
    }
    return fixOf([binary ?? tool, ...t, '-I', chain.name, '-d', forwardTo, '-p', protocol, '--dport', String(port), '-j', 'ACCEPT'], `${why}${iptablesPersist(tool)}`, { summary, kind: 'narrow' });
  }
  const summary = `Let port ${port} in ahead of what blocks it: an accept for ${protocol.toUpperCase()} port ${port} alone, first in ${where}`;
  if (tool === 'nftables') {
    return fixOf(['nft', 'insert', 'rule', table.family, table.name, chain.name, protocol, 'dport', String(port), 'accept'], `${why}${NFT_PERSIST}`, { summary, kind: 'narrow' });
  }
  return fixOf([binary ?? tool, ...t, '-I', chain.name, '-p', protocol, '--dport', String(port), '-j', 'ACCEPT'], `${why}${iptablesPersist(tool)}`, { summary, kind: 'narrow' });
}

/**
 * `ufw route allow` for a forwarded connection: ufw's route rules and default routed policy are
 * what its FORWARD chains hold. Inserted first when a rule (not the policy) blocks, so it wins.
 */
export function ufwRouteFix(policy: boolean, to: string, port: number, protocol: Protocol, plan?: FixPlan): FirewallFix {
  const why = plan?.kind === 'narrow' ? `${plan.why}, so it stays; ` : '';
  const rule = ['allow', 'proto', protocol, 'from', 'any', 'to', to, 'port', String(port)];
  const summary = `Let forwarded ${protocol.toUpperCase()} to ${to} port ${port} through ufw${policy ? "'s default routed policy" : "'s route rules"}`;
  return fixOf(['ufw', 'route', ...(policy ? [] : ['insert', '1']), ...rule], `${why}kept by ufw`, { summary, kind: 'narrow' });
}

/**
 * `ufw allow PORT/PROTO`, inserted first when a rule (not the default policy) blocks. A blocking
 * rule that is the same as the allow but for its action (`53/udp DENY IN Anywhere`, `7071/tcp
 * DENY IN Anywhere`) is updated in place by `ufw allow`: ufw skips an `insert` of it ("Skipping
 * inserting existing rule", test/fixtures/ufw/udp-fix-insert.txt), so that fix would do nothing.
 */
export function ufwFix(policy: boolean, port: number, protocol: Protocol, rule?: UfwRule, plan?: FixPlan): FirewallFix {
  const spec = `${port}/${protocol}`;
  // The rule is about this port alone and the default policy lets the port in without it: delete it.
  if (plan?.kind === 'remove' && rule) {
    const del = ufwDeleteArgv(rule, port);
    if (del) return fixOf(del, 'takes effect at once and is kept by ufw', { summary: `Delete ufw's rule \`${rule.text}\`: it is about port ${port} alone, and nothing else blocks the port without it`, kind: 'remove' });
  }
  const why = plan?.kind === 'narrow' ? `${plan.why}, so it stays; ` : '';
  // `ufw allow` appends (or updates an identical rule in place): enough against the default policy,
  // but a range or a source rule listed earlier would still win, so insert it first then.
  const inPlace = rule !== undefined && sameRuleBut(rule, port, protocol);
  if (inPlace) return fixOf(['ufw', 'allow', spec], `${why}ufw turns \`${rule.text}\` into an allow in place (a rule of the same port and protocol); kept by ufw`, { summary: `Turn ufw's rule \`${rule.text}\` into an allow`, kind: 'narrow' });
  if (policy) return fixOf(['ufw', 'allow', spec], `${why}ufw's default policy stays; kept by ufw`, { summary: `Let ${spec} in through ufw's default policy (${rule ? 'a rule' : 'deny incoming'} stays for every other port)`, kind: 'narrow' });
  return fixOf(['ufw', 'insert', '1', 'allow', spec], `${why}kept by ufw`, { summary: `Let ${spec} in ahead of ufw's rule${rule ? ` \`${rule.text}\`` : ''}`, kind: 'narrow' });
}

/**
 * The fix for a block by ufw's outgoing side (a `deny out` rule, or `deny (outgoing)`): the rule
 * deleted when it is about this port alone and nothing else would block without it; else an
 * `allow out` to this destination and port alone, first when a rule blocks (so it wins), appended
 * against the default policy.
 */
export function ufwOutFix(policy: boolean, to: string, port: number, protocol: Protocol, rule?: UfwRule, plan?: FixPlan): FirewallFix {
  if (plan?.kind === 'remove' && rule) {
    const del = ufwDeleteArgv(rule, port);
    if (del) return fixOf(del, 'takes effect at once and is kept by ufw', { summary: `Delete ufw's rule \`${rule.text}\`: it is about port ${port} alone, and nothing else blocks outgoing ${protocol.toUpperCase()} to ${to} port ${port} without it`, kind: 'remove' });
  }
  const why = plan?.kind === 'narrow' ? `${plan.why}, so it stays; ` : '';
  const allow = ['allow', 'out', 'to', to, 'port', String(port), 'proto', protocol];
  const summary = `Let outgoing ${protocol.toUpperCase()} to ${to} port ${port} out through ufw${policy ? "'s default outgoing policy" : ` ahead of its rule${rule ? ` \`${rule.text}\`` : ''}`}`;
  return fixOf(['ufw', ...(policy ? [] : ['insert', '1']), ...allow], `${why}kept by ufw`, { summary, kind: 'narrow' });
}

/** `ufw delete deny 7071/tcp`, or the long form for a rule with a source (`… from 10.0.0.0/8 to any port 7071 proto tcp`); undefined for what ufw's spec cannot say simply. */
function ufwDeleteArgv(rule: UfwRule, port: number): string[] | undefined {
  const { to, from } = rule;
  if (rule.direction === 'fwd' || to.interface || to.app || from.app || from.ports || rule.log) return undefined;
  if (!(to.ports?.length === 1 && to.ports[0]![0] === port && to.ports[0]![1] === port)) return undefined;
  const proto = to.protocol ?? from.protocol;
  const out = rule.direction === 'out' ? ['out'] : [];
  if (!from.address && !to.address) return ['ufw', 'delete', rule.action, ...out, proto ? `${port}/${proto}` : String(port)];
  return ['ufw', 'delete', rule.action, ...out, 'from', from.address ?? 'any', 'to', to.address ?? 'any', 'port', String(port), ...(proto ? ['proto', proto] : [])];
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

