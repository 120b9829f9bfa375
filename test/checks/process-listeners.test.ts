import { describe, expect, it } from 'vitest';
import { processListeners, type ProcessListenersReadings } from '../../src/checks/process-listeners.js';
import type { TcpSocket } from '../../src/system/socket.js';

// The process-listeners step's decision on plain readings: the process's socket inodes against the
// host's listeners.

const at = (protocol: 'tcp' | 'udp' = 'tcp') => ({ target: { host: '127.0.0.1', port: 7071, protocol }, timeoutMs: 1000 });
const params = (more: { name?: string; pid?: string } = {}) => processListeners.params.parse({ port: '7071', ...more });

function listener(address: string, port: number, inode: number): TcpSocket {
  return { family: 'inet', state: 'LISTEN', recvQ: 0, sendQ: 128, local: { address, port }, peer: { address: '0.0.0.0', port: 0 }, inode };
}

const host = [listener('0.0.0.0', 7071, 100), listener('127.0.0.1', 8080, 200), listener('0.0.0.0', 22, 300)];
const readings = (more: Partial<ProcessListenersReadings>): ProcessListenersReadings => ({ protocol: 'tcp', pids: [41, 42], byPid: false, sockets: [], listeners: host, ...more });

describe("the process-listeners step's decision", () => {
  it('not-running: no process of the name (or the pid is gone)', () => {
    expect(processListeners.decide(readings({ pids: [] }), params({ name: 'app' }), at())).toEqual({ outcome: 'not-running', status: 'fail', summary: 'app is not running', command: `ss -Htlnp | grep '"app"'`, evidence: { pids: [] } });
    expect(processListeners.decide(readings({ pids: [] }), params({ pid: '99' }), at()).summary).toBe('pid 99 is not running');
  });

  it('this-port: one of its sockets listens on the port', () => {
    const d = processListeners.decide(readings({ sockets: [{ pid: 41, inodes: [100, 200] }, { pid: 42, inodes: 'gone' }] }), params({ name: 'app' }), at());
    expect(d).toMatchObject({ outcome: 'this-port', status: 'pass', summary: 'app listens on port 7071', evidence: { pids: [41, 42], ports: [7071, 8080], listeners: ['0.0.0.0:7071', '127.0.0.1:8080'] } });
  });

  it('other-ports: it listens, elsewhere; an interpreter’s program is grepped by pid', () => {
    const d = processListeners.decide(readings({ byPid: true, sockets: [{ pid: 41, inodes: [200] }] }), params({ name: 'myapp' }), at());
    expect(d).toMatchObject({ outcome: 'other-ports', status: 'fail', summary: 'myapp listens on 127.0.0.1:8080 — not on port 7071', command: "ss -Htlnp | grep -E 'pid=(41|42),'" });
    const udp = processListeners.decide({ ...readings({ sockets: [{ pid: 41, inodes: [200] }] }), protocol: 'udp' }, params({ pid: '41' }), at('udp'));
    expect(udp).toMatchObject({ summary: 'pid 41 is bound to UDP 127.0.0.1:8080 — not to port 7071', command: 'ss -Hulnp | grep pid=41' });
  });

  it('hidden: its descriptors cannot be read (not root)', () => {
    const d = processListeners.decide(readings({ sockets: [{ pid: 41, inodes: 'hidden' }] }), params({ name: 'app' }), at());
    expect(d).toMatchObject({ outcome: 'hidden', status: 'info', summary: 'cannot see the sockets of app: whyport is not root', command: `sudo ss -Htlnp | grep '"app"'` });
  });

  it('none: it runs and holds no listening socket', () => {
    const d = processListeners.decide(readings({ sockets: [{ pid: 41, inodes: [999] }] }), params({ name: 'app' }), at());
    expect(d).toMatchObject({ outcome: 'none', summary: 'app runs (pid 41, 42) but listens on no TCP port', evidence: { ports: [], listeners: [] } });
    expect(processListeners.decide({ ...readings({ sockets: [] }), protocol: 'udp' }, params({ name: 'app' }), at('udp')).summary).toBe('app runs (pid 41, 42) but is bound to no UDP port');
  });
});
