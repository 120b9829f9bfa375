import type { TableFamily } from './model.js';
import { isObj, keyOf, unwrapElem, type Json, type Obj } from './nft-model.js';

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

/** One match statement as nft prints it, e.g. `tcp dport 22`. */
export function renderMatch(m: Obj): string {
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

/** A value as nft prints it: sets in braces, ranges with a dash, prefixes with a slash. */
export function renderValue(v: Json, quote = false): string {
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

/** A statement other than a match (verdicts, reject, nat, counter…) as nft prints it. */
export function renderStatement(kind: string, body: Json, family: TableFamily): string {
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
