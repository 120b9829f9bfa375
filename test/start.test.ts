import { execa } from 'execa';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * dist/cli.js runs whyport's bundle through V8's code cache (src/bin/bin.ts): the first run of a
 * kind of command writes the cache under XDG_CACHE_HOME, later runs use it, and a cache that is
 * damaged, from another build or not writable changes nothing but speed.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let tmp: string;
const cacheIn = (home: string) => join(home, 'whyport', VERSION);
const caches = (home: string) => (existsSync(cacheIn(home)) ? readdirSync(cacheIn(home)).filter((f) => f.endsWith('.v8cache')).sort() : []);

async function whyport(args: string[], cacheHome: string) {
  const r = await execa(process.execPath, [CLI, ...args], { reject: false, timeout: 20_000, stdin: 'ignore', env: { XDG_CACHE_HOME: cacheHome, PATH: process.env.PATH } });
  return { status: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!existsSync(CLI))('dist/cli.js and its code cache (skipped: dist/cli.js is not built)', () => {
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'wpt-start-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes one cache per kind of command on the first run and reads it after, with the same output', async () => {
    const home = join(tmp, 'a');
    const first = await whyport(['explain', '5432'], home);
    expect(first.status, first.stderr).toBe(0);
    expect(caches(home)).toEqual([expect.stringMatching(new RegExp(`^${process.version}-${process.arch}-\\d+-\\d+-explain\\.v8cache$`))]);
    const made = statSync(join(cacheIn(home), caches(home)[0]!)).mtimeMs;
    expect(await whyport(['explain', '5432'], home)).toEqual(first);
    // Used, not rewritten.
    expect(statSync(join(cacheIn(home), caches(home)[0]!)).mtimeMs).toBe(made);
    await whyport(['checks'], home);
    expect(caches(home).map((f) => f.replace(/^.*-/, ''))).toEqual(['checks.v8cache', 'explain.v8cache']);
  });

  it('dist/cli.cjs, what npm installs as whyport, is the same entry as CommonJS', async () => {
    const home = join(tmp, 'f');
    const viaCjs = await execa(process.execPath, [join(ROOT, 'dist', 'cli.cjs'), 'explain', '22'], { reject: false, timeout: 20_000, stdin: 'ignore', env: { XDG_CACHE_HOME: home, PATH: process.env.PATH } });
    expect({ status: viaCjs.exitCode, stdout: viaCjs.stdout, stderr: viaCjs.stderr }).toEqual(await whyport(['explain', '22'], join(tmp, 'g')));
    expect((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.whyport).toBe('dist/cli.cjs');
  });

  it('--help and --version load no bundle and write no cache', async () => {
    const home = join(tmp, 'b');
    const help = await whyport(['--help'], home);
    expect(help.stdout).toBe(readFileSync(join(ROOT, 'dist', 'help.txt'), 'utf8').trimEnd());
    expect((await whyport(['--version'], home)).stdout).toBe(VERSION);
    expect(caches(home)).toEqual([]);
  });

  it('a damaged cache is rejected by V8 and rewritten; the output stays the same', async () => {
    const home = join(tmp, 'c');
    const good = await whyport(['explain', 'CLOSE-WAIT'], home);
    const file = join(cacheIn(home), caches(home)[0]!);
    writeFileSync(file, Buffer.alloc(4096, 7));
    expect(await whyport(['explain', 'CLOSE-WAIT'], home)).toEqual(good);
    expect(readFileSync(file).subarray(0, 16)).not.toEqual(Buffer.alloc(16, 7));
  });

  it('a cache of another build is dropped when the new one is written', async () => {
    const home = join(tmp, 'd');
    await whyport(['explain', '22'], home);
    const stale = join(cacheIn(home), `${process.version}-${process.arch}-1-1-explain.v8cache`);
    writeFileSync(stale, 'old');
    writeFileSync(join(cacheIn(home), caches(home).find((f) => f !== `${process.version}-${process.arch}-1-1-explain.v8cache`)!), 'damaged');
    await whyport(['explain', '22'], home);
    expect(existsSync(stale)).toBe(false);
  });

  it('uses only a cache that no one else could have written: not a file others may write, nor one in a directory others may write', async () => {
    const home = join(tmp, 'h');
    await whyport(['explain', '80'], home);
    const file = join(cacheIn(home), caches(home)[0]!);
    // Writable by others: not read (it could be anyone's bytes), so replaced by this user's own.
    writeFileSync(file, 'planted');
    chmodSync(file, 0o666);
    const r = await whyport(['explain', '80'], home);
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toBe('planted');
    // A cache directory others may write to is not used at all.
    const shared = join(tmp, 'i');
    await whyport(['explain', '80'], shared);
    for (const f of caches(shared)) rmSync(join(cacheIn(shared), f));
    chmodSync(cacheIn(shared), 0o777);
    expect((await whyport(['explain', '80'], shared)).status).toBe(0);
    expect(caches(shared)).toEqual([]);
  });

  it('a cache directory it cannot write costs nothing but speed', async () => {
    const home = join(tmp, 'e');
    writeFileSync(home, 'a file where the cache directory would be');
    const r = await whyport(['explain', '22'], home);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });
});
