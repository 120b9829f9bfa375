import { describe, expect, it } from 'vitest';
import { matchesTri } from '../../../src/analysis/firewall/match.js';
import { findBlockingRules, type FirewallRulesets } from '../../../src/analysis/firewall/verdict.js';
import { findDnat } from '../../../src/analysis/forward.js';
import type { IptablesRule } from '../../../src/system/firewall/iptables.js';
import type { Packet } from '../../../src/analysis/firewall/model.js';
import { mayDecide, walkChain, type Reading } from '../../../src/analysis/firewall/walk.js';
import type { Action, FirewallChain, FirewallRule, FirewallTable, Match } from '../../../src/system/firewall/model.js';

// The one rule walker on plain objects: the chains, the packet and the reading are written here,
// so each case shows one thing the walk does (jumps, returns, gotos, vmaps, undecided conditions).

const rule = (text: string, action: Action, ...matches: Match[]): FirewallRule => ({ text, matches, action });
const chain = (name: string, rules: FirewallRule[], more: Partial<FirewallChain> = {}): FirewallChain => ({ name, rules, ...more });
const table = (...chains: FirewallChain[]): FirewallTable => ({ family: 'inet', name: 't', chains });

const tcp = (port: number): Match => ({ kind: 'dport', protocol: 'tcp', ports: [[port, port]], negate: false });
const from = (...prefixes: string[]): Match => ({ kind: 'saddr', prefixes, negate: false });
const iif = (name: string): Match => ({ kind: 'iif', names: [name], negate: false });
const oif = (name: string): Match => ({ kind: 'oif', names: [name], negate: false });

/** A new TCP connection to a local socket on port 7071, from a client whyport knows nothing about. */
const incoming: Packet = { family: 4, protocol: 'tcp', dport: 7071, hook: 'input', dstTypes: ['LOCAL'], srcTypes: ['UNICAST'] };
/** The same from a program on this host, to one of its addresses (nat's OUTPUT hook). */
const outgoing: Packet = { ...incoming, hook: 'output', oif: 'lo', srcTypes: ['LOCAL'] };
/** On its way through this host (the FORWARD chain): it arrived on eth0, where it leaves is not known. */
const through: Packet = { ...incoming, hook: 'forward', iif: 'eth0', dstTypes: ['UNICAST'] };

type Seen = { kind: string; rule: string; path: string[] };

/** A reading that ends on any verdict and notes the undecided rules; `take` walks on as if they held. */
function reading(t: FirewallTable, packet: Packet, opts: { take?: boolean; forced?: object[]; randomIsChoice?: boolean } = {}) {
  const undecided: { text: string; chain: string; why: string[]; entry: boolean }[] = [];
  const r: Reading<Seen> = {
    table: t,
    packet,
    forced: new Set(opts.forced ?? []),
    randomIsChoice: opts.randomIsChoice ?? false,
    verdict: (ru, action, at) => ({ kind: action.kind, rule: ru.text, path: at.path }),
    undecided: (key, ru, _action, why, at) => {
      undecided.push({ text: ru.text, chain: at.chain.name, why, entry: key !== ru });
      return opts.take ?? false;
    },
  };
  return { r, undecided };
}

