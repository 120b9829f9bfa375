import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/servers.js';

/**
 * What a plain diagnosis makes node load: Node's TLS and crypto modules cost ~10 ms of every start
 * (measured interleaved against the build of 2026-12-02), so they load only when a walk reaches a
 * TLS port. The real CLI, a closed port on loopback, node's own list of the modules it loaded.
 */

const CLI = resolve(import.meta.dirname, '../../dist/cli.cjs');
const dir = mkdtempSync(join(tmpdir(), 'wpt-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function modulesOf(args: string[]): string[] {
  const hook = join(dir, 'hook.cjs');
  const out = join(dir, `modules-${args.join('-')}.txt`);
  writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join('\\n')));\n`);
  try {
    execFileSync(process.execPath, ['-r', hook, CLI, ...args], { stdio: 'ignore', timeout: 20_000, env: { ...process.env, NO_COLOR: '1' } });
  } catch {
    // a diagnosis that finds a problem exits 1: the list is written either way
  }
  return readFileSync(out, 'utf8').split('\n');
}

describe.skipIf(!existsSync(CLI))('the modules a diagnosis loads', () => {
  it('a closed port loads neither node:tls nor node:crypto (they wait for a TLS port)', async () => {
    const port = await freePort();
    const loaded = modulesOf(['127.0.0.1', String(port), '--yes', '--json']);
    expect(loaded).toContain('NativeModule net');
    expect(loaded).toContain('NativeModule child_process');
    expect(loaded.filter((m) => /^NativeModule (tls|crypto|_tls_wrap)$/.test(m))).toEqual([]);
  });
});
