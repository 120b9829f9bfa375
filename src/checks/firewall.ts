import { port, text, z } from './params.js';
import { defineCheck, type CheckContext, type DecideContext } from './check.js';
import { blockingRuleFields, e, fields } from './evidence.js';
import { portLabel } from '../text/port-label.js';
import { isLoopback } from '../net/address.js';
import { findBlockingRules, type BlockingRule, type FirewallVerdict, type Protocol } from '../analysis/firewall/verdict.js';
import type { FirewallReading } from '../system/firewall/read.js';
import type { UfwStatus } from '../system/firewall/ufw.js';
import type { ResolvedAddress } from '../host/host.js';
import { actionText, blockingRuleEvidence, deniedCommands, kernelUnlisted, listCommand, readingText, whereText } from '../analysis/firewall/words.js';
import { banListOf, fail2banJails, unbanArgv, unbanNote, type Ban, type BanTime } from '../analysis/firewall/ban.js';
import type { SourceRule } from '../analysis/firewall/model.js';
import { showCommand } from '../text/command.js';
import { isIP } from 'node:net';

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

/**
 * The client the verdict is for, when known: the address --from names; with --ssh, the address the
 * client's probe came from, or the one the server sees it under when a NAT on the way rewrites it
 * ($SSH_CONNECTION shows an address that is not the client's own).
 */
export interface KnownClient {
  address: string;
  /** `from`: --from; `probe`: the probe's source address; `ssh`: $SSH_CONNECTION (no probe source known); `nat`: $SSH_CONNECTION, rewritten on the way. */
  how: 'from' | 'probe' | 'ssh' | 'nat';
  /** With `nat`: the client's own address, which the server does not see. */
  own?: string;
}

/** What the firewall step reads: every firewall tool's rules, and which of the target's addresses are this machine's. */
export interface FirewallReadings {
  reading: FirewallReading;
  /** The target's addresses that are this machine's (none: it does not resolve, or is another machine). */
  local: ResolvedAddress[];
  /** whyport runs as root: asked only when a tool refused to show its rules. */
  root?: boolean;
  /** The client whose connections are judged; none: any client on another machine. */
  client?: KnownClient;
  /** For a known client and a firewall with fail2ban's rules: each jail's bans and since when (`fail2ban-client get JAIL banip --with-time`). */
  bans?: { jail: string; command: string; ok: boolean; bans?: BanTime[]; error?: string }[];
}

/** The target's own addresses, each with the verdicts that apply to it (for the client, when one is known). */
function verdictsFor(portNumber: number, r: FirewallReadings, protocol: Protocol, client = r.client?.address): AddressVerdicts[] {
  // Not resolved, or not this machine's: judge for remote IPv4 clients, the common case.
  const targets = r.local.length ? r.local : [{ address: '', family: (client && isIP(client) === 6 ? 6 : 4) as 4 | 6 }];
  return targets.map((a) => {
    const loopbackTarget = a.address !== '' && isLoopback(a.address);
    const remoteAddress = client && isIP(client) === a.family ? { remoteAddress: client } : {};
    const v = findBlockingRules(portNumber, r.reading.rulesets, { family: a.family, protocol, ...remoteAddress, ...(a.address && !loopbackTarget ? { localAddress: a.address } : {}) });
    return { address: a.address, family: a.family, loopbackTarget, remote: v.remote, loopback: v.loopback };
  });
}

/** How the client's address was learnt, in a few words for a summary. */
export function knownClientText(c: KnownClient): string {
  switch (c.how) {
    case 'from':
      return `for the client ${c.address} (--from)`;
    case 'probe':
      return `for the client ${c.address} (the address its probe came from)`;
    case 'ssh':
      return `for the client ${c.address} (its ssh connection's address)`;
    case 'nat':
      return `for the client as the server sees it: ${c.address} (NAT: the client's own address is ${c.own ?? 'another'})`;
  }
}

/** The most fail2ban jails whose bans are asked for. */
const MAX_JAILS = 8;

/** Sources listed in a sentence before "and N more". */
const MAX_SOURCES_SAID = 3;

