import type { PortRange } from './model.js';

/** One side of a ufw rule, as `ufw status verbose` prints it ("10.0.0.5 7071/tcp on eth0"). */
export interface UfwEndpoint {
  /** An address or CIDR; absent for Anywhere. */
  address?: string;
  /** Absent when any port matches. */
  ports?: PortRange[];
  /** The protocol printed after the port ("/tcp"); absent for any. */
  protocol?: string;
  /** An application profile ("WWW Full"): verbose output also lists its ports, plain output only the name. */
  app?: string;
  interface?: string;
}

/** What a ufw rule does: limit is allow with a rate limit per source. */
export type UfwAction = 'allow' | 'deny' | 'reject' | 'limit';
/** A default policy, as the `Default:` line of `ufw status verbose` spells it. */
export type UfwPolicy = 'allow' | 'deny' | 'reject' | 'disabled';

/** One rule line of `ufw status`. */
export interface UfwRule {
  /** The line as printed, trailing padding removed. */
  text: string;
  to: UfwEndpoint;
  from: UfwEndpoint;
  action: UfwAction;
  direction: 'in' | 'out' | 'fwd';
  /** Rules marked "(v6)" (or with an IPv6 address) go to ip6tables, the others to iptables. */
  v6: boolean;
  log?: 'log' | 'log-all';
  comment?: string;
}

/** `ufw status verbose`: inactive, or the defaults and the rules in order. */
export type UfwStatus =
  | { active: false }
  | {
      active: true;
      /** "on (low)", "off". */
      logging?: string;
      defaults: { incoming: UfwPolicy; outgoing: UfwPolicy; routed: UfwPolicy };
      rules: UfwRule[];
    };

const ACTION = /(?:^|\s)(ALLOW|DENY|REJECT|LIMIT)(?: (IN|OUT|FWD))?(?=\s|$)/;

/**
 * Parses `ufw status verbose` (also plain and `numbered` status). Rules keep ufw's order, which is
 * its evaluation order within each family (v4 rules, then v6 rules). Throws on text that is not
 * ufw status output.
 */
export function parseUfwStatus(text: string): UfwStatus {
  const lines = text.split('\n');
  const statusLine = lines.find((l) => /^Status: /.test(l));
  if (!statusLine) throw new Error(`not ufw status output: ${JSON.stringify(text.slice(0, 80))}`);
  if (/^Status: inactive/.test(statusLine)) return { active: false };
  const status: Extract<UfwStatus, { active: true }> = {
    active: true,
    defaults: { incoming: 'deny', outgoing: 'allow', routed: 'disabled' },
    rules: [],
  };
  let inRules = false;
  for (const raw of lines) {
    const line = raw.replace(/\s+$/, '');
    const logging = /^Logging: (.*)$/.exec(line);
    if (logging) status.logging = logging[1]!;
    const def = /^Default: (\w+) \(incoming\), (\w+) \(outgoing\), (\w+) \(routed\)/.exec(line);
    if (def) status.defaults = { incoming: def[1] as UfwPolicy, outgoing: def[2] as UfwPolicy, routed: def[3] as UfwPolicy };
    if (/^\s*(\[\s*\d+\]\s*)?--\s+-+\s+--/.test(line)) {
      inRules = true;
      continue;
    }
    if (!inRules || line.trim() === '') continue;
    const rule = parseRuleLine(line);
    if (rule) status.rules.push(rule);
  }
  return status;
}

function parseRuleLine(line: string): UfwRule | null {
  const body = line.replace(/^\s*\[\s*\d+\]\s*/, '');
  const m = ACTION.exec(body);
  if (!m) return null;
  const toText = body.slice(0, m.index).trim();
  let rest = body.slice(m.index + m[0].length).trim();
  let comment: string | undefined;
  const c = / # (.*)$/.exec(' ' + rest);
  if (c) {
    comment = c[1]!;
    rest = (' ' + rest).slice(0, c.index).trim();
  }
  let log: UfwRule['log'];
  const attrs = /\s*\(([a-z-]+(?:, [a-z-]+)*)\)$/.exec(rest);
  if (attrs && attrs[1]!.split(', ').every((a) => ['log', 'log-all', 'in', 'out'].includes(a))) {
    for (const a of attrs[1]!.split(', ')) if (a === 'log' || a === 'log-all') log = a;
    rest = rest.slice(0, attrs.index).trim();
  }
  const to = parseEndpoint(toText);
  const from = parseEndpoint(rest);
  const rule: UfwRule = {
    text: body.replace(/\s+$/, ''),
    to: to.endpoint,
    from: from.endpoint,
    action: m[1]!.toLowerCase() as UfwAction,
    direction: (m[2]?.toLowerCase() ?? 'in') as UfwRule['direction'],
    v6: to.v6 || from.v6 || [to.endpoint.address, from.endpoint.address].some((a) => a?.includes(':')),
  };
  if (log) rule.log = log;
  if (comment !== undefined) rule.comment = comment;
  return rule;
}

const PORT_SPEC = /^(\d+(?::\d+)?(?:,\d+(?::\d+)?)*)(?:\/(\w+))?$/;

function parseEndpoint(text: string): { endpoint: UfwEndpoint; v6: boolean } {
  const endpoint: UfwEndpoint = {};
  let s = text.trim();
  const on = /\s+on\s+(\S+)$/.exec(s);
  if (on) {
    endpoint.interface = on[1]!;
    s = s.slice(0, on.index);
  }
  const v6 = /\(v6\)/.test(s);
  s = s.replace(/ \(v6\)/g, '').trim();
  const app = /^(.*?)\s*\((.+)\)$/.exec(s);
  if (app) {
    endpoint.app = app[2]!;
    s = app[1]!;
  }
  const words = s.split(/\s+/).filter(Boolean);
  const anywhere = /^Anywhere(?:\/(\w+))?$/.exec(words[0] ?? '');
  if (words.length === 1 && anywhere) {
    if (anywhere[1]) endpoint.protocol = anywhere[1];
    return { endpoint, v6 };
  }
  const port = (w: string | undefined) => (w ? PORT_SPEC.exec(w) : null);
  const isAddress = (w: string | undefined) => !!w && /^[0-9a-fA-F.:]+(?:\/\d+)?$/.test(w) && /[.:]/.test(w);
  let spec: RegExpExecArray | null = null;
  let address: string | undefined;
  if (words.length === 1 && port(words[0])) spec = port(words[0]);
  else if (words.length === 1 && isAddress(words[0])) address = words[0];
  else if (words.length === 1 && /^(.+)\/(\w+)$/.test(words[0]!) && isAddress(words[0]!.replace(/\/(tcp|udp|\w+)$/, ''))) {
    // "10.0.0.5/tcp": an address with a protocol and no port.
    const [a, p] = [words[0]!.slice(0, words[0]!.lastIndexOf('/')), words[0]!.slice(words[0]!.lastIndexOf('/') + 1)];
    address = a;
    endpoint.protocol = p;
  } else if (words.length === 2 && isAddress(words[0]) && port(words[1])) {
    address = words[0];
    spec = port(words[1]);
  } else if (s !== '') {
    // Plain status prints an application rule by name only ("WWW Full"): its ports are not shown.
    endpoint.app = endpoint.app ? `${s} (${endpoint.app})` : s;
  }
  if (address) endpoint.address = address;
  if (spec) {
    endpoint.ports = spec[1]!.split(',').map((p) => {
      const [lo, hi] = p.split(':').map(Number);
      return [lo!, hi ?? lo!] as const;
    });
    if (spec[2]) endpoint.protocol = spec[2];
  }
  return { endpoint, v6 };
}
