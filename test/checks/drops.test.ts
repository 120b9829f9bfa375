import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideDrops, synsSent, type DropsReadings } from '../../src/checks/drops.js';
import { parseKfreeSkbTrace, parseNstatCounters, type KernelCounters } from '../../src/system/drops.js';
import type { ConntrackReading } from '../../src/system/conntrack.js';

// The drops step's decision on counters captured for real (test/fixtures/nstat, tracefs): the
// cause that grew by about the SYNs sent names the drop.

const fixture = (dir: string, name: string) => readFileSync(join(import.meta.dirname, '../fixtures', dir, name), 'utf8');
const counters = (name: string): KernelCounters => ({ kind: 'read', counters: parseNstatCounters(fixture('nstat', name)) });
const at = { target: { host: 'appserver', port: 7093, protocol: 'tcp' as const }, timeoutMs: 1500 };
const room: ConntrackReading = { loaded: true, count: 3, max: 262144, drops: { drop: 0, earlyDrop: 0, insertFailed: 0 } };
const probe = { address: '10.9.0.2', port: 7093, outcome: 'timeout' as const, errno: 'ETIMEDOUT', durationMs: 1600 };
const quiet = counters('before-rpfilter.txt');
const window = (over: Partial<Extract<DropsReadings, { kind: 'window' }>> = {}): DropsReadings => ({
  kind: 'window',
  from: 'client',
  probe,
  before: quiet,
  after: quiet,
  conntrackBefore: room,
  conntrackAfter: room,
  trace: { kind: 'traced', drops: [], removed: true },
  ...over,
});
const params = { host: 'appserver', port: 7093, source: '10.9.0.7', interface: 'vs', firewall: 'allows' };

describe('decideDrops', () => {
  it('rp_filter: TcpExtIPReversePathFilter grew by the SYNs, kfree_skb says IP_RPFILTER; the fix is loose rp_filter on the interface they came in by', () => {
    const d = decideDrops(
      window({ after: counters('after-rpfilter.txt'), trace: { kind: 'traced', drops: parseKfreeSkbTrace(fixture('tracefs', 'kfree-skb-rpfilter.txt')), removed: true }, routeBack: { kind: 'unicast', dev: 'vs2', src: '10.9.0.2', address: '10.9.0.7', command: 'ip route get 10.9.0.7', durationMs: 1 } }),
      params,
      at,
    );
    expect(d.outcome).toBe('named');
    expect(d.summary).toBe("the kernel drops the client's SYNs: TcpExtIPReversePathFilter grew by 3 (kfree_skb reason IP_RPFILTER, 3 traced) over the 2 SYNs of the client's connect");
    expect(d.evidence).toMatchObject({
      drop: { reason: 'IP_RPFILTER', counter: 'TcpExtIPReversePathFilter', grew: 3 },
      sent: 2,
      reasons: { IP_RPFILTER: 3 },
      fix: ['sysctl', '-w', 'net.ipv4.conf.vs.rp_filter=2'],
      look: ['ip', 'route', 'get', '10.9.0.7'],
    });
    expect((d.evidence as { why?: string }).why).toContain('they come in by vs, and the route back to 10.9.0.7 leaves by vs2');
  });

  it('the counter alone (no root, no tracefs): still named, and the trace note says what would tell', () => {
    const d = decideDrops(window({ after: counters('after-rpfilter.txt'), trace: { kind: 'cannot', reason: 'a trace instance needs root (run with --sudo, or as root): …' } }), params, at);
    expect(d).toMatchObject({ outcome: 'named', evidence: { drop: { reason: 'IP_RPFILTER', grew: 3 }, traceNote: 'no drop reasons: a trace instance needs root (run with --sudo, or as root): …' } });
  });

  it('the accept queue: TcpExtListenOverflows grew (the real overflow capture)', () => {
    const before: KernelCounters = { kind: 'read', counters: { TcpExtListenOverflows: 6 } };
    const d = decideDrops(window({ before, after: counters('after-overflow.txt'), from: 'self' }), { host: 'appserver', port: 7093 }, at);
    expect(d).toMatchObject({ outcome: 'named', evidence: { drop: { reason: 'TCP_LISTEN_OVERFLOW', counter: 'TcpExtListenOverflows', grew: 2 }, fix: ['ss', '-Htln', 'sport = :7093'] } });
    expect(d.summary).toContain("this machine's own connect");
  });

  it('conntrack full: its drop counter grew; CONNTRACK_FULL keeps its evidence (suggestedMax)', () => {
    const full = (drop: number): ConntrackReading => ({ loaded: true, count: 65536, max: 65536, drops: { drop, earlyDrop: 0, insertFailed: 0 } });
    const d = decideDrops(window({ conntrackBefore: full(120), conntrackAfter: full(131) }), params, at);
    expect(d).toMatchObject({ outcome: 'conntrack-full', evidence: { drop: { reason: 'NF_CONNTRACK_FULL', counter: 'nf_conntrack drop', grew: 11 }, suggestedMax: 131072, percent: 100 } });
  });

  it('a firewall rule no one could read: kfree_skb NETFILTER_DROP by about the SYNs, no counter', () => {
    const drops = parseKfreeSkbTrace(fixture('tracefs', 'kfree-skb-noise.txt')).filter((x) => x.reason !== 'IP_INNOROUTES');
    const d = decideDrops(window({ trace: { kind: 'traced', drops, removed: true } }), { ...params, firewall: 'no-permission' }, at);
    expect(d).toMatchObject({ outcome: 'named', evidence: { drop: { reason: 'NETFILTER_DROP', counter: 'kfree_skb', grew: 2 }, fix: ['nft', 'list', 'ruleset'] } });
    expect((d.evidence as { why?: string }).why).toBe('a firewall rule drops them (the kernel says NETFILTER_DROP), one whyport could not read');
  });

  it("the machine's usual noise (old data, sockets closed) is no cause, nor a traced reason that counted fewer drops than SYNs sent (the trace is machine-wide)", () => {
    const noise = parseKfreeSkbTrace(fixture('tracefs', 'kfree-skb-noise.txt')).filter((x) => x.reason !== 'NETFILTER_DROP');
    const d = decideDrops(window({ trace: { kind: 'traced', drops: noise, removed: true } }), params, at);
    expect(d).toMatchObject({ outcome: 'unexplained', evidence: { reasons: { IP_INNOROUTES: 1 } } });
    expect((d.evidence as { reasons?: object }).reasons).not.toHaveProperty('TCP_OLD_DATA');
  });

  it('unexplained: nothing grew; cannot: nothing readable', () => {
    expect(decideDrops(window(), params, at)).toMatchObject({ outcome: 'unexplained', summary: "none of the kernel's drop counters grew over the 2 SYNs of the client's connect, and kfree_skb traced no drop of a new connection" });
    const none = decideDrops(window({ before: { kind: 'cannot', reason: 'nstat is not installed (apt-get install iproute2)' }, conntrackBefore: { loaded: false }, trace: { kind: 'cannot', reason: 'tracefs is not mounted' } }), params, at);
    expect(none.outcome).toBe('cannot');
    expect(decideDrops({ kind: 'cannot', reason: 'appserver does not resolve on the client' }, params, at).outcome).toBe('cannot');
  });

  it('synsSent: the first SYN and each resend before the connect ended', () => {
    expect([500, 1600, 2999, 3500, 8000].map(synsSent)).toEqual([1, 2, 2, 3, 4]);
  });
});
