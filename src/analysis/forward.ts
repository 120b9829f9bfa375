import { isIP } from 'node:net';
import type { IptablesRule } from '../system/firewall/iptables.js';
import type { FirewallTable } from '../system/firewall/model.js';
import type { Json, NftRule, NftTable, Obj } from '../system/firewall/nft-model.js';
import { baseChains, type BaseChain, type KernelRulesets } from './firewall/base-chains.js';
import { matchesTri } from './firewall/match.js';
import type { Packet } from './firewall/model.js';
import { act, mayDecide, walkChain, type Frame, type Reading } from './firewall/walk.js';

// The shapes of nft -j (the readers' helpers are I/O-side; analysis/ keeps its own two lines).
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const keyOf = (o: Obj): string => Object.keys(o)[0] ?? '';
const unwrapElem = (e: Json): Json => (isObj(e) && isObj(e.elem) ? (e.elem.val ?? null) : e);

// Where the nat table sends a new connection: Docker's DOCKER chain, Podman's netavark chains,
// kube-proxy's services and hand-written DNAT/REDIRECT rules all rewrite the destination before
// routing, so the program that answers is not where ss on the host looks.

/** A DNAT (or REDIRECT) rule that rewrites a connection to the port, and where it then goes. */
export interface DnatForward {
  via: 'dnat';
  /** The destination after DNAT (port = the original port when the rule gives none; address '' when it gives only a port and the packet's `dst` is unknown). */
  to: { address: string; port: number };
  /** The rule as its tool prints it, e.g. `-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80`. */
  rule: string;
  tool: 'iptables' | 'ip6tables' | 'nftables';
  /** The path walked, e.g. `nat PREROUTING → DOCKER`; nft tables are named with their family (`ip nat prerouting → services`). */
  chain: string;
  /** The table, as the tool names it: `nat`, `ip nat`, `inet netavark`. */
  table?: string;
  /** REDIRECT or nft `redirect`: to this host itself (`to.address` is loopback, see `note`). */
  redirect?: boolean;
  /**
   * Conditions whyport could not decide and the answer rests on, one sentence each, e.g.
   * `-A DOCKER -i docker0 -j RETURN — assumed not to apply (it depends on the interface the connection arrives on)`.
   * Absent when every rule on the way was decided.
   */
  assumed?: string[];
  /** The other destinations of a random choice (kube-proxy's endpoints, an address or port range); `to` is the first. */
  alternatives?: { address: string; port: number }[];
  /** What else the caller should know, in words for a report (a random choice, REDIRECT's address). */
  note?: string;
}

/** The new connection asked about (the walk sees it as a firewall `Packet`); anything left out is unknown, never guessed. */
export interface NatPacket {
  port: number;
  protocol: 'tcp' | 'udp';
  /** `prerouting`: from another host or namespace; `output`: from a program on this host. */
  hook: 'prerouting' | 'output';
  /** The destination address is one of this host's (addrtype LOCAL) */
  dstLocal: boolean;
  /** The address connected to (decides `-d`, `ip daddr`); the family comes from it when `family` is not given. */
  dst?: string;
  /** The client's address (decides `-s`, `ip saddr`); for `output` to a local address it defaults to what the kernel picks. */
  src?: string;
  /** The interface the packet arrives on (prerouting only; decides `-i`, `iifname`). */
  inInterface?: string;
  /** IPv4 or IPv6; from `dst` or `src` when left out, else 4. */
  family?: 4 | 6;
}

/** An undecided rule the answer rests on: taken as applying, or passed over as not applying. */
interface Assumption {
  rule: object;
  text: string;
  why: string[];
  applies: boolean;
}

/** Where the nat walk of one chain ended. */
type End =
  | { kind: 'dnat'; result: Omit<DnatForward, 'via' | 'chain' | 'tool' | 'table' | 'assumed'>; path: string[]; assumed: Assumption[] }
  /** ACCEPT without NAT: the next nat base chain on the hook is consulted (as when the chain runs out). */
  | { kind: 'accept' }
  /** DROP or REJECT in a nat chain: the packet goes nowhere. */
  | { kind: 'drop' }
  /** A target whyport cannot read (nft's view of an iptables-nft `xt target DNAT`, NETMAP…). */
  | { kind: 'opaque'; text: string };

