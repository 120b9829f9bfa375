import { describe, expect, it } from 'vitest';
import { parseNftJson } from '../../../src/system/firewall/nft.js';
import { renderNftRule } from '../../../src/system/firewall/nft-render.js';
import { fixture, fixtureNames } from './fixtures.js';

/** `nft -a list ruleset` text → "family table chain handle" → the rule as nft prints it. */
function rulesByHandle(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let table = '';
  let chain = '';
  for (const line of text.split('\n')) {
    const t = /^table (\S+) (\S+) \{/.exec(line);
    if (t) table = `${t[1]} ${t[2]}`;
    const c = /^\tchain (\S+) \{/.exec(line);
    if (c) chain = c[1]!;
    const r = /^\t\t(.*?) # handle (\d+)$/.exec(line);
    if (r && chain) out.set(`${table} ${chain} ${r[2]}`, r[1]!);
  }
  return out;
}

const jsonFixtures = [
  ...fixtureNames('nft', '.json').map((n) => ['nft', n] as const),
  ...fixtureNames('firewalld', '.nft.json').map((n) => ['firewalld', n] as const),
];

describe('renderNftRule', () => {
  it.each(jsonFixtures)('prints every rule of %s/%s as nft list ruleset does', (tool, name) => {
    const ruleset = parseNftJson(fixture(tool, name));
    const text = rulesByHandle(fixture(tool, name.replace(/\.json$/, '.nft.txt').replace('.nft.nft.', '.nft.')));
    let rules = 0;
    for (const table of ruleset.tables) {
      for (const chain of table.chains) {
        for (const rule of chain.rules) {
          rules++;
          // iptables-nft extensions: nft translates them to text it cannot express in JSON.
          if (rule.expr.some((e) => typeof e === 'object' && e !== null && 'xt' in e)) continue;
          expect(rule.text, `${table.family} ${table.name} ${chain.name} handle ${rule.handle}`).toBe(
            text.get(`${table.family} ${table.name} ${chain.name} ${rule.handle}`)?.replace(/ {2,}/g, ' '),
          );
        }
      }
    }
    expect(rules).toBe(text.size);
  });
});

describe('parseNftJson', () => {
  it('reads an empty ruleset', () => {
    const r = parseNftJson(fixture('nft', 'empty.json'));
    expect(r).toEqual({ version: '1.0.6', tables: [] });
  });

  it('reads tables, base chains with hook, priority and policy, and rules in order', () => {
    const r = parseNftJson(fixture('nft', 'inet-lo-accept-drop.json'));
    expect(r.tables).toHaveLength(1);
    const [table] = r.tables;
    expect(table).toMatchObject({ family: 'inet', name: 'filter' });
    const input = table!.chains[0]!;
    expect(input).toMatchObject({ name: 'input', hook: 'input', priority: 0, policy: 'accept', type: 'filter' });
    expect(input.rules.map((x) => x.text)).toEqual(['iifname "lo" accept', 'ct state established,related accept', 'tcp dport 7071 drop']);
    expect(input.rules[0]).toMatchObject({ matches: [{ kind: 'iif', names: ['lo'], negate: false }], action: { kind: 'accept' } });
    expect(input.rules[1]!.matches).toEqual([{ kind: 'ctstate', states: ['established', 'related'], negate: false }]);
    expect(input.rules[2]).toMatchObject({ handle: 4, matches: [{ kind: 'dport', protocol: 'tcp', ports: [[7071, 7071]], negate: false }], action: { kind: 'drop' } });
  });

  it('resolves anonymous and named sets, ranges, vmaps, jumps, gotos and rejects', () => {
    const r = parseNftJson(fixture('nft', 'policy-drop-sets.json'));
    const table = r.tables[0]!;
    expect(table.sets.map((s) => s.name)).toEqual(['allowed', 'blocked_nets']);
    const input = table.chains.find((c) => c.name === 'input')!;
    expect(input.policy).toBe('drop');
    const byText = (t: string) => input.rules.find((x) => x.text === t)!;
    expect(byText('ct state vmap { invalid : drop, established : accept, related : accept }').action).toEqual({
      kind: 'vmap',
      entries: [
        { match: { kind: 'ctstate', states: ['invalid'], negate: false }, action: { kind: 'drop' } },
        { match: { kind: 'ctstate', states: ['established'], negate: false }, action: { kind: 'accept' } },
        { match: { kind: 'ctstate', states: ['related'], negate: false }, action: { kind: 'accept' } },
      ],
    });
    expect(byText('iif "lo" accept').matches).toEqual([{ kind: 'iif', names: ['lo'], negate: false }]);
    expect(byText('ip saddr @blocked_nets drop').matches).toEqual([
      { kind: 'family', family: 4 },
      { kind: 'saddr', prefixes: ['192.0.2.0/24', '198.51.100.7'], negate: false },
    ]);
    expect(byText('tcp dport { 22, 80, 443 } accept').matches[0]).toMatchObject({ ports: [[22, 22], [80, 80], [443, 443]] });
    expect(byText('tcp dport @allowed accept').matches[0]).toMatchObject({ ports: [[8443, 8443], [9000, 9010]] });
    expect(byText('tcp dport 7000-7100 reject with tcp reset')).toMatchObject({ matches: [{ ports: [[7000, 7100]] }], action: { kind: 'reject', with: 'tcp reset' } });
    expect(byText('meta l4proto { tcp, udp } th dport 53 accept').matches).toEqual([
      { kind: 'protocol', protocols: ['tcp', 'udp'], negate: false },
      { kind: 'dport', protocol: 'th', ports: [[53, 53]], negate: false },
    ]);
    expect(byText('tcp dport != 6000 jump services')).toMatchObject({ matches: [{ negate: true }], action: { kind: 'jump', chain: 'services' } });
    expect(byText('meta l4proto udp goto udp_in').action).toEqual({ kind: 'goto', chain: 'udp_in' });
    expect(byText('icmp type echo-request limit rate 5/second accept').matches).toEqual([
      { kind: 'protocol', protocols: ['icmp'], negate: false },
      { kind: 'other', text: 'icmp type echo-request' },
      { kind: 'other', text: 'limit rate 5/second' },
    ]);
    const last = input.rules.at(-1)!;
    expect(last).toMatchObject({ comment: 'everything else', action: { kind: 'continue' } });
    const services = table.chains.find((c) => c.name === 'services')!;
    expect(services.hook).toBeUndefined();
    expect(services.rules.map((x) => x.action.kind)).toEqual(['reject', 'drop', 'drop', 'return']);
    expect(services.rules[0]!.action).toEqual({ kind: 'reject', with: 'icmpx admin-prohibited' });
    expect(services.rules[1]!.matches.find((m) => m.kind === 'tcpflags')).toEqual({ kind: 'tcpflags', mask: ['syn'], set: ['syn'], op: 'any', negate: false });
    // A bare reject in an inet table is icmpx port-unreachable: nft prints it as just "reject".
    expect(table.chains.find((c) => c.name === 'udp_in')!.rules[1]).toMatchObject({ text: 'reject', action: { kind: 'reject' } });
  });

  it('reads several families and hooks, and the implicit family of an ICMP reject', () => {
    const r = parseNftJson(fixture('nft', 'families-hooks.json'));
    expect(r.tables.map((t) => `${t.family} ${t.name}`)).toEqual(['ip raw', 'ip6 filter', 'ip nat', 'netdev edge']);
    expect(r.tables[0]!.chains[0]).toMatchObject({ hook: 'prerouting', priority: -300 });
    expect(r.tables[1]!.chains[0]!.rules[1]).toMatchObject({ matches: [{ kind: 'dport' }, { kind: 'family', family: 6 }], action: { kind: 'reject', with: 'icmpv6 admin-prohibited' } });
    expect(r.tables[2]!.chains[0]!.rules[0]!.action).toEqual({ kind: 'nat', text: 'dnat to 10.0.0.2:80' });
    // nft 1.0.6 leaves the device of a netdev chain out of its JSON.
    expect(r.tables[3]!.chains[0]).toMatchObject({ hook: 'ingress', priority: 0 });
  });

  it('keeps iptables-nft extensions as undecidable matches (nft -j names them only)', () => {
    const r = parseNftJson(fixture('nft', 'iptables-nft-view.json'));
    const input = r.tables.find((t) => t.family === 'ip')!.chains[0]!;
    expect(input.rules[1]!.matches).toEqual([{ kind: 'other', text: 'xt match "conntrack"' }]);
  });

  it('reads firewalld\'s ruleset: fib, ct status, verdicts and priorities off the standard values', () => {
    const r = parseNftJson(fixture('firewalld', 'public-default.nft.json'));
    const t = r.tables.find((x) => x.name === 'firewalld')!;
    const input = t.chains.find((c) => c.name === 'filter_INPUT')!;
    expect(input).toMatchObject({ hook: 'input', priority: 10 });
    expect(input.rules.map((x) => x.text)).toContain('ct status dnat accept');
    const pre = t.chains.find((c) => c.name === 'filter_PREROUTING')!;
    expect(pre.rules.find((x) => x.text.includes('fib'))!.matches).toEqual([
      { kind: 'family', family: 6 },
      { kind: 'rpfilter', failing: true },
    ]);
  });

  it('says what is wrong with text that is not nft JSON', () => {
    expect(() => parseNftJson(fixture('nft', 'nonroot.stderr.txt'))).toThrow(/not JSON/);
    expect(() => parseNftJson('{"x": 1}')).toThrow(/no "nftables" array/);
  });
});
