import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNstat, parseProcNetstat, readListenOverflows, sampleListenOverflows } from '../../src/system/accept-queue.js';
import type { Host } from '../../src/host/host.js';
import { localHost } from '../../src/host/local.js';
import type { CommandResult } from '../../src/system/runner.js';

// Real captures: test/fixtures/capture-socket-states.sh (nstat/*) and the host's /proc/net/netstat.
const text = (dir: string, name: string) => readFileSync(new URL(`../fixtures/${dir}/${name}`, import.meta.url), 'utf8');

describe("the kernel's listen-overflow counter", () => {
  it('reads nstat before and after a full queue dropped SYNs', () => {
    expect(parseNstat(text('nstat', 'before-overflow.txt'))).toBe(0);
    expect(parseNstat(text('nstat', 'after-overflow.txt'))).toBeGreaterThan(0);
    expect(parseNstat('#kernel\n')).toBeUndefined();
  });

  it('reads /proc/net/netstat, where names and values sit on two lines', () => {
    const after = parseNstat(text('nstat', 'after-overflow.txt'))!;
    expect(parseProcNetstat(text('proc', 'netstat.txt'))).toBeGreaterThanOrEqual(after);
    expect(parseProcNetstat('IpExt: InNoRoutes\nIpExt: 0\n')).toBeUndefined();
  });

  // This machine's files, the replayed nstat.
  const replay = (outputs: (Partial<CommandResult> | undefined)[]): Host => ({
    ...localHost,
    async run(argv) {
      const o = outputs.shift() ?? { missing: true };
      return { argv, exitCode: o.missing ? null : 0, stdout: '', stderr: '', missing: false, timedOut: false, durationMs: 1, ...o };
    },
  });
  const fixtureFile = new URL('../fixtures/proc/netstat.txt', import.meta.url).pathname;

  it('falls back to /proc/net/netstat when nstat is missing, and says why when neither can be read', async () => {
    const viaProc = await readListenOverflows(replay([{ missing: true }]), { timeoutMs: 100, netstatFile: fixtureFile });
    expect(viaProc).toEqual({ value: parseProcNetstat(text('proc', 'netstat.txt')), source: '/proc/net/netstat', command: `grep TcpExt: ${fixtureFile}` });
    const neither = await readListenOverflows(replay([{ missing: true }]), { timeoutMs: 100, netstatFile: '/nonexistent/netstat' });
    expect(neither).toBe('nstat is not installed, and /nonexistent/netstat could not be read (ENOENT)');
  });

  it('samples twice and reports the growth', async () => {
    const runner = replay([{ stdout: text('nstat', 'before-overflow.txt') }, { stdout: text('nstat', 'after-overflow.txt') }]);
    const slept: number[] = [];
    const s = await sampleListenOverflows(runner, { timeoutMs: 100, intervalMs: 300, sleep: async (ms) => void slept.push(ms) });
    const after = parseNstat(text('nstat', 'after-overflow.txt'))!;
    expect(s).toMatchObject({ first: 0, second: after, growth: after, source: 'nstat', command: 'nstat -az TcpExtListenOverflows' });
    expect(slept).toEqual([300]);
  });
});
