import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/bin/main.js';
import type { Report, StepRecord } from '../../src/report/model.js';
import { createNamespace, netnsSkipReason, removeAllNamespaces, type Namespace } from '../helpers/netns.js';
import { freePort, python3Path, startListener, stopAllListeners, uniqueProcessName } from '../helpers/servers.js';

/**
 * whyport against real sockets on loopback (and, as root, in network namespaces of its own): each
 * case starts real listeners as child processes, runs a diagnosis with --json, and checks the code,
 * the exit status and the steps and evidence it rests on. Ports are chosen free at run time.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const HAS_SYSTEMD = existsSync('/run/systemd/system');

interface Run {
  status: number;
  report: Report;
  stderr: string;
}

/** whyport through main(), without a TTY (so it never prompts), as --json. */
async function whyport(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const status = await main([...args, '--json'], {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    environment: { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: { ...process.env, NO_COLOR: '1' } },
  });
  let report: Report;
  try {
    report = JSON.parse(stdout) as Report;
  } catch {
    throw new Error(`whyport ${args.join(' ')} --json printed no JSON (exit ${status}).\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
  return { status, report, stderr };
}

/** The real binary inside a namespace (main() cannot enter one: setns is per process). */
async function whyportIn(ns: Namespace, ...args: string[]): Promise<Run> {
  const r = await execa(ns.exec[0]!, [...ns.exec.slice(1), process.execPath, CLI, ...args, '--json'], {
    reject: false,
    stdin: 'ignore',
    timeout: 15_000,
    env: { NO_COLOR: '1' },
  });
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`in ${ns.name}: whyport ${args.join(' ')} --json printed no JSON (exit ${r.exitCode}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return { status: r.exitCode ?? -1, report, stderr: r.stderr };
}

/** One line per step, quoted in assertion messages so a failure shows the path taken. */
function trace(r: Run): string {
  return `${r.report.diagnosis.code} (exit ${r.status}) via\n${r.report.steps.map((s) => `  ${s.id} → ${s.outcome}: ${s.summary}`).join('\n')}${r.stderr ? `\nstderr: ${r.stderr}` : ''}`;
}

function step(r: Run, id: string): StepRecord {
  const s = r.report.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step '${id}' in the report:\n${trace(r)}`);
  return s;
}

function expectDiagnosis(r: Run, code: string, status: number): void {
  expect(r.report.diagnosis.code, trace(r)).toBe(code);
  expect(r.status, trace(r)).toBe(status);
  expect(r.report.version).toBe(1);
  expect(r.report.playbook.name).toBe('default');
}

function expectStepsInOrder(r: Run, ids: string[]): void {
  const ran = r.report.steps.map((s) => s.id);
  const at = ids.map((id) => ran.indexOf(id));
  expect(at.every((i, n) => i >= 0 && (n === 0 || i > at[n - 1]!)), `expected ${ids.join(' → ')} in order; ${trace(r)}`).toBe(true);
}

type Probe = { address: string; port: number; outcome: string };
const probesOf = (s: StepRecord) => (s.evidence as { probes: Probe[] }).probes;

afterEach(async () => {
  await stopAllListeners();
});

afterAll(async () => {
  await stopAllListeners();
  removeAllNamespaces();
});

describe('loopback: real listeners, diagnosed through main()', () => {
  it('REACHABLE: a listener on 0.0.0.0, target 127.0.0.1 → exit 0', async () => {
    const l = await startListener({ host: '0.0.0.0' });
    const r = await whyport('127.0.0.1', String(l.port));
    expectDiagnosis(r, 'REACHABLE', 0);
    expect(r.report.target).toMatchObject({ host: '127.0.0.1', address: '127.0.0.1', port: l.port, protocol: 'tcp', local: true });
    // These steps, in this order (the playbook may add others, e.g. a firewall look after them).
    expectStepsInOrder(r, ['where', 'sockets', 'listening', 'owner', 'connect-local']);
    expect(step(r, 'owner').outcome).toBe('unnamed');
    expect(step(r, 'where').outcome).toBe('local');
    expect(step(r, 'sockets').outcome).toBe('listening');
    const listening = step(r, 'listening');
    expect(listening.outcome).toBe('covers');
    expect(listening.evidence.listeners).toEqual([expect.objectContaining({ address: '0.0.0.0', port: l.port, owners: [expect.objectContaining({ pid: l.pid, program: 'node' })] })]);
    expect(probesOf(step(r, 'connect-local'))).toEqual([expect.objectContaining({ address: '127.0.0.1', port: l.port, outcome: 'connected' })]);
  });

  it('REACHABLE: a listener on 127.0.0.1, target 127.0.0.1 → exit 0', async () => {
    const l = await startListener({ host: '127.0.0.1' });
    const r = await whyport('127.0.0.1', String(l.port));
    expectDiagnosis(r, 'REACHABLE', 0);
    expect(step(r, 'listening').summary).toContain(`127.0.0.1:${l.port}`);
    expect(step(r, 'connect-local').outcome).toBe('connected');
  });

  it('NOT_LISTENING: nothing listens and no process is named → exit 1', async () => {
    const port = await freePort();
    const r = await whyport('127.0.0.1', String(port));
    expectDiagnosis(r, 'NOT_LISTENING', 1);
    expectStepsInOrder(r, ['where', 'sockets', 'which-process', 'service']);
    expect(['none', 'recent']).toContain(step(r, 'sockets').outcome);
    expect(step(r, 'which-process').outcome).toBe('unknown');
    expect(step(r, 'service').outcome).toBe('unknown');
    expect(r.report.diagnosis.title).toBe(`Nothing listens on port ${port}`);
    expect(r.report.diagnosis.evidence?.[0]).toMatch(new RegExp(`port ${port}`));
  });

  it('PROCESS_NOT_RUNNING: --process nosuchprog-xyz, nothing listens, service unknown → exit 1', async () => {
    const port = await freePort();
    const r = await whyport('127.0.0.1', String(port), '--process', 'nosuchprog-xyz');
    expectDiagnosis(r, 'PROCESS_NOT_RUNNING', 1);
    expectStepsInOrder(r, ['where', 'sockets', 'which-process', 'process', 'service']);
    expect(step(r, 'which-process')).toMatchObject({ outcome: 'given', evidence: { value: 'nosuchprog-xyz', source: 'flag' } });
    expect(step(r, 'process')).toMatchObject({ outcome: 'not-running', command: 'pgrep -a nosuchprog-xyz', evidence: { pids: [] } });
    expect(step(r, 'service').outcome).toBe('unknown');
    expect(r.report.diagnosis.title).toBe('nosuchprog-xyz is not running');
  });

  it.skipIf(HAS_SYSTEMD)('PROCESS_NOT_RUNNING: --service given but this machine has no systemd → the unit step says no-systemd', async () => {
    const port = await freePort();
    const r = await whyport('127.0.0.1', String(port), '--process', 'nosuchprog-xyz', '--service', 'nosuchprog-xyz');
    expectDiagnosis(r, 'PROCESS_NOT_RUNNING', 1);
    expect(step(r, 'unit').outcome).toBe('no-systemd');
  });

  it('PORT_TAKEN: python3 holds the port, --process myapp → exit 1, the owner named', async () => {
    const runtime = python3Path() ? 'python3' : 'node';
    const l = await startListener({ host: '127.0.0.1', runtime });
    expect(l.comm).toBe(runtime);
    const r = await whyport('127.0.0.1', String(l.port), '--process', 'myapp');
    expectDiagnosis(r, 'PORT_TAKEN', 1);
    const owner = step(r, 'owner');
    expect(owner.outcome).toBe('other');
    expect(owner.evidence).toMatchObject({ expected: 'myapp', owners: [expect.objectContaining({ pid: l.pid, program: runtime })] });
    expect(owner.summary).toBe(`port ${l.port} is held by ${runtime} (pid ${l.pid}), not by myapp`);
  });

  it('no PORT_TAKEN when the named process is the one holding the port → REACHABLE', async () => {
    const name = uniqueProcessName('wpt-own');
    const l = await startListener({ host: '127.0.0.1', name });
    const r = await whyport('127.0.0.1', String(l.port), '--process', name);
    expectDiagnosis(r, 'REACHABLE', 0);
    expect(step(r, 'owner').outcome).toBe('expected');
  });

  it('LISTENING_ON_OTHER_PORT: the named process listens on port B, asked about port A → exit 1', async () => {
    const name = uniqueProcessName('wpt-oth');
    const l = await startListener({ host: '127.0.0.1', name, runtime: python3Path() ? 'python3' : 'node' });
    expect(l.comm).toBe(name);
    // pgrep is what whyport uses: make sure it finds the child by that name.
    const pgrep = await execa('pgrep', ['-a', name], { reject: false });
    expect(pgrep.stdout.split('\n').map((line) => Number(line.split(' ')[0]))).toContain(l.pid);

    const portA = await freePort();
    expect(portA).not.toBe(l.port);
    const r = await whyport('127.0.0.1', String(portA), '--process', name);
    expectDiagnosis(r, 'LISTENING_ON_OTHER_PORT', 1);
    expect(step(r, 'process')).toMatchObject({ outcome: 'running', evidence: { pids: [l.pid] } });
    expect(step(r, 'process-ports')).toMatchObject({
      outcome: 'other-ports',
      evidence: { pids: [l.pid], ports: [l.port], listeners: [`127.0.0.1:${l.port}`] },
    });
    expect(r.report.diagnosis.title).toBe(`${name} listens on other ports, not on ${portA}`);
    expect(r.report.diagnosis.fix?.commands).toEqual([`grep -rn ${l.port} /etc`]);
  });

  it('BOUND_TO_OTHER_ADDRESS: listener on 127.0.0.1, target 127.0.0.2 (loopback too) → exit 1', async () => {
    const l = await startListener({ host: '127.0.0.1' });
    const r = await whyport('127.0.0.2', String(l.port));
    expectDiagnosis(r, 'BOUND_TO_OTHER_ADDRESS', 1);
    expect(r.report.target).toMatchObject({ address: '127.0.0.2', local: true });
    const listening = step(r, 'listening');
    expect(listening.outcome).toBe('other-address');
    expect(listening.evidence).toMatchObject({ targetAddresses: ['127.0.0.2'], listeners: [expect.objectContaining({ address: '127.0.0.1', port: l.port })] });
    expect(listening.summary).toContain(`127.0.0.1:${l.port}`);
  });

  it('localhost with a listener on 127.0.0.1 only: one probe per resolved address, a coherent verdict', async () => {
    const l = await startListener({ host: '127.0.0.1' });
    const r = await whyport('localhost', String(l.port));
    const resolved = r.report.target.addresses ?? [];
    const probes = probesOf(step(r, 'connect-local'));
    // Every address localhost resolves to is probed on its own.
    expect(probes.map((p) => p.address).sort()).toEqual([...resolved].sort());
    expect(probes.find((p) => p.address === '127.0.0.1')?.outcome).toBe('connected');
    if (resolved.includes('::1')) {
      expect(probes.find((p) => p.address === '::1')?.outcome).toBe('refused');
      expectDiagnosis(r, 'BOUND_TO_OTHER_ADDRESS', 1);
    } else {
      // This host's /etc/hosts maps localhost to 127.0.0.1 only; the namespace case covers ::1.
      expectDiagnosis(r, 'REACHABLE', 0);
    }
  });

  it('service-name port: https → 443 in the target (nothing listens there)', async (ctx) => {
    const ss = await execa('ss', ['-Htln', 'sport = :443'], { reject: false });
    if (ss.stdout.trim()) ctx.skip(`something listens on port 443 here:\n${ss.stdout}`);
    const r = await whyport('127.0.0.1', 'https');
    // A container of the machine's own may listen on 443 in its namespace: then that is the answer.
    const elsewhere = r.report.steps.some((s) => s.id === 'namespaces' && s.outcome === 'listening');
    expectDiagnosis(r, elsewhere ? 'CONTAINER_NOT_PUBLISHED' : 'NOT_LISTENING', 1);
    expect(r.report.target).toMatchObject({ port: 443, portName: 'https' });
    expect(step(r, 'sockets').command).toContain(':443');
  });
});

const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];
const codeLines = (text: string) => text.split('\n').filter((l) => !/^\s*[#;]/.test(l));
/** The port as a number of its own: not the tail of a word (FirewallD1, tty1) nor part of a longer number. */
const standalone = (port: number) => new RegExp(`(?<![\\w.@-])${port}(?![\\w.])`);
/** Unit files that contain `port` only as the tail of a word, e.g. `…FirewallD1` for port 1. */
function unitFilesWithPortAsWordTail(port: number): string[] {
  const tail = new RegExp(`[A-Za-z]${port}(?!\\d)`);
  const out: string[] = [];
  for (const dir of UNIT_DIRS) {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir).filter((e) => /\.(service|socket)$/.test(e));
    } catch {
      continue;
    }
    for (const e of entries) {
      try {
        const lines = codeLines(readFileSync(join(dir, e), 'utf8'));
        if (lines.some((l) => tail.test(l)) && !lines.some((l) => standalone(port).test(l))) out.push(join(dir, e));
      } catch {
        // a dangling link or a mask: nothing to read
      }
    }
  }
  return out;
}

describe('guesses from unit files on this host', () => {
  const bait = unitFilesWithPortAsWordTail(1);
  if (bait.length === 0) console.warn('skipping the unit-file guess check: no unit file here has a word ending in 1 (e.g. FirewallD1)');

  // A unit file does not "mention port 1" because it contains FirewallD1 or timesync1 (a bug
  // once: without a TTY that guess was taken as the process to look for).
  (bait.length ? it : it.skip)('port 1: no unit file is blamed for a word that merely ends in 1', async () => {
    const ss = await execa('ss', ['-Htan', 'sport = :1'], { reject: false });
    expect(ss.stdout.trim(), 'something uses port 1 here').toBe('');
    const r = await whyport('127.0.0.1', '1');
    const guesses = (step(r, 'which-process').evidence.guesses ?? []) as Array<{ value: string; reason: string }>;
    const unjustified = guesses.filter((g) => {
      const m = /(?:^|; )unit file (\S+) mentions port 1(?!\d)/.exec(g.reason);
      if (!m) return false;
      const file = UNIT_DIRS.map((d) => join(d, m[1]!)).find((f) => existsSync(f));
      return file !== undefined && !codeLines(readFileSync(file, 'utf8')).some((l) => standalone(1).test(l));
    });
    expect(unjustified.map((g) => g.value), trace(r)).toEqual([]);
  });
});

const NETNS_SKIP = netnsSkipReason();
if (NETNS_SKIP) console.warn(`skipping the network-namespace cases: ${NETNS_SKIP}`);

describe.skipIf(NETNS_SKIP !== undefined)('a namespace with real interface addresses 10.213.9.2 and .3 (as root)', () => {
  let ns: Namespace;
  beforeAll(() => {
    ns = createNamespace({
      addresses: ['10.213.9.2/24', '10.213.9.3/24'],
      etc: { hosts: '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' },
    });
  });
  afterAll(() => ns?.remove());

  it('BOUND_TO_LOOPBACK: listener on 127.0.0.1, target 10.213.9.2 (this machine, not loopback) → exit 1', async () => {
    const l = await startListener({ host: '127.0.0.1', port: 7071, netns: ns.name });
    const r = await whyportIn(ns, '10.213.9.2', '7071');
    expectDiagnosis(r, 'BOUND_TO_LOOPBACK', 1);
    expect(r.report.target).toMatchObject({ address: '10.213.9.2', local: true });
    const listening = step(r, 'listening');
    expect(listening.outcome).toBe('loopback-only');
    expect(listening.evidence).toMatchObject({ listeners: [expect.objectContaining({ address: '127.0.0.1', port: 7071, owners: [expect.objectContaining({ pid: l.pid })] })] });
    expect(r.report.diagnosis.title).toBe('It listens only on loopback, not on 10.213.9.2');
  });

  it('BOUND_TO_OTHER_ADDRESS: listener on 10.213.9.2, target 10.213.9.3 → exit 1', async () => {
    await startListener({ host: '10.213.9.2', port: 7072, netns: ns.name });
    const r = await whyportIn(ns, '10.213.9.3', '7072');
    expectDiagnosis(r, 'BOUND_TO_OTHER_ADDRESS', 1);
    expect(step(r, 'where').outcome).toBe('local');
    expect(step(r, 'listening')).toMatchObject({ outcome: 'other-address', evidence: { targetAddresses: ['10.213.9.3'] } });
  });

  it('REACHABLE: listener on 0.0.0.0, target the interface address 10.213.9.3 → exit 0', async () => {
    await startListener({ host: '0.0.0.0', port: 7073, netns: ns.name });
    const r = await whyportIn(ns, '10.213.9.3', '7073');
    expectDiagnosis(r, 'REACHABLE', 0);
    expect(step(r, 'where').outcome).toBe('local');
    expect(probesOf(step(r, 'connect-local'))).toEqual([expect.objectContaining({ address: '10.213.9.3', outcome: 'connected' })]);
  });

  it('localhost → ::1 and 127.0.0.1, listener on 127.0.0.1 only: both probed, ::1 refused → BOUND_TO_OTHER_ADDRESS', async () => {
    await startListener({ host: '127.0.0.1', port: 7074, netns: ns.name });
    const r = await whyportIn(ns, 'localhost', '7074');
    expect([...(r.report.target.addresses ?? [])].sort()).toEqual(['127.0.0.1', '::1']);
    const connect = step(r, 'connect-local');
    expect(connect.outcome).toBe('partial');
    expect(probesOf(connect)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ address: '127.0.0.1', outcome: 'connected' }),
        expect.objectContaining({ address: '::1', outcome: 'refused' }),
      ]),
    );
    expectDiagnosis(r, 'BOUND_TO_OTHER_ADDRESS', 1);
    expect(r.report.diagnosis.title).toBe('localhost works on some of its addresses only');
  });

  it('localhost with a dual-stack listener on [::] → both probes connect → REACHABLE', async () => {
    await startListener({ host: '::', port: 7075, netns: ns.name });
    const r = await whyportIn(ns, 'localhost', '7075');
    expectDiagnosis(r, 'REACHABLE', 0);
    expect(probesOf(step(r, 'connect-local')).map((p) => p.outcome)).toEqual(['connected', 'connected']);
  });

  it('service-name port with a real listener: whyport 127.0.0.1 https, listener on 0.0.0.0:443 → REACHABLE', async () => {
    await startListener({ host: '0.0.0.0', port: 443, netns: ns.name });
    const r = await whyportIn(ns, '127.0.0.1', 'https');
    expectDiagnosis(r, 'REACHABLE', 0);
    expect(r.report.target).toMatchObject({ port: 443, portName: 'https' });
  });
});
