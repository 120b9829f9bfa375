import type { Action, FirewallChain, FirewallRule, FirewallTable, Hook, Match, PortProtocol, PortRange, TableFamily } from './model.js';

/** A named set or map of an nft table, with its current elements. */
export interface NftSet {
  name: string;
  /** `inet_service`, `ipv4_addr`, … or a list for concatenations. */
  type: string | string[];
  /** For maps: what the elements map to (`verdict` for a verdict map). */
  map?: string;
  /** Elements as nft -j prints them (maps: `[key, value]` pairs). */
  elements: unknown[];
}

/** A rule of `nft -j list ruleset`, with its handle and raw statements. */
export interface NftRule extends FirewallRule {
  handle?: number;
  comment?: string;
  /** The raw statements, kept for anything the model does not capture. */
  expr: unknown[];
}

/** A chain of `nft -j list ruleset`. */
export interface NftChain extends FirewallChain {
  handle?: number;
  /** netdev (and inet ingress) chains are bound to devices. */
  devices?: string[];
  rules: NftRule[];
}

/** A table of `nft -j list ruleset`, with its named sets and maps. */
export interface NftTable extends FirewallTable {
  handle?: number;
  /** Table flags, e.g. `dormant` (its chains see no packets), `owner`. */
  flags?: string[];
  sets: NftSet[];
  chains: NftChain[];
}

/** Everything `nft -j list ruleset` printed, in its order. */
export interface NftRuleset {
  /** nft's version from the metainfo object, e.g. "1.0.6". */
  version?: string;
  tables: NftTable[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The single key of an nft JSON statement such as `{ "accept": null }`. */
const keyOf = (o: Obj): string => Object.keys(o)[0] ?? '';

/**
 * Parses `nft -j list ruleset`. Throws when the text is not nft JSON; everything else the JSON
 * holds is kept, and statements whyport does not model become `other` matches.
 */
export function parseNftJson(text: string): NftRuleset {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`nft -j output is not JSON: ${(err as Error).message}`);
  }
  if (!isObj(doc) || !Array.isArray(doc.nftables)) throw new Error('nft -j output has no "nftables" array');
  const ruleset: NftRuleset = { tables: [] };
  const tables = new Map<string, NftTable>();
  const tableOf = (o: Obj): NftTable | undefined => tables.get(`${String(o.family)} ${String(o.table)}`);
  const pendingRules: Obj[] = [];

  // Rules refer to sets and chains by name, and nft may list them in any order: collect first.
  for (const item of doc.nftables) {
    if (!isObj(item)) continue;
    const kind = keyOf(item);
    const body = item[kind];
    if (!isObj(body)) continue;
    if (kind === 'metainfo') {
      if (typeof body.version === 'string') ruleset.version = body.version;
    } else if (kind === 'table') {
      const table: NftTable = { family: String(body.family) as TableFamily, name: String(body.name), chains: [], sets: [] };
      if (typeof body.handle === 'number') table.handle = body.handle;
      if (Array.isArray(body.flags)) table.flags = body.flags.map(String);
      else if (typeof body.flags === 'string') table.flags = [body.flags];
      tables.set(`${table.family} ${table.name}`, table);
      ruleset.tables.push(table);
    } else if (kind === 'set' || kind === 'map') {
      const set: NftSet = {
        name: String(body.name),
        type: Array.isArray(body.type) ? body.type.map(String) : String(body.type),
        elements: Array.isArray(body.elem) ? body.elem : [],
      };
      if (kind === 'map' && body.map !== undefined) set.map = String(body.map);
      tableOf(body)?.sets.push(set);
    } else if (kind === 'chain') {
      const chain: NftChain = { name: String(body.name), rules: [] };
      if (typeof body.handle === 'number') chain.handle = body.handle;
      if (typeof body.hook === 'string') chain.hook = body.hook as Hook;
      if (typeof body.prio === 'number') chain.priority = body.prio;
      if (typeof body.type === 'string') chain.type = body.type;
      if (body.policy === 'accept' || body.policy === 'drop') chain.policy = body.policy;
      if (typeof body.dev === 'string') chain.devices = [body.dev];
      else if (Array.isArray(body.dev)) chain.devices = body.dev.map(String);
      tableOf(body)?.chains.push(chain);
    } else if (kind === 'rule') {
      pendingRules.push(body);
    }
  }

