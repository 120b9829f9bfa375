import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHost } from '../../src/host/local.js';
import { execaRunner } from '../../src/host/runner.js';
import { SshSession, sshHost } from '../../src/host/ssh.js';
import { loopbackSession, sshdAvailable, startLoopbackSshd, type LoopbackSshd } from '../helpers/ssh.js';
import { REPO_ROOT } from '../helpers/nspawn.js';

/**
 * The ssh Host against a real sshd on loopback (TESTBED "sshd on loopback"): what it reads must be
 * what the local host reads of the same machine, every value must reach the server as the very
 * words it was, and the connection must leave nothing behind.
 */

const unavailable = await sshdAvailable();
if (unavailable) console.warn(`skipping the ssh host tests: ${unavailable}`);

// Words a hostile user, host name or file could carry: each must arrive as itself, and none may run.
const MARKER = join(tmpdir(), `whyport-pwned-${process.pid}`);
const HOSTILE = [
  `'; touch ${MARKER}; '`,
  `$(touch ${MARKER})`,
  `\`touch ${MARKER}\``,
  `"; touch ${MARKER}; "`,
  `a\nb; touch ${MARKER}`,
  '*',
  '~root',
  '$HOME',
  '-n',
  '',
  ' leading and trailing ',
  `back\\slash\\'`,
  '%C %h %%',
  '!!',
  '# not a comment',
];

