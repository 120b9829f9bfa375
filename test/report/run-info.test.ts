import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { diagnoseQuietHost } from '../helpers/quiet-host.js';

// Which whyport made a report, on which machine and when, and how long the whole run took: the
// fields a ticket needs (docs/json-contract.md), from a real diagnosis of a replayed host with the
// clock and the host name pinned.

async function run(format: '--json' | '--markdown'): Promise<string> {
  // The run started 2.5 s before the clock's first reading inside diagnose (node's start, a prompt).
  const startedAt = Date.UTC(2026, 2, 14, 9, 26, 53, 250);
  let now = startedAt + 2_500;
  return diagnoseQuietHost([format], { version: '0.1.0', hostname: 'ops-laptop', clock: { startedAt, now: () => (now += 7) } });
}

describe('the run a report comes from', () => {
  it('JSON: whyport.version, whyport.host and whyport.startedAt (ISO 8601, UTC), and durationMs from the run’s start', async () => {
    const report = JSON.parse(await run('--json')) as Report;
    expect(report.version).toBe(1);
    expect(report.whyport).toEqual({ version: '0.1.0', host: 'ops-laptop', startedAt: '2026-03-14T09:26:53Z' });
    // The whole run: from the process's start, not from when the walk began.
    expect(report.durationMs).toBeGreaterThanOrEqual(2_500);
    expect(report.durationMs).toBeLessThan(3_000);
  });

  it('Markdown: the same facts under the target line, and "took" the whole run', async () => {
    const md = await run('--markdown');
    expect(md).toMatch(/\*\*Target:\*\* .* · took 2\.5 s\n\n\*\*Run:\*\* whyport 0\.1\.0 on `ops-laptop` · started 2026-03-14T09:26:53Z\n$/);
  });
});