  for (const body of pendingRules) {
    const table = tableOf(body);
    const chain = table?.chains.find((c) => c.name === String(body.chain));
    if (!table || !chain) continue;
    const expr = Array.isArray(body.expr) ? body.expr : [];
    const comment = typeof body.comment === 'string' ? body.comment : undefined;
    const { matches, action } = interpretRule(expr, table);
    const rule: NftRule = { text: renderNftRule(expr, { family: table.family, comment }), matches, action, expr };
    if (typeof body.handle === 'number') rule.handle = body.handle;
    if (comment !== undefined) rule.comment = comment;
    chain.rules.push(rule);
  }
  return ruleset;
}

// ---------------------------------------------------------------------------------------------
// Meaning: nft statements → matches and an action.

const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'dccp', 'udplite', 'th']);
/** Payload protocols that are themselves a layer-4 protocol (so `icmp type …` never matches TCP). */
const L4_OF_PAYLOAD: Record<string, string> = { tcp: 'tcp', udp: 'udp', sctp: 'sctp', dccp: 'dccp', udplite: 'udplite', icmp: 'icmp', icmpv6: 'ipv6-icmp', igmp: 'igmp', esp: 'esp', ah: 'ah', comp: 'comp', gre: 'gre' };

function interpretRule(expr: Json[], table: NftTable): { matches: Match[]; action: Action } {
  const matches: Match[] = [];
  let action: Action = { kind: 'continue' };
  for (const stmt of expr) {
    if (!isObj(stmt)) continue;
    const kind = keyOf(stmt);
    const body = stmt[kind] ?? null;
    switch (kind) {
      case 'match':
        if (isObj(body)) matches.push(...interpretMatch(body, table));
        break;
      case 'accept':
      case 'drop':
        action = { kind };
        break;
      case 'return':
        action = { kind: 'return' };
        break;
      case 'reject': {
        const type = isObj(body) ? String(body.type ?? '') : '';
        // A reject with an ICMP (not ICMPX) type carries an implicit family check that nft -j omits.
        if (type === 'icmp') matches.push({ kind: 'family', family: 4 });
        if (type === 'icmpv6') matches.push({ kind: 'family', family: 6 });
        const text = renderStatement('reject', body, table.family);
        action = text === 'reject' ? { kind: 'reject' } : { kind: 'reject', with: text.replace(/^reject with /, '') };
        break;
      }
      case 'jump':
      case 'goto':
        if (isObj(body)) action = { kind, chain: String(body.target) };
        break;
      case 'vmap':
        if (isObj(body)) action = interpretVmap(body, table);
        break;
      case 'dnat':
      case 'snat':
      case 'masquerade':
      case 'redirect':
        action = { kind: 'nat', text: renderStatement(kind, body, table.family) };
        break;
      case 'queue':
        action = { kind: 'unknown', text: renderStatement(kind, body, table.family) };
        break;
      case 'limit':
      case 'quota':
      case 'meter':
        // Rate and quota statements stop matching once exceeded: whether they match depends on traffic.
        matches.push({ kind: 'other', text: renderStatement(kind, body, table.family) });
        break;
      case 'xt':
        // iptables-nft extensions: nft -j shows only their name, not what they match.
        if (isObj(body) && body.type === 'target') action = { kind: 'unknown', text: `xt target ${String(body.name)}` };
        else if (!(isObj(body) && body.name === 'comment')) matches.push({ kind: 'other', text: renderStatement(kind, body, table.family) });
        break;
      default:
        // counter, log, mangle, ct/meta set, notrack, set updates…: no verdict.
        break;
    }
  }
  return { matches, action };
}

