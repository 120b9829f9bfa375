import { port, text, z } from './params.js';
import { defineCheck, type DecideContext } from './check.js';
import { e, fields } from './evidence.js';
import { portLabel } from '../text/port-label.js';
import { isLoopback } from '../net/address.js';
import { findBlockingRules, type BlockingRule, type FirewallVerdict, type Protocol } from '../analysis/firewall/verdict.js';
import type { FirewallReading } from '../system/firewall/read.js';
import type { ResolvedAddress } from '../host/host.js';
import { actionText, KERNEL_SOURCES, listCommand, readingText, whereText } from '../analysis/firewall/words.js';

/** The verdicts for one address of the target: what a remote client meets, and what loopback meets. */
interface AddressVerdicts {
  address: string;
  family: 4 | 6;
  /** The target is a loopback address: only loopback clients matter. */
  loopbackTarget: boolean;
  remote: FirewallVerdict;
  loopback: FirewallVerdict;
}

/** What comes in: TCP's connections, UDP's datagrams. */
const traffic = (protocol: Protocol): string => (protocol === 'udp' ? 'datagrams' : 'connections');

/** For UDP, what the client's own whyport makes of the reply (nmap's rule); TCP's words stay as they were. */
function clientText(b: BlockingRule): string {
  const looks = b.clientSees.code === 'PORT_CLOSED' ? 'closed' : b.clientSees.code === 'PORT_FILTERED' ? 'filtered' : 'open or filtered';
  return `: a client gets ${b.clientSees.reply}, so from there the port looks ${looks}`;
}

/** One sentence for a block: which rule, what it does, and to whom. */
function blockText(b: BlockingRule, label: string, remoteOnly: boolean, protocol: Protocol): string {
  const whom = remoteOnly ? ' from other machines' : '';
  const seen = protocol === 'udp' ? clientText(b) : '';
  if (b.policy) return `${whereText(b)}: the default policy (${b.rule}) ${actionText(b)} ${traffic(protocol)} to port ${label}${whom}: no rule accepts them first${seen}`;
  return `${whereText(b)}: \`${b.rule}\` ${actionText(b)} ${traffic(protocol)} to port ${label}${whom}${seen}`;
}

/** What the firewall step reads: every firewall tool's rules, and which of the target's addresses are this machine's. */
export interface FirewallReadings {
  reading: FirewallReading;
  /** The target's addresses that are this machine's (none: it does not resolve, or is another machine). */
  local: ResolvedAddress[];
  /** whyport runs as root: asked only when a tool refused to show its rules. */
  root?: boolean;
}

/** The target's own addresses, each with the verdicts that apply to it. */
function verdictsFor(portNumber: number, r: FirewallReadings, protocol: Protocol): AddressVerdicts[] {
  // Not resolved, or not this machine's: judge for remote IPv4 clients, the common case.
  const targets = r.local.length ? r.local : [{ address: '', family: 4 as const }];
  return targets.map((a) => {
    const loopbackTarget = a.address !== '' && isLoopback(a.address);
    const v = findBlockingRules(portNumber, r.reading.rulesets, { family: a.family, protocol, ...(a.address && !loopbackTarget ? { localAddress: a.address } : {}) });
    return { address: a.address, family: a.family, loopbackTarget, remote: v.remote, loopback: v.loopback };
  });
}

/**
 * Does this machine's firewall let a new incoming TCP connection (or UDP datagram, as the target's
 * protocol says) to the port in? Reads every
 * firewall tool installed (nftables, iptables and ip6tables on both backends, ufw, firewalld) and
 * walks the chains a packet passes, for a client on another machine and for one over loopback:
 * a loopback accept before a drop is why local tests pass while remote clients fail.
 */
export const firewall = defineCheck({
  description: "Read this machine's firewall and find the rule that drops or rejects incoming TCP connections (or UDP datagrams) to the port",
  outcomes: ['blocks', 'allows', 'no-permission', 'unknown'],
  params: z.object({ port: port(), host: text() }),
  evidence: fields({ port: e.num(), portLabel: e.str(), address: e.str(), family: e.num(), tool: e.str(), table: e.str(), chain: e.str(), rule: e.str(), verdict: e.str(), action: e.str(), clientSees: e.str(), clientCode: e.str(), policy: e.bool(), path: e.str(), detail: e.str(), where: e.str(), fix: e.list(e.str()), fixCommand: e.str(), fixNote: e.str(), fixSummary: e.str(), fixKind: e.str(), remoteOnly: e.bool(), loopback: e.str(), caveats: e.list(e.str()), also: e.list(e.str()), sources: e.list(e.any()), verdicts: e.list(e.any()) }),
  describe: (p, at) => `reading the firewall rules for incoming ${at.target.protocol.toUpperCase()} port ${portLabel(p.port, at.target)}`,
  async read(p, ctx): Promise<FirewallReadings> {
    // The rule readers are loaded only when a walk reaches this step: most diagnoses never do.
    const { firewallRules } = await import('../system/firewall/read.js');
    const reading = await ctx.facts.read(firewallRules, undefined);
    const res = await ctx.facts.resolve(p.host);
    const own = res.ok ? await Promise.all(res.addresses.map((a) => ctx.facts.isLocalAddress(a.address))) : [];
    const readings: FirewallReadings = { reading, local: res.ok ? res.addresses.filter((_, i) => own[i]) : [] };
    if (!reading.permission) readings.root = (await ctx.facts.identity()).root;
    return readings;
  },
  decide: (r, p, at) => decideFirewall(r, p, at),
});

