import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decidePath, type PathReadings } from '../../src/checks/path.js';
import { parseTraceroute, type TraceResult } from '../../src/system/traceroute.js';
import type { DecideContext } from '../../src/checks/check.js';

// Readings built from traceroute's real output (test/fixtures/traceroute/capture.sh: client
// 10.213.1.2 — r1 10.213.1.1 — r2 10.213.2.2 — server 10.213.3.2).
const SERVER = '10.213.3.2';
function traced(name: string, extra: Partial<TraceResult> = {}): PathReadings {
  const file = (suffix: string) => new URL(`../fixtures/traceroute/${name}${suffix}`, import.meta.url);
  const read = (suffix: string) => (existsSync(file(suffix)) ? readFileSync(file(suffix), 'utf8') : '');
  const parsed = parseTraceroute(read('.txt'), read('.stderr.txt'), Number(read('.exitcode').trim()));
  return { kind: 'trace', address: SERVER, trace: { ...parsed, command: 'traceroute …', argv: ['traceroute'], durationMs: 1004, ...extra } as TraceResult };
}
const tcp: DecideContext = { target: { host: 'appserver', port: 80, protocol: 'tcp' }, timeoutMs: 1500 };
const udp: DecideContext = { target: { host: 'appserver', port: 53, protocol: 'udp' }, timeoutMs: 1500 };
const params = { host: 'appserver', port: 80, address: SERVER };

describe('decide: the path step', () => {
  it('lost-after: r2 drops the port — the SYNs pass r1 and are lost after r2', () => {
    const d = decidePath(traced('tcp-lost-after-second-router'), params, tcp);
    expect(d).toMatchObject({ outcome: 'lost-after', status: 'fail', evidence: { path: { hops: ['10.213.1.1', '10.213.2.2'], lastHop: '10.213.2.2' } } });
    expect(d.summary).toBe('the SYNs pass 10.213.1.1 and are lost after 10.213.2.2 (hop 2; no answer from hop 3 on)');
    expect(d.command).toBe('traceroute -T -n -p 80 -q 1 -w 1 -N 30 -m 30 10.213.3.2');
  });

  it('lost-after the first router', () => {
    const d = decidePath(traced('tcp-lost-after-first-router'), params, tcp);
    expect(d).toMatchObject({ outcome: 'lost-after', evidence: { path: { hops: ['10.213.1.1'], lastHop: '10.213.1.1' } } });
    expect(d.summary).toBe('the SYNs are lost after 10.213.1.1, the first router (hop 1; no answer from hop 2 on)');
  });

  it('UDP: the datagrams, in the same words', () => {
    const d = decidePath(traced('udp-lost-after-second-router'), { ...params, port: 53 }, udp);
    expect(d).toMatchObject({ outcome: 'lost-after', evidence: { path: { lastHop: '10.213.2.2' } } });
    expect(d.summary).toMatch(/^the datagrams pass 10\.213\.1\.1 and are lost after 10\.213\.2\.2/);
    expect(d.command).toBe('traceroute -U -n -p 53 -q 1 -w 1 -N 30 -m 30 10.213.3.2');
  });

  it('lost-at-first: no hop answered, and no path to report', () => {
    const d = decidePath(traced('tcp-lost-at-first'), params, tcp);
    expect(d.outcome).toBe('lost-at-first');
    expect(d.evidence).not.toHaveProperty('path');
    expect(d.summary).toMatch(/^no hop answered the SYNs: they are lost at the first hop — the first router, this machine's own way out, or 10\.213\.3\.2 itself/);
  });

  it('reached: the destination answers traceroute itself — filtered at the host', () => {
    const d = decidePath(traced('tcp-reached-closed'), params, tcp);
    expect(d).toMatchObject({ outcome: 'reached', evidence: { path: { hops: ['10.213.1.1', '10.213.2.2', SERVER], lastHop: SERVER } } });
    expect(d.summary).toContain('the port is filtered at the host itself');
    expect(decidePath(traced('udp-reached-closed'), params, udp).summary).toContain('ICMP port unreachable');
  });

  it('prohibited: r2 rejects with admin-prohibited (!X), named', () => {
    const d = decidePath(traced('tcp-admin-prohibited'), params, tcp);
    expect(d).toMatchObject({ outcome: 'prohibited', evidence: { by: '10.213.2.2', annotation: '!X', path: { hops: ['10.213.1.1', '10.213.2.2'], lastHop: '10.213.2.2' } } });
    expect(d.summary).toBe('the SYNs pass 10.213.1.1, then 10.213.2.2 answers them with ICMP admin-prohibited (!X): a firewall there rejects them (hop 3)');
    expect(decidePath(traced('tcp-host-prohibited'), params, tcp).outcome).toBe('prohibited');
  });

  it('unreachable-at: another ICMP error (!N, !H)', () => {
    expect(decidePath(traced('tcp-net-unreachable'), params, tcp)).toMatchObject({ outcome: 'unreachable-at', evidence: { by: '10.213.2.2', annotation: '!N' } });
    expect(decidePath(traced('tcp-host-unreachable'), params, tcp).summary).toContain('ICMP host unreachable (!H)');
  });

  it('a trace ended at the bound: its rows count, and the summary says so', () => {
    const d = decidePath(traced('tcp-killed', { cut: true, durationMs: 2500 }), params, tcp);
    expect(d).toMatchObject({ outcome: 'lost-after', evidence: { cut: true, path: { lastHop: '10.213.2.2' } } });
    expect(d.summary).toMatch(/the trace was ended after 2\.5 s$/);
  });

  it("refused-here: this machine's output rules", () => {
    const d = decidePath(traced('tcp-send-refused'), params, tcp);
    expect(d.outcome).toBe('refused-here');
    expect(d.summary).toBe("this machine refuses to send the SYNs (traceroute: send: Operation not permitted): its own firewall's output rules drop them");
  });

  it('not-root: one line says what would tell', () => {
    const d = decidePath({ kind: 'not-root', address: SERVER }, params, tcp);
    expect(d).toMatchObject({ outcome: 'not-root', status: 'info' });
    expect(d.summary).toBe('not traced: run as root for a TCP traceroute: it names the last router the SYNs pass (traceroute -T -n -p 80 -q 1 -w 1 -N 30 -m 30 10.213.3.2)');
    // traceroute itself refusing (a user with no raw socket) says the same.
    expect(decidePath(traced('tcp-not-permitted'), params, tcp).outcome).toBe('not-root');
  });

  it('no-tool: which package would tell', () => {
    const d = decidePath({ kind: 'trace', address: SERVER, trace: { kind: 'missing', command: '', argv: [], durationMs: 1 } }, params, tcp);
    expect(d).toMatchObject({ outcome: 'no-tool', status: 'info' });
    expect(d.summary).toBe('not traced: traceroute is not installed (apt install traceroute: a TCP traceroute to the port names the last router the SYNs pass)');
  });

  it('failed: traceroute could not start the trace', () => {
    expect(decidePath(traced('tcp-no-route'), params, tcp)).toMatchObject({ outcome: 'failed', summary: 'not traced: traceroute failed (connect: No route to host)' });
    expect(decidePath({ kind: 'unresolved' }, params, tcp).outcome).toBe('failed');
  });
});
