import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execaRunner } from '../../src/host/runner.js';

const dir = mkdtempSync(join(tmpdir(), 'whyport-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs with PATH set for this call only (the runner reads it where it spawns). */
async function withPath<T>(path: string, f: () => Promise<T>): Promise<T> {
  const old = process.env.PATH;
  process.env.PATH = path;
  try {
    return await f();
  } finally {
    process.env.PATH = old;
  }
}

describe('execaRunner: a program that is not there is missing', () => {
  it('ENOENT: missing', async () => {
    const r = await execaRunner.run(['wpt-no-such-program', '--check']);
    expect(r).toMatchObject({ missing: true, exitCode: null });
  });

  it('EACCES from a PATH folder this user cannot search (root’s PATH under sudo -u nobody): still missing', async () => {
    // A folder without x for anyone: as root it is searchable anyway, so the spawn's EACCES is made
    // with a file that exists and is not executable — the one case that is not "missing".
    const shut = join(dir, 'shut');
    mkdirSync(shut, { mode: 0o000 });
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    writeFileSync(join(plain, 'wpt-not-executable'), 'data\n');
    chmodSync(join(plain, 'wpt-not-executable'), 0o644);
    const absent = await withPath(`${shut}:/usr/bin:/bin`, () => execaRunner.run(['wpt-no-such-program']));
    expect(absent.missing).toBe(true);
    // There but not executable: EACCES, and not missing (the program is installed, only not runnable).
    const there = await withPath(`${plain}:/usr/bin:/bin`, () => execaRunner.run(['wpt-not-executable']));
    expect(there.exitCode).toBeNull();
    expect(there.missing).toBe(false);
  });
});
