import type { FirewallTool, Hook, Match } from '../../system/firewall/model.js';

/** A rule, located the way the user would look for it. */
export interface RuleRef {
  tool: FirewallTool;
  /** nft or iptables table (`inet filter`, `filter`); for a ufw or firewalld view, the table their rules live in. */
  table: string;
  chain: string;
  /** As the user would see it: `tcp dport 7071 drop`, `-A INPUT -p tcp -m tcp --dport 7071 -j DROP`, `7071/tcp DENY IN Anywhere`. */
  rule: string;
}

/** The command that lets the port in, for the tool that blocks it. */
export interface FirewallFix {
  argv: string[];
  /** argv as a person types it. */
  command: string;
  /** What the command does not do (persist across reboots, …). */
  note?: string;
  /** What it changes, in a few words: `Delete the rule \`tcp dport 7071 drop\``, `Let port 7071 in ahead of …`. */
  summary?: string;
  /** `remove`: the blocking rule goes; `narrow`: it stays and an accept for this port alone goes ahead of it. */
  kind?: 'remove' | 'narrow';
}

/**
 * How a block is to be fixed, decided once the whole firewall is known: remove the rule that
 * matched (it is about this port alone, and without it the port opens), or narrow it (it is a
 * policy or matches much more than this port, or something else would still block): `why` says
 * which, for the fix's note.
 */
export type FixPlan = { kind: 'remove' } | { kind: 'narrow'; why: string };

/** The rule (or policy) that drops or rejects the connection, and the command that lets it in. */
export interface BlockingRule extends RuleRef {
  verdict: 'drop' | 'reject';
  /** The chain's default policy (or ufw's default, firewalld's zone target) decided, not a rule. */
  policy?: boolean;
  /** For reject: how (`tcp-reset`, `icmpx admin-prohibited`, …). */
  rejectWith?: string;
  /** What a client sees, and so what whyport on the client diagnoses (for UDP: closed, filtered, or open-or-filtered). */
  clientSees: ClientSees;
  /** Chains walked from the base chain to the rule, e.g. `['INPUT', 'ufw-before-input', 'ufw-user-input']`. */
  path: string[];
  /** For ufw and firewalld: the kernel rule their configuration became, and what in that configuration blocks. */
  detail?: string;
  fix: FirewallFix;
}

/** The transport protocol of the packet asked about. */
export type Protocol = 'tcp' | 'udp';

/**
 * What comes back to the client from a drop or a reject, by nmap's rule: a TCP reset or an ICMP
 * port unreachable says closed; any other ICMP unreachable (admin-prohibited, host-unreachable, …)
 * says filtered; a drop answers nothing, which for UDP is also what an open port that ignores the
 * probe looks like.
 */
export interface ClientSees {
  /** `ICMP port unreachable`, `ICMPv6 administratively prohibited`, `TCP reset`, `no reply`. */
  reply: string;
  code: 'PORT_CLOSED' | 'PORT_FILTERED' | 'OPEN_OR_FILTERED';
}

/** What a NEW incoming TCP connection (or the first UDP datagram) to the port meets. */
export type FirewallVerdict =
  | { verdict: 'accept'; by?: RuleRef; caveats: string[]; sourceRules?: SourceRule[] }
  | (BlockingRule & { caveats: string[]; also: BlockingRule[]; sourceRules?: SourceRule[] });

/**
 * A rule that decides for some clients only, by their address, and would change the verdict for
 * them: fail2ban's `-s 10.0.0.7/32 -j REJECT`, `ufw allow from 10.9.0.0/24`. Listed when the
 * client's address is not known (present only when there is one).
 */
export interface SourceRule extends RuleRef {
  /** What it does to a client it matches. */
  verdict: 'accept' | 'drop' | 'reject';
  /** The sources it matches, as the rule names them (`10.0.0.7/32`, the elements of a set); empty when unreadable. */
  from: string[];
}