/** A rule that decides by the client's address, in a few words: "`-A f2b-sshd -s 10.0.0.7/32 -j REJECT` (fail2ban jail sshd) rejects clients from 10.0.0.7/32", "ufw's `80 ALLOW IN 10.9.0.0/24` admits only 10.9.0.0/24". */
function sourceRuleText(s: SourceRule): string {
  const list = banListOf(s);
  const named = s.tool === 'ufw' ? `ufw's \`${s.rule}\`` : `\`${s.rule}\` (${list ? `${list.by}${list.jail ? ` jail ${list.jail}` : ''}` : whereText(s)})`;
  const verb = s.verdict === 'accept' ? 'admits' : s.verdict === 'drop' ? 'drops' : 'rejects';
  const from = s.from.length ? `${s.from.slice(0, MAX_SOURCES_SAID).join(', ')}${s.from.length > MAX_SOURCES_SAID ? ` and ${s.from.length - MAX_SOURCES_SAID} more` : ''}` : 'some sources';
  return `${named} ${verb} ${s.verdict === 'accept' ? `only ${from}` : `clients from ${from}`}`;
}

/**
 * With no client known and the port let in: the rules that would drop or reject clients of some
 * addresses, in one sentence with the way to check one (empty when there are none).
 */
function sourceNoteOf(rules: readonly SourceRule[], label: string): string {
  const drops = rules.filter((s) => s.verdict !== 'accept');
  if (!drops.length) return '';
  const [first, ...more] = drops;
  const others = more.length ? `, and ${more.length} more rule${more.length > 1 ? 's' : ''} like it` : '';
  return `Clients from some addresses are still turned away: ${sourceRuleText(first!)} on port ${label}${others}; to check one client, run whyport again with --from ADDRESS.`;
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
  outcomes: ['blocks', 'banned', 'allows', 'no-permission', 'unknown'],
  refines: { banned: 'blocks' },
  params: z.object({
    port: port(),
    host: text(),
    /** With --ssh: the address the client's probe came from (the server may see it under another, behind a NAT). */
    client: z.optional(z.string()),
    /** --from ADDRESS: the client to judge for, on the server alone. */
    from: z.optional(z.string()),
  }),
  evidence: fields({
    /** The client judged for ('' when none is known), and how it was learnt. */
    client: e.str(), clientHow: e.str(), clientText: e.str(),
    /** A ban (outcome banned): { by, jail, address, since }. */
    ban: e.object({ by: e.str(), jail: e.optional(e.str()), address: e.str(), since: e.optional(e.str()) }),
    banText: e.str(), banCommand: e.str(),
    /** No client known and the port let in: rules that turn some sources away, and the sentence that says so ('' when none). */
    sourceRules: e.list(e.any()), sourceNote: e.str(),
    /** A known client blocked: the rules that admit other sources, not this one, in one sentence ('' when none). */
    notCovering: e.str(),
    ...blockingRuleFields,
    port: e.num(), portLabel: e.str(), address: e.str(), family: e.num(), clientSees: e.str(), clientCode: e.str(), remoteOnly: e.bool(), loopback: e.str(), sources: e.list(e.any()), verdicts: e.list(e.any()) }),
  describe: (p, at) => `reading the firewall rules for incoming ${at.target.protocol.toUpperCase()} port ${portLabel(p.port, at.target)}`,
  async read(p, ctx): Promise<FirewallReadings> {
    // The rule readers are loaded only when a walk reaches this step: most diagnoses never do.
    const { firewallRules } = await import('../system/firewall/read.js');
    const reading = await ctx.facts.read(firewallRules, undefined);
    const res = await ctx.facts.resolve(p.host);
    const own = res.ok ? await Promise.all(res.addresses.map((a) => ctx.facts.isLocalAddress(a.address))) : [];
    const readings: FirewallReadings = { reading, local: res.ok ? res.addresses.filter((_, i) => own[i]) : [] };
    if (!reading.permission) readings.root = (await ctx.facts.identity()).root;
    const client = await knownClient(p, ctx);
    if (client) {
      readings.client = client;
      const jails = fail2banJails(reading.rulesets).slice(0, MAX_JAILS);
      if (jails.length) {
        const { fail2banBansOf } = await import('../system/fail2ban.js');
        readings.bans = await Promise.all(jails.map((j) => ctx.facts.read(fail2banBansOf, j)));
      }
    }
    return readings;
  },
  decide: (r, p, at) => decideFirewall(r, p, at),
});

