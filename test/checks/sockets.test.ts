import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCheck, type CheckContext } from '../../src/checks/check.js';
import { decideTcp, decideUdp, sockets, type TcpSocketsReadings } from '../../src/checks/sockets.js';
import { isLoopback } from '../../src/net/address.js';
import { localHost } from '../../src/host/local.js';
import type { CommandResult, Runner } from '../../src/system/runner.js';
import type { SocketTable } from '../../src/system/socket.js';
import { parseSs } from '../../src/system/ss.js';
import { Facts } from '../../src/system/facts.js';

// The sockets check over real captures (test/fixtures/capture-socket-states.sh): which outcome
// comes out, what lands in the evidence for the playbook's diagnoses, and which findings are left
// for "Also noticed". The runner replays nstat's real output, before and after SYNs were dropped.
const text = (dir: string, name: string) => readFileSync(new URL(`../fixtures/${dir}/${name}`, import.meta.url), 'utf8');

function context(file: string, port: number, nstat: string[] = []): { ctx: CheckContext; ran: string[][] } {
  const table: SocketTable = { source: 'ss', command: `ss -Htanp '( sport = :${port} or dport = :${port} )'`, sockets: parseSs(text('ss', file)), ownersHidden: false, notices: [] };
  const ran: string[][] = [];
  const outputs = [...nstat];
  const runner: Runner = {
    async run(argv): Promise<CommandResult> {
      ran.push([...argv]);
      const stdout = outputs.shift() ?? '';
      return { argv, exitCode: stdout ? 0 : 1, stdout, stderr: '', missing: false, timedOut: false, durationMs: 1 };
    },
  };
  // This machine's files and cgroups, the replayed nstat.
  const host = { ...localHost, run: runner.run };
  const facts = Object.assign(new Facts(host, { timeoutMs: 1000 }), { socketTable: async () => table, localAddresses: async () => [] });
  const ctx = { target: { host: '127.0.0.1', port, protocol: 'tcp' }, host, facts, timeoutMs: 1000 } as unknown as CheckContext;
  return { ctx, ran };
}

const params = (port: number, more: Record<string, unknown> = {}) => sockets.params.parse({ port: String(port), ...more });