type Dnat = Extract<End, { kind: 'dnat' }>;

/** iptables targets that leave the packet's way alone (the ones iptables.ts walks past as well). */
const XT_GOES_ON = new Set(['MARK', 'CONNMARK', 'LOG', 'NFLOG', 'TRACE', 'CT', 'NOTRACK', 'AUDIT', 'TCPMSS', 'CHECKSUM', 'DSCP', 'TOS', 'TTL', 'HL', 'SET', 'CLASSIFY', 'SECMARK', 'CONNSECMARK', 'IDLETIMER', 'HMARK', 'RATEEST', 'ECN']);

/**
 * The first DNAT or REDIRECT the nat table applies to a new connection to `packet.port`, walking
 * the nat base chains of the hook (iptables' PREROUTING or OUTPUT, nft `type nat` chains) in
 * priority order with first-match semantics: jumps and gotos are followed, RETURN and the end of a
 * chain go back, ACCEPT ends that base chain without NAT (the next one is consulted, as the kernel
 * does), DROP ends the search. Conditions that depend on what the packet does not say (its source,
 * its interface, a rate limit) are first assumed not to hold; when nothing forwards that way they
 * are assumed to hold where that leads to a forward, and each such assumption is listed in
 * `assumed`. A random choice (kube-proxy's `-m statistic --mode random`, nft `numgen`) takes its
 * first branch and lists the others in `alternatives`.
 *
 * iptables-nft keeps its rules in nft tables too: when an iptables ruleset of the nf_tables
 * backend is given, those tables are read through it and skipped in `nft` (whose JSON shows their
 * DNAT targets only by name). Undefined when nothing rewrites the destination, when a nat rule
 * drops the packet, or when the rule that applies is one whyport cannot read: a target nft -j names
 * only (`xt target DNAT`, when no iptables view was given), NETMAP, a dnat map or verdict map keyed
 * by more than the destination port (kube-proxy's nftables mode), a `numgen` map.
 */
export function findDnat(rules: KernelRulesets, packet: NatPacket): DnatForward | undefined {
  const p = natPacket(packet);
  const bases = natBases(rules, p);
  for (const lenient of [false, true]) {
    const found = walkBases(bases, p, lenient, new Set());
    if (found === 'none') continue;
    if (found === undefined) return undefined;
    const { assumed, ...forward } = found;
    // A rule passed over as not applying matters only if, applying, it would send the packet elsewhere.
    const matter = assumed.filter((a) => {
      if (a.applies) return true;
      const alt = walkBases(bases, p, lenient, new Set([a.rule]));
      return !(typeof alt === 'object' && alt.rule === forward.rule && alt.to.address === forward.to.address && alt.to.port === forward.to.port);
    });
    const out: DnatForward = forward;
    if (matter.length > 0) {
      out.assumed = matter.map((a) => `${a.text} — assumed ${a.applies ? 'to apply' : 'not to apply'} (it depends on ${a.why.join(' and ')})`);
    }
    return out;
  }
  return undefined;
}

/** The question as the rules see it (the one packet model of the filter and nat walks). */
function natPacket(q: NatPacket): Packet {
  const family = q.family ?? (isIP(q.dst ?? '') === 6 || isIP(q.src ?? '') === 6 ? 6 : 4);
  const p: Packet = {
    family,
    protocol: q.protocol,
    dport: q.port,
    hook: q.hook,
    // The kernel types a local address LOCAL, not UNICAST; a program's packet comes from a local one.
    dstTypes: [q.dstLocal ? 'LOCAL' : 'UNICAST'],
    srcTypes: [q.hook === 'output' ? 'LOCAL' : 'UNICAST'],
  };
  if (q.dst !== undefined) p.daddr = q.dst;
  if (q.src !== undefined) p.saddr = q.src;
  // A program's connection to one of this host's addresses goes out through lo, from that address.
  else if (q.hook === 'output' && q.dstLocal && q.dst !== undefined) p.saddr = /^127\./.test(q.dst) ? '127.0.0.1' : q.dst;
  if (q.inInterface !== undefined) p.iif = q.inInterface;
  if (q.hook === 'output' && q.dstLocal) p.oif = 'lo';
  return p;
}

