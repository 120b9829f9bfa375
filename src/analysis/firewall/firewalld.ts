import type { Match } from '../../system/firewall/model.js';
import type { FirewalldService, FirewalldZone } from '../../system/firewall/firewalld.js';
import { firewalldFix, fixOf } from './fix.js';
import { matchesTri } from './match.js';
import type { Base, BlockingRule, Decision, Packet, Protocol, Tri, Undecided } from './model.js';

// firewalld: the zone from `firewall-cmd --list-all`, in the order firewalld builds its chains.

type ZoneStep = { key: object; text: string; matches: Match[]; kind: 'accept' | 'drop' | 'reject' | 'none'; richRule?: string };

function zoneSteps(zone: FirewalldZone, services: Record<string, FirewalldService>, protocol: Protocol): ZoneStep[] {
  const steps: { prio: number; stage: number; step: ZoneStep }[] = [];
  // A service stands for its ports of the packet's protocol (dns: 53/tcp for TCP, 53/udp for UDP).
  const serviceMatches = (name: string): Match[] => {
    const svc = services[name];
    if (!svc) return [{ kind: 'other', text: `service ${name} (its ports were not read)` }];
    const ranges = svc.ports.filter((x) => x.protocol === protocol).map((x) => x.ports);
    const anyPort = svc.protocols.includes(protocol);
    return anyPort ? [] : [{ kind: 'dport', protocol, ports: ranges, negate: false }];
  };
  for (const r of zone.richRules) {
    const m: Match[] = [];
    if (r.family) m.push({ kind: 'family', family: r.family === 'ipv4' ? 4 : 6 });
    if (r.source?.address) m.push({ kind: 'saddr', prefixes: [r.source.address], negate: r.source.invert });
    else if (r.source) m.push({ kind: 'other', text: 'source ipset or MAC address' });
    if (r.destination?.address) m.push({ kind: 'daddr', prefixes: [r.destination.address], negate: r.destination.invert });
    if (r.service) m.push(...serviceMatches(r.service));
    if (r.port) m.push({ kind: 'protocol', protocols: [r.port.protocol], negate: false }, { kind: 'dport', protocol: 'th', ports: [r.port.ports], negate: false });
    if (r.protocol) m.push({ kind: 'protocol', protocols: [r.protocol], negate: false });
    if (r.sourcePort) m.push({ kind: 'sport', protocol: 'th', ports: [r.sourcePort.ports], negate: false });
    if (r.limit !== undefined) m.push({ kind: 'other', text: `limit value="${r.limit}"` });
    const kind = r.action === 'accept' ? 'accept' : r.action === 'drop' ? 'drop' : r.action === 'reject' ? 'reject' : 'none';
    // Rich rules with priority 0 go to the zone's deny chain (drop, reject) or allow chain (accept);
    // negative priorities run before both, positive after.
    const stage = kind === 'accept' ? 2 : 1;
    steps.push({ prio: r.priority ?? 0, stage: (r.priority ?? 0) === 0 ? stage : 0, step: { key: r, text: `rich rule: ${r.text}`, matches: m, kind, richRule: r.text } });
  }
  for (const port of zone.ports) {
    steps.push({ prio: 0, stage: 2, step: { key: port, text: `ports: ${port.ports[0] === port.ports[1] ? port.ports[0] : port.ports.join('-')}/${port.protocol}`, matches: [{ kind: 'protocol', protocols: [port.protocol], negate: false }, { kind: 'dport', protocol: 'th', ports: [port.ports], negate: false }], kind: 'accept' } });
  }
  for (const name of zone.services) steps.push({ prio: 0, stage: 2, step: { key: { name }, text: `services: ${name}`, matches: serviceMatches(name), kind: 'accept' } });
  for (const proto of zone.protocols) steps.push({ prio: 0, stage: 2, step: { key: { proto }, text: `protocols: ${proto}`, matches: [{ kind: 'protocol', protocols: [proto], negate: false }], kind: 'accept' } });
  for (const sp of zone.sourcePorts) steps.push({ prio: 0, stage: 2, step: { key: sp, text: `source-ports: ${sp.ports.join('-')}/${sp.protocol}`, matches: [{ kind: 'protocol', protocols: [sp.protocol], negate: false }, { kind: 'sport', protocol: 'th', ports: [sp.ports], negate: false }], kind: 'accept' } });
  return steps.sort((a, b) => a.prio - b.prio || a.stage - b.stage).map((s) => s.step);
}

type ZoneDecision = { kind: 'accept' | 'drop' | 'reject'; step?: ZoneStep; loopback?: boolean };