describe('walkChain: first match, jumps, returns, gotos', () => {
  const t = table(
    chain('input', [rule('jump marks', { kind: 'jump', chain: 'marks' }), rule('jump users', { kind: 'jump', chain: 'users' }), rule('tcp dport 7071 drop', { kind: 'drop' }, tcp(7071))], { hook: 'input' }),
    chain('marks', [rule('counter', { kind: 'continue' }), rule('return', { kind: 'return' }), rule('drop (after the return)', { kind: 'drop' })]),
    chain('users', [rule('tcp dport 22 accept', { kind: 'accept' }, tcp(22))]),
  );

  it('comes back from a jump whose chain returns or runs out, and the first rule that applies decides', () => {
    expect(walkChain(reading(t, incoming).r, 'input')).toEqual({ kind: 'drop', rule: 'tcp dport 7071 drop', path: ['input'] });
    expect(walkChain(reading(t, { ...incoming, dport: 22 }).r, 'input')).toEqual({ kind: 'accept', rule: 'tcp dport 22 accept', path: ['input', 'users'] });
  });

  it('runs out at the end of a chain nothing in which applies (the caller applies the policy)', () => {
    expect(walkChain(reading(t, { ...incoming, dport: 80 }).r, 'input')).toEqual({ kind: 'end' });
    expect(walkChain(reading(t, incoming).r, 'no such chain')).toEqual({ kind: 'end' });
  });

  it('does not come back from a goto: the chain that went there returns with it', () => {
    const g = table(
      chain('input', [rule('jump dispatch', { kind: 'jump', chain: 'dispatch' }), rule('accept', { kind: 'accept' })], { hook: 'input' }),
      chain('dispatch', [rule('goto quiet', { kind: 'goto', chain: 'quiet' }), rule('drop (never reached)', { kind: 'drop' })]),
      chain('quiet', [rule('counter', { kind: 'continue' })]),
    );
    expect(walkChain(reading(g, incoming).r, 'dispatch')).toEqual({ kind: 'return' });
    expect(walkChain(reading(g, incoming).r, 'input')).toEqual({ kind: 'accept', rule: 'accept', path: ['input'] });
  });

  it('ends a loop of jumps instead of following it forever', () => {
    const loop = table(chain('a', [rule('jump b', { kind: 'jump', chain: 'b' })]), chain('b', [rule('jump a', { kind: 'jump', chain: 'a' })]));
    expect(walkChain(reading(loop, incoming).r, 'a')).toEqual({ kind: 'end' });
  });

  it("a vmap's first applying entry acts; none applying goes on with the next rule", () => {
    const vmap: Action = { kind: 'vmap', entries: [{ match: tcp(22), action: { kind: 'accept' } }, { match: tcp(7071), action: { kind: 'jump', chain: 'deny' } }] };
    const v = table(chain('input', [rule('tcp dport vmap { 22 : accept, 7071 : jump deny }', vmap), rule('accept', { kind: 'accept' })]), chain('deny', [rule('reject', { kind: 'reject' })]));
    expect(walkChain(reading(v, incoming).r, 'input')).toEqual({ kind: 'reject', rule: 'reject', path: ['input', 'deny'] });
    expect(walkChain(reading(v, { ...incoming, dport: 80 }).r, 'input')).toEqual({ kind: 'accept', rule: 'accept', path: ['input'] });
  });
});

describe('walkChain on the FORWARD hook (a connection on its way through, as to a container)', () => {
  // Docker's FORWARD chain, cut down: DOCKER-USER first, then what goes out to the bridge is accepted.
  const t = table(
    chain('FORWARD', [rule('-A FORWARD -j DOCKER-USER', { kind: 'jump', chain: 'DOCKER-USER' }), rule('-A FORWARD -o docker0 -j ACCEPT', { kind: 'accept' }, oif('docker0'))], { hook: 'forward', policy: 'drop' }),
    chain('DOCKER-USER', [rule('-A DOCKER-USER -i eth0 ! -s 10.0.0.0/8 -j DROP', { kind: 'drop' }, iif('eth0'), { kind: 'saddr', prefixes: ['10.0.0.0/8'], negate: true }), rule('-A DOCKER-USER -j RETURN', { kind: 'return' })]),
  );

  it('decides by both interfaces once the route is known, and says what it depends on until then', () => {
    const toBridge: Packet = { ...through, oif: 'docker0', saddr: '10.1.2.3' };
    expect(walkChain(reading(t, toBridge).r, 'FORWARD')).toEqual({ kind: 'accept', rule: '-A FORWARD -o docker0 -j ACCEPT', path: ['FORWARD'] });
    expect(walkChain(reading(t, { ...toBridge, saddr: '192.0.2.7' }).r, 'FORWARD')).toEqual({ kind: 'drop', rule: '-A DOCKER-USER -i eth0 ! -s 10.0.0.0/8 -j DROP', path: ['FORWARD', 'DOCKER-USER'] });
    const unknown = reading(t, through);
    expect(walkChain(unknown.r, 'FORWARD')).toEqual({ kind: 'end' });
    expect(unknown.undecided.map((u) => u.why)).toEqual([["the client's address"], ['the interface the connection leaves by']]);
  });
});