interface NatBase extends BaseChain {
  label: string;
  priority: number;
}

function natBases(rules: KernelRulesets, p: Packet): NatBase[] {
  const bases = baseChains(rules, p.family, [p.hook], 'nat').map((b) => ({ ...b, label: b.tool === 'nftables' ? `${b.table.family} ${b.table.name}` : b.table.name, priority: b.chain.priority ?? -100 }));
  // Stable: the same priority keeps the order read.
  return bases.map((b, i) => ({ b, i })).sort((x, y) => x.b.priority - y.b.priority || x.i - y.i).map(({ b }) => b);
}

function walkBases(bases: readonly NatBase[], p: Packet, lenient: boolean, forced: ReadonlySet<object>): (Omit<DnatForward, 'assumed'> & { assumed: Assumption[] }) | undefined | 'none' {
  for (const base of bases) {
    const end = walkChain(natReading(base.table, base.tool === 'nftables', p, lenient, forced), base.chain.name);
    if (end.kind === 'dnat') {
      return { via: 'dnat', ...end.result, tool: base.tool, table: base.label, chain: `${base.label} ${end.path.join(' → ')}`, assumed: end.assumed };
    }
    // The packet is dropped, or NATed by a rule whyport cannot read: there is no forward to tell.
    if (end.kind === 'drop' || end.kind === 'opaque') return undefined;
  }
  return 'none';
}

/**
 * The nat walk: where does the connection go? strict (`lenient` false): undecided rules are
 * assumed not to apply; lenient: assumed to apply where that forwards. Either way the rules the
 * answer rests on are gathered in the DNAT end's `assumed`, those of the chains it was found through.
 */
function natReading(table: FirewallTable, nft: boolean, p: Packet, lenient: boolean, forced: ReadonlySet<object>): Reading<End> {
  // Undecided rules passed over in each chain walked: they matter only if the forward is found after them.
  const passed = new Map<Frame, Assumption[]>();
  const reading: Reading<End> = {
    table,
    packet: p,
    forced,
    randomIsChoice: true,
    verdict(rule, action, at) {
      switch (action.kind) {
        case 'accept':
          return { kind: 'accept' };
        case 'drop':
        case 'reject':
          return { kind: 'drop' };
        case 'unknown': {
          // nft's view of an iptables-nft rule names its target only: marking and logging go on,
          // SNAT/MASQUERADE are no forward, a DNAT or REDIRECT leads somewhere nft -j does not say.
          const xt = /^xt target "?([A-Z]+)"?$/.exec(action.text)?.[1];
          if (xt !== undefined && XT_GOES_ON.has(xt)) return null;
          if (xt === 'SNAT' || xt === 'MASQUERADE') return { kind: 'accept' };
          return { kind: 'opaque', text: rule.text };
        }
        case 'nat': {
          const nat = nft ? nftNat(rule as NftRule, table as NftTable, p) : iptablesNat(rule as IptablesRule, p);
          if (nat === 'no-match') return null;
          if (nat === 'other') return { kind: 'accept' };
          if (nat === 'opaque') return { kind: 'opaque', text: rule.text };
          return { kind: 'dnat', result: { ...nat, rule: nft ? nftRuleText(rule as NftRule) : rule.text }, path: at.path, assumed: [] };
        }
      }
    },
    undecided(key, rule, action, why, at) {
      // A vmap entry that may not apply is passed over unsaid (a random one is a choice, not undecided).
      if (key !== rule) return false;
      if (lenient && ['nat', 'jump', 'goto', 'vmap'].includes(action.kind)) return true;
      // A jump to a chain that only marks packets cannot change where they go.
      if (mayDecide(table, action)) passed.set(at, [...(passed.get(at) ?? []), { rule, text: rule.text, why, applies: false }]);
      return false;
    },
    settled(end, how, at) {
      if (end.kind !== 'dnat') return;
      const taken = how.taken ? [{ rule: how.rule, text: how.rule.text, why: how.match.why, applies: true }] : [];
      end.assumed = [...(passed.get(at) ?? []), ...taken, ...end.assumed];
      if (how.match.random && end.result.alternatives === undefined) randomAlternatives(reading, at, how.index, end);
    },
    chose(end, rule, others, at) {
      if (end.kind !== 'dnat') return;
      // `numgen random mod N vmap { 0 : …, 1 : … }`: each entry is one of the choices.
      const tos = others.map((e) => act(reading, rule, e.action, at)).flatMap((e) => (e?.kind === 'dnat' ? [e.result.to] : []));
      if (tos.length > 0) end.result.alternatives = tos;
      end.result.note = `a random choice (nft numgen) sends each new connection to one of ${tos.length + 1} destinations (${[end.result.to, ...tos].map(endpoint).join(', ')}); the first is shown`;
    },
  };
  return reading;
}

