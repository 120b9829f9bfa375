import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { abortable, underlying } from '../../src/host/abortable.js';
import { localHost } from '../../src/host/local.js';
import { execaRunner } from '../../src/host/runner.js';

/**
 * Ctrl-C through the Host seam (issue 19): a command, a UDP probe and a name lookup that would
 * wait for their timeouts end as soon as the diagnosis's signal aborts. Real processes and sockets.
 */

const abortAfter = (ms: number) => {
  const c = new AbortController();
  setTimeout(() => c.abort(), ms);
  return c.signal;
};

describe('abortable: every wait of a host ends with the signal', () => {
  it('a command is killed at once, and says it did not run to an exit', async () => {
    const started = performance.now();
    let pid = 0;
    const signal = abortAfter(100);
    const host = abortable(localHost, signal);
    // sh prints its pid, then waits 30 s.
    const run = host.run(['sh', '-c', 'echo $$; exec sleep 30'], { timeoutMs: 30_000 });
    const r = await run;
    pid = Number(r.stdout.trim());
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(r.exitCode).toBeNull();
    expect(pid).toBeGreaterThan(0);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });

  it('a UDP probe of a port that never answers ends at the abort, not at its timeout', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    try {
      const port = silent.address().port;
      const started = performance.now();
      const r = await abortable(localHost, abortAfter(100)).probeUdp('127.0.0.1', port, { timeoutMs: 10_000 });
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(r).toMatchObject({ outcome: 'error', errno: 'ABORT_ERR' });
    } finally {
      silent.close();
    }
  });

  it('already aborted: nothing starts', async () => {
    const c = new AbortController();
    c.abort();
    const r = await execaRunner.run(['sleep', '30'], { signal: c.signal });
    expect(r.exitCode).toBeNull();
    expect(r.durationMs).toBeLessThan(1_000);
  });

  it('without a signal the host is itself; with one, underlying() gives it back', () => {
    expect(abortable(localHost, undefined)).toBe(localHost);
    expect(underlying(abortable(localHost, new AbortController().signal))).toBe(localHost);
  });
});