describe('walkChain: conditions that depend on the client', () => {
  const t = table(chain('input', [rule('ip saddr 10.0.0.0/8 drop', { kind: 'drop' }, from('10.0.0.0/8'), tcp(7071)), rule('accept', { kind: 'accept' })], { hook: 'input' }));

  it("a source rule depends on the client's address: passed over and said, or walked into when the reading takes it", () => {
    const strict = reading(t, incoming);
    expect(walkChain(strict.r, 'input')).toMatchObject({ kind: 'accept' });
    expect(strict.undecided).toEqual([{ text: 'ip saddr 10.0.0.0/8 drop', chain: 'input', why: ["the client's address"], entry: false }]);
    const lenient = reading(t, incoming, { take: true });
    expect(walkChain(lenient.r, 'input')).toMatchObject({ kind: 'drop', rule: 'ip saddr 10.0.0.0/8 drop' });
  });

  it('is decided once the address is known, and a forced rule applies whatever it says', () => {
    expect(walkChain(reading(t, { ...incoming, saddr: '10.1.2.3' }).r, 'input')).toMatchObject({ kind: 'drop' });
    const other = reading(t, { ...incoming, saddr: '192.0.2.7' });
    expect(walkChain(other.r, 'input')).toMatchObject({ kind: 'accept' });
    expect(other.undecided).toEqual([]);
    expect(walkChain(reading(t, incoming, { forced: [t.chains[0]!.rules[0]!] }).r, 'input')).toMatchObject({ kind: 'drop' });
  });

  it('a vmap entry that cannot be decided is handed to the reading as the entry, not the rule', () => {
    const unknownSet: Match = { kind: 'dport', protocol: 'tcp', ports: null, negate: false };
    const v = table(chain('input', [rule('tcp dport vmap @blocked', { kind: 'vmap', entries: [{ match: unknownSet, action: { kind: 'drop' } }] })]));
    const seen = reading(v, incoming);
    expect(walkChain(seen.r, 'input')).toEqual({ kind: 'end' });
    expect(seen.undecided).toEqual([{ text: 'tcp dport vmap @blocked', chain: 'input', why: ['the content of a set whyport could not read'], entry: true }]);
  });

  it('a random condition is undecided for the filter walk and a choice for the nat walk', () => {
    const random: Match = { kind: 'other', text: '-m statistic --mode random --probability 0.5' };
    expect(matchesTri([random, tcp(7071)], incoming)).toEqual({ tri: 'maybe', why: ['a condition whyport does not evaluate (-m statistic --mode random --probability 0.5)'], random: false });
    expect(matchesTri([random, tcp(7071)], incoming, true)).toEqual({ tri: 'yes', why: [], random: true });
  });

  it('names each reason once', () => {
    expect(matchesTri([from('10.0.0.0/8'), from('192.168.0.0/16'), iif('eth1')], incoming)).toEqual({ tri: 'maybe', why: ["the client's address", 'the interface the connection arrives on'], random: false });
  });
});

describe('matches by hook: the same rules on the filter, nat and forward paths', () => {
  it('an input interface exists on the way in and through, not on output', () => {
    expect(matchesTri([iif('eth0')], incoming).tri).toBe('maybe');
    expect(matchesTri([iif('eth0')], through).tri).toBe('yes');
    expect(matchesTri([iif('eth0')], outgoing).tri).toBe('no');
    // Remote clients do not arrive on lo.
    expect(matchesTri([iif('lo')], incoming).tri).toBe('no');
  });

  it('an output interface exists after routing: none on input, lo for a local destination on output, unknown on forward', () => {
    expect(matchesTri([oif('eth0')], incoming).tri).toBe('no');
    expect(matchesTri([oif('lo')], outgoing).tri).toBe('yes');
    expect(matchesTri([oif('eth0')], through)).toEqual({ tri: 'maybe', why: ['the interface the connection leaves by'], random: false });
  });

  it('an unknown source is not loopback on the way in, but may be for a program on this host', () => {
    expect(matchesTri([from('127.0.0.0/8')], incoming).tri).toBe('no');
    expect(matchesTri([from('127.0.0.0/8')], outgoing).tri).toBe('maybe');
  });

  it('address types come from the packet: LOCAL for one of this host addresses', () => {
    const dst = (...types: string[]): Match => ({ kind: 'dsttype', types, negate: false });
    expect(matchesTri([dst('LOCAL')], incoming).tri).toBe('yes');
    expect(matchesTri([dst('UNICAST')], incoming).tri).toBe('no');
    expect(matchesTri([dst('LOCAL')], through).tri).toBe('no');
    expect(matchesTri([{ kind: 'srctype', types: ['LOCAL'], negate: true }], outgoing).tri).toBe('no');
  });
});