/** The client to judge for: --from; with --ssh, the probe's source or the address the server sees it under. */
async function knownClient(p: { client?: string | undefined; from?: string | undefined }, ctx: CheckContext): Promise<KnownClient | undefined> {
  const from = p.from?.trim();
  if (from && isIP(from)) return { address: from, how: 'from' };
  // Only a two-ended walk knows its client: whyport run by hand in an ssh session judges for any.
  if (!ctx.client) return undefined;
  const probe = p.client?.trim() && isIP(p.client.trim()) ? p.client.trim() : undefined;
  const seen = (await ctx.facts.identity()).via?.client;
  if (probe && seen && seen !== probe && isIP(seen) === isIP(probe) && !(await ctx.client.facts.isLocalAddress(seen))) return { address: seen, how: 'nat', own: probe };
  if (probe) return { address: probe, how: 'probe' };
  if (seen && isIP(seen)) return { address: seen, how: 'ssh' };
  return undefined;
}

/** The ban a block is, when the rule is a ban list's (fail2ban, sshguard) and the client is known; with since when, where fail2ban said. */
function banOf(b: BlockingRule, r: FirewallReadings): (Ban & { since?: string; until?: string }) | undefined {
  const client = r.client?.address;
  if (!client || b.policy) return undefined;
  const list = banListOf(b);
  if (!list) return undefined;
  const time = list.jail ? r.bans?.find((j) => j.jail === list.jail)?.bans?.find((x) => x.address === client) : undefined;
  return { ...list, address: client, ...(time ? { since: time.since, ...(time.until ? { until: time.until } : {}) } : {}) };
}

/**
 * A known client blocked: the rules that let other sources in and not this one (`ufw allow from
 * 10.9.0.0/24 to any port 80`), asked by judging again for an unknown client. '' when none.
 */
function notCoveringOf(portNumber: number, r: FirewallReadings, protocol: Protocol, family: 4 | 6, client: string): string {
  const anyone = verdictsFor(portNumber, r, protocol, '').filter((v) => v.family === family);
  const admits = [...new Map(anyone.flatMap((v) => (v.loopbackTarget ? v.loopback : v.remote).sourceRules ?? []).filter((x) => x.verdict === 'accept').map((x) => [x.rule, x])).values()];
  if (!admits.length) return '';
  return `${admits.map((x) => sourceRuleText(inUfwWords(x, r.reading.rulesets.ufw))).join('; ')}, not ${client}`;
}