function zoneDecide(zone: FirewalldZone, services: Record<string, FirewalldService>, p: Packet, forced: ReadonlySet<object>, undecided: Undecided[]): ZoneDecision {
  if (p.iif === 'lo') return { kind: 'accept', loopback: true };
  for (const step of zoneSteps(zone, services, p.protocol)) {
    if (step.kind === 'none') continue;
    const t = forced.has(step.key) ? { tri: 'yes' as Tri, why: [] } : matchesTri(step.matches, p);
    if (t.tri === 'no') continue;
    if (t.tri === 'maybe') {
      undecided.push({ key: step.key, text: step.text, chain: `zone ${zone.name}`, why: t.why, matches: step.matches });
      continue;
    }
    return { kind: step.kind, step };
  }
  const target = zone.target.toUpperCase();
  return { kind: target === 'ACCEPT' ? 'accept' : target === 'DROP' ? 'drop' : 'reject' };
}

/** A block in firewalld's nft table, said with the zone, rich rule or target that made it. */
export function firewalldView(zone: FirewalldZone, services: Record<string, FirewalldService>, p: Packet, d: Decision): Partial<BlockingRule> {
  const kernel = `nft rule ${d.rule ?? d.policyText ?? ''} (table inet firewalld, chain ${d.chain})`;
  // firewalld names its chains after zones (filter_IN_public_allow): the walk tells which zone
  // handled the connection, which need not be the default zone that --list-all shows.
  const walked = d.path.map((c) => /^filter_IN_(.+?)(?:_(?:pre|log|deny|allow|post))?$/.exec(c)?.[1]).find((z) => z !== undefined);
  if (walked && walked !== zone.name) {
    return { tool: 'firewalld', detail: `zone ${walked} does not allow ${p.dport}/${p.protocol}; in the kernel: ${kernel}`, fix: firewalldFix(walked, p.dport, p.protocol) };
  }
  const z = zoneDecide(zone, services, p, new Set(), []);
  if (z.kind !== 'accept' && z.step?.richRule) {
    return { tool: 'firewalld', detail: `zone ${zone.name}: ${z.step.text}; in the kernel: ${kernel}`, fix: fixOf(['firewall-cmd', `--zone=${zone.name}`, `--remove-rich-rule=${z.step.richRule}`], 'runtime only: run it again with --permanent to keep it after a reload') };
  }
  if (z.kind !== 'accept') {
    return { tool: 'firewalld', detail: `zone ${zone.name} (target: ${zone.target}) allows no service, port or rich rule for ${p.dport}/${p.protocol}; in the kernel: ${kernel}`, fix: firewalldFix(zone.name, p.dport, p.protocol) };
  }
  // The listed zone lets it in, so another zone applies (an interface or source bound elsewhere).
  return { tool: 'firewalld', detail: `blocked by ${kernel}, although zone ${zone.name} allows it: the ${p.protocol === 'udp' ? 'datagram' : 'connection'} is handled by another zone (firewall-cmd --get-active-zones)`, fix: firewalldFix(undefined, p.dport, p.protocol) };
}

/** firewalld's zone as a base chain, for when its nft table could not be read. */
export function firewalldBase(zone: FirewalldZone, services: Record<string, FirewalldService>): Base {
  return {
    tool: 'firewalld',
    hook: 'input',
    priority: 10,
    table: 'firewalld',
    chain: `zone ${zone.name}`,
    decide(p, forced, undecided) {
      const z = zoneDecide(zone, services, p, forced, undecided);
      const chain = `zone ${zone.name}`;
      if (z.loopback) return { kind: 'accept', rule: 'iifname "lo" accept', chain: 'filter_INPUT', path: ['filter_INPUT'] };
      if (z.step) return { kind: z.kind, rule: z.step.text, chain, path: [chain], ...(z.kind === 'reject' ? { rejectWith: 'icmpx admin-prohibited' } : {}) };
      return { kind: z.kind, chain, path: [chain], policyText: `target: ${zone.target}`, ...(z.kind === 'reject' ? { rejectWith: 'icmpx admin-prohibited' } : {}) };
    },
    describe(d, p) {
      const out: Omit<BlockingRule, 'verdict' | 'path' | 'clientSees'> = { tool: 'firewalld', table: 'firewalld', chain: d.chain, rule: d.rule ?? d.policyText ?? '', fix: firewalldFix(zone.name, p.dport, p.protocol) };
      if (d.rule === undefined) out.policy = true;
      if (d.rejectWith) out.rejectWith = d.rejectWith;
      const rich = zone.richRules.find((r) => d.rule === `rich rule: ${r.text}`);
      if (rich) out.fix = fixOf(['firewall-cmd', `--zone=${zone.name}`, `--remove-rich-rule=${rich.text}`], 'runtime only: run it again with --permanent to keep it after a reload');
      return out;
    },
  };
}