/** The verdicts for one port and family, from a remote client and over loopback. */
export interface PortFirewallVerdicts {
  port: number;
  family: 4 | 6;
  /** From another machine (any interface but lo, a non-loopback source). */
  remote: FirewallVerdict;
  /** From this machine over loopback (iif lo, 127.0.0.1 / ::1). */
  loopback: FirewallVerdict;
  /** Tools whose rules were walked. */
  consulted: FirewallTool[];
}

/** What is known about the client; anything left out is treated as unknown, never guessed. */
export interface FindBlockingOptions {
  /** IPv4 (default) or IPv6 connections. */
  family?: 4 | 6;
  /** TCP (default) connections or UDP datagrams. */
  protocol?: Protocol;
  /** The client's address, when known: rules restricted to sources are then decided instead of noted. */
  remoteAddress?: string;
  /** The address the client connects to, when known. */
  localAddress?: string;
  /** The interface remote clients arrive on, when known. */
  interface?: string;
}

// The shapes the walk passes between its parts.

/**
 * A new connection (a TCP SYN, or the first datagram of a UDP flow) as the rules of one hook see
 * it: the one packet model of the filter walk and the nat walk. A field left out is unknown, and a
 * condition that depends on it is undecided (`maybe`), never guessed.
 */
export interface Packet {
  family: 4 | 6;
  protocol: Protocol;
  dport: number;
  /**
   * Where the rules meet it: `prerouting` and `input` on its way in to a local socket (the two see
   * it alike), `output` from a program on this host, `forward` on its way through.
   */
  hook: 'prerouting' | 'input' | 'forward' | 'output';
  saddr?: string;
  daddr?: string;
  /** The interface it arrives on (a packet on `output` has none). */
  iif?: string;
  /**
   * Interfaces it is known not to arrive on, when `iif` is unknown: a remote client's packet
   * forwarded to a container does not come in on the bridge behind which the container sits.
   */
  notIif?: readonly string[];
  /** The interface it leaves by (none before routing, on `prerouting` and `input`). */
  oif?: string;
  /** The address types (`-m addrtype`, `fib daddr type`) its destination counts as: `LOCAL` for one of this host's addresses. */
  dstTypes: readonly string[];
  /** The same for its source. */
  srcTypes: readonly string[];
  /** A DNAT rule rewrote its destination (`ct status dnat`, `--ctstate DNAT`): a forwarded packet after PREROUTING's DNAT. */
  dnat?: boolean;
}

/** A match or a rule applies, does not, or cannot be told without knowing more about the client. */
export type Tri = 'yes' | 'no' | 'maybe';

/** What one base chain (or a ufw/firewalld view of one) decides. */
export interface Decision {
  kind: 'accept' | 'drop' | 'reject';
  /** The rule that decided; absent when the policy did. */
  rule?: string;
  chain: string;
  path: string[];
  rejectWith?: string;
  /** Set when the policy decided: its text as the tool shows it. */
  policyText?: string;
  /** An accept that is really a verdict whyport cannot follow (userspace queue, unknown target). */
  unknown?: string;
  /** A NAT rule ended the chain: the destination may now be another host or port. */
  nat?: string;
  /** The rule object that decided (a FirewallRule, or a UfwRule), for a fix that removes it. */
  matched?: object;
}

/** A rule that might apply: assumed not to, and tried the other way to see if it matters. */
export interface Undecided {
  key: object;
  text: string;
  chain: string;
  why: string[];
  /** The conditions that made it undecided, where they are not the key's own (a firewalld zone's). */
  matches?: readonly Match[];
}

/** A base chain a packet passes (or a ufw/firewalld view standing in for one), in hook and priority order. */
export interface Base {
  tool: FirewallTool;
  hook: Hook;
  priority: number;
  /** `inet filter`, `filter`… */
  table: string;
  chain: string;
  /** `skipped`: rules taken out, to ask whether the port would open without them. */
  decide(p: Packet, forced: ReadonlySet<object>, undecided: Undecided[], skipped?: ReadonlySet<object>): Decision;
  /** The user-facing description and the fix of a block this base decided (narrowing unless `plan` says remove). */
  describe(d: Decision, p: Packet, plan?: FixPlan): Omit<BlockingRule, 'verdict' | 'path' | 'clientSees'>;
}