describe.skipIf(unavailable !== null)('the ssh host, against a real sshd on loopback', () => {
  let sshd: LoopbackSshd;
  let session: SshSession;
  let listener: Server;
  let port = 0;

  beforeAll(async () => {
    sshd = await startLoopbackSshd();
    session = loopbackSession(sshd);
    await session.open();
    listener = createServer();
    await new Promise<void>((r) => listener.listen({ host: '127.0.0.1', port: 0 }, r));
    port = (listener.address() as { port: number }).port;
  });

  afterAll(async () => {
    await session?.close();
    listener?.close();
    await sshd?.stop();
  });

  it('hands every argv word to the server exactly as it was, and runs none of them', async () => {
    const host = sshHost(session);
    const r = await host.run(['printf', '[%s]\\n', ...HOSTILE]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(HOSTILE.map((w) => `[${w}]\n`).join(''));
    expect(existsSync(MARKER)).toBe(false);
  });

  it('quotes file paths and names the same way: a hostile path is just a file that does not exist', async () => {
    const host = sshHost(session);
    await Promise.all(
      HOSTILE.filter(Boolean).map(async (word) => {
        await expect(host.readFile(`/tmp/${word}`)).rejects.toMatchObject({ code: 'ENOENT' });
        await expect(host.lookup(word.replace(/\s/g, ''), { timeoutMs: 2_000 })).rejects.toBeTruthy();
      }),
    );
    expect(await host.stat(HOSTILE.map((w) => `/nonexistent/${w}`))).toEqual(HOSTILE.map(() => undefined));
    expect(existsSync(MARKER)).toBe(false);
  });

  it('commands asked for in one turn go in one round trip, each with its own output and exit status', async () => {
    const host = sshHost(session);
    const before = await sshd.sessionCount();
    const [a, b, c] = await Promise.all([
      host.run(['printf', '%s', ...HOSTILE.slice(0, 3)]),
      host.run(['sh', '-c', 'echo out; echo err >&2; exit 3']),
      host.run(['no-such-program-here']),
    ]);
    expect(await sshd.sessionCount()).toBe(before + 1);
    expect(a).toMatchObject({ exitCode: 0, stdout: HOSTILE.slice(0, 3).join(''), stderr: '' });
    expect(b).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', missing: false });
    expect(c).toMatchObject({ exitCode: 127, missing: true });
    expect(existsSync(MARKER)).toBe(false);
  });

  it('a command that outlives its timeout is stopped on the server and reported as timed out', async () => {
    const started = performance.now();
    const r = await sshHost(session).run(['sleep', '30'], { timeoutMs: 1_000 });
    expect(r.timedOut).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('reads the same machine as the local host does: files, links, the end of a file, stat, names', async () => {
    const host = sshHost(session);
    expect(await host.readFile('/etc/passwd')).toBe(await localHost.readFile('/etc/passwd'));
    expect(await host.readFileTail('/etc/passwd', 40)).toEqual(await localHost.readFileTail('/etc/passwd', 40));
    expect(await host.readFileTail('/etc/hostname', 1 << 20)).toEqual(await localHost.readFileTail('/etc/hostname', 1 << 20));
    await expect(host.readFileTail('/etc', 10)).rejects.toMatchObject({ code: 'ENOTREG' });
    expect((await host.listDir('/etc')).sort()).toEqual((await localHost.listDir('/etc')).sort());
    expect(await host.readLink('/proc/1/exe').catch((e) => e.code)).toEqual(await localHost.readLink('/proc/1/exe').catch((e) => e.code));
    const [s1] = await host.stat(['/etc/passwd']);
    const [s2] = await localHost.stat(['/etc/passwd']);
    expect(s1).toMatchObject({ kind: 'file', size: s2!.size });
    expect(await host.lookup('localhost', { timeoutMs: 2_000 })).toEqual(expect.arrayContaining([{ address: '127.0.0.1', family: 4 }]));
    await expect(host.lookup('nosuch.invalid', { timeoutMs: 2_000 })).rejects.toMatchObject({ code: 'ENOTFOUND' });
    const id = await host.identity();
    expect(id).toMatchObject({ root: true, uid: 0, byteOrder: (await localHost.identity()).byteOrder, via: { client: '127.0.0.1', server: '127.0.0.1' } });
  });

  it('the batched scans find what the local scans find: the owner of a socket, processes, descendants, cgroups', async () => {
    const host = sshHost(session);
    const inode = (await localHost.socketInodes([process.pid]))[0]!.inodes as number[];
    const mine = inode.length ? inode : [];
    const [remote, local] = await Promise.all([host.socketOwners(mine, { exhaustive: true }), localHost.socketOwners(mine, { exhaustive: true })]);
    expect(remote.owners.find((o) => o.holders.some((h) => h.pid === process.pid))).toBeTruthy();
    expect(remote.owners.map((o) => o.inode).sort()).toEqual(local.owners.map((o) => o.inode).sort());
    const named = await host.processes({ name: 'sshd', match: 'name' });
    expect(named.map((p) => p.pid)).toContain(sshd.pid);
    expect((await host.processes({ name: 'vitest', match: 'full' })).map((p) => p.pid)).toContain(process.pid);
    expect(await host.descendants(sshd.pid)).toEqual(expect.arrayContaining([sshd.pid]));
    expect(await host.cgroups([process.pid, 999_999_999])).toEqual(await localHost.cgroups([process.pid, 999_999_999]));
    const [ri] = await host.socketInodes([process.pid]);
    expect(ri).toEqual({ pid: process.pid, inodes: expect.arrayContaining(mine) });
    expect(port).toBeGreaterThan(0);
  });

  it('connects from the server as nc would: connected, refused', async () => {
    const host = sshHost(session);
    expect(await host.connectTcp('127.0.0.1', port, 2_000)).toMatchObject({ outcome: 'connected' });
    listener.close();
    expect(await host.connectTcp('127.0.0.1', port, 2_000)).toMatchObject({ outcome: 'refused', errno: 'ECONNREFUSED' });
  });

  it('whyport --ssh interrupted with Ctrl-C closes the connection and removes its directory', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'wpt-sigint-'));
    try {
      const cli = join(REPO_ROOT, 'dist', 'cli.js');
      const child = execa(process.execPath, [cli, '127.0.0.1', String(port + 1), '--ssh', `root@127.0.0.1:${sshd.port}`, '--ssh-option', `UserKnownHostsFile=${sshd.knownHostsPath}`, '--ssh-option', `IdentityFile=${sshd.keyPath}`, '--json'], {
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
    const extra = new SshSession({ ...session.settings }, execaRunner);
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