/** The pure decision of the firewall step. */
export function decideFirewall(r: FirewallReadings, p: { port: number }, at: DecideContext) {
  const label = portLabel(p.port, at.target);
  const protocol = at.target.protocol;
  const what = traffic(protocol);
  const reading = r.reading;
  const views = verdictsFor(p.port, r, protocol);
  const relevant = (v: AddressVerdicts) => (v.loopbackTarget ? v.loopback : v.remote);
  const blocked = views.find((v) => relevant(v).verdict !== 'accept');
  const readCommands = reading.sources.filter((s) => s.status === 'ok').map((s) => s.command);
  const sources = reading.sources.map((s) => ({ name: s.name, status: s.status, command: s.command, ...(s.error ? { error: s.error } : {}) }));
  const verdicts = views.map((v) => ({ address: v.address, family: v.family, remote: v.remote, loopback: v.loopback }));
  const findings: { code: string; summary: string }[] = [];

  if (blocked) {
    const b = relevant(blocked) as BlockingRule & { caveats: string[]; also: BlockingRule[] };
    const lo = blocked.loopback;
    const remoteOnly = !blocked.loopbackTarget && lo.verdict === 'accept';
    const loopbackText =
      blocked.loopbackTarget ? 'the target is a loopback address' :
      lo.verdict === 'accept' ? (lo.by ? `${what} over loopback are accepted before it, by \`${lo.by.rule}\` (${whereText(lo.by)})` : `${what} over loopback are let through`) :
      `${what} over loopback are blocked as well`;
    let summary = blockText(b, label, remoteOnly, protocol);
    if (remoteOnly) summary += `; ${loopbackText}`;
    const evidence = {
      port: p.port,
      portLabel: label,
      address: blocked.address,
      family: blocked.family,
      tool: b.tool,
      table: b.table,
      chain: b.chain,
      rule: b.rule,
      verdict: b.verdict,
      action: actionText(b),
      /** What a client gets back, and what whyport there makes of it (PORT_CLOSED, PORT_FILTERED, OPEN_OR_FILTERED). */
      clientSees: b.clientSees.reply,
      clientCode: b.clientSees.code,
      policy: b.policy === true,
      path: b.path.join(' → '),
      detail: b.detail ?? '',
      where: whereText(b),
      /** The fix as argv (the playbook names its words one by one), and as typed. */
      fix: b.fix.argv,
      fixCommand: b.fix.command,
      fixNote: b.fix.note ?? '',
      /** What the fix changes: the rule it deletes, or the accept it puts ahead of a rule that blocks more than this port. */
      fixSummary: b.fix.summary ?? `Let port ${label} in`,
      /** `remove` (the blocking rule goes) or `narrow` (it stays; an accept for this port alone goes ahead of it). */
      fixKind: b.fix.kind ?? 'narrow',
      remoteOnly,
      loopback: loopbackText,
      caveats: b.caveats,
      also: b.also.map((a) => blockText(a, label, false, protocol)),
      sources,
      verdicts,
    };
    return { outcome: 'blocks' as const, status: 'fail' as const, summary, command: listCommand(b), evidence };
  }

  // Asked about loopback, and loopback is fine: say so if remote clients would be blocked.
  const remoteBlocked = views.find((v) => v.loopbackTarget && v.remote.verdict !== 'accept');
  if (remoteBlocked && remoteBlocked.remote.verdict !== 'accept') {
    findings.push({ code: 'FIREWALL_BLOCKS_REMOTE', summary: `clients on other machines would be blocked: ${blockText(remoteBlocked.remote, label, true, protocol)}` });
  }
  const caveats = [...new Set(views.flatMap((v) => relevant(v).caveats))];
  for (const c of caveats) findings.push({ code: 'FIREWALL_CAVEAT', summary: c });
  const base = { port: p.port, portLabel: label, sources, verdicts, caveats };

  if (!reading.permission) {
    const denied = reading.sources.filter((s) => s.status === 'denied');
    const root = r.root === true;
    const summary = `the firewall rules cannot be read${root ? '' : ' without root'} (${denied.map((s) => s.command).join(', ')}: permission denied): run whyport as root (sudo) to see whether a rule blocks clients on other machines`;
    findings.push({ code: 'FIREWALL_UNREADABLE', summary });
    return { outcome: 'no-permission' as const, status: 'info' as const, summary, command: denied[0]?.command ?? 'nft list ruleset', evidence: base, findings };
  }
  // ufw and firewalld only ever act through nftables or iptables rules: once those are read, a
  // front end that cannot be asked (firewalld without D-Bus, say) hides nothing.
  const kernel = reading.sources.filter((s) => KERNEL_SOURCES.has(s.name));
  if (!kernel.some((s) => s.status === 'ok')) {
    const failed = kernel.filter((s) => s.status === 'error');
    const why = failed.length ? failed.map((s) => `${s.command}: ${s.error}`).join('; ') : 'neither nft nor iptables is installed, so the rules in the kernel cannot be listed';
    const summary = `the firewall could not be checked: ${why}`;
    findings.push({ code: 'FIREWALL_UNREADABLE', summary });
    return { outcome: 'unknown' as const, status: 'info' as const, summary, command: readCommands.join('; ') || 'nft list ruleset', evidence: base, findings };
  }
  const by = views.map((v) => relevant(v)).find((v): v is Extract<FirewallVerdict, { verdict: 'accept' }> => v.verdict === 'accept' && v.by !== undefined)?.by;
  const summary = `no firewall rule drops or rejects incoming ${what} to port ${label}${by ? ` (accepted by \`${by.rule}\`, ${whereText(by)})` : ''}; ${readingText(reading)}`;
  return { outcome: 'allows' as const, status: 'pass' as const, summary, command: readCommands.join('; '), evidence: base, ...(findings.length ? { findings } : {}) };
}
