// The baseline file: where it lives, what counts as a good one, and that saving is atomic — a
// save killed between write and rename (a real process, SIGKILLed) leaves the old file intact.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { Baseline } from '../../src/baseline/model.js';
import { defaultBaselineFile, loadBaseline, parseBaseline, saveBaseline } from '../../src/baseline/store.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');

const baseline = (host: string, ports: number[] = [22]): Baseline => ({
  whyport: 'baseline',
  version: 1,
  host,
  savedAt: '2025-03-01T10:00:00.000Z',
  listeners: ports.map((port) => ({ protocol: 'tcp', address: '0.0.0.0', port, family: 'inet', program: 'sshd' })),
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wpt-baseline-store-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

async function rejection(p: Promise<unknown>): Promise<UsageError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  return err as UsageError;
}

describe('defaultBaselineFile', () => {
  it('is under /var/lib/whyport for root', () => {
    expect(defaultBaselineFile({ uid: 0, env: { XDG_STATE_HOME: '/x' } })).toBe('/var/lib/whyport/baseline.json');
  });
  it('is under the XDG state directory for others', () => {
    expect(defaultBaselineFile({ uid: 1000, env: { XDG_STATE_HOME: '/srv/state' } })).toBe('/srv/state/whyport/baseline.json');
    expect(defaultBaselineFile({ uid: 1000, env: {}, home: '/home/ann' })).toBe('/home/ann/.local/state/whyport/baseline.json');
    // A relative XDG_STATE_HOME is invalid by the spec and ignored.
    expect(defaultBaselineFile({ uid: 1000, env: { XDG_STATE_HOME: 'rel' }, home: '/home/ann' })).toBe('/home/ann/.local/state/whyport/baseline.json');
  });
});

describe('parseBaseline and loadBaseline', () => {
  it('reads back what was saved', async () => {
    const file = join(dir, 'good', 'baseline.json');
    await saveBaseline(file, baseline('web1', [22, 80]));
    expect(await loadBaseline(file)).toEqual(baseline('web1', [22, 80]));
  });

  it('says how to create a missing baseline', async () => {
    const err = await rejection(loadBaseline(join(dir, 'nope.json'), '/var/lib/whyport/baseline.json'));
    expect(err.message).toBe(`no baseline at ${join(dir, 'nope.json')}`);
    expect(err.hint).toBe(`create one with: whyport baseline save --file ${join(dir, 'nope.json')}`);
    const plain = await rejection(loadBaseline(join(dir, 'nope.json'), join(dir, 'nope.json')));
    expect(plain.hint).toBe('create one with: whyport baseline save');
  });

  it('refuses a truncated file, saying where and what to do', () => {
    const text = JSON.stringify(baseline('web1')).slice(0, 40);
    const err = usageError(() => parseBaseline(text, '/b.json'));
    expect(err.message).toMatch(/^\/b\.json is not a whyport baseline: it is not valid JSON \(/);
    expect(err.hint).toMatch(/move it aside and create one with: whyport baseline save --file \/b\.json/);
  });

  it('refuses a file that is not a baseline', () => {
    expect(usageError(() => parseBaseline('{"listeners": []}', '/b.json')).message).toBe('/b.json is not a whyport baseline (no "whyport": "baseline" field)');
    expect(usageError(() => parseBaseline('[1,2]', '/b.json')).message).toMatch(/not a whyport baseline/);
  });

  it('says a file from a newer whyport is from a newer whyport', () => {
    const err = usageError(() => parseBaseline(JSON.stringify({ ...baseline('web1'), version: 2, listeners: 'new shape' }), '/b.json'));
    expect(err.message).toBe('/b.json was written by a newer whyport (baseline format version 2; this whyport reads version 1)');
    expect(err.hint).toMatch(/upgrade whyport/);
  });

  it('names the field that is wrong', () => {
    const bad = baseline('web1');
    (bad.listeners[0] as { port: unknown }).port = 'ssh';
    expect(usageError(() => parseBaseline(JSON.stringify(bad), '/b.json')).message).toMatch(/^\/b\.json is a corrupt whyport baseline at listeners\.0\.port: /);
  });

  it('drops fields it does not know (a later version-1 writer may add some)', () => {
    const extra = { ...baseline('web1'), comment: 'x', listeners: [{ ...baseline('web1').listeners[0], pid: 1 }] };
    expect(parseBaseline(JSON.stringify(extra), '/b.json').listeners[0]).toEqual(baseline('web1').listeners[0]);
  });

  it('says a directory is not a baseline file', async () => {
    expect((await rejection(loadBaseline(dir))).message).toBe(`the baseline ${dir} is a directory`);
  });
});

describe('saveBaseline', () => {
  it('creates the directory, writes pretty JSON and leaves no temporary file', async () => {
    const file = join(dir, 'fresh', 'state', 'whyport', 'baseline.json');
    await saveBaseline(file, baseline('web1'));
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify(baseline('web1'), null, 2)}\n`);
    expect(readdirSync(dirname(file))).toEqual(['baseline.json']);
  });

  it('reports a place it cannot write to, and leaves nothing behind', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'x');
    const err = await rejection(saveBaseline(join(blocker, 'baseline.json'), baseline('web1')));
    expect(err.message).toMatch(/^cannot write the baseline .*a-file\/baseline\.json: /);
  });

  it('never lets a reader see half a file while saves race', async () => {
    const file = join(dir, 'race', 'baseline.json');
    await saveBaseline(file, baseline('start'));
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        expect(() => parseBaseline(readFileSync(file, 'utf8'), file)).not.toThrow();
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    // Sizes differ a lot so that a torn write would show.
    await Promise.all(Array.from({ length: 20 }, (_, i) => saveBaseline(file, baseline(`w${i}`, Array.from({ length: (i % 5) * 200 + 1 }, (_, p) => p + 1)))));
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(readdirSync(dirname(file))).toEqual(['baseline.json']);
  });
});

describe('a save killed between write and rename', () => {
  // The child is plain node: compile the store (and what it imports) with the project's tsc into
  // a temporary directory that sees the project's node_modules.
  let build: string;
  beforeAll(() => {
    build = mkdtempSync(join(tmpdir(), 'wpt-baseline-build-'));
    symlinkSync(join(ROOT, 'node_modules'), join(build, 'node_modules'));
    const tsc = spawnSync(
      join(ROOT, 'node_modules', '.bin', 'tsc'),
      ['--ignoreConfig', '--outDir', join(build, 'out'), '--rootDir', join(ROOT, 'src'), '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2023', '--skipLibCheck', '--types', 'node', join(ROOT, 'src', 'baseline', 'store.ts')],
      { encoding: 'utf8' },
    );
    if (tsc.status !== 0) throw new Error(`tsc failed: ${tsc.stdout}${tsc.stderr}`);
  });
  afterAll(() => rmSync(build, { recursive: true, force: true }));

  it('leaves the old baseline intact, and the next save removes the leftover', async () => {
    const file = join(dir, 'killed', 'baseline.json');
    await saveBaseline(file, baseline('old', [22, 80, 443]));
    const old = readFileSync(file);

    const child = spawn('node', [join(HERE, 'save-child.mjs'), pathToFileURL(join(build, 'out', 'baseline', 'store.js')).href, file, 'new'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const temp = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^paused (.+)$/m.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`save-child exited with ${code}: ${stderr}`)));
    });
    // The new content is complete on disk, next to the old file, under another name.
    expect(dirname(temp)).toBe(dirname(file));
    expect(parseBaseline(readFileSync(temp, 'utf8'), temp).host).toBe('new');

    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid!, 'SIGKILL');
    await exited;

    expect(readFileSync(file).equals(old)).toBe(true);
    expect((await loadBaseline(file)).host).toBe('old');
    expect(existsSync(temp)).toBe(true);

    await saveBaseline(file, baseline('next'));
    expect((await loadBaseline(file)).host).toBe('next');
    expect(readdirSync(dirname(file))).toEqual(['baseline.json']);
  });
});
