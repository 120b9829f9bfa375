import { execa } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startListener, stopAllListeners } from '../helpers/servers.js';

/**
 * The published package as a user gets it: `npm pack`, then `npm install -g` of the tarball into a
 * private prefix, offline and with an empty npm cache, so any dependency it still declared would
 * fail to install. dist/ is one bundle: the tarball must install whyport alone, and that whyport
 * must run.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };
const built = existsSync(join(ROOT, 'dist', 'cli.js'));

/** What a user of the package needs, and nothing else (no sources, tests, maps or build tools). */
const SHIPPED = [/^package\.json$/, /^README\.md$/, /^dist\/cli\.c?js$/, /^dist\/whyport\.cjs$/, /^dist\/playbooks\/[\w-]+\.json$/, /^dist\/help\.txt$/, /^dist\/whyport\.1$/, /^playbooks\/[\w-]+\.yaml$/, /^playbooks\/playbook\.schema\.json$/, /^docs\/json-contract\.md$/];

let tmp: string;
let prefix: string;
let tarball: string;

/** npm with a cache of its own under the test's folder: an empty cache, so --offline really means nothing comes from outside. */
function npm(args: string[]) {
  return execa('npm', args, { cwd: ROOT, reject: false, timeout: 60_000, env: { npm_config_cache: join(tmp, 'cache'), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
}

describe.skipIf(!built)('the npm package (skipped: dist/cli.js is not built; npm run build)', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'wpt-pack-'));
    prefix = join(tmp, 'prefix');
    const packed = await npm(['pack', '--json', '--pack-destination', tmp]);
    expect(packed.exitCode, packed.stderr).toBe(0);
    tarball = join(tmp, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  });

  afterAll(async () => {
    await stopAllListeners();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('declares no runtime dependencies: the bundle in dist/ holds them', () => {
    expect(PKG.dependencies ?? {}).toEqual({});
  });

  it('holds what a user needs and nothing else', async () => {
    const r = await npm(['pack', '--dry-run', '--json']);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files.filter((f) => !SHIPPED.some((p) => p.test(f)))).toEqual([]);
    for (const needed of ['dist/cli.js', 'dist/cli.cjs', 'dist/whyport.cjs', 'dist/help.txt', 'dist/whyport.1', 'dist/playbooks/default.json', 'playbooks/default.yaml', 'playbooks/playbook.schema.json', 'docs/json-contract.md']) expect(files).toContain(needed);
  });

  it('installs with npm install -g, offline, as whyport alone', async () => {
    const r = await npm(['install', '-g', '--offline', '--prefix', prefix, tarball]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr, 'npm printed warnings').not.toMatch(/npm warn/i);
    expect(readdirSync(join(prefix, 'lib', 'node_modules'))).toEqual(['whyport']);
    expect(existsSync(join(prefix, 'lib', 'node_modules', 'whyport', 'node_modules'))).toBe(false);
    expect(existsSync(join(prefix, 'share', 'man', 'man1', 'whyport.1'))).toBe(true);
  });

  it('the installed whyport answers --version and diagnoses a closed port and a listening one', async () => {
    const bin = join(prefix, 'bin', 'whyport');
    const run = (args: string[]) => execa(bin, args, { reject: false, timeout: 20_000, stdin: 'ignore', cwd: tmp, env: { PATH: `${join(prefix, 'bin')}:${process.env.PATH}` } });
    const v = await run(['--version']);
    expect(v.stdout.trim()).toBe(PKG.version);

    const closed = await run(['127.0.0.1', String(await freePort()), '--json', '--yes']);
    expect(closed.exitCode, closed.stderr).toBe(1);
    expect(JSON.parse(closed.stdout).diagnosis.code).toBe('NOT_LISTENING');

    const l = await startListener({ host: '127.0.0.1' });
    const open = await run(['127.0.0.1', String(l.port), '--json', '--yes']);
    expect(open.exitCode, open.stderr).toBe(0);
    expect(JSON.parse(open.stdout).diagnosis.code).toBe('REACHABLE');
  });

  it('the installed whyport prints the schema it ships, names its file under $(npm root -g), and writes a playbook that runs', async () => {
    const bin = join(prefix, 'bin', 'whyport');
    const run = (args: string[]) => execa(bin, args, { reject: false, timeout: 20_000, stdin: 'ignore', cwd: tmp, env: { PATH: `${join(prefix, 'bin')}:${process.env.PATH}` } });
    const installed = join(prefix, 'lib', 'node_modules', 'whyport', 'playbooks', 'playbook.schema.json');
    const schema = await run(['playbook', 'schema']);
    expect(schema.stdout + '\n').toBe(readFileSync(installed, 'utf8'));
    expect((await run(['playbook', 'schema', '--path'])).stdout).toBe(installed);
    const root = await npm(['root', '-g', '--prefix', prefix]);
    expect(join(root.stdout.trim(), 'whyport', 'playbooks', 'playbook.schema.json')).toBe(installed);

    const made = await run(['playbook', 'new', 'packed']);
    expect(made.exitCode, made.stderr).toBe(0);
    expect((await run(['playbook', 'validate', 'packed.yaml'])).stdout).toBe('packed.yaml: ok — 6 steps, 8 diagnoses, 2 inputs');
    const walked = await run(['127.0.0.1', String(await freePort()), '--playbook', 'packed.yaml', '--json', '--yes']);
    expect(walked.exitCode, walked.stderr).toBe(1);
    expect(JSON.parse(walked.stdout).diagnosis.code).toBe('NOT_LISTENING');
  });
});