function interpretVmap(body: Obj, table: NftTable): Action {
  const key = body.key;
  let pairs: Json[] = [];
  if (isObj(body.data) && Array.isArray(body.data.set)) pairs = body.data.set;
  else if (typeof body.data === 'string' && body.data.startsWith('@')) {
    pairs = (table.sets.find((s) => s.name === (body.data as string).slice(1))?.elements ?? []) as Json[];
  }
  const entries: { match: Match; action: Action }[] = [];
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length < 2) continue;
    const verdict = pair[1];
    const sub = isObj(verdict) ? interpretRule([verdict], table).action : { kind: 'unknown' as const, text: JSON.stringify(verdict) };
    const match = interpretMatch({ op: '==', left: key ?? null, right: unwrapElem(pair[0] ?? null) }, table);
    entries.push({ match: match.length === 1 ? match[0]! : { kind: 'other', text: renderValue(pair[0] ?? null) }, action: sub });
  }
  return { kind: 'vmap', entries };
}

function interpretMatch(m: Obj, table: NftTable): Match[] {
  const op = String(m.op ?? '==');
  const negate = op === '!=';
  const left = m.left;
  const right = resolveSet(m.right ?? null, table);
  const other = (): Match[] => [{ kind: 'other', text: renderMatch(m) }];
  if (!isObj(left)) return other();
  const lk = keyOf(left);
  const lb = left[lk];

  if (lk === 'payload' && isObj(lb)) {
    const protocol = String(lb.protocol ?? '');
    const field = String(lb.field ?? '');
    if ((field === 'dport' || field === 'sport') && PORT_PROTOCOLS.has(protocol)) {
      const ports = portRanges(right, op);
      return [{ kind: field, protocol: protocol as PortProtocol, ports, negate }];
    }
    if ((protocol === 'ip' || protocol === 'ip6') && (field === 'saddr' || field === 'daddr')) {
      return [{ kind: 'family', family: protocol === 'ip' ? 4 : 6 }, { kind: field, prefixes: addressList(right), negate }];
    }
    if ((protocol === 'ip' && field === 'protocol') || (protocol === 'ip6' && field === 'nexthdr')) {
      return [{ kind: 'family', family: protocol === 'ip' ? 4 : 6 }, { kind: 'protocol', protocols: stringList(right), negate }];
    }
    if (protocol === 'tcp' && field === 'flags') {
      return [{ kind: 'protocol', protocols: ['tcp'], negate: false }, tcpFlags([], right, op)];
    }
    const l4 = L4_OF_PAYLOAD[protocol];
    if (l4) return [{ kind: 'protocol', protocols: [l4], negate: false }, ...other()];
    if (protocol === 'ip') return [{ kind: 'family', family: 4 }, ...other()];
    if (protocol === 'ip6') return [{ kind: 'family', family: 6 }, ...other()];
    return other();
  }

  if (lk === '&' && Array.isArray(lb)) {
    // `tcp flags & (fin | syn | rst | ack) == syn`
    const [inner, mask] = lb;
    if (isObj(inner) && isObj(inner.payload) && inner.payload.protocol === 'tcp' && inner.payload.field === 'flags') {
      return [{ kind: 'protocol', protocols: ['tcp'], negate: false }, tcpFlags(stringList(mask ?? null), right, op)];
    }
    return other();
  }

  if (lk === 'meta' && isObj(lb)) {
    const key = String(lb.key ?? '');
    if (key === 'iifname' || key === 'iif') return [{ kind: 'iif', names: stringList(right), negate }];
    if (key === 'oifname' || key === 'oif') return [{ kind: 'oif', names: stringList(right), negate }];
    if (key === 'l4proto') return [{ kind: 'protocol', protocols: stringList(right), negate }];
    if (key === 'nfproto' || key === 'protocol') {
      const names = stringList(right);
      const fams = names.map((n) => (n === 'ipv4' || n === 'ip' ? 4 : n === 'ipv6' || n === 'ip6' ? 6 : 0));
      if (names.length === 1 && fams[0] !== 0) {
        const family = (negate ? (fams[0] === 4 ? 6 : 4) : fams[0]) as 4 | 6;
        return [{ kind: 'family', family }];
      }
      return other();
    }
    if (key === 'pkttype') {
      const types = stringList(right).map((t) => (t === 'host' ? 'LOCAL' : t.toUpperCase()));
      return [{ kind: 'dsttype', types, negate }];
    }
    return other();
  }

  if (lk === 'ct' && isObj(lb) && lb.dir === undefined) {
    if (lb.key === 'state') return [{ kind: 'ctstate', states: stringList(right), negate }];
    if (lb.key === 'status') {
      const st = stringList(right);
      if (st.length === 1 && st[0] === 'dnat') return [{ kind: 'dnat', negate }];
    }
    return other();
  }

  if (lk === 'fib' && isObj(lb)) {
    const result = String(lb.result ?? '');
    if ((result === 'oif' || result === 'oifname') && typeof right === 'boolean') {
      // `fib saddr . iif oif missing drop`: the reverse-path check fails only for spoofed sources.
      return [{ kind: 'rpfilter', failing: negate ? right : !right }];
    }
    const flags = Array.isArray(lb.flags) ? lb.flags.map(String) : [String(lb.flags ?? '')];
    if (result === 'type' && flags.includes('daddr')) return [{ kind: 'dsttype', types: stringList(right).map((t) => t.toUpperCase()), negate }];
    if (result === 'type' && flags.includes('saddr')) return [{ kind: 'srctype', types: stringList(right).map((t) => t.toUpperCase()), negate }];
    return other();
  }
  return other();
}

