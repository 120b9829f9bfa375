import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandWords, programOfArgv, programOfUnit, unitSection, unitsMentioning } from '../../../src/system/systemd/unit-files.js';
import type { UnitFileText } from '../../../src/host/host.js';

// A unit name is never a program name: the program of a unit that mentions a port is its ExecStart=.

const FIX = join(import.meta.dirname, '../../fixtures/systemd');
const file = (unit: string, fixture: string, dir = '/lib/systemd/system'): UnitFileText => ({ unit, path: `${dir}/${unit}`, text: readFileSync(join(FIX, fixture), 'utf8') });
// Debian 12's openssh-server: ssh.socket (ListenStream=22) and ssh.service (ExecStart=/usr/sbin/sshd -D $SSHD_OPTS).
const debian = [file('ssh.service', 'debian12-ssh.service.txt'), file('ssh.socket', 'debian12-ssh.socket.txt'), file('redis-server.service', 'debian12-redis-server.service.txt')];

describe('programOfUnit', () => {
  it("a socket unit's program is its service's ExecStart= (ssh.socket → sshd), never the unit's name", () => {
    expect(unitsMentioning(debian, 22)).toEqual(['ssh.socket']);
    expect(programOfUnit(debian, 'ssh.socket')).toEqual({ unit: 'ssh.socket', service: 'ssh.service', execStart: ['/usr/sbin/sshd', '-D', '$SSHD_OPTS'], program: 'sshd' });
  });

  it("a service's program is its own ExecStart= (ExecStartPre= is not it)", () => {
    expect(programOfUnit(debian, 'redis-server.service')?.program).toBe('redis-server');
    expect(programOfUnit(debian, 'ssh.service')?.program).toBe('sshd');
  });

  it('a drop-in that resets ExecStart= replaces the program; Accept=yes starts NAME@.service; Service= names another', () => {
    const files: UnitFileText[] = [
      { unit: 'web.service', path: '/lib/systemd/system/web.service', text: '[Service]\nExecStart=/usr/bin/python3 /srv/old.py\n' },
      { unit: 'web.service', path: '/etc/systemd/system/web.service.d/override.conf', text: '[Service]\nExecStart=\nExecStart=-/usr/bin/env PORT=7071 node /srv/web/api.js\n' },
      { unit: 'echo.socket', path: '/etc/systemd/system/echo.socket', text: '[Socket]\nListenStream=7\nAccept=yes\n' },
      { unit: 'echo@.service', path: '/etc/systemd/system/echo@.service', text: '[Service]\nExecStart=/usr/local/bin/echod\n' },
      { unit: 'front.socket', path: '/etc/systemd/system/front.socket', text: '[Socket]\nListenStream=81\nService=web.service\n' },
      { unit: 'empty.socket', path: '/etc/systemd/system/empty.socket', text: '[Socket]\nListenStream=82\n' },
    ];
    expect(programOfUnit(files, 'web.service')?.program).toBe('api');
    expect(programOfUnit(files, 'echo.socket')).toMatchObject({ service: 'echo@.service', program: 'echod' });
    expect(programOfUnit(files, 'front.socket')).toMatchObject({ service: 'web.service', program: 'api' });
    // Its service has no unit file here: no program, and never the name 'empty'.
    expect(programOfUnit(files, 'empty.socket')).toBeUndefined();
  });

  it('reads sections and Exec lines as systemd writes them', () => {
    expect(unitSection(['[Service]\nExecStart=/a \\\n  --flag\n[Install]\nExecStart=/b\n'], 'Service')).toEqual({ ExecStart: ['/a    --flag'] });
    expect(commandWords('@/usr/bin/prog "a b" c')).toEqual(['/usr/bin/prog', 'a b', 'c']);
    expect(programOfArgv(['$BINARY', '--x'])).toBeUndefined();
    // An interpreter with inline code names no program: any node or sh would match it.
    expect(programOfArgv(['/usr/bin/node', '-e', "require('net').createServer().listen(7072)"])).toBeUndefined();
    expect(programOfArgv(['/bin/sh', '-c', 'exec /srv/run'])).toBeUndefined();
    expect(programOfArgv(['/usr/bin/python3', '/srv/myapp.py', '--port', '7072'])).toBe('myapp');
  });
});