/** kube-proxy's endpoints: the rules after the random one that was taken, up to the unconditional last. */
function randomAlternatives(r: Reading<End>, at: Frame, taken: number, end: Dnat): void {
  const others: { address: string; port: number }[] = [];
  for (const rule of at.chain.rules.slice(taken + 1)) {
    if (rule.action.kind === 'continue') continue;
    const m = matchesTri(rule.matches, r.packet, true);
    if (m.tri === 'no') continue;
    const alt = act(r, rule, rule.action, at);
    if (alt?.kind === 'dnat') others.push(alt.result.to);
    if (!m.random) break;
  }
  if (others.length === 0) return;
  end.result.alternatives = others;
  const all = [end.result.to, ...others].map(endpoint).join(', ');
  end.result.note = `a random choice (-m statistic --mode random) sends each new connection to one of ${others.length + 1} destinations (${all}); the first is shown`;
}

// NAT targets: where DNAT and REDIRECT send the packet.

type Nat = Pick<DnatForward, 'to' | 'redirect' | 'alternatives' | 'note'>;

/** A DNAT that names only a port keeps the address connected to; `to.address` is then '' unless `dst` was given. */
const SAME_ADDRESS = 'the rule changes only the port: the address stays the one connected to';

function loopback(p: Packet): string {
  return p.family === 6 ? '::1' : '127.0.0.1';
}

function redirectTo(p: Packet, port: number): Nat {
  const out: Nat = { to: { address: loopback(p), port }, redirect: true };
  if (p.hook === 'prerouting') {
    out.note = `REDIRECT sends it to this host, to the first address of the interface it arrives on (shown as ${loopback(p)}): a listener on ${p.family === 6 ? '::' : '0.0.0.0'} takes it, one on loopback only does not`;
  }
  return out;
}

/** `-j DNAT --to-destination SPEC`, `-j REDIRECT [--to-ports P]`; SNAT and the others are not forwards. */
function iptablesNat(rule: IptablesRule, p: Packet): Nat | 'other' | 'opaque' {
  const args = rule.args;
  const target = args[args.indexOf('-j') + 1] ?? args[args.indexOf('--jump') + 1];
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (target === 'REDIRECT') {
    const ports = opt('--to-ports');
    return redirectTo(p, ports ? portOf(ports, p.dport).port : p.dport);
  }
  if (target !== 'DNAT') return target === 'NETMAP' ? 'opaque' : 'other';
  const spec = opt('--to-destination') ?? opt('--to');
  if (spec === undefined) return 'opaque';
  return dnatSpec(spec, p);
}

