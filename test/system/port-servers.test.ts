import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { localHost } from '../../src/host/local.js';
import { serveAdvice } from '../../src/system/port-servers.js';

/**
 * What should serve a port nothing listens on, read from this machine's real files (the Debian
 * packages installed here); whether systemd runs is the one fact given, both ways, since this
 * machine's PID 1 is not systemd but the hosts whyport meets mostly are.
 */
const memcached = existsSync('/usr/bin/memcached') && existsSync('/lib/systemd/system/memcached.service') && existsSync('/etc/init.d/memcached');

describe.skipIf(!memcached)('serveAdvice on this machine (memcached installed)', () => {
  it('with systemd running: its unit', async () => {
    const a = await serveAdvice(localHost, 11211, 'tcp', async () => true);
    expect(a.start).toEqual(['systemctl', 'start', 'memcached']);
    expect(a.text).toMatch(/^Port 11211 \(memcache\) is usually served by memcached, installed here and not running: start it with its service memcached, below; /);
  });
  it('without systemd: its init script, with service', async () => {
    const a = await serveAdvice(localHost, 11211, 'tcp', async () => false);
    expect(a.start).toEqual(['service', 'memcached', 'start']);
    expect(a.text).toContain('its init script /etc/init.d/memcached (this host runs no systemd)');
  });
});

describe('serveAdvice for a port no program is known for', () => {
  it('no start command, only the search for what mentions the port', async () => {
    const a = await serveAdvice(localHost, 47123, 'tcp', async () => false);
    expect(a.start).toBeUndefined();
    expect(a.find).toEqual(['grep', '-rlswI', '--', '47123', '/etc', '/usr/lib/systemd/system', '/lib/systemd/system']);
  });
});
