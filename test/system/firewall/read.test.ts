import { describe, expect, it } from 'vitest';
import { findBlockingRules } from '../../../src/analysis/firewall/verdict.js';
import { readFirewall } from '../../../src/system/firewall/read.js';
import { fixture } from './fixtures.js';
import { replay, type Reply } from '../../checks/replay.js';

/** A captured failure: stdout, stderr and exit status saved side by side. */
const failure = (tool: string, name: string, stdout = `${name}.stdout.txt`): Reply => ({
  stdout: fixture(tool, stdout),
  stderr: fixture(tool, `${name}.stderr.txt`),
  exitCode: Number(fixture(tool, `${name}.exitcode`)),
});

describe('readFirewall', () => {
  it('notes every tool as missing on a machine without firewall tools', async () => {
    const r = await readFirewall(replay({}), { timeoutMs: 1000 });
    expect(r.permission).toBe(true);
    expect(r.rulesets).toEqual({});
    expect(r.sources.map((s) => [s.name, s.status, s.command])).toEqual([
      ['nftables', 'missing', 'nft -j list ruleset'],
      ['iptables', 'missing', 'iptables-save'],
      ['ip6tables', 'missing', 'ip6tables-save'],
      ['ufw', 'missing', 'ufw status verbose'],
      ['firewalld', 'missing', 'firewall-cmd --list-all'],
    ]);
  });

  it('says permission is missing when the tools refuse a normal user', async () => {
    const r = await readFirewall(
      replay({
        'nft -j list ruleset': failure('nft', 'nonroot'),
        'iptables-save': failure('iptables', 'nonroot-save'),
        'ip6tables-save': failure('iptables', 'nonroot-ip6-save'),
        'ufw status verbose': failure('ufw', 'nonroot'),
        'firewall-cmd --list-all': failure('firewalld', 'nonroot', 'nonroot.txt'),
      }),
      { timeoutMs: 1000 },
    );
    expect(r.permission).toBe(false);
    expect(r.sources.map((s) => [s.name, s.status, s.error])).toEqual([
      ['nftables', 'denied', 'Operation not permitted (you must be root)'],
      ['iptables', 'denied', 'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)'],
      ['ip6tables', 'denied', 'ip6tables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)'],
      ['ufw', 'denied', 'ERROR: You need to be root to run this script'],
      ['firewalld', 'denied', 'Authorization failed.'],
    ]);
    expect(r.rulesets).toEqual({});
  });

  it('reads iptables and ufw, and the verdict names the ufw rule', async () => {
    const r = await readFirewall(
      replay({
        'iptables-save': { stdout: fixture('ufw', 'active-rules.iptables-save.txt') },
        'ip6tables-save': { stdout: fixture('ufw', 'active-rules.ip6tables-save.txt') },
        'ufw status verbose': { stdout: fixture('ufw', 'active-rules.txt') },
        'firewall-cmd --list-all': { stderr: fixture('firewalld', 'not-running.stderr.txt'), exitCode: 252 },
      }),
      { timeoutMs: 1000 },
    );
    expect(r.sources.map((s) => [s.name, s.status])).toEqual([
      ['nftables', 'missing'],
      ['iptables', 'ok'],
      ['ip6tables', 'ok'],
      ['ufw', 'ok'],
      ['firewalld', 'inactive'],
    ]);
    expect(r.rulesets.iptables!.map((x) => [x.family, x.backend, x.binary])).toEqual([
      [4, 'nf_tables', 'iptables'],
      [6, 'nf_tables', 'ip6tables'],
    ]);
    const v = findBlockingRules(7071, r.rulesets);
    expect(v.remote).toMatchObject({ verdict: 'drop', tool: 'ufw', rule: '7071/tcp                   DENY IN     Anywhere' });
  });

  it('reads the legacy tables too when iptables-nft warns they exist, and fixes them with iptables-legacy', async () => {
    const runner = replay({
      'nft -j list ruleset': { stdout: fixture('nft', 'empty.json') },
      'iptables-save': { stdout: fixture('iptables', 'nft-beside-legacy.save.txt'), stderr: fixture('iptables', 'nft-beside-legacy.save.stderr.txt') },
      'iptables-legacy-save': { stdout: fixture('iptables', 'legacy-policy-drop.save.txt') },
      'ip6tables-save': { stdout: '' },
      'ufw status verbose': { stdout: fixture('ufw', 'inactive.txt') },
    });
    const r = await readFirewall(runner, { timeoutMs: 1000 });
    expect(runner.calls).toContain('iptables-legacy-save');
    expect(runner.calls).not.toContain('ip6tables-legacy-save');
    expect(r.sources.find((s) => s.name === 'iptables-legacy')).toMatchObject({ status: 'ok', command: 'iptables-legacy-save' });
    expect(r.sources.find((s) => s.name === 'ufw')!.status).toBe('inactive');
    const v = findBlockingRules(7072, r.rulesets);
    expect(v.remote).toMatchObject({ verdict: 'drop', tool: 'iptables', table: 'raw', fix: { command: 'iptables-legacy -t raw -I PREROUTING -p tcp --dport 7072 -j ACCEPT' } });
  });

  it('reads firewalld with the ports of the services its zone names', async () => {
    const services = ['dhcpv6-client', 'http', 'https', 'ssh', 'postgresql'];
    const runner = replay({
      'nft -j list ruleset': { stdout: fixture('firewalld', 'public-ports.nft.json') },
      'iptables-save': { stdout: '' },
      'ip6tables-save': { stdout: '' },
      'firewall-cmd --list-all': { stdout: fixture('firewalld', 'public-ports.txt') },
      ...Object.fromEntries(services.map((s) => [`firewall-cmd --info-service=${s}`, { stdout: fixture('firewalld', `info-service-${s}.txt`) }])),
    });
    const r = await readFirewall(runner, { timeoutMs: 1000 });
    expect(Object.keys(r.rulesets.firewalld!.services!).sort()).toEqual([...services].sort());
    expect(r.rulesets.iptables).toBeUndefined();
    expect(findBlockingRules(7099, r.rulesets).remote).toMatchObject({ verdict: 'reject', tool: 'firewalld', fix: { command: 'firewall-cmd --zone=public --add-port=7099/tcp' } });
  });

  it('reports output it cannot parse as an error of that source only', async () => {
    const r = await readFirewall(replay({ 'nft -j list ruleset': { stdout: 'not json' }, 'iptables-save': { stdout: fixture('iptables', 'nft-drop-port.save.txt') } }), { timeoutMs: 1000 });
    expect(r.sources[0]).toMatchObject({ name: 'nftables', status: 'error', error: expect.stringMatching(/not JSON/) });
    expect(r.sources[1]).toMatchObject({ name: 'iptables', status: 'ok' });
    expect(r.permission).toBe(true);
  });
});
