import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { freePort } from '../helpers/servers.js';

// The built whyport says which version ran, on which machine, when, and how long the whole run
// took — from the process's start, not from when the checks began — as a user pastes it.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const dir = mkdtempSync(join(tmpdir(), 'wpt-run-'));
// Holds node for 600 ms before whyport's own code starts, as a slow start-up (a cold disk) would.
const slowStart = join(dir, 'slow-start.cjs');
writeFileSync(slowStart, 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function whyport(args: string[]) {
  const r = await execa(process.execPath, ['--require', slowStart, CLI, ...args], { reject: false, timeout: 20_000, cwd: ROOT, env: { NO_COLOR: '1' }, stdin: 'ignore' });
  return { stdout: String(r.stdout), exitCode: r.exitCode };
}

describe('the run behind a report, from the built binary', () => {
  it('--json: whyport.version, whyport.host, whyport.startedAt; durationMs counts from the process start', async () => {
    const port = await freePort();
    const before = Date.now();
    const r = await whyport(['127.0.0.1', String(port), '--json', '--yes']);
    const after = Date.now();
    const report = JSON.parse(r.stdout) as Report;
    expect(report.version).toBe(1);
    expect(report.whyport?.version).toBe(VERSION);
    expect(report.whyport?.host).toBe(hostname());
    expect(report.whyport?.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const started = Date.parse(report.whyport!.startedAt);
    expect(started).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(started).toBeLessThanOrEqual(after);
    expect(report.durationMs).toBeGreaterThanOrEqual(600);
    expect(report.durationMs).toBeLessThanOrEqual(after - before);
  });

  it('--markdown: the run line and "took" the whole run', async () => {
    const port = await freePort();
    const r = await whyport(['127.0.0.1', String(port), '--markdown', '--yes']);
    expect(r.stdout).toContain(`**Run:** whyport ${VERSION} on \`${hostname()}\` · started `);
    const took = /took (\d+(?:\.\d+)?) (m?s)/.exec(r.stdout);
    expect(took).not.toBeNull();
    expect(took![2] === 's' ? Number(took![1]) * 1000 : Number(took![1])).toBeGreaterThanOrEqual(600);
  });
});
