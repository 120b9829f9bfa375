import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDiagnoseArgs } from '../../src/args.js';
import { diagnose } from '../../src/diagnose.js';
import { serviceTable } from '../../src/port.js';
import type { Report } from '../../src/report/model.js';
import { replayHost, type CapturedHost } from '../helpers/replay-host.js';

// Which whyport made a report, on which machine and when, and how long the whole run took: the
// fields a ticket needs (docs/json-contract.md), from a real diagnosis of a replayed host with the
// clock and the host name pinned.

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

const quietHost: CapturedHost = {
  files: {
    '/proc/net/tcp': '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n',
    '/etc/services': fixture('services/debian12.txt'),
  },
  commands: { 'ss -Htane state all ( sport = :7071 or dport = :7071 )': { stdout: fixture('ss/empty.txt') } },
  interfaces: [
    { name: 'lo', address: '127.0.0.1', family: 4, internal: true },
    { name: 'eth0', address: '10.213.9.2', family: 4, internal: false },
  ],
  identity: { hostname: 'app1', uid: 0, root: true },
};

async function run(format: '--json' | '--markdown'): Promise<string> {
  const env = { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {}, version: '0.1.0' };
  const opts = await parseDiagnoseArgs(['10.213.9.2', '7071', format], env, () => {}, serviceTable(quietHost.files!['/etc/services']!, '/etc/services'));
  if (opts === 'exit') throw new Error('no diagnosis');
  let out = '';
  // The run started 2.5 s before the clock's first reading inside diagnose (node's start, a prompt).
  const startedAt = Date.UTC(2026, 2, 14, 9, 26, 53, 250);
  let now = startedAt + 2_500;
  await diagnose(opts, {
    stdout: (t) => void (out += t),
    stderr: () => {},
    host: replayHost(quietHost),
    version: '0.1.0',
    hostname: 'ops-laptop',
    clock: { startedAt, now: () => (now += 7) },
  });
  return out;
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
