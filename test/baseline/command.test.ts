// `whyport baseline save|check` end to end, on real listeners (node and python3 child processes)
// started and stopped between save and check, read with the real ss and /proc.
//
// - In the host's network namespace the diff is filtered to the test's own ports, because other
//   things on the machine may listen or stop meanwhile.
// - In a private network namespace (root only) nothing else listens, so whole results — exit
//   status 0 for "unchanged", what the notify command receives — can be asserted exactly.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBaseline, type BaselineDeps } from '../../src/baseline/command.js';
import type { Baseline } from '../../src/baseline/model.js';
import { UsageError } from '../../src/errors.js';
import { execaRunner } from '../../src/system/runner.js';
import { localHost } from '../../src/host/local.js';
import {
  canUnshare,
  captureIO,
  cgroup2Root,
  fakeServiceCgroup,
  freePort,
  hasPython,
  hasSs,
  privateNetns,
  startListener,
  type ListenerSpec,
  type Netns,
  type RunningListener,
} from './helpers.js';

interface JsonChange {
  kind: string;
  exposure: boolean;
  protocol: string;
  port: number;
  fields: string[];
  before: { address: string; program: string | null; unit: string | null } | null;
  after: { address: string; program: string | null; unit: string | null } | null;
}

let dir: string;
const running: RunningListener[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wpt-baseline-cmd-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(running.splice(0).map((l) => l.stop()));
});

async function listen(spec: ListenerSpec): Promise<RunningListener> {
  const l = await startListener(spec);
  running.push(l);
  return l;
}

async function stop(l: RunningListener): Promise<void> {
  running.splice(running.indexOf(l), 1);
  await l.stop();
}

async function run(argv: string[], deps: Partial<BaselineDeps> = {}) {
  const c = captureIO();
  const status = await runBaseline(argv, c.io, deps);
  return { status, stdout: c.stdout, stderr: c.stderr };
}

async function usageError(argv: string[], deps: Partial<BaselineDeps> = {}): Promise<UsageError> {
  const err = await runBaseline(argv, captureIO().io, deps).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  return err as UsageError;
}

/** A notify command that writes its stdin to `out` (argv, no shell). */
const recorder = (out: string) => ['node', '-e', 'require("fs").writeFileSync(process.argv[1], require("fs").readFileSync(0))', out];

const needs = !hasSs ? 'ss (iproute2) is not installed' : !hasPython ? 'python3 is not installed' : '';

