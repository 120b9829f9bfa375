import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { localHost } from '../../../src/host/local.js';
import { sshHost } from '../../../src/host/ssh/host.js';
import { SYSTEMD_MARKER, systemdRunning } from '../../../src/system/systemd/units.js';
import { HOSTILE_MARKER, hostileWords } from '../../helpers/hostile.js';
import { describeWithLoopbackSshd, sshdAvailable } from '../../helpers/ssh.js';

/**
 * The ssh Host against a real sshd on loopback (TESTBED "sshd on loopback"): what it reads must be
 * what the local host reads of the same machine, and every path and name must reach the server as
 * the very words it was (the session itself: session.test.ts).
 */

// Each must arrive as itself, and none may run.
const HOSTILE = hostileWords();

describeWithLoopbackSshd('the ssh host, against a real sshd on loopback', await sshdAvailable(), (ssh) => {
  let listener: Server;
  let port = 0;

  beforeAll(async () => {
    listener = createServer();
    await new Promise<void>((r) => listener.listen({ host: '127.0.0.1', port: 0 }, r));
    port = (listener.address() as { port: number }).port;
  });

  afterAll(() => {
    listener?.close();
  });

  it('quotes file paths and names the same way: a hostile path is just a file that does not exist', async () => {
    const host = sshHost(ssh.session);
    await Promise.all(
      HOSTILE.filter(Boolean).map(async (word) => {
        await expect(host.readFile(`/tmp/${word}`)).rejects.toMatchObject({ code: 'ENOENT' });
        await expect(host.lookup(word.replace(/\s/g, ''), { timeoutMs: 2_000 })).rejects.toBeTruthy();
      }),
    );
    expect(await host.stat(HOSTILE.map((w) => `/nonexistent/${w}`))).toEqual(HOSTILE.map(() => undefined));
    expect(existsSync(HOSTILE_MARKER)).toBe(false);
  });

  it('reads the same machine as the local host does: files, links, the end of a file, stat, names', async () => {
    const host = sshHost(ssh.session);
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

  it('answers the systemd question with the reader the local host uses, from the first round trip', async () => {
    const host = sshHost(ssh.session);
    const before = ssh.session.commands;
    // This sshd's sessions see a tmpfs /run of their own: no systemd marker there.
    expect(await systemdRunning(host)).toBe(false);
    expect(ssh.session.commands).toBe(before);
    // The same stat asked with another path goes to the server, and says the same of the marker.
    expect(await host.stat([SYSTEMD_MARKER, '/etc'])).toEqual([undefined, expect.objectContaining({ kind: 'directory' })]);
    expect(ssh.session.commands).toBe(before + 1);
  });

  it('the batched scans find what the local scans find: the owner of a socket, processes, descendants, cgroups', async () => {
    const host = sshHost(ssh.session);
    const inode = (await localHost.socketInodes([process.pid]))[0]!.inodes as number[];
    const mine = inode.length ? inode : [];
    const [remote, local] = await Promise.all([host.socketOwners(mine, { exhaustive: true }), localHost.socketOwners(mine, { exhaustive: true })]);
    expect(remote.owners.find((o) => o.holders.some((h) => h.pid === process.pid))).toBeTruthy();
    expect(remote.owners.map((o) => o.inode).sort()).toEqual(local.owners.map((o) => o.inode).sort());
    const named = await host.processes({ name: 'sshd', match: 'name' });
    expect(named.map((p) => p.pid)).toContain(ssh.sshd.pid);
    expect((await host.processes({ name: 'vitest', match: 'full' })).map((p) => p.pid)).toContain(process.pid);
    expect(await host.descendants(ssh.sshd.pid)).toEqual(expect.arrayContaining([ssh.sshd.pid]));
    expect(await host.cgroups([process.pid, 999_999_999])).toEqual(await localHost.cgroups([process.pid, 999_999_999]));
    const [ri] = await host.socketInodes([process.pid]);
    expect(ri).toEqual({ pid: process.pid, inodes: expect.arrayContaining(mine) });
    expect(port).toBeGreaterThan(0);
  });

  it('connects from the server as nc would: connected, refused', async () => {
    const host = sshHost(ssh.session);
    expect(await host.connectTcp('127.0.0.1', port, 2_000)).toMatchObject({ outcome: 'connected' });
    listener.close();
    expect(await host.connectTcp('127.0.0.1', port, 2_000)).toMatchObject({ outcome: 'refused', errno: 'ECONNREFUSED' });
  });

});
