import { execa } from 'execa';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { freePort, startListener, stopAllListeners, uniqueProcessName } from '../helpers/servers.js';

/**
 * `whyport playbook new NAME` as a new user meets it: written in the current directory by the built
 * binary, validated, and walked against a real listener named NAME on loopback, then with the
 * listener gone, then with the program running but not listening.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');

let cwd: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
  cwd = mkdtempSync(join(tmpdir(), 'whyport-new-'));
});
afterEach(stopAllListeners);
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

async function whyport(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const r = await execa(process.execPath, [CLI, ...args], { cwd, reject: false, stdin: 'ignore', timeout: 20_000, env: { NO_COLOR: '1', PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  if (r.timedOut) throw new Error(`whyport ${args.join(' ')} did not finish within 20 s`);
  return { status: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function diagnose(name: string, port: number): Promise<{ status: number; report: Report }> {
  const r = await whyport(['127.0.0.1', String(port), '--playbook', `${name}.yaml`, '--yes', '--json']);
  return { status: r.status, report: JSON.parse(r.stdout) as Report };
}

const path = (r: { report: Report }) => r.report.steps.map((s) => `${s.id}:${s.outcome}`).join(' → ');

describe('a playbook from whyport playbook new, walked on real sockets', () => {
  it('is written here as NAME.yaml, validates, and diagnoses its app: listening, gone, running but not listening', async () => {
    const name = uniqueProcessName('app');
    const made = await whyport(['playbook', 'new', name]);
    expect(made.status, made.stderr).toBe(0);
    expect(existsSync(join(cwd, `${name}.yaml`))).toBe(true);
    expect((await whyport(['playbook', 'validate', `${name}.yaml`])).stdout).toBe(`${name}.yaml: ok — 6 steps, 8 diagnoses, 2 inputs`);
    // Again: refused, one line.
    const again = await whyport(['playbook', 'new', name]);
    expect([again.status, again.stderr]).toEqual([2, `whyport: ${name}.yaml exists already: whyport playbook new never writes over a file (give another with -o FILE)`]);

    const app = await startListener({ host: '127.0.0.1', name });
    const up = await diagnose(name, app.port);
    expect([up.report.diagnosis.code, up.status], path(up)).toEqual(['REACHABLE', 0]);
    expect(path(up)).toBe('sockets:listening → listeners:covers');
    await app.stop();

    const port = await freePort();
    const gone = await diagnose(name, port);
    expect(gone.report.diagnosis.code, path(gone)).toBe('NOT_LISTENING');
    expect(gone.status).toBe(1);
    expect(path(gone)).toMatch(/^sockets:none → which-process:given → process:not-running → which-service:(given → unit:\S+|unknown)$/);
    expect(gone.report.diagnosis.title).toMatch(new RegExp(`^(${name} is not running|.*${name}.*)$`));

    // The program runs (listening elsewhere): it runs, but nothing listens on this port.
    const elsewhere = await startListener({ host: '127.0.0.1', name });
    const runs = await diagnose(name, port);
    expect(path(runs)).toBe('sockets:none → which-process:given → process:running');
    expect([runs.report.diagnosis.code, runs.report.diagnosis.title]).toEqual(['NOT_LISTENING', `${name} runs, but nothing listens on port ${port}`]);
    await elsewhere.stop();
  }, 60_000);
});
