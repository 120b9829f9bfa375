/**
 * The shape every firewall parser produces, so one walker can follow nftables and iptables alike:
 * tables of chains of rules, each rule reduced to the matches and the action that decide whether
 * it applies to one incoming TCP connection. Anything a rule does that whyport does not model is
 * kept as an `other` match (it may or may not apply) rather than dropped, so it can be reported.
 */

/** The tools that can hold the rule that blocks a port. */
export type FirewallTool = 'nftables' | 'iptables' | 'ip6tables' | 'ufw' | 'firewalld';

/** Netfilter hooks a packet to a local socket passes, in the order it passes them. */
export type Hook = 'ingress' | 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/** An inclusive port range; a single port is [p, p]. */
export type PortRange = readonly [number, number];

/** Transport protocols named by a `dport` match; `th` is nft's "any transport header". */
export type PortProtocol = 'tcp' | 'udp' | 'sctp' | 'dccp' | 'udplite' | 'th';

/** One condition of a rule. `negate` inverts it (`!=`, `! -s`, …). */
export type Match =
  /** Destination port in a set of ranges; `ports: null` when the set's content is unknown. */
  | { kind: 'dport'; protocol: PortProtocol; ports: readonly PortRange[] | null; negate: boolean }
  /** The source port: unknown for a client (ephemeral), so it never decides a verdict. */
  | { kind: 'sport'; protocol: PortProtocol; ports: readonly PortRange[] | null; negate: boolean }
  /** Layer-4 protocol by name (`tcp`, `udp`, `icmp`, `ipv6-icmp`, `gre`, …). */
  | { kind: 'protocol'; protocols: readonly string[]; negate: boolean }
  /** Input interface; names may end in `*` (nft) or `+` (iptables) as a wildcard. */
  | { kind: 'iif'; names: readonly string[]; negate: boolean }
  /** Output interface: not set on the input path, so it never matches there. */
  | { kind: 'oif'; names: readonly string[]; negate: boolean }
  /** Source or destination address in a list of CIDR prefixes; `prefixes: null` when unknown. */
  | { kind: 'saddr' | 'daddr'; prefixes: readonly string[] | null; negate: boolean }
  /** Conntrack state (`new`, `established`, `related`, `invalid`, `untracked`). */
  | { kind: 'ctstate'; states: readonly string[]; negate: boolean }
  /** The packet is IPv4 (4) or IPv6 (6): `meta nfproto`, or implied by `ip saddr`, `reject with icmp`… */
  | { kind: 'family'; family: 4 | 6 }
  /** TCP flags of the packet compared under a mask, as `--tcp-flags MASK COMP` or `tcp flags & MASK == COMP`. */
  | { kind: 'tcpflags'; mask: readonly string[]; set: readonly string[]; op: 'eq' | 'any'; negate: boolean }
  /** Destination address type (`LOCAL`, `BROADCAST`, `MULTICAST`, …), from `-m addrtype` or `fib daddr type`. */
  | { kind: 'dsttype' | 'srctype'; types: readonly string[]; negate: boolean }
  /** Reverse-path lookup (`fib … oif missing`, `-m rpfilter`): passes for ordinary traffic. */
  | { kind: 'rpfilter'; failing: boolean }
  /** The packet was DNATed (`ct status dnat`): not the case for a connection straight to the port. */
  | { kind: 'dnat'; negate: boolean }
  /** Anything else (rate limits, marks, recent lists, …): it may or may not apply. */
  | { kind: 'other'; text: string };

/** What a rule does once its matches apply. */
export type Action =
  | { kind: 'accept' }
  | { kind: 'drop' }
  | { kind: 'reject'; with?: string }
  | { kind: 'jump'; chain: string }
  | { kind: 'goto'; chain: string }
  | { kind: 'return' }
  /** Counters, logging, marking: the walk goes on to the next rule. */
  | { kind: 'continue' }
  /** A verdict map: the first entry whose match applies decides; none applies → next rule. */
  | { kind: 'vmap'; entries: readonly { match: Match; action: Action }[] }
  /** NAT statements end the chain without dropping the packet. */
  | { kind: 'nat'; text: string }
  /** A verdict whyport cannot follow (a userspace queue, an unknown target): it ends the chain. */
  | { kind: 'unknown'; text: string };

/** One rule as the user sees it, and what it means. */
export interface FirewallRule {
  /** As the tool prints it: `tcp dport 7071 drop`, `-A INPUT -p tcp -m tcp --dport 7071 -j DROP`. */
  text: string;
  matches: Match[];
  action: Action;
}

/** A chain: base chains (with a hook) are entered by packets, the others only by jumps. */
export interface FirewallChain {
  name: string;
  /** Set for base chains, which packets enter; user chains are only reached by jumps. */
  hook?: Hook;
  /** Lower runs first among base chains on the same hook (nft priorities; iptables tables mapped to them). */
  priority?: number;
  /** What happens at the end of a base chain (accept when none is set). */
  policy?: 'accept' | 'drop';
  /** nft chain type (`filter`, `nat`, `route`) or the iptables table. */
  type?: string;
  rules: FirewallRule[];
}

/** nft families; iptables tables are `ip`, ip6tables tables `ip6`. */
export type TableFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

/** A table of chains, named and scoped to a family as nft shows it. */
export interface FirewallTable {
  family: TableFamily;
  name: string;
  chains: FirewallChain[];
}
