import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { freePort } from '../helpers/servers.js';

/**
 * A follow step end to end: the real CLI with a playbook file of built-in checks. Port A listens
 * (a real socket of this test); its step follows 127.0.0.1:B, where nothing listens, so the
 * nested walk ends in NOT_LISTENING and the parent's diagnosis (`from:`) is that one, titled by
 * the parent. Run it isolated: /work/bin/isolated npx vitest run test/integration/follow.test.ts
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');

const playbook = (portB: number) => `
version: 2
name: follow-e2e
steps:
  listening:
    check: listeners
    with: { host: "{{ target.address }}", port: "{{ target.port }}" }
    on: { covers: upstream, else: NOT_LISTENING }
  upstream:
    follow: { host: 127.0.0.1, port: ${portB} }
    on: { reachable: REACHABLE, else: UPSTREAM_DOWN }
diagnoses:
  REACHABLE:
    title: "port {{ target.port }} is listened on"
    explanation: "Something listens on it."
  NOT_LISTENING:
    title: "nothing listens on port {{ target.port }}"
    explanation: "No socket listens on port {{ target.port }}."
    evidence: ["{{ steps.listening.summary }}"]
    fix: { summary: "See what holds sockets on the port", apply: false, commands: ["{{ target.sockets }}"] }
  UPSTREAM_DOWN:
    from: upstream
    title: "port {{ target.port }} listens, but {{ steps.upstream.evidence.host }}:{{ steps.upstream.evidence.port }} does not: {{ steps.upstream.evidence.title }}"
    evidence: ["port {{ target.port }} leads to {{ steps.upstream.evidence.host }}:{{ steps.upstream.evidence.port }}"]
`;

let dir: string;
let server: Server;
let portA: number;
let portB: number;
let file: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'whyport-follow-'));
  portB = await freePort();
  server = createServer((s) => s.end());
  await new Promise<void>((ok) => server.listen({ host: '127.0.0.1', port: 0 }, ok));
  portA = (server.address() as { port: number }).port;
  file = join(dir, 'follow.yaml');
  writeFileSync(file, playbook(portB));
});

afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  rmSync(dir, { recursive: true, force: true });
});

const whyport = (...args: string[]) => execa(process.execPath, [CLI, '127.0.0.1', String(portA), '--playbook', file, ...args], { reject: false, stdin: 'ignore', timeout: 20_000, env: { NO_COLOR: '1', COLUMNS: '100' } });

describe('follow: end to end (the real CLI, a real listener)', () => {
  it('--json: the diagnosis is the followed port\'s NOT_LISTENING, with the parent\'s title and evidence first', async () => {
    const r = await whyport('--json');
    expect(r.exitCode, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.steps.map((s) => `${s.id}=${s.outcome}`)).toEqual(['listening=covers', 'upstream=not-listening']);
    const up = report.steps[1]!;
    expect(up.check).toBe('follow');
    expect(up.summary).toBe(`127.0.0.1:${portB}: NOT_LISTENING — nothing listens on port ${portB}`);
    expect(up.follow?.target).toMatchObject({ host: '127.0.0.1', port: portB, local: true });
    expect(up.follow?.steps.map((s) => `${s.id}=${s.outcome}`)).toEqual(['listening=none']);
    expect(report.diagnosis.code).toBe('NOT_LISTENING');
    expect(report.diagnosis.title).toBe(`port ${portA} listens, but 127.0.0.1:${portB} does not: nothing listens on port ${portB}`);
    expect(report.diagnosis.explanation).toBe(`No socket listens on port ${portB}.`);
    expect(report.diagnosis.evidence?.[0]).toBe(`port ${portA} leads to 127.0.0.1:${portB}`);
    expect(report.diagnosis.evidence?.[1]).toMatch(new RegExp(`nothing listens on port ${portB}`));
    expect(report.diagnosis.fix).toEqual({ summary: 'See what holds sockets on the port', commands: [`ss -Htanp 'sport = :${portB}'`], manual: true });
  });

  it('text: the followed walk is shown under its step', async () => {
    const r = await whyport();
    expect(r.exitCode).toBe(1);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.includes(`127.0.0.1:${portB}: NOT_LISTENING`));
    expect(at, r.stdout).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe(`    $ whyport 127.0.0.1 ${portB} --playbook ${file}`);
    expect(lines[at + 2]).toMatch(new RegExp(`^    ✖ nothing listens on port ${portB}`));
  });

  it('--fix says the followed diagnosis has no fix whyport can apply (its commands are for a person)', async () => {
    const r = await whyport('--fix', '--yes', '--json');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/--fix: NOT_LISTENING has no fix whyport can apply; the commands shown are for you to run/);
  });
});
