import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Host } from '../../src/host/host.js';
import { localHost } from '../../src/host/local.js';
import type { CommandResult, RunOptions } from '../../src/system/runner.js';
import { parseLoadedServices, parseServiceUnitFiles, serviceUnitNames, unitNameCommands } from '../../src/system/systemd/unit-names.js';

// Captured from a real systemd 252 (systemd-nspawn of this Debian 12, see TESTBED.md) with
// myapp.service failed and worker@a.service, worker@b\x2dc.service running:
//   systemctl list-units --type=service --all --no-legend --plain
//   systemctl list-unit-files --type=service --no-legend --plain
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/systemctl');
const fixture = (name: string): Promise<string> => readFile(join(FIXTURES, name), 'utf8');

describe('the service units systemctl lists', () => {
  it('reads the loaded units: instances and failed units in, units that are only referenced out', async () => {
    const names = parseLoadedServices(await fixture('list-units-services.txt'));
    expect(names).toContain('myapp.service');
    expect(names).toContain('worker@a.service');
    expect(names).toContain('worker@b\\x2dc.service');
    expect(names).toContain('systemd-journald.service');
    // "auditd.service not-found inactive dead": wanted by something, installed nowhere.
    expect(names).not.toContain('auditd.service');
    expect(names).toHaveLength(46);
  });

  it('reads a failed unit with the bullet systemctl prints without --plain', () => {
    expect(parseLoadedServices('● myapp.service loaded failed failed My App\n  dbus.service loaded active running D-Bus\n')).toEqual(['myapp.service', 'dbus.service']);
  });

  it('reads the unit files: every installed service, but templates (only their instances start)', async () => {
    const names = parseServiceUnitFiles(await fixture('list-unit-files-services.txt'));
    expect(names).toContain('apache2.service');
    expect(names).toContain('cryptdisks.service'); // masked: still a name whyport can diagnose
    expect(names).not.toContain('apache2@.service');
    expect(names).not.toContain('getty@.service');
    expect(names.every((n) => n.endsWith('.service') && !n.endsWith('@.service'))).toBe(true);
  });

  it('narrows both commands with systemctl’s own pattern (list-unit-files is 50× faster so)', () => {
    expect(unitNameCommands('ng')).toEqual({
      loaded: ['systemctl', 'list-units', '--type=service', '--all', '--no-legend', '--plain', 'ng*'],
      files: ['systemctl', 'list-unit-files', '--type=service', '--no-legend', '--plain', 'ng*'],
    });
    expect(unitNameCommands('').files).toEqual(['systemctl', 'list-unit-files', '--type=service', '--no-legend', '--plain']);
  });
});

/** A host whose systemd is running and whose systemctl answers from the fixtures (or not at all). */
function fakeSystemd(reply: (argv: readonly string[], opts?: RunOptions) => Promise<Partial<CommandResult>>): Host & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    ...localHost,
    calls,
    stat: async (paths) => paths.map(() => ({ kind: 'directory' as const, size: 0, mtimeMs: 0 })),
    async run(argv, opts) {
      calls.push([...argv]);
      return { argv, exitCode: 0, stdout: '', stderr: '', missing: false, timedOut: false, durationMs: 1, ...(await reply(argv, opts)) };
    },
  };
}

describe('serviceUnitNames', () => {
  it('merges both lists, sorted, each name once, and keeps to the prefix', async () => {
    const [loaded, files] = await Promise.all([fixture('list-units-services.txt'), fixture('list-unit-files-services.txt')]);
    const host = fakeSystemd(async (argv) => ({ stdout: argv[1] === 'list-units' ? loaded : files }));
    const names = await serviceUnitNames(host, 'systemd-j', 1000);
    expect(names).toEqual(['systemd-journal-flush.service', 'systemd-journald.service']);
    expect(host.calls.map((c) => c.at(-1))).toEqual(['systemd-j*', 'systemd-j*']);
    const all = await serviceUnitNames(host, '', 1000);
    expect(all).toEqual([...new Set(all)].sort());
    expect(all).toContain('worker@a.service');
    expect(all).toContain('apache2.service');
  });

  it('gives the timeout to each command, and uses the list that answered when the other did not', async () => {
    const loaded = await fixture('list-units-services.txt');
    const timeouts: (number | undefined)[] = [];
    const host = fakeSystemd(async (argv, opts) => {
      timeouts.push(opts?.timeoutMs);
      return argv[1] === 'list-units' ? { stdout: loaded } : { exitCode: null, timedOut: true, stdout: 'apache2.serv' };
    });
    expect(await serviceUnitNames(host, 'my', 800)).toEqual(['myapp.service']);
    expect(await serviceUnitNames(host, 'apache', 800)).toEqual([]);
    expect(timeouts).toEqual([800, 800, 800, 800]);
  });

  it('runs nothing for a prefix that no unit name starts with', async () => {
    const host = fakeSystemd(async () => ({}));
    for (const prefix of ['-h', '--all', 'a*', 'x y', 'a\\x2d', '[ab]']) expect(await serviceUnitNames(host, prefix, 1000)).toEqual([]);
    expect(host.calls).toEqual([]);
  });

  it('runs nothing where systemd is not the running init (no /run/systemd/system), whatever this machine runs', async () => {
    // The host answers stat as a machine without systemd as PID 1 does (this test bed: no such
    // directory); its commands are the real ones, should serviceUnitNames start any.
    const stats: string[][] = [];
    const calls: string[][] = [];
    const host: Host = {
      ...localHost,
      stat: async (paths) => (stats.push([...paths]), paths.map(() => undefined)),
      run: async (argv, o) => (calls.push([...argv]), localHost.run(argv, o)),
    };
    expect(await serviceUnitNames(host, 'ng', 1000)).toEqual([]);
    expect(stats).toEqual([['/run/systemd/system']]);
    expect(calls).toEqual([]);
  });

  it('this machine as it is, without systemd as PID 1: no systemctl runs', async (ctx) => {
    const [booted] = await localHost.stat(['/run/systemd/system']);
    ctx.skip(booted !== undefined, 'this machine runs systemd as PID 1: test/integration/completion-systemd.test.ts covers a booted systemd');
    const calls: string[][] = [];
    const host: Host = { ...localHost, run: async (argv, o) => (calls.push([...argv]), localHost.run(argv, o)) };
    expect(await serviceUnitNames(host, 'ng', 1000)).toEqual([]);
    expect(calls).toEqual([]);
  });
});
