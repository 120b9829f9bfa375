import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, chmod, copyFile, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHost } from '../../src/host/local.js';
import { programLogTail, readLogTail } from '../../src/system/program-log.js';
import { programLogReason } from '../../src/analysis/program-log.js';
import type { Host } from '../../src/host/host.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, '../fixtures');
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wpt-jl-test-'));
  await chmod(tmp, 0o755);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

// A host root under tmp holding the given fixture files at the given absolute paths.
async function hostWith(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmp, 'root-'));
  for (const [path, fixture] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await copyFile(join(FIXTURES, fixture), join(root, path));
  }
  return root;
}

describe('readLogTail', () => {
  it('reads a small log whole, without the empty line after the last newline', async () => {
    const path = join(FIXTURES, 'program-logs', 'nginx-error.log');
    const text = await readFile(path, 'utf8');
    expect(await readLogTail(localHost, path)).toEqual({ path, lines: text.trimEnd().split('\n') });
  });

  it('reads only the last maxBytes and drops the line cut in the middle', async () => {
    const path = join(FIXTURES, 'program-logs', 'postgresql-15-main.log');
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    const lastTwo = `${lines.at(-2)}\n${lines.at(-1)}\n`;
    // One byte short of the last two lines: the first of them is cut, so only the last is whole.
    expect(await readLogTail(localHost, path, { maxBytes: Buffer.byteLength(lastTwo) - 1 })).toEqual({ path, lines: lines.slice(-1) });
    // Exactly the last two lines: the byte before them is a newline, so both are whole.
    expect(await readLogTail(localHost, path, { maxBytes: Buffer.byteLength(lastTwo) })).toEqual({ path, lines: lines.slice(-2) });
    expect(await readLogTail(localHost, path, { maxBytes: 0 })).toEqual({ path, lines: [] });
  });

  it('reads the end of a 16 GiB file at once: it never reads the whole file', async () => {
    const path = join(tmp, 'huge.log');
    await writeFile(path, '');
    // Sparse: 16 GiB of NULs (what a crash leaves in a log) take no disk, and no Buffer can hold them.
    await truncate(path, 16 * 1024 ** 3);
    await appendFile(path, 'cut in the middle\n2026-12-01 20:34:30.254 GMT [22824] FATAL:  invalid value for parameter "shared_buffers": "lots"\n');
    const started = Date.now();
    const tail = await readLogTail(localHost, path);
    expect(tail).toEqual({ path, lines: ['2026-12-01 20:34:30.254 GMT [22824] FATAL:  invalid value for parameter "shared_buffers": "lots"'] });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('says what is wrong instead of throwing: missing, a directory, a FIFO', async () => {
    const missing = join(tmp, 'nope', 'error.log');
    expect(await readLogTail(localHost, missing)).toEqual({ path: missing, error: `cannot read ${missing}: no such file`, code: 'ENOENT' });
    expect(await readLogTail(localHost, tmp)).toMatchObject({ path: tmp, error: `cannot read ${tmp}: not a regular file` });
    const fifo = join(tmp, 'fifo.log');
    execFileSync('mkfifo', [fifo]);
    // Opening a FIFO for reading blocks until a writer comes; this must come back at once.
    expect(await readLogTail(localHost, fifo)).toMatchObject({ path: fifo, error: `cannot read ${fifo}: not a regular file` });
  });

  const skip = process.getuid?.() !== 0 ? 'only root can run a command as nobody' : !SETPRIV ? 'setpriv (util-linux) is missing' : undefined;
  it.skipIf(skip !== undefined)(`says permission denied to a user who may not read the file${skip ? ` (skipped: ${skip})` : ''}`, async () => {
    // The module, bundled where nobody can read it, run as nobody on a root-only file.
    const dir = await mkdtemp(join(tmp, 'as-nobody-'));
    await chmod(dir, 0o755);
    const program = join(dir, 'read.mjs');
    await build({
      stdin: {
        contents: `import { readLogTail } from ${JSON.stringify(resolve(HERE, '../../src/system/program-log.ts'))};\nimport { localHost } from ${JSON.stringify(resolve(HERE, '../../src/host/local.ts'))};\nconsole.log(JSON.stringify(await readLogTail(localHost, process.argv[2])));`,
        resolveDir: dir,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: program,
      logLevel: 'silent',
    });
    await chmod(program, 0o644);
    const secret = join(dir, 'postgresql-15-main.log');
    await writeFile(secret, 'FATAL:  something\n', { mode: 0o640 });
    const run = spawnSync(SETPRIV!, ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, program, secret], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      path: secret,
      error: `cannot read ${secret}: permission denied; run whyport as root, or as a member of the file's group (adm on Debian)`,
      code: 'EACCES',
    });
  });
});

/** The log's reason as the unit step sees it: the tail read (programLogTail), its informative lines picked (programLogReason). */
async function reasonFromProgramLog(host: Host, unit: string, program: string | undefined, opts: { root: string; max?: number }) {
  return programLogReason(await programLogTail(host, unit, program, opts), opts.max === undefined ? {} : { max: opts.max });
}

describe('reasonFromProgramLog', () => {
  it('finds Debian\'s postgres cluster log from the unit name', async () => {
    const root = await hostWith({ '/var/log/postgresql/postgresql-15-main.log': 'journal/postgresql-15-main-bad-setting.postgresql-15-main.log' });
    const found = await reasonFromProgramLog(localHost, 'postgresql@15-main.service', 'pg_ctlcluster', { root });
    expect(found?.path).toBe('/var/log/postgresql/postgresql-15-main.log');
    expect(found?.lines[0]).toMatch(/LOG: {2}invalid value for parameter "shared_buffers": "lots"$/);
    expect(found?.lines).toContain('Examine the log output.');
  });

  it('finds what redis wrote to its own file when the journal has only systemd\'s lines', async () => {
    const root = await hostWith({ '/var/log/redis/redis-server-cache.log': 'journal/redis-server-cache-port-in-use.redis-server-cache.log' });
    const found = await reasonFromProgramLog(localHost, 'redis-server@cache.service', undefined, { root });
    expect(found?.path).toBe('/var/log/redis/redis-server-cache.log');
    expect(found?.lines).toContainEqual(expect.stringMatching(/# Warning: Could not create server TCP listening socket 127\.0\.0\.1:6379: bind: Address already in use \(×5\)$/));
    expect(found?.lines.at(-1)).toMatch(/# Failed listening on port 6379 \(TCP\), aborting\. \(×5\)$/);
  });

  it('tries the candidates in order: a directory in the way of the first, the second is read', async () => {
    const root = await hostWith({ '/var/log/redis/redis-server.log': 'program-logs/redis-server.log' });
    await mkdir(join(root, 'var/log/redis/redis-server-cache.log'));
    const found = await reasonFromProgramLog(localHost, 'redis-server@cache', undefined, { root });
    expect(found?.path).toBe('/var/log/redis/redis-server.log');
    expect(found?.lines.at(-1)).toMatch(/Failed listening on port 16379 \(TCP\), aborting\. \(×3\)$/);
  });

  it('says which file could not be read when none could', async () => {
    const root = await mkdtemp(join(tmp, 'root-'));
    await mkdir(join(root, 'var/log/nginx/error.log'), { recursive: true });
    expect(await reasonFromProgramLog(localHost, 'nginx', undefined, { root })).toEqual({
      path: '/var/log/nginx/error.log',
      lines: [],
      error: 'cannot read /var/log/nginx/error.log: not a regular file',
    });
  });

  it('has no lines when the log says nothing went wrong (Debian\'s apache: the bind error went to the journal)', async () => {
    const root = await hostWith({ '/var/log/apache2/error.log': 'journal/apache2-port-in-use.error.log' });
    expect(await reasonFromProgramLog(localHost, 'apache2.service', 'apachectl', { root })).toEqual({ path: '/var/log/apache2/error.log', lines: [] });
  });

  it('gives nothing for unknown programs or missing files, and honours max', async () => {
    const root = await hostWith({ '/var/log/nginx/error.log': 'program-logs/nginx-error.log' });
    expect(await reasonFromProgramLog(localHost, 'myapp.service', 'myapp', { root })).toBeUndefined();
    expect(await reasonFromProgramLog(localHost, 'postgresql@15-main', undefined, { root })).toBeUndefined();
    const found = await reasonFromProgramLog(localHost, 'web.service', 'nginx', { root, max: 2 });
    expect(found?.lines).toHaveLength(2);
    expect(found?.lines.at(-1)).toMatch(/\[emerg\] \d+#\d+: still could not bind\(\)$/);
  });
});
