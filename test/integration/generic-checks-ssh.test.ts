import { execa } from 'execa';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { loopbackSuite, sshdAvailable } from '../helpers/ssh.js';

/**
 * The generic checks run where their step runs: with --ssh, a `vantage: server` step's command and
 * file are the server's (a private sshd on loopback, this machine as the server: the command sees
 * the ssh connection in its environment, which a local one does not).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const unavailable = await sshdAvailable();
if (unavailable) console.warn(`generic checks over ssh skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)('command and file on the server, over --ssh', () => {
  const loopback = loopbackSuite();
  const dir = mkdtempSync(join(tmpdir(), 'wpt-generic-ssh-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a vantage: server command runs there, through ssh; a file there is stat-ed there', async () => {
    const conf = join(dir, 'myapp.conf');
    writeFileSync(conf, 'listen = 7071\n');
    chmodSync(conf, 0o640);
    const playbook = join(dir, 'own.yaml');
    writeFileSync(
      playbook,
      [
        'version: 2',
        'name: own-over-ssh',
        'server: { start: there }',
        'steps:',
        '  here:',
        '    check: command',
        '    with: { argv: [printenv, SSH_CONNECTION] }',
        '    on: { else: there }',
        '  there:',
        '    vantage: server',
        '    check: command',
        "    with: { argv: [printenv, SSH_CONNECTION], match: '^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 \\d+$' }",
        '    on: { matched: conf, else: NOT_THERE }',
        '  conf:',
        '    vantage: server',
        '    check: file',
        `    with: { path: ${conf}, mode: "0640", contains: '^listen = 7071$' }`,
        '    on: { ok: ALL_THERE, else: CONF_WRONG }',
        'diagnoses:',
        '  NOT_THERE: { title: "{{ steps.there.summary }}", explanation: the command did not run over ssh. }',
        '  CONF_WRONG: { title: "{{ steps.conf.summary }}", explanation: the file is not as it should be. }',
        '  ALL_THERE: { title: "{{ steps.conf.summary }}", explanation: both ran on the server. }',
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    const { sshd } = loopback;
    const ssh = ['--ssh', `root@127.0.0.1:${sshd.port}`, '--ssh-option', `UserKnownHostsFile=${sshd.knownHostsPath}`, '--ssh-option', `IdentityFile=${sshd.keyPath}`, '--ssh-option', 'IdentitiesOnly=yes'];
    const r = await execa(process.execPath, [CLI, '127.0.0.1', '9', '--playbook', playbook, '--json', '--yes', ...ssh], { reject: false, timeout: 30_000, stdin: 'ignore' });
    const report = JSON.parse(r.stdout) as Report;
    const steps = Object.fromEntries(report.steps.map((s) => [s.id, s]));
    expect(report.diagnosis.code, r.stderr).toBe('ALL_THERE');
    // Here, whyport's own environment: no ssh connection unless the tests themselves run over ssh.
    expect(steps.here).toMatchObject({ where: 'client', ...(process.env.SSH_CONNECTION ? {} : { outcome: 'failed', evidence: { exitCode: 1 } }) });
    expect(steps.there).toMatchObject({ where: 'server', outcome: 'matched', command: 'printenv SSH_CONNECTION' });
    expect(steps.conf).toMatchObject({ where: 'server', outcome: 'ok', evidence: { mode: '0640', owner: 'root', line: 'listen = 7071' } });
  }, 40_000);
});
