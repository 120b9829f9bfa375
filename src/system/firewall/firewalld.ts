import type { PortRange } from './model.js';

/** A port entry of a zone or service: `7000-7010/tcp`. */
export interface FirewalldPort {
  ports: PortRange;
  protocol: string;
}

/** One rich rule, with the parts whyport can decide on pulled out; `text` is the rule as listed. */
export interface FirewalldRichRule {
  text: string;
  family?: 'ipv4' | 'ipv6';
  priority?: number;
  source?: { address?: string; mac?: string; ipset?: string; invert: boolean };
  destination?: { address?: string; ipset?: string; invert: boolean };
  service?: string;
  port?: FirewalldPort;
  sourcePort?: FirewalldPort;
  protocol?: string;
  /** accept, reject, drop or mark; absent for rules that only log, masquerade or forward. */
  action?: 'accept' | 'reject' | 'drop' | 'mark';
  rejectType?: string;
  /** A limit on the action: it then applies only while the rate is not exceeded. */
  limit?: string;
  /** Elements other than those above (forward-port, icmp-block, masquerade, log, audit). */
  other: string[];
}

/** A zone as `firewall-cmd --list-all` prints it. */
export interface FirewalldZone {
  name: string;
  /** "(active)": the zone has interfaces or sources bound. */
  active: boolean;
  /** `default`, `ACCEPT`, `DROP`, `REJECT` or `%%REJECT%%`. */
  target: string;
  interfaces: string[];
  sources: string[];
  services: string[];
  ports: FirewalldPort[];
  protocols: string[];
  sourcePorts: FirewalldPort[];
  forwardPorts: string[];
  masquerade: boolean;
  icmpBlocks: string[];
  richRules: FirewalldRichRule[];
  /** Lines firewall-cmd printed before the zone, e.g. the warning that the default zone is not the active one. */
  notes: string[];
}

/** `firewall-cmd --info-service=NAME`: the ports a service name stands for. */
export interface FirewalldService {
  name: string;
  ports: FirewalldPort[];
  protocols: string[];
  sourcePorts: FirewalldPort[];
  includes: string[];
}

/**
 * Parses `firewall-cmd --list-all` (or `--list-all --zone=Z`). Multi-value fields printed on
 * tab-indented lines (rich rules, forward ports) are collected. Throws on text that holds no zone.
 */
export function parseFirewalldListAll(text: string): FirewalldZone {
  const { name, header, fields, notes } = parseBlocks(text);
  if (!name) throw new Error(`not firewall-cmd --list-all output: ${JSON.stringify(text.slice(0, 80))}`);
  const words = (k: string) => (fields.get(k)?.[0] ?? '').split(/\s+/).filter(Boolean);
  return {
    name,
    active: /\bactive\b/.test(header),
    target: words('target')[0] ?? 'default',
    interfaces: words('interfaces'),
    sources: words('sources'),
    services: words('services'),
    ports: words('ports').map(parsePort).filter((p): p is FirewalldPort => p !== null),
    protocols: words('protocols'),
    sourcePorts: words('source-ports').map(parsePort).filter((p): p is FirewalldPort => p !== null),
    forwardPorts: (fields.get('forward-ports') ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean),
    masquerade: words('masquerade')[0] === 'yes',
    icmpBlocks: words('icmp-blocks'),
    richRules: (fields.get('rich rules') ?? []).filter(Boolean).map(parseRichRule),
    notes,
  };
}

/** Parses `firewall-cmd --info-service=NAME`. */
export function parseFirewalldServiceInfo(text: string): FirewalldService {
  const { name, fields } = parseBlocks(text);
  if (!name) throw new Error(`not firewall-cmd --info-service output: ${JSON.stringify(text.slice(0, 80))}`);
  const words = (k: string) => (fields.get(k)?.[0] ?? '').split(/\s+/).filter(Boolean);
  return {
    name,
    ports: words('ports').map(parsePort).filter((p): p is FirewalldPort => p !== null),
    protocols: words('protocols'),
    sourcePorts: words('source-ports').map(parsePort).filter((p): p is FirewalldPort => p !== null),
    includes: words('includes'),
  };
}

/**
 * The zone or service block: a name line at column 0, then `  key: value` lines, where a value
 * may continue on following tab-indented lines. Anything before the name line is kept as notes.
 */