/** Replaces `@name` by the named set's elements, so a match can be decided on its content. */
function resolveSet(right: Json, table: NftTable): Json {
  if (typeof right === 'string' && right.startsWith('@')) {
    const set = table.sets.find((s) => s.name === right.slice(1));
    return set ? { set: set.elements.map((e) => unwrapElem(e as Json)) } : { unknownSet: right };
  }
  return right;
}

/** Set elements with timeouts or counters come wrapped as `{ "elem": { "val": … } }`. */
function unwrapElem(e: Json): Json {
  return isObj(e) && isObj(e.elem) ? (e.elem.val ?? null) : e;
}

function portRanges(right: Json, op: string): PortRange[] | null {
  if (typeof right === 'number') {
    if (op === '<') return [[0, right - 1]];
    if (op === '<=') return [[0, right]];
    if (op === '>') return [[right + 1, 65535]];
    if (op === '>=') return [[right, 65535]];
    return [[right, right]];
  }
  if (typeof right === 'string' && /^\d+$/.test(right)) return [[Number(right), Number(right)]];
  if (isObj(right) && Array.isArray(right.range)) {
    const [a, b] = right.range;
    if (typeof a === 'number' && typeof b === 'number') return [[a, b]];
  }
  if (isObj(right) && Array.isArray(right.set)) {
    const out: PortRange[] = [];
    for (const e of right.set) {
      const r = portRanges(unwrapElem(e), '==');
      if (!r) return null;
      out.push(...r);
    }
    return out;
  }
  return null;
}

function addressList(right: Json): string[] | null {
  if (typeof right === 'string' && !right.startsWith('@')) return [right];
  if (isObj(right) && isObj(right.prefix)) return [`${String(right.prefix.addr)}/${String(right.prefix.len)}`];
  if (isObj(right) && Array.isArray(right.range)) return [`${String(right.range[0])}-${String(right.range[1])}`];
  if (isObj(right) && Array.isArray(right.set)) {
    const out: string[] = [];
    for (const e of right.set) {
      const a = addressList(unwrapElem(e));
      if (!a) return null;
      out.push(...a);
    }
    return out;
  }
  return null;
}

function stringList(right: Json): string[] {
  if (Array.isArray(right)) return right.map((v) => String(v));
  if (isObj(right) && Array.isArray(right.set)) return right.set.flatMap((e) => stringList(unwrapElem(e)));
  if (right === null || isObj(right)) return [];
  return [String(right)];
}

