import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDiagnoseArgs } from '../../src/cli/diagnose-args.js';
import { diagnose } from '../../src/commands/diagnose.js';
import { serviceTable } from '../../src/cli/port-argument.js';
import type { Report } from '../../src/report/model.js';
import { silentUI } from '../../src/ui/terminal.js';
import { replayHost } from '../helpers/replay-host.js';

// A playbook's command that says it changes things asks --fix's question, as a fix does: it runs
// only with --fix, after a yes at the prompt (or with --yes), and the report says when it did not.

const dir = mkdtempSync(join(tmpdir(), 'wpt-consent-'));
const playbook = join(dir, 'restart.yaml');
writeFileSync(
  playbook,
  [
    'version: 2',
    'name: restart',
    'steps:',
    '  restart:',
    '    check: command',
    '    with: { argv: [systemctl, restart, myapp], changes: true }',
    '    on: { ok: RESTARTED, not-run: LEFT_ALONE, else: FAILED }',
    'diagnoses:',
    '  RESTARTED: { title: restarted, explanation: restarted. }',
    '  LEFT_ALONE: { title: "{{ steps.restart.summary }}", explanation: not restarted. }',
    '  FAILED: { title: failed, explanation: failed. }',
    '',
  ].join('\n'),
  { mode: 0o644 },
);

async function run(flags: string[], answer?: boolean) {
  const host = replayHost({ commands: { 'systemctl restart myapp': { exitCode: 0 } } });
  const asked: string[] = [];
  const env = { stdinIsTTY: true, stdoutIsTTY: false, stderrIsTTY: true, env: {}, version: '0.0.0' };
  const opts = await parseDiagnoseArgs(['127.0.0.1', '7071', '--playbook', playbook, '--json', ...flags], env, () => {}, serviceTable('', '/etc/services'));
  if (opts === 'exit') throw new Error('no options');
  let out = '';
  const ui = { ...silentUI, ...(answer === undefined ? {} : { confirm: async (m: string) => (asked.push(m), answer) }) };
  await diagnose({ ...opts, interactive: false }, { stdout: (t) => void (out += t), stderr: () => {}, host, ui });
  const report = JSON.parse(out) as Report;
  return { report, asked, ran: host.calls.includes('systemctl restart myapp') };
}

describe('a command marked changes: true', () => {
  it('without --fix: not run, and nothing asked', async () => {
    const r = await run([], true);
    expect(r.report.diagnosis).toMatchObject({ code: 'LEFT_ALONE', title: 'not run: systemctl restart myapp changes things, and whyport changes nothing without --fix' });
    expect([r.ran, r.asked]).toEqual([false, []]);
  });

  it('with --fix: asked first; a no leaves it alone, a yes runs it', async () => {
    const no = await run(['--fix'], false);
    expect(no.asked).toEqual(["The playbook's next step changes things: run `systemctl restart myapp` now?"]);
    expect(no.ran).toBe(false);
    expect(no.report.diagnosis.title).toBe('not run: systemctl restart myapp changes things, and you declined to run it');
    const yes = await run(['--fix'], true);
    expect([yes.report.diagnosis.code, yes.ran]).toEqual(['RESTARTED', true]);
  });

  it('with --fix --yes: run without a question', async () => {
    const r = await run(['--fix', '--yes'], false);
    expect([r.report.diagnosis.code, r.ran, r.asked]).toEqual(['RESTARTED', true, []]);
  });
});
