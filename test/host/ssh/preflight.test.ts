import { describe, expect, it } from 'vitest';
import { parsePreflight } from '../../../src/host/ssh/preflight.js';
import { captured } from '../../helpers/fixtures.js';

// The preflight script as the first round trip runs it, $SSH_CONNECTION first, over ssh as root
// in a namespace with a veth of both families (test/fixtures/capture-ssh-host.sh).
describe('parsePreflight on a captured preflight', () => {
  const c = captured('ssh', 'preflight');
  const facts = parsePreflight(c.stdout, 1234);

  it('who and what the server is', () => {
    expect(c.exitCode).toBe(0);
    expect(facts.identity).toEqual({ hostname: 'vm', uid: 0, root: true, byteOrder: 'LE', via: { client: '127.0.0.1', server: '127.0.0.1' } });
    expect(facts.user).toBe('root');
    expect(facts.connection).toEqual({ client: '127.0.0.1', clientPort: expect.any(Number), server: '127.0.0.1', serverPort: 2222 });
    expect([...facts.tools]).toEqual(expect.arrayContaining(['ss', 'ip', 'bash', 'getent']));
    expect(facts.uptimeUs).toBe(Math.round(Number(/^uptime=(\S+)/m.exec(c.stdout)![1]) * 1e6));
    expect(facts.atLocalMs).toBe(1234);
  });

  it('its interfaces, from the ip -o addr show after --ip', () => {
    expect(facts.interfaces.map((i) => i.address)).toEqual(['127.0.0.1', '::1', '10.213.8.1', 'fd00:213:8::1', expect.stringMatching(/^fe80::/)]);
  });

  it('what the paths readers start with are (that sshd has an empty /run: no systemd marker)', () => {
    expect([...facts.stats]).toEqual([['/run/systemd/system', undefined]]);
    const dir = parsePreflight(c.stdout.replace('stat=-', 'stat=d 40 1796579382'), 0);
    expect(dir.stats.get('/run/systemd/system')).toEqual({ kind: 'directory', size: 40, mtimeMs: 1796579382000 });
  });

  it('a server that said nothing: a name for the report, no uid, little-endian', () => {
    expect(parsePreflight('', 0).identity).toEqual({ hostname: 'server', uid: undefined, root: false, byteOrder: 'LE' });
  });
});
