import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findBlockingRules } from '../../../src/analysis/firewall/verdict.js';
import { localHost } from '../../../src/host/local.js';
import type { Host } from '../../../src/host/host.js';
import { readFirewall, ufwEnabled } from '../../../src/system/firewall/read.js';
import { fixture } from './fixtures.js';
import { replay } from '../../checks/replay.js';

/**
 * ufw and firewalld installed but off are read from their configuration (and, for firewalld, the
 * absence of its process) instead of starting their Python programs; when on, their rules are still
 * read. Fixtures: ufw.conf.disabled.txt / ufw.conf.enabled.txt are ufw's own file before and after
 * a real `ufw enable` (test/fixtures/ufw/capture-conf.sh); firewalld.conf.txt is the file Debian's
 * firewalld package installs (/etc/firewalld/firewalld.conf, copied).
 */

const UFW_CONF = '/etc/ufw/ufw.conf';
const FIREWALLD_CONF = '/etc/firewalld/firewalld.conf';
const rules = { 'nft -j list ruleset': { stdout: fixture('nft', 'empty.json') }, 'iptables-save': { stdout: '' }, 'ip6tables-save': { stdout: '' } };

describe("ufw's ENABLED switch", () => {
  it('reads ufw.conf as ufw itself does', () => {
    expect(ufwEnabled(fixture('ufw', 'ufw.conf.disabled.txt'))).toBe(false);
    expect(ufwEnabled(fixture('ufw', 'ufw.conf.enabled.txt'))).toBe(true);
    expect(ufwEnabled('# ENABLED=yes\nLOGLEVEL=low\n')).toBeUndefined();
    expect(ufwEnabled('ENABLED="no"\n')).toBe(false);
  });
});

describe('readFirewall with ufw and firewalld installed', () => {
  it('ufw disabled in its configuration: inactive, without running ufw', async () => {
    const host = replay(rules, { files: { [UFW_CONF]: fixture('ufw', 'ufw.conf.disabled.txt') } });
    const r = await readFirewall(host, { timeoutMs: 1000 });
    expect(r.sources.find((s) => s.name === 'ufw')).toMatchObject({ status: 'inactive', command: `grep ENABLED ${UFW_CONF}` });
    expect(host.calls).not.toContain('ufw status verbose');
    expect(r.permission).toBe(true);
  });

  it('ufw enabled in its configuration: its rules are read with ufw status, and name the verdict', async () => {
    const host = replay(
      {
        ...rules,
        'iptables-save': { stdout: fixture('ufw', 'active-rules.iptables-save.txt') },
        'ip6tables-save': { stdout: fixture('ufw', 'active-rules.ip6tables-save.txt') },
        'ufw status verbose': { stdout: fixture('ufw', 'active-rules.txt') },
      },
      { files: { [UFW_CONF]: fixture('ufw', 'ufw.conf.enabled.txt') } },
    );
    const r = await readFirewall(host, { timeoutMs: 1000 });
    expect(host.calls).toContain('ufw status verbose');
    expect(r.sources.find((s) => s.name === 'ufw')).toMatchObject({ status: 'ok', command: 'ufw status verbose' });
    expect(findBlockingRules(7071, r.rulesets).remote).toMatchObject({ verdict: 'drop', tool: 'ufw' });
  });

  it('firewalld installed but not running: inactive, without running firewall-cmd', async () => {
    const host = replay({ ...rules, 'pgrep -x firewalld': { exitCode: 1 } }, { files: { [FIREWALLD_CONF]: fixture('firewalld', 'firewalld.conf.txt') } });
    const r = await readFirewall(host, { timeoutMs: 1000 });
    expect(r.sources.find((s) => s.name === 'firewalld')).toMatchObject({ status: 'inactive', command: 'pgrep -x firewalld' });
    expect(host.calls).not.toContain('firewall-cmd --list-all');
  });

  it('firewalld running: its zone and services are read with firewall-cmd', async () => {
    const services = ['dhcpv6-client', 'http', 'https', 'ssh', 'postgresql'];
    const host = replay(
      {
        ...rules,
        'nft -j list ruleset': { stdout: fixture('firewalld', 'public-ports.nft.json') },
        'pgrep -x firewalld': { stdout: '812\n' },
        'firewall-cmd --list-all': { stdout: fixture('firewalld', 'public-ports.txt') },
        ...Object.fromEntries(services.map((s) => [`firewall-cmd --info-service=${s}`, { stdout: fixture('firewalld', `info-service-${s}.txt`) }])),
      },
      { files: { [FIREWALLD_CONF]: fixture('firewalld', 'firewalld.conf.txt') } },
    );
    const r = await readFirewall(host, { timeoutMs: 1000 });
    expect(r.sources.find((s) => s.name === 'firewalld')).toMatchObject({ status: 'ok', command: 'firewall-cmd --list-all' });
    expect(findBlockingRules(7099, r.rulesets).remote).toMatchObject({ verdict: 'reject', tool: 'firewalld' });
  });

  it('without their configuration files (not installed, or a host that reads no files) the tools are asked, as before', async () => {
    const host = replay(rules);
    const r = await readFirewall(host, { timeoutMs: 1000 });
    expect(host.calls).toEqual(expect.arrayContaining(['ufw status verbose', 'firewall-cmd --list-all']));
    expect(r.sources.filter((s) => s.name === 'ufw' || s.name === 'firewalld').map((s) => s.status)).toEqual(['missing', 'missing']);
  });
});

// This machine's own ufw and firewalld, read (never changed) when they are installed and off.
const ufwOff = existsSync(UFW_CONF) && ufwEnabled(readFileSync(UFW_CONF, 'utf8')) === false;

const installedOff = ufwOff || existsSync(FIREWALLD_CONF);
describe.skipIf(!installedOff)(`this machine's firewall tools, off${installedOff ? '' : ' (skipped: neither a disabled ufw nor firewalld is installed here)'}`, () => {
  it('are found off without starting Python', async () => {
    const ran: string[] = [];
    const host: Host = { ...localHost, run: (argv, o) => (ran.push(argv.join(' ')), localHost.run(argv, o)) };
    const r = await readFirewall(host, { timeoutMs: 5000 });
    if (ufwOff) {
      expect(r.sources.find((s) => s.name === 'ufw')?.status).toBe('inactive');
      expect(ran).not.toContain('ufw status verbose');
    }
    const firewalldRuns = (await localHost.run(['pgrep', '-x', 'firewalld'], { timeoutMs: 5000 })).exitCode === 0;
    if (existsSync(FIREWALLD_CONF) && !firewalldRuns) {
      expect(r.sources.find((s) => s.name === 'firewalld')?.status).toBe('inactive');
      expect(ran).not.toContain('firewall-cmd --list-all');
    }
  });
});
