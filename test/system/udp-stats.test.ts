import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { localHost } from '../../src/host/local.js';
import { parseNstat } from '../../src/system/accept-queue.js';
import { parseSnmp6Udp, parseSnmpUdp, readEphemeralRange, readRmem, readUdpCounters, sampleUdpDrops } from '../../src/system/udp-stats.js';
import { replayHost } from '../helpers/replay-host.js';

// Real captures (test/fixtures/capture-udp-sockets.sh): /proc/net/snmp before and after a burst
// overflowed two tiny buffers, and nstat's view of the same counters; the sampler over this
// machine's real ss and /proc.
const text = (dir: string, name: string) => readFileSync(new URL(`../fixtures/${dir}/${name}`, import.meta.url), 'utf8');

describe("the host's UDP counters", () => {
  it('reads the Udp: name and value lines of /proc/net/snmp, not UdpLite', () => {
    expect(parseSnmpUdp(text('proc', 'snmp-before-burst.txt'))).toMatchObject({ InErrors: 0, RcvbufErrors: 0 });
    const after = parseSnmpUdp(text('proc', 'snmp-after-burst.txt'))!;
    expect(after).toMatchObject({ InErrors: 48, RcvbufErrors: 48, OutDatagrams: 50 });
    // nstat prints the same kernel counters.
    expect(after.RcvbufErrors).toBe(parseNstat(text('nstat', 'udp-after-burst.txt'), 'UdpRcvbufErrors'));
    expect(parseSnmpUdp('Ip: Forwarding\nIp: 1\n')).toBeUndefined();
  });

  it('reads Udp6RcvbufErrors of /proc/net/snmp6', () => {
    const v6 = parseSnmp6Udp(text('proc', 'snmp6-after-burst.txt'));
    expect(v6.Udp6RcvbufErrors).toBe(18);
    expect(v6.Udp6RcvbufErrors).toBe(parseNstat(text('nstat', 'udp-after-burst.txt'), 'Udp6RcvbufErrors'));
    expect(Object.keys(v6).every((k) => k.startsWith('Udp6'))).toBe(true);
  });

  it('adds both families up, and says why when /proc/net/snmp cannot be read', async () => {
    const host = replayHost({ files: { '/proc/net/snmp': text('proc', 'snmp-after-burst.txt'), '/proc/net/snmp6': text('proc', 'snmp6-after-burst.txt') } });
    expect(await readUdpCounters(host)).toEqual({ rcvbufErrors: 66, inErrors: 66 });
    // No IPv6: the IPv4 counters alone.
    expect(await readUdpCounters(replayHost({ files: { '/proc/net/snmp': text('proc', 'snmp-after-burst.txt') } }))).toEqual({ rcvbufErrors: 48, inErrors: 48 });
    expect(await readUdpCounters(replayHost({}))).toBe('/proc/net/snmp could not be read (ENOENT)');
  });

  it("reads this machine's rmem_max, rmem_default and ephemeral range", async () => {
    const rmem = await readRmem(localHost);
    expect(rmem.rmemMax).toBe(Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8')));
    expect(rmem.rmemDefault).toBe(Number(readFileSync('/proc/sys/net/core/rmem_default', 'utf8')));
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    expect(await readEphemeralRange(localHost)).toEqual([lo, hi]);
    expect(await readRmem(replayHost({}))).toEqual({ rmemMax: null, rmemDefault: null });
    expect(await readEphemeralRange(replayHost({}))).toBeUndefined();
  });
});

describe('sampleUdpDrops', () => {
  it('reads the sockets and counters twice, the interval apart', async () => {
    const slept: number[] = [];
    const s = await sampleUdpDrops(localHost, 9, { timeoutMs: 5_000, intervalMs: 40, sleep: async (ms) => void slept.push(ms) });
    if (typeof s === 'string') throw new Error(s);
    expect(slept).toEqual([40]);
    expect(typeof s.first.counters).toBe('object');
    expect(s.second.sockets).toEqual(expect.any(Array));
    expect(s.rmemMax).toBeGreaterThan(0);
    expect(s.windowMs).toBeGreaterThanOrEqual(0);
  });

  it('says why when no source of sockets can be read', async () => {
    const s = await sampleUdpDrops(replayHost({ commands: {} }), 53, { timeoutMs: 100, intervalMs: 1 });
    expect(s).toMatch(/^could not read the UDP sockets of this host: ss is not installed; netstat is not installed; \/proc\/net\/udp could not be read \(ENOENT\)/);
  });
});
