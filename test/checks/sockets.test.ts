import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCheck, type CheckContext } from '../../src/checks/check.js';
import { sockets } from '../../src/checks/sockets.js';
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