describe.skipIf(needs !== '')(`in the host's network namespace, on the test's own ports${needs ? ` (skipped: ${needs})` : ''}`, () => {
  it('reports new, gone, owner changed and loopback → 0.0.0.0, exposure first', async () => {
    const file = join(dir, 'host', 'baseline.json');
    const [gone, owner, exposed, udpGone, fresh, udpFresh] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => freePort()));
    const ours = new Set([gone, owner, exposed, udpGone, fresh, udpFresh]);

    await listen({ protocol: 'tcp', host: '127.0.0.1', port: gone!, program: 'node' });
    const py = await listen({ protocol: 'tcp', host: '127.0.0.1', port: owner!, program: 'python3' });
    const lo = await listen({ protocol: 'tcp', host: '127.0.0.1', port: exposed!, program: 'node' });
    await listen({ protocol: 'udp', host: '127.0.0.1', port: udpGone!, program: 'node' });
    const saved = await run(['baseline', 'save', '--file', file]);
    expect(saved.status).toBe(0);
    expect(saved.stdout).toMatch(new RegExp(`^whyport: saved \\d+ listeners \\(\\d+ TCP, \\d+ UDP\\) to ${file}\\n$`));
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as Baseline;
    expect(onDisk.listeners.filter((l) => ours.has(l.port))).toEqual(
      [
        { protocol: 'tcp', address: '127.0.0.1', port: gone, family: 'inet', program: 'node' },
        { protocol: 'tcp', address: '127.0.0.1', port: owner, family: 'inet', program: py.comm },
        { protocol: 'tcp', address: '127.0.0.1', port: exposed, family: 'inet', program: 'node' },
        { protocol: 'udp', address: '127.0.0.1', port: udpGone, family: 'inet', program: 'node' },
      ].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port! - b.port!),
    );

    // Between save and check: stop two, replace the python3 listener by node on the same port,
    // move one from 127.0.0.1 to 0.0.0.0, start two new ones.
    for (const l of [...running]) if (l !== py && l !== lo) await stop(l);
    await stop(py);
    await listen({ protocol: 'tcp', host: '127.0.0.1', port: owner!, program: 'node' });
    await stop(lo);
    await listen({ protocol: 'tcp', host: '0.0.0.0', port: exposed!, program: 'node' });
    await listen({ protocol: 'tcp', host: '127.0.0.1', port: fresh!, program: 'node' });
    const udpNew = await listen({ protocol: 'udp', host: '127.0.0.1', port: udpFresh!, program: 'python3' });

    const json = await run(['baseline', 'check', '--file', file, '--json']);
    expect(json.status).toBe(1);
    const doc = JSON.parse(json.stdout) as { whyport: string; changed: boolean; changes: JsonChange[] };
    expect(doc).toMatchObject({ whyport: 'baseline-check', changed: true });
    const mine = doc.changes.filter((c) => ours.has(c.port));
    expect(mine.map((c) => [c.kind, c.protocol, c.port, c.fields.join(','), c.exposure])).toEqual([
      ['changed', 'tcp', exposed, 'address', true],
      ['appeared', 'tcp', fresh, '', false],
      ['appeared', 'udp', udpFresh, '', false],
      ['disappeared', 'tcp', gone, '', false],
      ['disappeared', 'udp', udpGone, '', false],
      ['changed', 'tcp', owner, 'program', false],
    ]);
    expect(mine[0]).toMatchObject({ before: { address: '127.0.0.1' }, after: { address: '0.0.0.0', program: 'node' } });
    expect(mine[2]!.after?.program).toBe(udpNew.comm);
    expect(mine[5]).toMatchObject({ before: { program: py.comm }, after: { program: 'node' } });
    // Exposure changes come before everything else in the whole report, not only among ours.
    const firstPlain = doc.changes.findIndex((c) => !c.exposure);
    expect(doc.changes.slice(firstPlain).some((c) => c.exposure)).toBe(false);

    const text = await run(['baseline', 'check', '--file', file]);
    expect(text.status).toBe(1);
    const row = (port: number) => text.stdout.split('\n').findIndex((l) => new RegExp(`\\s${port}\\s`).test(l));
    expect(text.stdout.split('\n')[row(exposed!)]).toMatch(new RegExp(`^  ⚠  changed\\s+tcp\\s+${exposed}\\s+127\\.0\\.0\\.1 → 0\\.0\\.0\\.0\\s+node$`));
    expect(text.stdout.split('\n')[row(owner!)]).toMatch(new RegExp(`^  ~  changed\\s+tcp\\s+${owner}\\s+127\\.0\\.0\\.1\\s+${py.comm} → node$`));
    for (const p of [fresh!, udpFresh!, gone!, udpGone!, owner!]) expect(row(exposed!)).toBeLessThan(row(p));

    // The same report with our ports ignored says nothing about them.
    const ignored = await run(['baseline', 'check', '--file', file, '--json', '--ignore-port', [...ours].join(',')]);
    expect((JSON.parse(ignored.stdout) as { changes: JsonChange[] }).changes.filter((c) => ours.has(c.port))).toEqual([]);
  });
});