describe('the sockets check', () => {
  it('a full accept queue: accept-queue-full, the queue and the overflow growth in evidence', async () => {
    const { ctx, ran } = context('states-accept-queue-owners.txt', 7086, [text('nstat', 'before-overflow.txt'), text('nstat', 'after-overflow.txt')]);
    const r = await runCheck(sockets, params(7086), ctx);
    expect(r.outcome).toBe('accept-queue-full');
    expect(r.status).toBe('fail');
    expect(r.summary).toBe('port 7086: the accept queue of 127.0.0.1:7086 is full (2 waiting, backlog 1); 1 LISTEN, 4 ESTABLISHED, 4 SYN_SENT');
    expect(ran).toEqual([
      ['nstat', '-asz', 'TcpExtListenOverflows'],
      ['nstat', '-asz', 'TcpExtListenOverflows'],
    ]);
    const after = Number(/TcpExtListenOverflows\s+(\d+)/.exec(text('nstat', 'after-overflow.txt'))![1]);
    expect(r.evidence.acceptQueue).toMatchObject({ listener: '127.0.0.1:7086', queue: 2, backlog: 1 });
    expect((r.evidence.acceptQueue as { owner: string }).owner).toMatch(/^stuck-srv \(pid \d+\)$/);
    expect(r.evidence.overflows).toMatchObject({ first: 0, second: after, growth: after, source: 'nstat' });
    expect((r.evidence.overflows as { detail: string }).detail).toMatch(new RegExp(`^the kernel dropped ${after} more connections for a full accept queue within \\d+ ms \\(nstat TcpExtListenOverflows: 0 → ${after}; the counter covers every listener on this host\\)$`));
    expect(Object.keys(r.evidence.states as object)).toEqual(['LISTEN', 'ESTABLISHED', 'SYN_SENT']);
    // The queue is the outcome, so it is not repeated under "Also noticed".
    expect(r.findings).toBeUndefined();
  });

  it('nstat failing: the counter is read from /proc/net/netstat instead, the outcome unchanged', async () => {
    const { ctx } = context('states-accept-queue-owners.txt', 7086, []);
    const r = await runCheck(sockets, params(7086), ctx);
    expect(r.outcome).toBe('accept-queue-full');
    expect(r.evidence.overflows).toMatchObject({ source: '/proc/net/netstat', command: 'grep TcpExt: /proc/net/netstat' });
  });

  it('CLOSE_WAIT past the threshold: close-wait-leak, one evidence line per process', async () => {
    const { ctx, ran } = context('states-close-wait-owners.txt', 7081);
    const r = await runCheck(sockets, params(7081), ctx);
    expect(r.outcome).toBe('close-wait-leak');
    expect(r.summary).toMatch(/^port 7081: 27 CLOSE_WAIT not closed by leaky-srv \(pid \d+\) and others \(threshold 20\); 1 LISTEN, 27 CLOSE_WAIT, 27 FIN_WAIT2$/);
    expect(ran).toEqual([]);
    const cw = r.evidence.closeWait as { perProcess: string[]; threshold: number; owner: string };
    expect(cw.threshold).toBe(20);
    expect(cw.owner).toMatch(/^leaky-srv \(pid \d+\)$/);
    expect(cw.perProcess).toEqual([expect.stringMatching(/^leaky-srv \(pid \d+\): 22 CLOSE_WAIT$/), expect.stringMatching(/^leaky-wrk \(pid \d+\): 5 CLOSE_WAIT$/)]);
    expect(r.findings).toBeUndefined();
  });

  it('closeWaitThreshold from the playbook (a string after templating) moves the line', async () => {
    const { ctx } = context('states-close-wait-owners.txt', 7081);
    const r = await runCheck(sockets, params(7081, { closeWaitThreshold: '28' }), ctx);
    expect(r.outcome).toBe('listening');
    expect((r.evidence.thresholds as { closeWait: number }).closeWait).toBe(28);
    expect(() => params(7081, { closeWaitThreshold: '0' })).toThrow();
  });

  it('half-open connections are a finding beside the listening outcome', async () => {
    const { ctx } = context('states-syn-recv-owners.txt', 7082);
    const r = await runCheck(sockets, params(7082), ctx);
    expect(r.outcome).toBe('listening');
    expect(r.findings?.map((f) => f.code)).toEqual(['SYN_RECV_MANY']);
  });

  it('a killed server: recent, and the finding that a server was here', async () => {
    const { ctx } = context('states-killed-closed.txt', 7084);
    const r = await runCheck(sockets, params(7084), ctx);
    expect(r.outcome).toBe('recent');
    expect(r.summary).toBe('no listener on port 7084, but 3 TIME_WAIT: something used this port recently');
    expect(r.findings?.map((f) => f.code)).toEqual(['SERVER_GONE']);
    expect(r.evidence.recent).toMatchObject({ sockets: 3, counts: { TIME_WAIT: 3 } });
    expect(Object.keys(r.evidence.states as object)).toEqual(['TIME_WAIT']);
  });

  it('nothing on the port: none, no findings', async () => {
    const { ctx } = context('empty.txt', 7099);
    const r = await runCheck(sockets, params(7099), ctx);
    expect(r).toMatchObject({ outcome: 'none', summary: 'no socket on port 7099 in any state', evidence: { states: {}, total: 0 } });
    expect(r.findings).toBeUndefined();
  });
});

