import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { EARLY_FILES, earlyCommand, startEarly } from '../../src/bin/early.js';
import { createNamespace, netnsSkipReason } from '../helpers/netns.js';
import { localHost } from '../../src/host/local.js';
import { socketTableArgv, udpSocketTableArgv } from '../../src/host/socket-argv.js';

// The socket table a plain diagnosis reads first, started by the entry before the bundle loads.

describe('earlyCommand: which command lines start the socket table early', () => {
  it('a plain diagnosis, in every spelling of its port, with the flags that change nothing it reads', () => {
    expect(earlyCommand(['127.0.0.1', '7071'])).toEqual({ argv: socketTableArgv(7071), timeoutMs: 3000, host: '127.0.0.1', protocol: 'tcp' });
    expect(earlyCommand(['10.0.0.5:7071', '--json', '--yes', '--process', 'myapp', '-s', 'myapp'])).toEqual({ argv: socketTableArgv(7071), timeoutMs: 3000, host: '10.0.0.5', protocol: 'tcp' });
    expect(earlyCommand(['[::1]:53/udp', '--timeout', '800'])).toEqual({ argv: udpSocketTableArgv(53), timeoutMs: 800, host: '::1', protocol: 'udp' });
    expect(earlyCommand(['db', '53', '-u'])).toMatchObject({ argv: udpSocketTableArgv(53), timeoutMs: 3000, protocol: 'udp' });
    expect(earlyCommand(['db', '443/TCP', '--timeout=1500'])).toMatchObject({ argv: socketTableArgv(443), timeoutMs: 1500, protocol: 'tcp' });
  });

  it('anything it cannot read for sure starts nothing: the walk runs the command itself', () => {
    for (const args of [
      ['explain', '53/udp'],
      ['baseline', 'save'],
      ['10.0.0.5', 'https'], // a name: /etc/services decides the port
      ['10.0.0.5', '7071', '--playbook', './mine.yaml'],
      ['10.0.0.5', '7071', '--ssh'],
      ['10.0.0.5', '7071', '--watch'],
      ['10.0.0.5', '7071', '--fix'],
      ['10.0.0.5', '7071', '--set', 'env=prod'],
      ['10.0.0.5', '7071', '-yv'], // combined short flags: commander's to read
      ['10.0.0.5', '7071', '--timeout', 'soon'],
      ['10.0.0.5', '70710'],
      ['10.0.0.5', '53/tcp', '--udp'],
      ['10.0.0.5', '53/sctp'],
      ['10.0.0.5'],
      ['10.0.0.5', '7071', 'extra'],
      ['--help'],
    ]) {
      expect(earlyCommand(args), args.join(' ')).toBeUndefined();
    }
  });
});

describe('startEarly and EarlyReads.take', () => {
  it('the runner gets the early result once, for exactly that argv and timeout; then runs the command itself', async () => {
    const reads = startEarly(['127.0.0.1', '7999', '--timeout', '2500'])!;
    expect(reads).toBeDefined();
    const argv = socketTableArgv(7999);
    expect(reads.take(argv, { timeoutMs: 3000 }, 5000)).toBeUndefined(); // another timeout: not this one
    const early = reads.take(argv, { timeoutMs: 2500 }, 5000);
    expect(early).toBeDefined();
    const r = await early!;
    expect(r).toMatchObject({ argv, exitCode: 0, missing: false, timedOut: false });
    // The real ss: the same words the runner gets when it runs the command itself.
    const again = await localHost.run(argv, { timeoutMs: 2500 });
    expect(again.exitCode).toBe(0);
    expect(r.stdout.split('\n').every((l) => l === '' || /^\S+\s+\d+\s+\d+\s/.test(l))).toBe(true);
    expect(reads.take(argv, { timeoutMs: 2500 }, 5000)).toBeUndefined();
  });
});

describe.skipIf(netnsSkipReason() !== undefined)('the other namespaces, read early for a port of this machine', () => {
  it("starts the read of another namespace's TCP table that the namespaces step makes, and hands it over once", async () => {
    const ns = createNamespace();
    const child = spawn(ns.exec[0]!, [...ns.exec.slice(1), process.execPath, '-e', "require('node:net').createServer().listen(0, '127.0.0.1', () => console.log('up'))"], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((ok) => child.stdout!.once('data', () => ok()));
      const reads = startEarly(['127.0.0.1', '7998'])!;
      // The namespace's smallest pid: the listener (ip netns exec execs it).
      const path = `/proc/${child.pid}/net/tcp`;
      const pending = reads.filesPending();
      const early = reads.takeFile(path);
      if (early === undefined) {
        // A machine with other namespaces of smaller pids (containers): their tables came first,
        // and no more than EARLY_FILES are read ahead.
        expect(pending.length, `${path} not among ${pending.join(' ')}`).toBe(EARLY_FILES);
      } else {
        expect(await early).toContain(' 0A ');
        expect(reads.takeFile(path)).toBeUndefined();
      }
      // A name, or another machine's address: nothing is read ahead.
      const other = startEarly(['192.0.2.1', '7997'])!;
      expect(other.filesPending()).toEqual([]);
      await reads.take(socketTableArgv(7998), { timeoutMs: 3000 }, 5000);
      await other.take(socketTableArgv(7997), { timeoutMs: 3000 }, 5000);
    } finally {
      child.kill();
      ns.remove();
    }
  });
});