function parseBlocks(text: string): { name: string; header: string; fields: Map<string, string[]>; notes: string[] } {
  const lines = text.split('\n');
  const fields = new Map<string, string[]>();
  const notes: string[] = [];
  let name = '';
  let header = '';
  let current: string[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!name) {
      // The name line is the last unindented line right before the first "  key:" line.
      if (line && !/^\s/.test(line) && /^ {2}[a-z-]+( [a-z-]+)*:/.test(lines[i + 1] ?? '')) {
        header = line.trim();
        name = header.split(/\s+/)[0]!;
      } else if (line.trim()) {
        notes.push(line.trim());
      }
      continue;
    }
    const kv = /^ {2}([a-z-]+(?: [a-z-]+)*):\s?(.*)$/.exec(line);
    if (kv) {
      current = [kv[2]!.trim()];
      fields.set(kv[1]!, current);
    } else if (/^\t/.test(line) && current) {
      current.push(line.trim());
    }
  }
  return { name, header, fields, notes };
}

function parsePort(word: string): FirewalldPort | null {
  const m = /^(\d+)(?:-(\d+))?\/(\w+)$/.exec(word);
  if (!m) return null;
  const lo = Number(m[1]);
  return { ports: [lo, m[2] ? Number(m[2]) : lo], protocol: m[3]! };
}

/** Parses `rule family="ipv4" source address="10.0.0.0/8" port port="7071" protocol="tcp" accept`. */
export function parseRichRule(text: string): FirewalldRichRule {
  const rule: FirewalldRichRule = { text, other: [] };
  // Words: bare, or key="value" / key='value' / key=value.
  const words = [...text.matchAll(/([a-z-]+)(?:=(?:"([^"]*)"|'([^']*)'|(\S+)))?/g)].map((m) => ({ key: m[1]!, value: m[2] ?? m[3] ?? m[4] }));
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    // The attributes that follow an element keyword, until the next element keyword.
    const attrs = new Map<string, string | undefined>();
    let invert = false;
    const takeAttrs = () => {
      while (i + 1 < words.length && (words[i + 1]!.value !== undefined || words[i + 1]!.key === 'not')) {
        const a = words[++i]!;
        if (a.key === 'not') invert = true;
        else attrs.set(a.key, a.value);
      }
    };
    switch (w.key) {
      case 'rule':
        if (w.value === undefined) takeAttrs();
        if (attrs.get('family') === 'ipv4' || attrs.get('family') === 'ipv6') rule.family = attrs.get('family') as 'ipv4' | 'ipv6';
        if (attrs.has('priority')) rule.priority = Number(attrs.get('priority'));
        break;
      case 'source':
      case 'destination': {
        takeAttrs();
        const side: { address?: string; mac?: string; ipset?: string; invert: boolean } = { invert };
        if (attrs.get('address')) side.address = attrs.get('address')!;
        if (attrs.get('mac')) side.mac = attrs.get('mac')!;
        if (attrs.get('ipset')) side.ipset = attrs.get('ipset')!;
        if (w.key === 'source') rule.source = side;
        else rule.destination = side;
        break;
      }
      case 'service':
        takeAttrs();
        if (attrs.get('name')) rule.service = attrs.get('name')!;
        break;
      case 'port':
      case 'source-port': {
        takeAttrs();
        const p = parsePort(`${(attrs.get('port') ?? '').replace(/:/, '-')}/${attrs.get('protocol') ?? ''}`);
        if (p && w.key === 'port') rule.port = p;
        if (p && w.key === 'source-port') rule.sourcePort = p;
        break;
      }
      case 'protocol':
        takeAttrs();
        if (attrs.get('value')) rule.protocol = attrs.get('value')!;
        break;
      case 'accept':
      case 'drop':
      case 'mark':
        rule.action = w.key;
        takeAttrs();
        break;
      case 'reject':
        rule.action = 'reject';
        takeAttrs();
        if (attrs.get('type')) rule.rejectType = attrs.get('type')!;
        break;
      case 'limit':
        takeAttrs();
        rule.limit = attrs.get('value') ?? '';
        break;
      default: {
        const start = i;
        takeAttrs();
        rule.other.push(words.slice(start, i + 1).map((x) => (x.value === undefined ? x.key : `${x.key}="${x.value}"`)).join(' '));
      }
    }
  }
  return rule;
}