function tcpFlags(mask: string[], right: Json, op: string): Match {
  const set = stringList(right);
  // `tcp flags syn` (op "in") tests whether any of the flags is set; `== syn` compares exactly.
  if (mask.length === 0) return { kind: 'tcpflags', mask: op === 'in' ? set : ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ecn', 'cwr'], set, op: op === 'in' ? 'any' : 'eq', negate: op === '!=' };
  return { kind: 'tcpflags', mask, set, op: 'eq', negate: op === '!=' };
}

// ---------------------------------------------------------------------------------------------
// Rendering: nft JSON → the line `nft list ruleset` prints.

/** Meta keys nft prints without the `meta` keyword. */
const BARE_META = new Set(['iif', 'oif', 'iifname', 'oifname', 'iiftype', 'oiftype', 'skuid', 'skgid', 'nftrace', 'rtclassid', 'ibrname', 'obrname', 'pkttype', 'cpu', 'iifgroup', 'oifgroup', 'cgroup']);
/** Keys whose string values nft prints quoted (interface names). */
const QUOTED_KEYS = new Set(['iifname', 'oifname', 'iif', 'oif', 'ibrname', 'obrname']);
/** The ICMP type nft uses for a bare `reject` in each family. */
const DEFAULT_REJECT: Partial<Record<TableFamily, string>> = { inet: 'icmpx', ip: 'icmp', ip6: 'icmpv6', bridge: 'icmpx', netdev: 'icmpx' };

/**
 * Renders one rule's statements back as `nft list ruleset` prints them (without counters' handle
 * comment), e.g. `tcp dport { 22, 80 } accept`. Statements it does not know are shown as JSON.
 */
export function renderNftRule(expr: readonly unknown[], opts: { family?: TableFamily; comment?: string | undefined } = {}): string {
  const parts: string[] = [];
  for (const stmt of expr) {
    if (!isObj(stmt)) continue;
    const kind = keyOf(stmt);
    parts.push(kind === 'match' && isObj(stmt.match) ? renderMatch(stmt.match) : renderStatement(kind, stmt[kind] ?? null, opts.family ?? 'inet'));
  }
  if (opts.comment !== undefined) parts.push(`comment ${JSON.stringify(opts.comment)}`);
  return parts.join(' ');
}

function renderMatch(m: Obj): string {
  const op = String(m.op ?? '==');
  const left = m.left ?? null;
  const quote = isObj(left) && isObj(left.meta) && QUOTED_KEYS.has(String(left.meta.key));
  const lhs = renderExpr(left);
  const rhs = renderValue(m.right ?? null, quote);
  return op === '==' || op === 'in' ? `${lhs} ${rhs}` : `${lhs} ${op} ${rhs}`;
}

function renderExpr(e: Json): string {
  if (!isObj(e)) return renderValue(e);
  const k = keyOf(e);
  const b = e[k];
  if (k === 'payload' && isObj(b)) {
    if (b.protocol !== undefined) return `${String(b.protocol)} ${String(b.field)}`;
    return `@${String(b.base)},${String(b.offset)},${String(b.len)}`;
  }
  if (k === 'meta' && isObj(b)) return BARE_META.has(String(b.key)) ? String(b.key) : `meta ${String(b.key)}`;
  if (k === 'ct' && isObj(b)) return ['ct', b.dir, b.family, b.key].filter((x) => x !== undefined && x !== null).map(String).join(' ');
  if (k === 'fib' && isObj(b)) {
    const flags = Array.isArray(b.flags) ? b.flags.map(String) : [String(b.flags)];
    return `fib ${flags.join(' . ')} ${String(b.result)}`;
  }
  if (k === '&' || k === '|' || k === '^') {
    const [a, c] = Array.isArray(b) ? b : [];
    const mask = Array.isArray(c) ? `(${c.map(String).join(' | ')})` : renderValue(c ?? null);
    return `${renderExpr(a ?? null)} ${k} ${mask}`;
  }
  if (k === 'concat' && Array.isArray(b)) return b.map(renderExpr).join(' . ');
  if (k === 'exthdr' && isObj(b)) return `exthdr ${String(b.name)}${b.field ? ` ${String(b.field)}` : ''}`;
  if (k === 'tcp option' && isObj(b)) return `tcp option ${String(b.name)}${b.field ? ` ${String(b.field)}` : ''}`;
  return JSON.stringify(e);
}

function renderValue(v: Json, quote = false): string {
  if (v === null) return '';
  if (typeof v === 'boolean') return v ? 'exists' : 'missing';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return quote ? `"${v}"` : v;
  if (Array.isArray(v)) return v.map((x) => renderValue(x, quote)).join(',');
  const k = keyOf(v);
  const b = v[k];
  if (k === 'set' && Array.isArray(b)) return `{ ${b.map((x) => (Array.isArray(x) ? `${renderValue(x[0] ?? null, quote)} : ${renderVerdictOrValue(x[1] ?? null)}` : renderValue(unwrapElem(x), quote))).join(', ')} }`;
  if (k === 'range' && Array.isArray(b)) return `${renderValue(b[0] ?? null, quote)}-${renderValue(b[1] ?? null, quote)}`;
  if (k === 'prefix' && isObj(b)) return `${String(b.addr)}/${String(b.len)}`;
  if (k === 'concat' && Array.isArray(b)) return b.map((x) => renderValue(x, quote)).join(' . ');
  return renderExpr(v);
}

function renderVerdictOrValue(v: Json): string {
  if (isObj(v)) {
    const k = keyOf(v);
    if (['accept', 'drop', 'return', 'continue', 'jump', 'goto'].includes(k)) return renderStatement(k, v[k] ?? null, 'inet');
  }
  return renderValue(v);
}

function renderStatement(kind: string, body: Json, family: TableFamily): string {
  const b = isObj(body) ? body : {};
  switch (kind) {
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      return kind;
    case 'jump':
    case 'goto':
      return `${kind} ${String(b.target)}`;
    case 'reject': {
      if (!isObj(body)) return 'reject';
      const type = String(b.type ?? '');
      if (type === 'tcp reset') return 'reject with tcp reset';
      const code = b.expr === undefined ? '' : String(b.expr);
      if (code === '' || (code === 'port-unreachable' && type === DEFAULT_REJECT[family])) return 'reject';
      return `reject with ${type} ${code}`;
    }
    case 'counter':
      return isObj(body) ? `counter packets ${String(b.packets)} bytes ${String(b.bytes)}` : 'counter';
    case 'log': {
      const out = ['log'];
      if (b.prefix !== undefined) out.push(`prefix ${JSON.stringify(String(b.prefix))}`);
      if (b.level !== undefined) out.push(`level ${String(b.level)}`);
      if (b.group !== undefined) out.push(`group ${String(b.group)}`);
      if (b.snaplen !== undefined) out.push(`snaplen ${String(b.snaplen)}`);
      if (b.flags !== undefined) out.push(`flags ${Array.isArray(b.flags) ? b.flags.map(String).join(',') : String(b.flags)}`);
      return out.join(' ');
    }
    case 'limit': {
      const unit = b.rate_unit && b.rate_unit !== 'packets' ? ` ${String(b.rate_unit)}` : '';
      let out = `limit rate ${b.inv ? 'over ' : ''}${String(b.rate)}${unit}/${String(b.per)}`;
      if (typeof b.burst === 'number' && b.burst !== 0 && b.burst !== 5) out += ` burst ${b.burst} ${b.burst_unit ? String(b.burst_unit) : 'packets'}`;
      return out;
    }
    case 'dnat':
    case 'snat': {
      const fam = b.family !== undefined ? ` ${String(b.family)}` : '';
      const addr = b.addr !== undefined ? renderValue(b.addr) : '';
      const port = b.port !== undefined ? `:${renderValue(b.port)}` : '';
      return `${kind}${fam} to ${addr}${port}`;
    }
    case 'redirect':
      return b.port !== undefined ? `redirect to :${renderValue(b.port)}` : 'redirect';
    case 'masquerade':
      return b.port !== undefined ? `masquerade to :${renderValue(b.port)}` : 'masquerade';
    case 'notrack':
      return 'notrack';
    case 'queue':
      return `queue${b.num !== undefined ? ` num ${renderValue(b.num)}` : ''}`;
    case 'vmap':
      return `${renderExpr(b.key ?? null)} vmap ${typeof b.data === 'string' ? b.data : renderValue(b.data ?? null)}`;
    case 'xt':
      return `xt ${String(b.type)} ${JSON.stringify(String(b.name))}`;
    case 'mangle':
      return `${renderExpr(b.key ?? null)} set ${renderValue(b.value ?? null)}`;
    default:
      return body === null ? kind : `${kind} ${JSON.stringify(body)}`;
  }
}