describe.skipIf(!canUnshare || needs !== '')(`in a private network namespace${!canUnshare ? ' (skipped: needs root and unshare -n)' : needs ? ` (skipped: ${needs})` : ''}`, () => {
  let ns: Netns;
  let deps: Partial<BaselineDeps>;
  beforeAll(async () => {
    ns = await privateNetns();
    deps = { host: ns.host, runner: ns.runner };
  });
  afterAll(async () => {
    await ns?.close();
  });

  it('records programs and systemd units; reports nothing when nothing changed', async () => {
    const cgroup = cgroup2Root();
    const file = join(dir, 'ns-units', 'baseline.json');
    const [p1, p2, p3] = [7301, 7302, 7303];
    await listen({ protocol: 'tcp', host: '127.0.0.1', port: p1, program: 'node', netns: ns });
    await listen({ protocol: 'udp', host: '::1', port: p2, program: 'node', netns: ns });
    const py = await listen({ protocol: 'tcp', host: '0.0.0.0', port: p3, program: 'python3', netns: ns });
    const service = cgroup ? fakeServiceCgroup(cgroup, 'wpt-demo.service') : undefined;
    try {
      service?.enter(py.pid);
      expect((await run(['baseline', 'save', '--file', file], deps)).stdout).toBe(`whyport: saved 3 listeners (2 TCP, 1 UDP) to ${file}\n`);
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Baseline;
      expect(saved).toMatchObject({ whyport: 'baseline', version: 1, host: 'wpt-host' });
      expect(new Date(saved.savedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(saved.listeners).toEqual([
        { protocol: 'tcp', address: '127.0.0.1', port: p1, family: 'inet', program: 'node' },
        { protocol: 'tcp', address: '0.0.0.0', port: p3, family: 'inet', program: py.comm, ...(service ? { unit: 'wpt-demo.service' } : {}) },
        { protocol: 'udp', address: '::1', port: p2, family: 'inet6', program: 'node' },
      ]);

      const out = join(dir, 'ns-units', 'notified');
      const bytes = readFileSync(file);
      const same = await run(['baseline', 'check', '--file', file, '--update', '--notify', ...recorder(out)], deps);
      expect(same).toEqual({
        status: 0,
        stdout: `whyport baseline check: no changes since ${saved.savedAt}\nbaseline: ${file} (3 listeners); now: 3 listeners on wpt-host\n`,
        stderr: '',
      });
      expect(existsSync(out)).toBe(false);
      // Nothing to accept: --update leaves the file (and its savedAt) alone.
      expect(readFileSync(file).equals(bytes)).toBe(true);
    } finally {
      await Promise.all(running.splice(0).map((l) => l.stop()));
      service?.remove();
    }
  });

  describe('after a change', () => {
    let file: string;
    let before: Buffer;
    // Shared by the tests below, so not in `running` (stopped after each test).
    const shared: RunningListener[] = [];
    beforeAll(async () => {
      file = join(dir, 'ns-notify', 'baseline.json');
      const a = await startListener({ protocol: 'tcp', host: '127.0.0.1', port: 7311, program: 'node', netns: ns });
      const b = await startListener({ protocol: 'udp', host: '127.0.0.1', port: 7312, program: 'node', netns: ns });
      expect((await run(['baseline', 'save', '--file', file], deps)).status).toBe(0);
      await b.stop();
      shared.push(a, await startListener({ protocol: 'udp', host: '127.0.0.1', port: 7313, program: 'python3', netns: ns }));
      before = readFileSync(file);
    });
    afterAll(async () => {
      await Promise.all(shared.splice(0).map((l) => l.stop()));
    });

    it('gives the text report to the notify command on its stdin', async () => {
      const out = join(dir, 'ns-notify', 'text');
      const r = await run(['baseline', 'check', '--file', file, '--notify', ...recorder(out)], deps);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^whyport baseline check: 2 changes since /);
      expect(r.stdout).toMatch(/^  \+  appeared\s+udp\s+7313\s+127\.0\.0\.1\s+python3\S*$/m);
      expect(r.stdout).toMatch(/^  -  disappeared\s+udp\s+7312\s+127\.0\.0\.1\s+node$/m);
      expect(readFileSync(out, 'utf8')).toBe(r.stdout);
      expect(readFileSync(file).equals(before)).toBe(true);
    });

    it('gives the JSON report with --json', async () => {
      const out = join(dir, 'ns-notify', 'json');
      const r = await run(['baseline', 'check', '--json', '--file', file, '--notify', ...recorder(out)], deps);
      expect(r.status).toBe(1);
      expect(readFileSync(out, 'utf8')).toBe(r.stdout);
      expect((JSON.parse(r.stdout) as { changes: JsonChange[] }).changes.map((c) => `${c.kind} ${c.port}`)).toEqual(['appeared 7313', 'disappeared 7312']);
    });

    it('reports a missing notify command, exits 2 and does not update the baseline', async () => {
      const r = await run(['baseline', 'check', '--file', file, '--update', '--notify', '/nonexistent/wpt-notify', '-s', 'x'], deps);
      expect(r.status).toBe(2);
      expect(r.stdout).toMatch(/2 changes/);
      expect(r.stderr).toBe(
        "whyport: the notify command '/nonexistent/wpt-notify' was not found (/nonexistent/wpt-notify -s x)\n" +
          '  hint: the changes above were not delivered; try it by hand: echo test | /nonexistent/wpt-notify -s x\n' +
          'whyport: baseline not updated, so the next check reports these changes again\n',
      );
      expect(readFileSync(file).equals(before)).toBe(true);
    });

    it('reports a notify command that fails, with what it said', async () => {
      const r = await run(['baseline', 'check', '--file', file, '--notify', 'node', '-e', 'console.error("smtp down"); process.exit(3)'], deps);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^whyport: the notify command exited with 3 \(node -e .*\): smtp down\n/);
    });

    it('ignores ports and programs on request', async () => {
      expect((await run(['baseline', 'check', '--file', file, '--ignore-port', '7312', '7313'], deps)).status).toBe(0);
      expect((await run(['baseline', 'check', '--file', file, '--ignore-port', '7312', '--ignore-program', 'node'], deps)).status).toBe(1);
      const r = await run(['baseline', 'check', '--file', file, '--ignore-program', 'node', 'python3'], deps);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^ignored: programs node, python3$/m);
    });

    it('accepts the current state with --update, after reporting', async () => {
      const copy = join(dir, 'ns-notify', 'copy.json');
      writeFileSync(copy, before);
      const r = await run(['baseline', 'check', '--file', copy, '--update'], deps);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`whyport: baseline updated: ${copy} (2 listeners)\n`);
      const again = await run(['baseline', 'check', '--file', copy], deps);
      expect(again.status).toBe(0);
      // Only ignored changes: accepted quietly.
      writeFileSync(copy, before);
      const quiet = await run(['baseline', 'check', '--file', copy, '--update', '--ignore-port', '7312,7313'], deps);
      expect(quiet).toMatchObject({ status: 0, stderr: '' });
      expect((await run(['baseline', 'check', '--file', copy], deps)).status).toBe(0);
    });
  });
});

