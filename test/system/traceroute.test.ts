import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTraceroute, traceBoundMs, tracerouteArgv, tracerouteOf, traceWaitSeconds } from '../../src/system/traceroute.js';
import type { CommandResult, RunOptions } from '../../src/system/runner.js';
import type { ReadScope } from '../../src/system/reader.js';
import type { Host } from '../../src/host/host.js';

// traceroute 2.1's real output through two routers (client — r1 — r2 — server), captured by
// test/fixtures/traceroute/capture.sh: stdout, stderr and exit status of each case.
function capturedTrace(name: string): { stdout: string; stderr: string; exitCode: number } {
  const file = (suffix: string) => new URL(`../fixtures/traceroute/${name}${suffix}`, import.meta.url);
  const read = (suffix: string) => (existsSync(file(suffix)) ? readFileSync(file(suffix), 'utf8') : '');
  return { stdout: read('.txt'), stderr: read('.stderr.txt'), exitCode: Number(read('.exitcode').trim()) };
}

const parse = (name: string) => {
  const c = capturedTrace(name);
  return parseTraceroute(c.stdout, c.stderr, c.exitCode);
};
const rows = (name: string) => {
  const r = parse(name);
  if (r.kind !== 'traced') throw new Error(`${name}: ${r.kind}`);
  return r.hops.map((h) => `${h.ttl} ${h.address ?? '*'}${h.annotation ? ` ${h.annotation}` : ''}`);
};
const stars = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i} *`);

describe('parseTraceroute on captured output', () => {
  it('r2 drops the port: r1, r2, then a star on every hop up to the maximum', () => {
    const r = parse('tcp-lost-after-second-router');
    expect(r).toMatchObject({ kind: 'traced', destination: '10.213.3.2' });
    expect(rows('tcp-lost-after-second-router')).toEqual(['1 10.213.1.1', '2 10.213.2.2', ...stars(3, 30)]);
    if (r.kind === 'traced') expect(r.hops[0]!.rttMs).toBeGreaterThan(0);
    expect(rows('tcp-lost-after-first-router')).toEqual(['1 10.213.1.1', ...stars(2, 30)]);
    expect(rows('udp-lost-after-second-router')).toEqual(['1 10.213.1.1', '2 10.213.2.2', ...stars(3, 30)]);
    expect(rows('udp-as-nobody')).toEqual(['1 10.213.1.1', '2 10.213.2.2', ...stars(3, 30)]);
  });

  it('no hop answers at all', () => {
    expect(rows('tcp-lost-at-first')).toEqual(stars(1, 30));
  });

  it('the destination answers (SYN-ACK, RST, UDP port unreachable): its row ends the trace', () => {
    for (const name of ['tcp-reached-open', 'tcp-reached-closed', 'udp-reached-closed']) expect(rows(name), name).toEqual(['1 10.213.1.1', '2 10.213.2.2', '3 10.213.3.2']);
  });

  it('an ICMP error from r2 is marked on the row of the probe it rejected: !X, !N, !H', () => {
    expect(rows('tcp-admin-prohibited')).toEqual(['1 10.213.1.1', '2 10.213.2.2', '3 10.213.2.2 !X']);
    expect(rows('tcp-host-prohibited')).toEqual(['1 10.213.1.1', '2 10.213.2.2', '3 10.213.2.2 !X']);
    expect(rows('tcp-net-unreachable')).toEqual(['1 10.213.1.1', '2 10.213.2.2', '3 10.213.2.2 !N']);
    expect(rows('tcp-host-unreachable')).toEqual(['1 10.213.1.1', '2 10.213.2.2', '3 10.213.2.2 !H']);
  });

  it('ended from outside mid-trace: the rows printed by then, the last one unfinished', () => {
    expect(capturedTrace('tcp-killed').exitCode).toBe(124);
    expect(capturedTrace('tcp-killed').stdout.endsWith('ms')).toBe(true);
    const r = parseTraceroute(capturedTrace('tcp-killed').stdout, '', null);
    expect(r).toMatchObject({ kind: 'traced', hops: [{ ttl: 1, address: '10.213.1.1' }, { ttl: 2, address: '10.213.2.2' }] });
  });

  it('not root: no raw socket', () => {
    expect(parse('tcp-not-permitted')).toEqual({ kind: 'not-permitted', error: 'You do not have enough privileges to use this traceroute method.' });
  });

  it("this machine's own OUTPUT rule: the kernel refuses to send", () => {
    expect(parse('tcp-send-refused')).toEqual({ kind: 'send-refused', error: 'send: Operation not permitted', hops: [] });
  });

  it('no route from here: a failure with its words', () => {
    expect(parse('tcp-no-route')).toEqual({ kind: 'failed', error: 'connect: No route to host', hops: [] });
  });

  it('IPv6 addresses on a row', () => {
    const r = parseTraceroute('traceroute to fd00::2 (fd00::2), 30 hops max, 80 byte packets\n 1  fd00:1::1  0.031 ms\n 2  fd00::2  0.040 ms !X\n', '', 0);
    expect(r).toEqual({ kind: 'traced', destination: 'fd00::2', hops: [{ ttl: 1, address: 'fd00:1::1', rttMs: 0.031 }, { ttl: 2, address: 'fd00::2', rttMs: 0.04, annotation: '!X' }] });
  });
});

describe('the trace is bounded by --timeout', () => {
  it('one probe a hop, every hop at once, a wait of at most a second', () => {
    expect(tracerouteArgv('10.213.3.2', 80, 'tcp', 1500)).toEqual(['traceroute', '-T', '-n', '-p', '80', '-q', '1', '-w', '1', '-N', '30', '-m', '30', '10.213.3.2']);
    expect(tracerouteArgv('10.213.3.2', 53, 'udp', 300)).toEqual(['traceroute', '-U', '-n', '-p', '53', '-q', '1', '-w', '0.5', '-N', '30', '-m', '30', '10.213.3.2']);
    expect(traceWaitSeconds(700)).toBe(0.7);
  });

  it('ended at no more than --timeout + 1 s, nor 2 s past its own wait', () => {
    expect(traceBoundMs(1500)).toBe(2500);
    expect(traceBoundMs(300)).toBe(1300);
    expect(traceBoundMs(10_000)).toBe(3000);
  });

  it('the reader runs the argv with the bound and keeps the rows of a trace it had to end', async () => {
    const seen: { argv: readonly string[]; options?: RunOptions }[] = [];
    const c = capturedTrace('tcp-killed');
    const host = {
      run: async (argv: readonly string[], options?: RunOptions): Promise<CommandResult> => {
        seen.push({ argv, options });
        return { argv, exitCode: null, stdout: c.stdout, stderr: '', missing: false, timedOut: true, durationMs: 2500 };
      },
    } as unknown as Host;
    const scope = { host, timeoutMs: 1500, read: () => Promise.reject(new Error('unused')) } as unknown as ReadScope;
    const r = await tracerouteOf.read({ address: '10.213.3.2', port: 82, protocol: 'tcp', timeoutMs: 1500 }, scope);
    expect(seen[0]!.options).toEqual({ timeoutMs: 2500 });
    expect(r).toMatchObject({ kind: 'traced', cut: true, command: 'traceroute -T -n -p 82 -q 1 -w 1 -N 30 -m 30 10.213.3.2' });
    const missing = await tracerouteOf.read({ address: '10.213.3.2', port: 82, protocol: 'tcp', timeoutMs: 1500 }, {
      ...scope,
      host: { run: async (argv: readonly string[]) => ({ argv, exitCode: null, stdout: '', stderr: '', missing: true, timedOut: false, durationMs: 1 }) } as unknown as Host,
    } as ReadScope);
    expect(missing.kind).toBe('missing');
  });
});
