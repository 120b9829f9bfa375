import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dropsByReason, parseKfreeSkbTrace, parseNstatCounters } from '../../src/system/drops.js';
import { parseConntrackStat } from '../../src/system/conntrack.js';
import { interfaceOfCaptureLine } from '../../src/system/capture.js';

const fixture = (dir: string, name: string) => readFileSync(join(import.meta.dirname, '../fixtures', dir, name), 'utf8');

describe('parseNstatCounters (real nstat -asz of a server namespace, before and after rp_filter dropped 3 SYNs)', () => {
  it('reads every counter by name, zeros included, and skips #kernel', () => {
    const before = parseNstatCounters(fixture('nstat', 'before-rpfilter.txt'));
    const after = parseNstatCounters(fixture('nstat', 'after-rpfilter.txt'));
    expect(before).toMatchObject({ TcpExtIPReversePathFilter: 0, TcpExtListenOverflows: 0, TcpExtListenDrops: 0, IpInAddrErrors: 0, IpExtInNoRoutes: 0 });
    expect(after.TcpExtIPReversePathFilter! - before.TcpExtIPReversePathFilter!).toBe(3);
    expect(Object.keys(before)).not.toContain('#kernel');
  });

  it('the older one-counter capture', () => {
    expect(parseNstatCounters(fixture('nstat', 'after-overflow.txt'))).toEqual({ TcpExtListenOverflows: 8 });
  });
});

describe('parseKfreeSkbTrace (real tracefs instance output)', () => {
  it('the rp_filter window: the SYNs dropped with IP_RPFILTER, the rest as the kernel named it', () => {
    const drops = parseKfreeSkbTrace(fixture('tracefs', 'kfree-skb-rpfilter.txt'));
    expect(drops[2]).toEqual({ protocol: 2048, location: 'ip_rcv_finish_core+0x260/0x470', reason: 'IP_RPFILTER' });
    expect(dropsByReason(drops)).toEqual({ NO_SOCKET: 2, NOT_SPECIFIED: 1, IP_RPFILTER: 3 });
  });

  it("a busy machine's other drops (task names with spaces, other reasons)", () => {
    expect(dropsByReason(parseKfreeSkbTrace(fixture('tracefs', 'kfree-skb-noise.txt')))).toEqual({ IP_INHDR: 1, NETFILTER_DROP: 2, TCP_OLD_DATA: 4, IP_INNOROUTES: 1 });
  });

  it('nothing from headers, other events or an empty buffer', () => {
    expect(parseKfreeSkbTrace('# tracer: nop\n#\n')).toEqual([]);
    expect(parseKfreeSkbTrace('')).toEqual([]);
  });
});

describe('the conntrack stat table (real, idle)', () => {
  it('sums drop, early_drop and insert_failed over the CPUs', () => {
    expect(parseConntrackStat(fixture('conntrack', 'stat-idle.txt'))).toEqual({ drop: 0, earlyDrop: 0, insertFailed: 0 });
  });
});

describe('interfaceOfCaptureLine (real tcpdump -i any, Linux cooked v2)', () => {
  it('names the interface the SYN came in by', () => {
    const lines = fixture('tcpdump', 'syns-any-sll2.txt').split('\n').filter((l) => /Flags \[S\]/.test(l));
    expect(lines.map(interfaceOfCaptureLine)).toEqual(['vs', 'vs']);
    expect(interfaceOfCaptureLine('IP 10.0.0.9.40000 > 10.0.0.5.7071: Flags [S]')).toBeUndefined();
  });
});
