import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { execaRunner } from '../../../src/host/runner.js';
import { SshSession } from '../../../src/host/ssh/session.js';
import { HOSTILE_MARKER, hostileWords } from '../../helpers/hostile.js';
import { REPO_ROOT } from '../../helpers/nspawn.js';
import { freePort } from '../../helpers/servers.js';
import { describeWithLoopbackSshd, sshdAvailable } from '../../helpers/ssh.js';

/**
 * The ssh session against a real sshd on loopback (TESTBED "sshd on loopback"): every argv word
 * must reach the server as the very word it was, a command that overruns is stopped, and the
 * connection must leave nothing behind (the batching of one turn: turns.test.ts).
 */

// Each must arrive as itself, and none may run.
const HOSTILE = hostileWords();

describeWithLoopbackSshd('the ssh session, against a real sshd on loopback', await sshdAvailable(), (ssh) => {
  it('hands every argv word to the server exactly as it was, and runs none of them', async () => {
    const r = await ssh.session.exec(['printf', '[%s]\\n', ...HOSTILE]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(HOSTILE.map((w) => `[${w}]\n`).join(''));
    expect(existsSync(HOSTILE_MARKER)).toBe(false);
  });

  it('a command that outlives its timeout is stopped on the server and reported as timed out', async () => {
    const started = performance.now();
    const r = await ssh.session.exec(['sleep', '30'], { timeoutMs: 1_000 });
    expect(r.timedOut).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('whyport --ssh interrupted with Ctrl-C closes the connection and removes its directory', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'wpt-sigint-'));
    try {
      const cli = join(REPO_ROOT, 'dist', 'cli.js');
      const child = execa(process.execPath, [cli, '127.0.0.1', String(await freePort('127.0.0.1')), '--ssh', `root@127.0.0.1:${ssh.sshd.port}`, '--ssh-option', `UserKnownHostsFile=${ssh.sshd.knownHostsPath}`, '--ssh-option', `IdentityFile=${ssh.sshd.keyPath}`, '--json'], {
        reject: false,
        stdin: 'ignore',
        timeout: 20_000,
        env: { TMPDIR: tmp },
      });
      // Once the connection's private directory exists, the master is up: interrupt then.
      for (let i = 0; i < 200 && !readdirSync(tmp).some((f) => f.startsWith('whyport-ssh-')); i++) await new Promise((r) => setTimeout(r, 10));
      const dir = readdirSync(tmp).find((f) => f.startsWith('whyport-ssh-'));
      expect(dir).toBeTruthy();
      child.kill('SIGINT');
      const r = await child;
      expect([1, 130]).toContain(r.exitCode);
      expect(JSON.parse(r.stdout).version).toBe(1);
      expect(readdirSync(tmp)).toEqual([]);
      const masters = async () => (await execa('pgrep', ['-f', `ControlPath=${join(tmp, dir!)}`], { reject: false })).stdout.trim();
      for (let i = 0; i < 40 && (await masters()) !== ''; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await masters()).toBe('');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('closes its one connection and removes its private directory', async () => {
    const before = new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('whyport-ssh-')));
    const extra = new SshSession({ ...ssh.session.settings }, execaRunner);
    await extra.open();
    const dirs = readdirSync(tmpdir()).filter((f) => f.startsWith('whyport-ssh-') && !before.has(f));
    expect(dirs).toHaveLength(1);
    const masters = async () => (await execa('pgrep', ['-f', `ControlPath=${join(tmpdir(), dirs[0]!)}`], { reject: false })).stdout.trim();
    expect(await masters()).not.toBe('');
    await extra.close();
    expect(existsSync(join(tmpdir(), dirs[0]!))).toBe(false);
    // The master ends with -O exit (give ssh a moment to go).
    for (let i = 0; i < 40 && (await masters()) !== ''; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await masters()).toBe('');
  });
});