describe('mayDecide', () => {
  it('a jump to a chain that only marks cannot change the walk; one that can drop can', () => {
    const t = table(chain('marks', [rule('counter', { kind: 'continue' })]), chain('deny', [rule('drop', { kind: 'drop' })]), chain('loop', [rule('jump loop', { kind: 'jump', chain: 'loop' })]));
    expect(mayDecide(t, { kind: 'jump', chain: 'marks' })).toBe(false);
    expect(mayDecide(t, { kind: 'goto', chain: 'deny' })).toBe(true);
    expect(mayDecide(t, { kind: 'jump', chain: 'loop' })).toBe(false);
    expect(mayDecide(t, { kind: 'vmap', entries: [{ match: tcp(1), action: { kind: 'jump', chain: 'marks' } }] })).toBe(false);
    expect(mayDecide(t, { kind: 'nat', text: 'dnat to 10.0.0.2' })).toBe(true);
  });
});

describe('the filter and nat walks read the same rules through the one walker', () => {
  // Docker's nat rules, as iptables-save prints them, on plain objects.
  const ipt = (text: string, action: Action, ...matches: Match[]): IptablesRule => ({ text, args: text.split(' ').slice(2), matches, action });
  const docker = ipt('-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80', { kind: 'nat', text: 'DNAT' }, { kind: 'iif', names: ['docker0'], negate: true }, tcp(8080));
  const back = ipt('-A DOCKER -i docker0 -j RETURN', { kind: 'return' }, iif('docker0'));
  const rules: FirewallRulesets = {
    iptables: [
      {
        family: 4,
        backend: 'nf_tables',
        format: 'save',
        warnings: [],
        tables: [
          {
            family: 'ip',
            name: 'nat',
            chains: [
              { name: 'PREROUTING', hook: 'prerouting', priority: -100, type: 'nat', builtin: true, rules: [ipt('-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER', { kind: 'jump', chain: 'DOCKER' }, { kind: 'dsttype', types: ['LOCAL'], negate: false })] },
              { name: 'DOCKER', type: 'nat', builtin: false, rules: [back, docker] },
            ],
          },
        ],
      },
    ],
  };

  it('nat: where the connection goes, and the conditions on its interface the answer rests on', () => {
    expect(findDnat(rules, { port: 8080, protocol: 'tcp', hook: 'prerouting', dstLocal: true, inInterface: 'eth0' })).toEqual({
      via: 'dnat',
      to: { address: '172.17.0.2', port: 80 },
      rule: docker.text,
      tool: 'iptables',
      table: 'nat',
      chain: 'nat PREROUTING → DOCKER',
    });
    expect(findDnat(rules, { port: 8080, protocol: 'tcp', hook: 'prerouting', dstLocal: true })?.assumed).toEqual([
      `${back.text} — assumed not to apply (it depends on the interface the connection arrives on)`,
      `${docker.text} — assumed to apply (it depends on the interface the connection arrives on)`,
    ]);
    expect(findDnat(rules, { port: 8081, protocol: 'tcp', hook: 'prerouting', dstLocal: true })).toBeUndefined();
  });

  it('filter: the same DNAT lets the connection on past the input chains, which it says', () => {
    const v = findBlockingRules(8080, rules, { interface: 'eth0' });
    expect(v.remote.verdict).toBe('accept');
    expect(v.remote.caveats).toEqual([expect.stringContaining(`"${docker.text}" rewrites the destination`)]);
  });
});