describe('bad input: a clear error, exit 2, the baseline untouched', () => {
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('a missing baseline says how to create one', async () => {
    const file = join(dir, 'missing.json');
    const err = await usageError(['baseline', 'check', '--file', file]);
    expect(err.message).toBe(`no baseline at ${file}`);
    expect(err.hint).toBe(`create one with: whyport baseline save --file ${file}`);
  });

  it('the default file follows the user: root, else XDG_STATE_HOME', async () => {
    const state = join(dir, 'xdg');
    const err = await usageError(['baseline', 'check'], { uid: 1000, env: { XDG_STATE_HOME: state } });
    expect(err.message).toBe(`no baseline at ${join(state, 'whyport', 'baseline.json')}`);
    expect(err.hint).toBe('create one with: whyport baseline save');
  });

  it('a corrupt baseline, even with --update', async () => {
    const text = '{"whyport": "baseline", "version": 1, "host": "x", "savedAt": "2025-03-01T10:00:00Z", "listeners": [{"protocol": "tcp", "addr';
    const file = write('corrupt.json', text);
    const err = await usageError(['baseline', 'check', '--file', file, '--update']);
    expect(err.message).toMatch(/is not a whyport baseline: it is not valid JSON/);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('a baseline from a newer whyport', async () => {
    const text = JSON.stringify({ whyport: 'baseline', version: 7, host: 'x', savedAt: '2030-01-01T00:00:00Z', sockets: {} });
    const file = write('newer.json', text);
    const err = await usageError(['baseline', 'check', '--file', file, '--update']);
    expect(err.message).toBe(`${file} was written by a newer whyport (baseline format version 7; this whyport reads version 1)`);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('ss missing: no baseline is written or changed', async () => {
    const noPath = { run: (argv: readonly string[], o?: Parameters<typeof execaRunner.run>[1]) => execaRunner.run(argv, { ...o, env: { PATH: '/nonexistent' } }) };
    const file = join(dir, 'no-ss.json');
    const err = await usageError(['baseline', 'save', '--file', file], { host: { ...localHost, run: noPath.run } });
    expect(err.message).toBe('cannot list the listening sockets: ss is not installed');
    expect(existsSync(file)).toBe(false);
  });

  it('usage mistakes', async () => {
    expect((await usageError(['baseline', 'check', '--ignore-port', 'ssh'])).message).toBe("--ignore-port: 'ssh' is not a port or a range of ports");
    expect((await usageError(['baseline', 'check', '--notify'])).message).toBe('--notify needs a command');
    expect((await usageError(['baseline', 'save', '--notify', 'mail'])).message).toBe('--notify belongs to baseline check');
    expect((await usageError(['baseline', 'frob'])).message).toBe("unknown command 'frob'");
    expect((await usageError(['baseline', 'check', '--jsn'])).message).toMatch(/^unknown option '--jsn'/);
  });

  it('help: exit 0, and the notify rules are spelled out', async () => {
    const r = await run(['baseline', 'check', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--notify <command\.\.\.>/);
    expect(r.stdout).toMatch(/the exit status is 2/);
    expect(r.stdout).toMatch(/Exit status: 0 nothing changed, 1 something changed, 2 error/);
    const bare = await run(['baseline']);
    expect(bare.status).toBe(2);
    expect(bare.stderr).toMatch(/save \[options\]/);
  });
});