// The decision alone, on plain readings: what each outcome says, and where the units and samples read
// beside the table land in the evidence.
describe("the sockets step's decision", () => {
  const tcpTable = (file: string, port: number): SocketTable => ({ source: 'ss', command: `ss -Htan '( sport = :${port} or dport = :${port} )'`, sockets: parseSs(text('ss', file)), ownersHidden: false, notices: [] });
  const udpTable = (file: string): SocketTable => ({ source: 'ss', protocol: 'udp', command: 'ss -Huanm', sockets: parseSs(text('ss', file), { protocol: 'udp' }), ownersHidden: false, notices: [] });
  const at = (protocol: 'tcp' | 'udp', port: number) => ({ target: { host: '127.0.0.1', port, protocol }, timeoutMs: 1000 });
  const tcp = (file: string, port: number, more: Partial<TcpSocketsReadings> = {}): TcpSocketsReadings => ({ protocol: 'tcp', table: tcpTable(file, port), own: [], units: {}, ...more });
  const serve = { text: 'Port 7099 is usually served by nothing whyport knows', find: ['grep', '-rlswI', '--', '7099', '/etc'] };

  it('a table that could not be read: error, with the command to read it by hand', () => {
    expect(sockets.decide({ protocol: 'tcp', error: 'ss is not installed' }, params(7071), at('tcp', 7071))).toEqual({
      outcome: 'error',
      status: 'fail',
      summary: 'could not read the socket table: ss is not installed',
      command: "ss -Htan '( sport = :7071 or dport = :7071 )'",
      evidence: {},
    });
    expect(sockets.decide({ protocol: 'udp', error: 'no ss' }, params(53), at('udp', 53))).toMatchObject({ outcome: 'error', summary: 'could not read the UDP socket table: no ss', command: "ss -Huanm '( sport = :53 or dport = :53 )'" });
  });

  it('accept-queue-full: the owner’s unit and the overflow sample as read', () => {
    const r = tcp('states-accept-queue-owners.txt', 7086, { units: { 11652: 'stuck.service' }, overflows: { first: 3, second: 5, growth: 2, intervalMs: 300, source: 'nstat', command: 'nstat -az TcpExtListenOverflows' } });
    const d = decideTcp(r, params(7086));
    expect(d.outcome).toBe('accept-queue-full');
    expect(d.evidence.acceptQueue).toMatchObject({ listener: '127.0.0.1:7086', owner: 'stuck-srv (pid 11652)', pid: 11652, unit: 'stuck.service', queue: 2, backlog: 1 });
    expect(d.evidence.acceptQueue?.detail).toBe("127.0.0.1:7086 held by stuck-srv (pid 11652) (unit stuck.service): 2 connections wait for accept(), backlog 1");
    expect(d.evidence.overflows).toMatchObject({ growth: 2, detail: 'the kernel dropped 2 more connections for a full accept queue within 300 ms (nstat TcpExtListenOverflows: 3 → 5; the counter covers every listener on this host)' });
  });

  it('an overflow counter that could not be read is said as such', () => {
    const d = decideTcp(tcp('states-accept-queue-owners.txt', 7086, { overflows: 'nstat is not installed' }), params(7086));
    expect(d.evidence.overflows).toEqual({ error: 'nstat is not installed', detail: "the kernel's listen-overflow counter could not be read: nstat is not installed" });
  });

  it('close-wait-leak: each process with its unit', () => {
    const table = tcpTable('states-close-wait-owners.txt', 7081);
    const pids = [...new Set(table.sockets.filter((s) => s.state === 'CLOSE_WAIT').flatMap((s) => (s.owners ?? []).map((o) => o.pid)))];
    const d = decideTcp({ protocol: 'tcp', table, own: [], units: { [pids[0]!]: 'leaky.service' } }, params(7081));
    expect(d.outcome).toBe('close-wait-leak');
    expect(d.evidence.closeWait?.perProcess?.some((l) => / in leaky\.service: \d+ CLOSE_WAIT$/.test(l))).toBe(true);
  });

  it('listening, recent, none: the serve advice only where nothing listens', () => {
    expect(decideTcp(tcp('states-syn-recv-owners.txt', 7082), params(7082))).toMatchObject({ outcome: 'listening', status: 'pass' });
    const recent = decideTcp(tcp('states-killed-closed.txt', 7084, { serve }), params(7084));
    expect(recent).toMatchObject({ outcome: 'recent', evidence: { serve: serve.text, findCommand: serve.find } });
    const none = decideTcp(tcp('empty.txt', 7099, { serve }), params(7099));
    expect(none).toMatchObject({ outcome: 'none', summary: 'no socket on port 7099 in any state', evidence: { serve: serve.text } });
    expect(none.evidence.startCommand).toBeUndefined();
  });

  it('UDP: none with the serve advice, listening when not watched, receive-drops from the sample, and a sample that failed', () => {
    const none = decideUdp({ protocol: 'udp', port: { table: udpTable('empty.txt') }, units: {}, serve }, 7099);
    expect(none).toMatchObject({ outcome: 'none', summary: 'no UDP socket on port 7099', evidence: { protocol: 'udp', serve: serve.text } });
    const table = udpTable('udp-port-7271.txt');
    expect(decideUdp({ protocol: 'udp', port: { table }, units: {} }, 7271)).toMatchObject({ outcome: 'listening', summary: 'UDP port 7271: 1 UNCONN' });
    const sample = { first: { sockets: table.sockets, counters: { rcvbufErrors: 10, inErrors: 10 } }, second: { sockets: table.sockets, counters: { rcvbufErrors: 12, inErrors: 12 } }, windowMs: 500, rmemMax: 212992, rmemDefault: 212992 };
    const drops = decideUdp({ protocol: 'udp', port: { table }, units: {}, drops: sample }, 7271);
    expect(drops.outcome).toBe('receive-drops');
    expect(drops.summary).toBe('UDP port 7271: 0.0.0.0:7271 (a process not visible from here) has a full queue that stayed full for 500 ms (48 in all); 1664 of 2304 bytes queued, net.core.rmem_max 212992');
    expect(drops.evidence.drops).toMatchObject({ listener: '0.0.0.0:7271', rcvbufErrors: 2, windowMs: 500 });
    const failed = decideUdp({ protocol: 'udp', port: { table }, units: {}, drops: '/proc/net/snmp could not be read (EACCES)' }, 7271);
    expect(failed).toMatchObject({ outcome: 'listening', evidence: { drops: { error: '/proc/net/snmp could not be read (EACCES)' } } });
    expect(failed.findings?.map((f) => f.code)).toContain('UDP_PAST_DROPS');
  });

  it('prefetch: the socket table of the port, for the target’s protocol', () => {
    const calls = sockets.prefetch!(params(7071), at('udp', 7071));
    expect(calls.map((c) => [c.reader.name, c.key])).toEqual([['socket table', { port: 7071, protocol: 'udp' }]]);
  });
});