/** A rule ufw wrote (its chain ufw-user-input), said as `ufw status` shows it when one of its rules has those sources. */
function inUfwWords(s: SourceRule, ufw: UfwStatus | undefined): SourceRule {
  if (!ufw?.active || !/^ufw6?-user-input$/.test(s.chain)) return s;
  const verdict = { accept: 'allow', drop: 'deny', reject: 'reject' }[s.verdict];
  const rule = ufw.rules.find((u) => u.direction === 'in' && (u.action === verdict || (verdict === 'allow' && u.action === 'limit')) && u.from.address !== undefined && s.from.includes(u.from.address));
  return rule ? { ...s, tool: 'ufw', table: 'filter', rule: rule.text.replace(/\s{2,}/g, ' ') } : s;
}

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
  const client = r.client;
  const who = client ? { client: client.address, clientHow: client.how, clientText: knownClientText(client) } : { client: '', clientHow: '', clientText: '' };
  const forClient = client ? ` ${who.clientText}` : '';

  if (blocked) {
    const b = relevant(blocked) as BlockingRule & { caveats: string[]; also: BlockingRule[] };
    const lo = blocked.loopback;
    const remoteOnly = !blocked.loopbackTarget && lo.verdict === 'accept';
    const loopbackText =
      blocked.loopbackTarget ? 'the target is a loopback address' :
      lo.verdict === 'accept' ? (lo.by ? `${what} over loopback are accepted before it, by \`${lo.by.rule}\` (${whereText(lo.by)})` : `${what} over loopback are let through`) :
      `${what} over loopback are blocked as well`;
    let summary = blockText(b, label, remoteOnly && !client, protocol) + forClient;
    if (remoteOnly) summary += `; ${loopbackText}`;
    const notCovering = client ? notCoveringOf(p.port, r, protocol, blocked.family, client.address) : '';
    if (notCovering) summary += `; ${notCovering}`;
    const ban = banOf(b, r);
    const evidence = {
      ...who,
      sourceNote: '',
      notCovering,
      port: p.port,
      portLabel: label,
      address: blocked.address,
      family: blocked.family,
      ...blockingRuleEvidence(b, `Let port ${label} in`),
      /** What a client gets back, and what whyport there makes of it (PORT_CLOSED, PORT_FILTERED, OPEN_OR_FILTERED). */
      clientSees: b.clientSees.reply,
      clientCode: b.clientSees.code,
      remoteOnly,
      loopback: loopbackText,
      also: b.also.map((a) => blockText(a, label, false, protocol)),
      sources,
      verdicts,
    };
    if (ban) {
      const argv = unbanArgv(ban, b);
      const banText = `${ban.by}${ban.jail ? ` jail ${ban.jail}` : ''} bans ${ban.address}${ban.since ? ` since ${ban.since}` : ''}`;
      const { until: _until, ...reported } = ban;
      const banSummary = `${banText}${ban.until ? ` (until ${ban.until})` : ''}: \`${b.rule}\` (${whereText(b)}) ${actionText(b)} its ${what} to port ${label}${client?.how === 'nat' ? `; the server sees the client as ${ban.address} (NAT)` : ''}`;
      const banEvidence = {
        ...evidence,
        ban: reported,
        banText,
        banCommand: ban.by === 'fail2ban' && ban.jail ? showCommand(['fail2ban-client', 'status', ban.jail]) : listCommand(b),
        fix: argv,
        fixCommand: showCommand(argv),
        fixNote: unbanNote(ban),
        fixSummary: `Lift the ban on ${ban.address}${ban.jail ? ` (${ban.by} jail ${ban.jail})` : ` (${ban.by})`}`,
        fixKind: 'unban',
      };
      return { outcome: 'banned' as const, status: 'fail' as const, summary: banSummary, command: banEvidence.banCommand, evidence: banEvidence };
    }
    return { outcome: 'blocks' as const, status: 'fail' as const, summary, command: listCommand(b), evidence };
  }

  // Asked about loopback, and loopback is fine: say so if remote clients would be blocked.
  const remoteBlocked = views.find((v) => v.loopbackTarget && v.remote.verdict !== 'accept');
  if (remoteBlocked && remoteBlocked.remote.verdict !== 'accept') {
    findings.push({ code: 'FIREWALL_BLOCKS_REMOTE', summary: `clients on other machines would be blocked: ${blockText(remoteBlocked.remote, label, true, protocol)}` });
  }
  const caveats = [...new Set(views.flatMap((v) => relevant(v).caveats))];
  for (const c of caveats) findings.push({ code: 'FIREWALL_CAVEAT', summary: c });
  // No client known: rules that turn clients of some addresses away are said in the verdict itself.
  const sourceRules = client ? [] : [...new Map(views.flatMap((v) => relevant(v).sourceRules ?? []).map((x) => [x.rule, x])).values()];
  const sourceNote = sourceNoteOf(sourceRules, label);
  const base = { ...who, sourceRules, sourceNote, notCovering: '', port: p.port, portLabel: label, sources, verdicts, caveats };

  if (!reading.permission) {
    const denied = reading.sources.filter((s) => s.status === 'denied');
    const root = r.root === true;
    const summary = `the firewall rules cannot be read${root ? '' : ' without root'} (${deniedCommands(reading)}: permission denied): run whyport as root (sudo) to see whether a rule blocks clients on other machines`;
    findings.push({ code: 'FIREWALL_UNREADABLE', summary });
    return { outcome: 'no-permission' as const, status: 'info' as const, summary, command: denied[0]?.command ?? 'nft list ruleset', evidence: base, findings };
  }
  // A front end that cannot be asked (firewalld without D-Bus, say) hides nothing once the kernel's rules are read.
  const unlisted = kernelUnlisted(reading);
  if (unlisted !== undefined) {
    const summary = `the firewall could not be checked: ${unlisted || 'neither nft nor iptables is installed, so the rules in the kernel cannot be listed'}`;
    findings.push({ code: 'FIREWALL_UNREADABLE', summary });
    return { outcome: 'unknown' as const, status: 'info' as const, summary, command: readCommands.join('; ') || 'nft list ruleset', evidence: base, findings };
  }
  const by = views.map((v) => relevant(v)).find((v): v is Extract<FirewallVerdict, { verdict: 'accept' }> => v.verdict === 'accept' && v.by !== undefined)?.by;
  const summary = `no firewall rule drops or rejects incoming ${what} to port ${label}${forClient}${by ? ` (accepted by \`${by.rule}\`, ${whereText(by)})` : ''}; ${readingText(reading)}`;
  return { outcome: 'allows' as const, status: 'pass' as const, summary, command: readCommands.join('; '), evidence: base, ...(findings.length ? { findings } : {}) };
}
