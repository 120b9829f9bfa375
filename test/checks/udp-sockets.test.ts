import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCheck, type CheckContext } from '../../src/checks/check.js';
import { listeners } from '../../src/checks/listeners.js';
import { sockets } from '../../src/checks/sockets.js';
import { Facts } from '../../src/system/facts.js';
import { replayHost, type CapturedHost } from '../helpers/replay-host.js';

// The UDP path of the sockets and listeners checks over a replayed host: real captures of
// `ss -Huanem` (test/fixtures/capture-udp-sockets.sh) served as the host's ss, the rest of its
// /proc as captured. Which commands ran says what a healthy socket costs.
const text = (dir: string, name: string) => readFileSync(new URL(`../fixtures/${dir}/${name}`, import.meta.url), 'utf8');
const filter = (port: number) => `ss -Huanem state all ( sport = :${port} or dport = :${port} )`;

function context(port: number, captured: CapturedHost) {
  const host = replayHost({ identity: { uid: 0, byteOrder: 'LE' }, ...captured });
  const ctx: CheckContext = { target: { host: '127.0.0.1', port, protocol: 'udp' }, host, facts: new Facts(host, { timeoutMs: 1000 }), timeoutMs: 1000 };
  return { ctx, host };
}

describe('the sockets check for UDP', () => {
  it('a healthy bound socket: listening, and nothing is watched (one ss, no counters read)', async () => {
    const { ctx, host } = context(7272, { commands: { [filter(7272)]: { stdout: text('ss', 'udp-port-7272.txt') } } });
    const r = await runCheck(sockets, sockets.params.parse({ port: '7272' }), ctx);
    expect(r).toMatchObject({ outcome: 'listening', status: 'pass', summary: 'UDP port 7272: 1 UNCONN, 3 ESTABLISHED', command: "ss -Huanm '( sport = :7272 or dport = :7272 )'" });
    expect(sockets.describe(sockets.params.parse({ port: '7272' }), ctx)).toBe("ss -Huanm '( sport = :7272 or dport = :7272 )'");
    expect(host.calls.filter((c) => c.startsWith('ss ') || c.includes('/proc/net/snmp') || c.includes('ip_local_port_range'))).toEqual([filter(7272)]);
    expect(r.evidence).toMatchObject({ protocol: 'udp', source: 'ss', counts: { UNCONN: 1, ESTABLISHED: 3 }, clients: 3, connected: [], ephemeral: [] });
    expect(r.evidence.drops).toBeUndefined();
  });

  it('a socket that dropped before and whose queue is full at both readings: receive-drops, watched for the interval', async () => {
    const { ctx, host } = context(7271, {
      commands: { [filter(7271)]: { stdout: text('ss', 'udp-port-7271.txt') } },
      files: {
        '/proc/net/snmp': text('proc', 'snmp-after-burst.txt'),
        '/proc/net/snmp6': text('proc', 'snmp6-after-burst.txt'),
        '/proc/sys/net/core/rmem_max': '212992\n',
        '/proc/sys/net/core/rmem_default': '212992\n',
      },
    });
    const r = await runCheck(sockets, sockets.params.parse({ port: '7271' }), ctx);
    expect(r.outcome).toBe('receive-drops');
    // The table, then the two readings of the sampler.
    expect(host.calls.filter((c) => c === filter(7271))).toHaveLength(3);
    expect(r.evidence.drops).toMatchObject({ listener: '0.0.0.0:7271', drops: 48, growth: 0, queued: 1664, rcvbuf: 2304, rmemMax: 212992, rmemDefault: 212992, rcvbufErrors: 0 });
    expect((r.evidence.drops as { windowMs: number }).windowMs).toBeGreaterThanOrEqual(500);
    expect(r.summary).toMatch(/^UDP port 7271: 0\.0\.0\.0:7271 \(a process not visible from here\) has a full queue that stayed full for \d+ ms \(48 in all\); 1664 of 2304 bytes queued, net\.core\.rmem_max 212992$/);
  });

  it('only a connected socket: none, with what uses the port', async () => {
    const { ctx } = context(7276, { commands: { [filter(7276)]: { stdout: text('ss', 'udp-port-7276.txt') } } });
    const r = await runCheck(sockets, sockets.params.parse({ port: '7276' }), ctx);
    expect(r.outcome).toBe('none');
    expect(r.summary).toBe('no UDP socket is bound to port 7276 for anyone to reach: only a connected UDP socket, 127.0.0.1:7276 (a process not visible from here), which receives only from its peer 127.0.0.1:7272 — not a listener');
  });

  it("a connected socket on a port of the ephemeral range: a client's port, read from the host's range", async () => {
    const { ctx, host } = context(40001, { commands: { [filter(40001)]: { stdout: text('ss', 'udp-port-40001.txt') } }, files: { '/proc/sys/net/ipv4/ip_local_port_range': '32768\t60999\n' } });
    const r = await runCheck(sockets, sockets.params.parse({ port: '40001' }), ctx);
    expect(r.outcome).toBe('none');
    expect(r.summary).toBe('no UDP socket is bound to port 40001 for anyone to reach: 127.0.0.1:40001 (a process not visible from here), talking to 127.0.0.1:7272 is an ephemeral port a client was given (this host gives clients 32768–60999), not a service');
    expect(host.calls).toContain('readFile /proc/sys/net/ipv4/ip_local_port_range');
  });

  it('nothing on the port, and ss missing: netstat, then /proc, then an error that says so', async () => {
    const empty = context(7299, { commands: { [filter(7299)]: { stdout: '' } } });
    expect(await runCheck(sockets, sockets.params.parse({ port: '7299' }), empty.ctx)).toMatchObject({ outcome: 'none', summary: 'no UDP socket on port 7299' });
    const none = context(53, { commands: {} });
    const r = await runCheck(sockets, sockets.params.parse({ port: '53' }), none.ctx);
    expect(r.outcome).toBe('error');
    expect(r.summary).toMatch(/^could not read the UDP socket table: could not read the UDP sockets of this host: ss is not installed; netstat is not installed/);
  });
});

describe('the listeners check for UDP', () => {
  it('covers through a dual-stack wildcard; v6only does not take IPv4', async () => {
    const table = text('ss', 'udp-sockets.txt');
    const at = (port: number) => table.split('\n').filter((l, i, all) => l.includes(`:${port} `) || (i > 0 && all[i - 1]!.includes(`:${port} `) && /^\s/.test(l))).join('\n') + '\n';
    const dual = context(7274, { commands: { [filter(7274)]: { stdout: at(7274) } } });
    const r = await runCheck(listeners, listeners.params.parse({ port: '7274', host: '127.0.0.1' }), dual.ctx);
    expect(r).toMatchObject({ outcome: 'covers', summary: 'bound to *:7274', command: "ss -Hulnp 'sport = :7274'" });
    expect(r.evidence.listeners).toEqual([{ address: '*', port: 7274, family: 'inet6', dualStack: true, queued: 0, rcvbuf: 212992, drops: 0, owners: null }]);
    const v6only = context(7273, { commands: { [filter(7273)]: { stdout: at(7273) } } });
    expect(await runCheck(listeners, listeners.params.parse({ port: '7273', host: '127.0.0.1' }), v6only.ctx)).toMatchObject({ outcome: 'other-address', summary: 'bound to [::]:7273, not to 127.0.0.1' });
  });
});