/** `172.17.0.2:80`, `10.0.0.1-10.0.0.3:8000-8010`, `10.88.0.3:7000-7002/9000`, `[fd49::1]:80`, `fd00::1`, `:8080`. */
function dnatSpec(spec: string, p: Packet): Nat {
  let addr: string;
  let port: string | undefined;
  const br = /^\[([^\]]+)\](?::(.+))?$/.exec(spec);
  if (br) [addr, port] = [br[1]!, br[2]];
  else if ((spec.match(/:/g) ?? []).length > 1) addr = spec; // an IPv6 address without a port
  else {
    const i = spec.lastIndexOf(':');
    [addr, port] = i >= 0 ? [spec.slice(0, i), spec.slice(i + 1)] : [spec, undefined];
  }
  const notes: string[] = [];
  const range = /^([^-]+)-(.+)$/.exec(addr);
  const addresses = range ? [range[1]!, range[2]!] : [addr];
  if (range) notes.push(`DNAT picks an address from ${range[1]} to ${range[2]} for each connection; the first is shown`);
  const first = addresses[0] === '' ? (p.daddr ?? '') : addresses[0]!;
  if (first === '') notes.push(SAME_ADDRESS);
  const ported = port === undefined ? { port: p.dport } : portOf(port, p.dport);
  if (ported.range) notes.push(`DNAT picks a port from ${ported.range[0]} to ${ported.range[1]} for each connection; the first is shown`);
  const out: Nat = { to: { address: first, port: ported.port } };
  if (notes.length > 0) out.note = notes.join('; ');
  return out;
}

/** `80`, `80-90` (a range: the first), `7000-7002/9000` (shifted: the original port's place in the range). */
function portOf(spec: string, original: number): { port: number; range?: [number, number] } {
  const m = /^(\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(spec);
  if (!m) return { port: original };
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (m[3] !== undefined) return { port: lo + (original - Number(m[3])) };
  return hi === lo ? { port: lo } : { port: lo, range: [lo, hi] };
}

/** nft `dnat [ip|ip6] to ADDR[:PORT]`, its maps (`dnat to tcp dport map { … }`) and `redirect [to :PORT]`. */
function nftNat(rule: NftRule, table: NftTable, p: Packet): Nat | 'no-match' | 'other' | 'opaque' {
  for (const stmt of rule.expr) {
    if (!isObj(stmt)) continue;
    const kind = keyOf(stmt);
    const body = stmt[kind];
    if (kind === 'redirect') {
      const port = isObj(body) ? nftPort(body.port ?? null, p) : undefined;
      return redirectTo(p, port ?? p.dport);
    }
    if (kind === 'snat' || kind === 'masquerade') return 'other';
    if (kind !== 'dnat') continue;
    const b = isObj(body) ? body : {};
    // In an inet table `dnat ip to` applies to IPv4 packets only, `dnat ip6 to` to IPv6.
    if ((b.family === 'ip' && p.family !== 4) || (b.family === 'ip6' && p.family !== 6)) return 'no-match';
    let addr: Json = b.addr ?? null;
    let port: Json = b.port ?? null;
    if (isObj(addr) && isObj(addr.map)) {
      const hit = mapLookup(addr.map, table, p);
      if (hit === 'no-match' || hit === 'opaque') return hit;
      // `dnat ip addr . port to … map { K : ADDR . PORT }`
      if (isObj(hit) && Array.isArray(hit.concat)) [addr, port] = [hit.concat[0] ?? null, hit.concat[1] ?? null];
      else addr = hit;
    }
    const out: Nat = { to: { address: p.daddr ?? '', port: nftPort(port, p) ?? p.dport } };
    if (typeof addr === 'string') out.to.address = addr;
    else if (isObj(addr) && Array.isArray(addr.range)) {
      out.to.address = String(addr.range[0]);
      out.note = `DNAT picks an address from ${String(addr.range[0])} to ${String(addr.range[1])} for each connection; the first is shown`;
    } else if (addr !== null) return 'opaque';
    if (isObj(port) && Array.isArray(port.range)) {
      const range = `DNAT picks a port from ${String(port.range[0])} to ${String(port.range[1])} for each connection; the first is shown`;
      out.note = out.note ? `${out.note}; ${range}` : range;
    }
    return out;
  }
  return 'opaque';
}

function nftPort(v: Json, p: Packet): number | undefined {
  if (typeof v === 'number') return v;
  if (isObj(v) && Array.isArray(v.range) && typeof v.range[0] === 'number') return v.range[0];
  return v === null ? undefined : p.dport;
}

/** The value a dnat map gives the packet, keyed by its destination port (the only key whyport can fill in). */
function mapLookup(map: { [k: string]: Json }, table: NftTable, p: Packet): Json | 'no-match' | 'opaque' {
  const key = map.key;
  if (!(isObj(key) && isObj(key.payload) && key.payload.field === 'dport')) return 'opaque';
  const proto = String(key.payload.protocol);
  if (proto !== p.protocol && proto !== 'th') return 'no-match';
  let pairs: Json[] = [];
  if (isObj(map.data) && Array.isArray(map.data.set)) pairs = map.data.set;
  else if (typeof map.data === 'string' && map.data.startsWith('@')) {
    const set = table.sets.find((s) => s.name === (map.data as string).slice(1));
    if (!set) return 'opaque';
    pairs = set.elements as Json[];
  } else return 'opaque';
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length < 2) continue;
    const k = unwrapElem(pair[0] ?? null);
    const hit = typeof k === 'number' ? k === p.dport : isObj(k) && Array.isArray(k.range) ? p.dport >= Number(k.range[0]) && p.dport <= Number(k.range[1]) : false;
    if (hit) return pair[1] ?? null;
  }
  // No element for the port: the lookup fails and the rule does not apply.
  return 'no-match';
}

