import { addressIn, specIsLoopback, specIsMulticastOrBroadcast } from './address.js';
import type { Packet, Tri } from './model.js';
import type { Match } from '../../system/firewall/model.js';

// How one condition of a rule applies to a packet whose source, interface… may be unknown.

/** Why a match could not be decided, in words for a caveat. */
export function unknownBecause(m: Match): string {
  switch (m.kind) {
    case 'saddr':
      return "the client's address";
    case 'daddr':
      return 'the address the client connects to';
    case 'iif':
      return 'the interface the connection arrives on';
    case 'oif':
      return 'the interface the connection leaves by';
    case 'sport':
      return "the client's source port";
    case 'dport':
      return 'the content of a set whyport could not read';
    default:
      return m.kind === 'other' ? `a condition whyport does not evaluate (${m.text})` : `a condition whyport does not evaluate (${m.kind})`;
  }
}

/** A condition's answer under `!` (a maybe stays a maybe). */
const flip = (t: Tri, negate: boolean): Tri => (t === 'maybe' || !negate ? t : t === 'yes' ? 'no' : 'yes');
const bool = (b: boolean): Tri => (b ? 'yes' : 'no');

/** An interface name against an iptables/nft pattern (`eth+`, `veth*`). */
function wildcardMatch(name: string, pattern: string): boolean {
  if (pattern.endsWith('*') || pattern.endsWith('+')) return name.startsWith(pattern.slice(0, -1));
  return name === pattern;
}

/**
 * An address against a rule's prefixes: yes, no, or maybe when the address is not known (then
 * `unknownDefault` says what each prefix would give) or a prefix cannot be read.
 */
function addressTri(addr: string | undefined, prefixes: readonly string[] | null, unknownDefault: (p: string) => Tri): Tri {
  if (prefixes === null) return 'maybe';
  if (addr === undefined) {
    const each = prefixes.map(unknownDefault);
    return each.includes('maybe') ? 'maybe' : each.includes('yes') ? 'yes' : 'no';
  }
  const each = prefixes.map((p) => addressIn(addr, p));
  if (each.includes(true)) return 'yes';
  return each.includes(null) ? 'maybe' : 'no';
}

/** IANA protocol numbers, as iptables shows a protocol it has no name for (`-p 17`). */
const PROTOCOL_NUMBER: Record<Packet['protocol'], string> = { tcp: '6', udp: '17' };

/**
 * Whether one condition applies to the packet, at the hook it is met on: no input interface on
 * `output`, no output interface before routing, and a source that may be loopback only for a
 * program's own connection.
 */
export function matchTri(m: Match, p: Packet): Tri {
  switch (m.kind) {
    case 'dport':
      // `udp dport 53` never matches a TCP segment, `tcp dport 53` never a datagram; `th` both.
      if (m.protocol !== p.protocol && m.protocol !== 'th') return 'no';
      if (m.ports === null) return 'maybe';
      return flip(bool(m.ports.some(([lo, hi]) => p.dport >= lo && p.dport <= hi)), m.negate);
    case 'sport':
      if (m.protocol !== p.protocol && m.protocol !== 'th') return 'no';
      // A client's source port is ephemeral: only a range covering all of them decides.
      if (m.ports !== null && m.ports.some(([lo, hi]) => lo <= 1024 && hi >= 65535)) return flip('yes', m.negate);
      return 'maybe';
    case 'protocol':
      return flip(bool(m.protocols.some((x) => x === p.protocol || x === PROTOCOL_NUMBER[p.protocol])), m.negate);
    case 'iif':
      // Locally generated packets have no input interface.
      if (p.hook === 'output') return flip('no', m.negate);
      if (p.iif !== undefined) return flip(bool(m.names.some((n) => wildcardMatch(p.iif!, n))), m.negate);
      // From another host or namespace, interface unknown: it is not lo (nor one it is known not to
      // come in on), and anything else may be it.
      return m.names.every((n) => n === 'lo' || (p.notIif ?? []).includes(n)) ? flip('no', m.negate) : 'maybe';
    case 'oif':
      // Before routing no output interface is set.
      if (p.hook === 'prerouting' || p.hook === 'input') return flip('no', m.negate);
      if (p.oif !== undefined) return flip(bool(m.names.some((n) => wildcardMatch(p.oif!, n))), m.negate);
      return 'maybe';
    case 'saddr':
      return flip(addressTri(p.saddr, m.prefixes, (s) => (p.hook !== 'output' && specIsLoopback(s) ? 'no' : 'maybe')), m.negate);
    case 'daddr':
      return flip(
        addressTri(p.daddr, m.prefixes, (s) => {
          if (specIsMulticastOrBroadcast(s)) return 'no';
          // Only a program's connection to one of this host's addresses may go to a loopback one.
          if (specIsLoopback(s)) return p.hook === 'output' && p.dstTypes.includes('LOCAL') ? 'maybe' : 'no';
          return 'maybe';
        }),
        m.negate,
      );
    case 'ctstate':
      // The first datagram of a UDP flow is as `new` to conntrack as a SYN.
      return flip(bool(m.states.includes('new')), m.negate);
    case 'family':
      return bool(m.family === p.family);
    case 'tcpflags': {
      // A datagram has no TCP header: a flags test, negated or not, does not match it.
      if (p.protocol !== 'tcp') return 'no';
      const flags = ['syn'];
      const masked = flags.filter((f) => m.mask.includes(f));
      const hit = m.op === 'any' ? masked.length > 0 : masked.length === m.set.length && m.set.every((f) => masked.includes(f));
      return flip(bool(hit), m.negate);
    }
    case 'dsttype':
      return flip(bool(m.types.some((t) => p.dstTypes.includes(t))), m.negate);
    case 'srctype':
      return flip(bool(m.types.some((t) => p.srcTypes.includes(t))), m.negate);
    case 'rpfilter':
      return bool(!m.failing);
    case 'dnat':
      return flip(bool(p.dnat === true), m.negate);
    case 'other':
      return 'maybe';
  }
}

/** A rule's matches against the packet: how they apply, why not known when undecided, and whether the rule is one branch of a random choice. */
export interface RuleMatch {
  tri: Tri;
  /** For a `maybe`: what the answer depends on, each reason once. */
  why: string[];
  /** A `statistic --mode random` or `numgen` condition was read as a choice (with `randomIsChoice`). */
  random: boolean;
}

const RANDOM = /\bstatistic\b|\bnumgen\b/;

/**
 * All of a rule's matches: no if any says no, maybe if any is undecided, else yes. With
 * `randomIsChoice`, a random condition (kube-proxy's `-m statistic --mode random`, nft `numgen`)
 * is not undecided but marks the rule as one of several destinations (the nat walk lists them).
 */
export function matchesTri(matches: readonly Match[], p: Packet, randomIsChoice = false): RuleMatch {
  let tri: Tri = 'yes';
  let random = false;
  const why: string[] = [];
  for (const m of matches) {
    if (randomIsChoice && m.kind === 'other' && RANDOM.test(m.text)) {
      random = true;
      continue;
    }
    const t = matchTri(m, p);
    if (t === 'no') return { tri: 'no', why: [], random: false };
    if (t === 'maybe') {
      tri = 'maybe';
      const reason = unknownBecause(m);
      if (!why.includes(reason)) why.push(reason);
    }
  }
  return { tri, why, random };
}
