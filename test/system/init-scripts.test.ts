import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initScriptRuns, initScriptsFor, startCommand } from '../../src/system/init-scripts.js';
import { replayHost } from '../helpers/replay-host.js';

// Where systemd does not run, Debian's sysvinit scripts (and OpenRC's) are what start a program.

const FIX = join(import.meta.dirname, '../fixtures/init.d');
const script = (name: string) => readFileSync(join(FIX, `debian12-${name}.txt`), 'utf8');

describe('initScriptRuns (the scripts Debian 12 ships)', () => {
  it('/etc/init.d/ssh starts sshd (its LSB header provides it and it runs /usr/sbin/sshd)', () => {
    expect(initScriptRuns('ssh', script('ssh'), 'sshd')).toBe(true);
    expect(initScriptRuns('ssh', script('ssh'), 'ssh')).toBe(true);
    expect(initScriptRuns('nginx', script('nginx'), 'sshd')).toBe(false);
  });

  it('knows a script by the binary it runs (DAEMON=/usr/bin/redis-server), not by a part of a word', () => {
    expect(initScriptRuns('redis-server', script('redis-server'), 'redis-server')).toBe(true);
    expect(initScriptRuns('redis-server', script('redis-server'), 'redis')).toBe(false);
  });

  it('OpenRC scripts start with rc-service, sysvinit ones with service', () => {
    expect(startCommand('ssh', script('ssh'))).toEqual(['service', 'ssh', 'start']);
    expect(startCommand('sshd', '#!/sbin/openrc-run\ncommand=/usr/sbin/sshd\n')).toEqual(['rc-service', 'sshd', 'start']);
  });
});

describe('initScriptsFor, through a host', () => {
  it('reads /etc/init.d and finds the script that starts the program', async () => {
    const host = replayHost({ files: { '/etc/init.d/ssh': script('ssh'), '/etc/init.d/nginx': script('nginx'), '/etc/init.d/README': 'sshd\n' } });
    expect(await initScriptsFor(host, 'sshd')).toEqual([{ name: 'ssh', path: '/etc/init.d/ssh', start: ['service', 'ssh', 'start'] }]);
    expect(await initScriptsFor(host, 'nosuchd')).toEqual([]);
  });

  it('a host without /etc/init.d has none', async () => {
    expect(await initScriptsFor(replayHost({ files: {} }), 'sshd')).toEqual([]);
  });
});