/**
 * The rule as nft prints it. The reader's renderer writes a dnat map as JSON and an IPv6 address
 * with a port without brackets (`dnat to fd00::2:80`); nft writes `dnat to tcp dport map @ports`
 * and `dnat to [fd00::2]:80`.
 */
function nftRuleText(rule: NftRule): string {
  let text = rule.text;
  for (const stmt of rule.expr) {
    if (!isObj(stmt) || keyOf(stmt) !== 'dnat' || !isObj(stmt.dnat)) continue;
    const b = stmt.dnat;
    const addr = b.addr ?? null;
    const port = b.port !== undefined ? `:${nftValue(b.port)}` : '';
    const fam = b.family !== undefined ? ` ${String(b.family)}` : '';
    if (isObj(addr) && isObj(addr.map)) {
      const map = addr.map;
      text = text.replace(`dnat${fam} to ${JSON.stringify(addr)}${port}`, `dnat${fam} to ${nftValue(map.key ?? null)} map ${nftValue(map.data ?? null)}${port}`);
    } else if (typeof addr === 'string' && addr.includes(':') && port !== '') {
      text = text.replace(`dnat${fam} to ${addr}${port}`, `dnat${fam} to [${addr}]${port}`);
    }
  }
  return text;
}

/** A value of a dnat statement as nft prints it: `tcp dport`, `80-81`, `10.88.0.9 . 8001`, `{ 3001 : … }`. */
function nftValue(v: Json): string {
  if (v === null) return '';
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return v.map(nftValue).join(',');
  const k = keyOf(v);
  const b = v[k] ?? null;
  if (k === 'payload' && isObj(b)) return `${String(b.protocol)} ${String(b.field)}`;
  if (k === 'range' && Array.isArray(b)) return `${nftValue(b[0] ?? null)}-${nftValue(b[1] ?? null)}`;
  if (k === 'concat' && Array.isArray(b)) return b.map(nftValue).join(' . ');
  if (k === 'prefix' && isObj(b)) return `${String(b.addr)}/${String(b.len)}`;
  if (k === 'set' && Array.isArray(b)) return `{ ${b.map((e) => (Array.isArray(e) ? `${nftValue(unwrapElem(e[0] ?? null))} : ${nftValue(e[1] ?? null)}` : nftValue(unwrapElem(e)))).join(', ')} }`;
  return JSON.stringify(v);
}

function endpoint(t: { address: string; port: number }): string {
  return t.address.includes(':') ? `[${t.address}]:${t.port}` : `${t.address}:${t.port}`;
}
