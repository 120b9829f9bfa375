import { execa } from 'execa';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { saveOutput } from '../helpers/cli-in-bed.js';

const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '__output__');

/**
 * The README's first command, `whyport 127.0.0.1 22 --yes`, on a machine with openssh-server
 * installed and no systemd running (a fresh Debian container, WSL, this test bed). It runs in
 * namespaces of the test's own: a network namespace (nothing listens on 22), a pid namespace (no
 * sshd of the machine's is seen), an empty /run (no /run/systemd/system: systemd does not run,
 * even on a CI runner where it does) and its own copy of /etc, so the test decides what is there.
 * The answer must be true: sshd is not running, never the unit name ssh.socket as a program.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'the namespaces of this test need root (run it as root, e.g. in .ci/run)';
  if (!existsSync('/usr/sbin/sshd')) return 'openssh-server is not installed (apt-get install -y openssh-server)';
  if (spawnSync('unshare', ['--version'], { stdio: 'ignore' }).error) return 'unshare (util-linux) is missing';
  return undefined;
}
const SKIP = skipReason();
if (SKIP) console.warn(`skipping the README's first line: ${SKIP}`);

describe.skipIf(SKIP !== undefined)("the README's first line on a host without systemd, openssh-server installed", () => {
  let etc = '';
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    etc = join(mkdtempSync(join(tmpdir(), 'wpt-etc-')), 'etc');
    execFileSync('cp', ['-a', '/etc', etc]);
  });
  afterAll(() => {
    if (etc) rmSync(dirname(etc), { recursive: true, force: true });
  });

  /**
   * `whyport 127.0.0.1 22 --yes --json` in fresh namespaces with `etc` as /etc. whyport is the pid
   * namespace's init: whatever it starts (sshd, with --fix) ends with it.
   */
  async function firstLine(extra: string[] = []): Promise<{ status: number; report: Report }> {
    const r = await inNamespaces(['--json', ...extra]);
    if (!r.stdout.trim().startsWith('{')) throw new Error(`no report: exit ${r.exitCode}\n${r.stderr}`);
    return { status: r.exitCode ?? -1, report: JSON.parse(r.stdout) as Report };
  }
  /** `whyport 127.0.0.1 22 --yes ...extra` in fresh namespaces with `etc` as /etc. */
  function inNamespaces(extra: string[], env: Record<string, string> = {}) {
    const script = 'ip link set lo up && mount -t tmpfs tmpfs /run && mount --bind "$1" /etc && shift && exec "$@"';
    return execa(
      'unshare',
      ['--mount', '--net', '--pid', '--fork', '--mount-proc', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', etc, process.execPath, CLI, '127.0.0.1', '22', '--yes', ...extra],
      { reject: false, timeout: 30_000, cwd: ROOT, stdin: 'ignore', env },
    );
  }
  const trail = (r: Report) => r.steps.map((s) => `${s.id}=${s.outcome}: ${s.summary}`).join('\n');

  it('says sshd is not running and starts it with its init script (Debian ships /etc/init.d/ssh)', async (ctx) => {
    if (!existsSync(join(etc, 'init.d/ssh'))) ctx.skip();
    const { status, report } = await firstLine();
    const text = JSON.stringify(report);
    expect(report.diagnosis.code, trail(report)).toBe('PROCESS_NOT_RUNNING');
    expect(report.diagnosis.title).toBe('sshd is not running');
    expect(text).not.toMatch(/ssh\.socket is not running|process named ssh\.socket/);
    expect(report.steps.find((s) => s.id === 'which-process')?.evidence).toMatchObject({ value: 'sshd', source: 'guess' });
    expect(report.diagnosis.fix?.commands).toEqual(['service ssh start']);
    // Neither a unit question nor the journal on a host without systemd.
    expect(report.steps.some((s) => s.id === 'service')).toBe(false);
    expect(text).not.toContain('journalctl');
    expect(status).toBe(1);
  }, 40_000);

  it('the text report the README quotes: the verdict, why, and the fix, as a newcomer sees it', async (ctx) => {
    if (!existsSync(join(etc, 'init.d/ssh'))) ctx.skip();
    const r = await inNamespaces([], { COLUMNS: '80', NO_COLOR: '1' });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/PROCESS_NOT_RUNNING\s+│\n│ +sshd is not running/);
    expect(r.stdout).toContain('service ssh start');
    expect(r.stdout).not.toMatch(/ssh\.socket is not running|journalctl|Which systemd service/);
    await saveOutput(OUTPUT_DIR, 'readme-first-line.txt', r.stdout, 'nohost');
  }, 40_000);

  it('--fix starts sshd with its init script, and the re-check finds port 22 reachable', async (ctx) => {
    if (!existsSync(join(etc, 'init.d/ssh')) || !existsSync(join(etc, 'ssh/sshd_config'))) ctx.skip();
    const { status, report } = await firstLine(['--fix']);
    expect(report.diagnosis.code, trail(report)).toBe('PROCESS_NOT_RUNNING');
    expect(report.diagnosis.applied, JSON.stringify(report.diagnosis.applied)).toMatchObject({ command: 'service ssh start', exitCode: 0, verified: true, after: 'REACHABLE' });
    // The exit status is the diagnosis's, as for every applied fix.
    expect(status).toBe(1);
  }, 40_000);

  it('without an init script: the fix reads dmesg, and the service is not asked for', async () => {
    rmSync(join(etc, 'init.d/ssh'), { force: true });
    const { status, report } = await firstLine();
    expect(report.diagnosis.code, trail(report)).toBe('PROCESS_NOT_RUNNING');
    expect(report.diagnosis.title).toBe('sshd is not running');
    const service = report.steps.find((s) => s.id === 'service');
    expect(service, trail(report)).toMatchObject({ outcome: 'unknown' });
    expect(service!.summary).toMatch(/not asked — systemd does not run on this host/);
    expect(report.diagnosis.fix?.commands).toEqual(['dmesg --ctime --level=err,warn']);
    expect(JSON.stringify(report)).not.toContain('journalctl');
    expect(status).toBe(1);
  }, 40_000);
});
