import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report, StepRecord } from '../../src/report/model.js';
import { REPO_ROOT, startSystemdTestbed, systemdTestbedAvailable, type SystemdTestbed } from '../helpers/nspawn.js';

/**
 * A stuck program run by a real systemd (systemd-nspawn, TESTBED.md): its unit is found from the
 * cgroup of the process holding the port, so the fix — restart that unit — is one whyport may
 * apply, and --fix does, and verifies. Without systemd (socket-states.test.ts) the same diagnosis
 * only shows commands for a person.
 */

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const NODE = process.execPath;
const PYTHON = '/usr/bin/python3';

// Stuck on its first start only (listen(1), four connects, never accept); healthy once restarted,
// so that a verified fix can be told from one that did nothing.
const STUCK_ONCE = String.raw`
import os, socket, sys, time
marker = sys.argv[1]
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 7090))
if os.path.exists(marker):
    l.listen(16)
    while True:
        c, _ = l.accept(); c.close()
open(marker, "w").close()
l.listen(1)
keep = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False); c.connect_ex(("127.0.0.1", 7090)); keep.append(c)
    time.sleep(0.05)
while True: time.sleep(60)
`;

// Accepts 25 connections and never closes them; its clients (the same process) close theirs.
const LEAKY = String.raw`
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 7091)); l.listen(64)
clients = [socket.create_connection(("127.0.0.1", 7091)) for _ in range(25)]
keep = [l.accept()[0] for _ in range(25)]
for c in clients: c.close()
while True: time.sleep(60)
`;

const unavailable = await systemdTestbedAvailable();
if (unavailable) console.warn(`skipping the socket-state tests against a real systemd: ${unavailable}`);

interface Run {
  status: number | null;
  report: Report;
  stderr: string;
}

describe.skipIf(unavailable !== null)('a stuck program under a real systemd', () => {
  let bed: SystemdTestbed;
  let noPython: string | undefined;

  async function whyport(...args: string[]): Promise<Run> {
    const r = await bed.exec([NODE, CLI, ...args, '--json', '--yes'], { timeoutMs: 40_000, env: { NODE_EXTRA_CA_CERTS: '' } });
    try {
      return { status: r.exitCode, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
    } catch {
      throw new Error(`whyport ${args.join(' ')} printed no JSON (exit ${r.exitCode}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    }
  }

  const trace = (r: Run) => `${r.report.diagnosis.code} via\n${r.report.steps.map((s) => `  ${s.id} → ${s.outcome}: ${s.summary}`).join('\n')}\nstderr: ${r.stderr}`;
  const step = (r: Run, id: string): StepRecord => {
    const s = r.report.steps.find((x) => x.id === id);
    if (!s) throw new Error(`no step '${id}':\n${trace(r)}`);
    return s;
  };

  /** Waits until ss inside the container shows `want` on the port's LISTEN line. */
  async function listenLine(port: number, want: RegExp): Promise<string> {
    let line = '';
    for (let i = 0; i < 100; i++) {
      line = (await bed.exec(['ss', '-Htln', `sport = :${port}`])).stdout.trim();
      if (want.test(line)) return line;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`port ${port} never showed ${want}: '${line}'`);
  }

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    bed = await startSystemdTestbed();
    if ((await bed.exec(['test', '-x', PYTHON])).exitCode !== 0) {
      noPython = `${PYTHON} is not in the container`;
      return;
    }
    await writeFile(join(bed.tmpDir, 'stuck-once.py'), STUCK_ONCE);
    await writeFile(join(bed.tmpDir, 'leaky.py'), LEAKY);
    await bed.writeUnit('stuckq.service', `[Service]\nExecStart=${PYTHON} ${bed.tmpDir}/stuck-once.py ${bed.tmpDir}/stuckq.started\n`);
    await bed.writeUnit('leaky.service', `[Service]\nExecStart=${PYTHON} ${bed.tmpDir}/leaky.py\n`);
    await bed.daemonReload();
    for (const u of ['stuckq', 'leaky']) {
      const r = await bed.exec(['systemctl', 'start', u]);
      if (r.exitCode !== 0) throw new Error(`systemctl start ${u}: ${r.stderr}`);
    }
  }, 120_000);

  afterAll(async () => {
    await bed?.stop();
  });

  it('ACCEPT_QUEUE_FULL: the unit is found from the holder’s cgroup, and --fix restarts it and verifies', async (t) => {
    if (noPython) t.skip(noPython);
    await listenLine(7090, /^LISTEN\s+2\s+1\s/);

    const r = await whyport('127.0.0.1', '7090');
    expect(r.report.diagnosis.code, trace(r)).toBe('ACCEPT_QUEUE_FULL');
    expect(step(r, 'sockets').evidence.acceptQueue).toMatchObject({ queue: 2, backlog: 1, unit: 'stuckq.service' });
    expect(step(r, 'service')).toMatchObject({ outcome: 'given', evidence: { value: 'stuckq', source: 'guess' } });
    expect(step(r, 'unit').outcome).toBe('active');
    expect(r.report.diagnosis.title).toBe('stuckq listens on port 7090, but has stopped accepting connections');
    expect(r.report.diagnosis.fix).toEqual({ summary: expect.stringMatching(/^Restart stuckq/), commands: ['systemctl restart stuckq'] });

    const fixed = await whyport('127.0.0.1', '7090', '--fix');
    expect(fixed.report.diagnosis.applied, trace(fixed)).toMatchObject({ command: 'systemctl restart stuckq', exitCode: 0, verified: true, after: 'REACHABLE' });
    await listenLine(7090, /^LISTEN\s+0\s+16\s/);
  });

  it('CLOSE_WAIT_LEAK: the restart is offered for the unit that leaks', async (t) => {
    if (noPython) t.skip(noPython);
    await listenLine(7091, /^LISTEN\s+0\s+64\s/);
    const r = await whyport('127.0.0.1', '7091');
    expect(r.report.diagnosis.code, trace(r)).toBe('CLOSE_WAIT_LEAK');
    expect(step(r, 'sockets').evidence.closeWait).toMatchObject({ serverSide: 25, unit: 'leaky.service' });
    expect(step(r, 'unit').outcome).toBe('active');
    expect(r.report.diagnosis.evidence).toContain('leaky.service is active (running, main pid ' + String((step(r, 'unit').evidence as { mainPid: number }).mainPid) + ')');
    expect(r.report.diagnosis.fix?.commands).toEqual(['systemctl restart leaky']);
    expect(r.report.diagnosis.fix?.manual).toBeUndefined();
  });
});
