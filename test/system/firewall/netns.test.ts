import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { findBlockingRules } from '../../../src/analysis/firewall/verdict.js';
import { readFirewall } from '../../../src/system/firewall/read.js';
import { execaRunner, type Runner } from '../../../src/system/runner.js';

/**
 * Real rules in real network namespaces of this test's own making (never the host's firewall):
 * load them, read them back with readFirewall through `ip netns exec`, and check the verdict.
 */

/** A Runner that runs every command inside the namespace. */
function runnerIn(ns: string): Runner {
  return { run: (argv, options) => execaRunner.run(['ip', 'netns', 'exec', ns, ...argv], options) };
}

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'firewall rules can only be loaded and read as root (network namespaces too)';
  for (const [tool, pkg] of [['ip', 'iproute2'], ['nft', 'nftables'], ['iptables', 'iptables']] as const) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error) return `${tool} is missing: apt-get install -y ${pkg}`;
  }
  return undefined;
}

const reason = skipReason();
if (reason) console.warn(`skipping firewall namespace tests: ${reason}`);

const PORT = 7071;

describe.skipIf(reason !== undefined)('firewall rules read from a network namespace', () => {
  const made: string[] = [];
  /** A fresh namespace with lo up, deleted after the tests. */
  async function namespace(tag: string): Promise<{ name: string; runner: Runner }> {
    const name = `wpt-fw-${process.pid}-${tag}`;
    await execaRunner.run(['ip', 'netns', 'del', name]);
    const add = await execaRunner.run(['ip', 'netns', 'add', name]);
    expect(add.exitCode, add.stderr).toBe(0);
    made.push(name);
    await execaRunner.run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return { name, runner: runnerIn(name) };
  }
  afterAll(async () => {
    for (const name of made) await execaRunner.run(['ip', 'netns', 'del', name]);
  });

  it('iptables: a DROP for the port blocks remote and loopback clients; the fix lets them in', async () => {
    const { runner } = await namespace('ipt');
    const load = await runner.run(['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP']);
    expect(load.exitCode, load.stderr).toBe(0);

    const reading = await readFirewall(runner, { timeoutMs: 5000 });
    expect(reading.permission).toBe(true);
    expect(reading.sources.find((s) => s.name === 'iptables')).toMatchObject({ status: 'ok', command: 'iptables-save' });
    const v = findBlockingRules(PORT, reading.rulesets);
    expect(v.remote).toMatchObject({
      verdict: 'drop',
      tool: 'iptables',
      table: 'filter',
      chain: 'INPUT',
      rule: `-A INPUT -p tcp -m tcp --dport ${PORT} -j DROP`,
      fix: { command: `iptables -D INPUT -p tcp -m tcp --dport ${PORT} -j DROP`, kind: 'remove' },
    });
    // No loopback exception here: local clients are dropped as well.
    expect(v.loopback).toMatchObject({ verdict: 'drop', tool: 'iptables' });
    expect(v.remote.verdict === 'drop' && v.remote.also).toEqual([]);

    // The suggested fix, applied for real, is enough.
    if (v.remote.verdict === 'accept') throw new Error('expected a block');
    const fixed = await runner.run(v.remote.fix.argv);
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    const after = findBlockingRules(PORT, (await readFirewall(runner, { timeoutMs: 5000 })).rulesets);
    // The rule is gone, and nothing took its place.
    expect(after.remote).toEqual({ verdict: 'accept', caveats: [] });
  });

  it('nftables: a loopback accept before the drop lets local tests pass while remote clients are dropped', async () => {
    const { runner } = await namespace('nft');
    const ruleset = [
      'table inet filter {',
      '  chain input {',
      '    type filter hook input priority filter; policy accept;',
      '    iifname "lo" accept',
      `    tcp dport ${PORT} drop`,
      '  }',
      '}',
    ].join('\n');
    const load = await runner.run(['nft', '-f', '-'], { input: ruleset });
    expect(load.exitCode, load.stderr).toBe(0);

    const reading = await readFirewall(runner, { timeoutMs: 5000 });
    expect(reading.sources.find((s) => s.name === 'nftables')).toMatchObject({ status: 'ok', command: 'nft -j list ruleset' });
    const v = findBlockingRules(PORT, reading.rulesets);
    expect(v.remote).toMatchObject({
      verdict: 'drop',
      tool: 'nftables',
      table: 'inet filter',
      chain: 'input',
      rule: `tcp dport ${PORT} drop`,
      fix: { command: expect.stringMatching(/^nft delete rule inet filter input handle \d+$/), kind: 'remove' },
    });
    expect(v.loopback).toEqual({ verdict: 'accept', by: { tool: 'nftables', table: 'inet filter', chain: 'input', rule: 'iifname "lo" accept' }, caveats: [] });
    // The same holds for IPv6 (an inet table covers both).
    expect(findBlockingRules(PORT, reading.rulesets, { family: 6 }).remote).toMatchObject({ verdict: 'drop', rule: `tcp dport ${PORT} drop` });

    if (v.remote.verdict === 'accept') throw new Error('expected a block');
    const fixed = await runner.run(v.remote.fix.argv);
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    const after = findBlockingRules(PORT, (await readFirewall(runner, { timeoutMs: 5000 })).rulesets);
    expect(after.remote).toEqual({ verdict: 'accept', caveats: [] });
    expect(after.loopback).toMatchObject({ verdict: 'accept', by: { rule: 'iifname "lo" accept' } });
  });
});
