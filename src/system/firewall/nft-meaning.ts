import type { Action, Match, PortProtocol, PortRange } from './model.js';
import { isObj, keyOf, unwrapElem, type Json, type NftTable, type Obj } from './nft-model.js';
import { renderMatch, renderStatement, renderValue } from './nft-render.js';

// Meaning: nft statements → matches and an action.

const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'dccp', 'udplite', 'th']);
/** Payload protocols that are themselves a layer-4 protocol (so `icmp type …` never matches TCP). */
const L4_OF_PAYLOAD: Record<string, string> = { tcp: 'tcp', udp: 'udp', sctp: 'sctp', dccp: 'dccp', udplite: 'udplite', icmp: 'icmp', icmpv6: 'ipv6-icmp', igmp: 'igmp', esp: 'esp', ah: 'ah', comp: 'comp', gre: 'gre' };

/** What one rule's statements mean: the conditions it tests and what it does when they hold. */
export function interpretRule(expr: Json[], table: NftTable): { matches: Match[]; action: Action } {
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

