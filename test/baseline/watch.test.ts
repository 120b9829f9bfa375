// --watch on a real port: a runOnce that probes 127.0.0.1:PORT with probeTcp (the diagnosis's
// own connect), and a real listener that appears after a couple of tries.

import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeTcp } from '../../src/system/tcp-connect.js';
import { watch, type WatchVerdict } from '../../src/commands/watch.js';
import { freePort } from './helpers.js';

/** The smallest diagnosis: connected → REACHABLE (0), refused → NOTHING_LISTENING (1). */
function probeVerdict(port: number): () => Promise<WatchVerdict> {
  return async () => {
    const r = await probeTcp('127.0.0.1', port, 1000);
    return r.outcome === 'connected'
      ? { code: 'REACHABLE', title: `127.0.0.1:${port} accepts connections`, exitStatus: 0 }
      : { code: 'NOTHING_LISTENING', title: `nothing listens on 127.0.0.1:${port}`, exitStatus: 1 };
  };
}

/** A clock that ticks one second a call, from a fixed time, so the lines are predictable. */
function clock(): () => Date {
  let t = Date.parse('2025-03-01T10:00:00.000Z');
  return () => new Date((t += 1000));
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('watch', () => {
  it('prints the first verdict and the change, and returns 0 once the listener appears', async () => {
    const port = await freePort();
    const once = probeVerdict(port);
    let tries = 0;
    const runOnce = async () => {
      tries++;
      // After two refused tries, something starts listening.
      if (tries === 3) {
        server = createServer();
        await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      }
      return once();
    };
    let out = '';
    const status = await watch(runOnce, { intervalMs: 20, out: (t) => (out += t), signal: new AbortController().signal, now: clock() });
    expect(status).toBe(0);
    expect(tries).toBe(3);
    expect(out).toBe(
      `2025-03-01T10:00:01Z  NOTHING_LISTENING  nothing listens on 127.0.0.1:${port}\n` +
        `2025-03-01T10:00:02Z  REACHABLE  127.0.0.1:${port} accepts connections (try 3)\n`,
    );
  });

  it('gives up after --max tries with the last exit status', async () => {
    const port = await freePort();
    const once = probeVerdict(port);
    let tries = 0;
    let out = '';
    const status = await watch(
      () => {
        tries++;
        return once();
      },
      { intervalMs: 10, max: 3, out: (t) => (out += t), signal: new AbortController().signal, now: clock() },
    );
    expect(status).toBe(1);
    expect(tries).toBe(3);
    expect(out).toBe(`2025-03-01T10:00:01Z  NOTHING_LISTENING  nothing listens on 127.0.0.1:${port}\n2025-03-01T10:00:02Z  gave up after 3 tries: still NOTHING_LISTENING\n`);
  });

  it('returns 0 at once when the port is already reachable, even with --max 1', async () => {
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    let out = '';
    expect(await watch(probeVerdict(port), { intervalMs: 10, max: 1, out: (t) => (out += t), signal: new AbortController().signal })).toBe(0);
    expect(out).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  REACHABLE  /);
  });

  it('ends cleanly on abort (Ctrl-C) during the pause, with 130', async () => {
    const port = await freePort();
    const controller = new AbortController();
    let out = '';
    const started = performance.now();
    setTimeout(() => controller.abort(), 150);
    // A long interval: the abort must not wait for it.
    const status = await watch(probeVerdict(port), { intervalMs: 60_000, out: (t) => (out += t), signal: controller.signal, now: clock() });
    expect(status).toBe(130);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(out).toBe(`2025-03-01T10:00:01Z  NOTHING_LISTENING  nothing listens on 127.0.0.1:${port}\n2025-03-01T10:00:02Z  stopped after 1 try (still NOTHING_LISTENING)\n`);
  });

  it('ends cleanly on abort in the middle of a try', async () => {
    const controller = new AbortController();
    let out = '';
    const hanging = () => new Promise<WatchVerdict>(() => {});
    setTimeout(() => controller.abort(), 50);
    expect(await watch(hanging, { intervalMs: 10, out: (t) => (out += t), signal: controller.signal, now: clock() })).toBe(130);
    expect(out).toBe('2025-03-01T10:00:01Z  stopped after 0 tries\n');
  });

  it('passes on an error of a try', async () => {
    const failing = () => Promise.reject(new Error('playbook broke'));
    await expect(watch(failing, { intervalMs: 10, out: () => {}, signal: new AbortController().signal })).rejects.toThrow('playbook broke');
  });
});
