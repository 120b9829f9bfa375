import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.js';
import { guessers } from '../../src/checks/guesses.js';
import { Facts } from '../../src/system/facts.js';
import type { SocketTable } from '../../src/system/socket.js';
import { replayHost } from '../helpers/replay-host.js';

// Guesses put a program where a program is asked and a unit where a unit is: a host with Debian 12's
// openssh-server installed (ssh.socket listens on 22) and nothing running.

const FIX = join(import.meta.dirname, '../fixtures/systemd');
const unitFiles = {
  '/lib/systemd/system/ssh.socket': readFileSync(join(FIX, 'debian12-ssh.socket.txt'), 'utf8'),
  '/lib/systemd/system/ssh.service': readFileSync(join(FIX, 'debian12-ssh.service.txt'), 'utf8'),
};

function context(systemd: boolean): CheckContext {
  const host = replayHost({ files: { ...unitFiles, ...(systemd ? { '/run/systemd/system/.keep': '' } : {}), '/proc/1/comm': systemd ? 'systemd\n' : 'bash\n', '/proc/1/cmdline': systemd ? '/sbin/init\0' : 'bash\0' } });
  const facts = new Facts(host, { timeoutMs: 1000 });
  const empty: SocketTable = { source: 'ss', command: 'ss', sockets: [], ownersHidden: false, notices: [] };
  facts.socketTable = async () => empty;
  return { target: { host: '127.0.0.1', port: 22, portName: 'ssh', protocol: 'tcp' }, host, facts, timeoutMs: 1000 };
}

describe('programs-for-port', () => {
  it('names sshd, from the ExecStart= of the service ssh.socket starts, and never a unit name', async () => {
    for (const systemd of [false, true]) {
      const guesses = await guessers['programs-for-port'](context(systemd));
      const values = guesses.map((g) => g.value);
      expect(values).toEqual(['sshd']);
      expect(values.some((v) => /\.(socket|service)$/.test(v) || v === 'ssh')).toBe(false);
      expect(guesses[0]).toMatchObject({ likely: true });
      expect(guesses[0]!.reason).toContain('ssh.socket listens on port 22 for ssh.service, which runs /usr/sbin/sshd');
      expect(guesses[0]!.reason).toContain('usually on port 22 (ssh)');
    }
  });
});

describe('units are guessed only where systemd runs', () => {
  it('units-for-port and unit-for-process offer nothing without systemd', async () => {
    const ctx = context(false);
    expect(await guessers['units-for-port'](ctx)).toEqual([]);
    expect(await guessers['unit-for-process'](ctx, { process: 'sshd' })).toEqual([]);
  });
});
