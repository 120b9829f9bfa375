import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { privateMounts } from './mounts.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * A test file whose tests mount over /etc or /run (a private pg_hba.conf, hosts.deny) runs them
 * only in a mount namespace of their own, never in the machine's. Run by `npm test` as root, that
 * is not the case: this runs the same file again (unless `otherSkip` says why its tests cannot run at all) under `unshare -m --propagation private` (the
 * mounts end with it) and asserts that every test passed there — so CI runs them too.
 */
export function alsoInPrivateMounts(fileUrl: string, why: string, otherSkip: string | undefined): void {
  if (privateMounts()) return;
  const root = process.getuid?.() === 0;
  describe.skipIf(!root || otherSkip !== undefined)(`the tests of this file, in a mount namespace of their own (${why})`, () => {
    it('all pass there', async () => {
      const file = relative(ROOT, fileURLToPath(fileUrl));
      const dir = mkdtempSync(join(tmpdir(), 'wpt-private-mounts-'));
      try {
        const out = join(dir, 'report.json');
        const r = await execa('unshare', ['-m', '--propagation', 'private', '--', process.execPath, join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', file, '--reporter=json', `--outputFile=${out}`], {
          cwd: ROOT,
          reject: false,
          timeout: 600_000,
          stdin: 'ignore',
        });
        const report = JSON.parse(readFileSync(out, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[] };
        const results = report.testResults.flatMap((f) => f.assertionResults);
        const failed = results.filter((t) => t.status === 'failed');
        console.log(`${file} in a private mount namespace: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} skipped`);
        expect(failed.map((t) => `${t.fullName}\n${t.failureMessages.join('\n')}`), r.stderr.slice(-2000)).toEqual([]);
        expect(report.numPassedTests).toBeGreaterThan(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 600_000);
  });
}
