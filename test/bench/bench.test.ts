import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The bench (bench/, outside src/) as the build leaves it: `npm run bench` runs dist/bench/bench.js,
// one bundle with every case in it. Running a case needs root and minutes (npm run bench); what is
// checked here is that the entry is built where the script runs it and picks its cases by name.

const ROOT = resolve(import.meta.dirname, '../..');
const BENCH = join(ROOT, 'dist', 'bench', 'bench.js');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('the bench', () => {
  it('is built where npm run bench runs it, and refuses a case it does not have before it sets anything up', () => {
    expect(existsSync(BENCH), `${BENCH} is missing: run npm run build first`).toBe(true);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.bench).toBe('npm run build && node dist/bench/bench.js');
    const r = spawnSync(process.execPath, [BENCH, 'nosuch'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('bench: setup failed: unknown case "nosuch": the cases are busy, ssh, namespaces (none named runs all)\n');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('lives outside src/, one file per case, none over 450 lines', () => {
    expect(existsSync(join(ROOT, 'src', 'bench'))).toBe(false);
    const files = sources(join(ROOT, 'bench')).map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length }));
    expect(files.map((f) => f.file)).toEqual(expect.arrayContaining(['bench/bench.ts', 'bench/busy.ts', 'bench/closed-port.ts', 'bench/listener.ts', 'bench/startup.ts', 'bench/udp.ts', 'bench/ssh.ts', 'bench/namespaces.ts']));
    expect(files.filter((f) => f.lines > 450)).toEqual([]);
  });
});
