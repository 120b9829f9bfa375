import { describe, expect, it } from 'vitest';
import { decideNamespaces, namespaces, publishCommand, type NamespacesReadings } from '../../src/checks/namespaces.js';
import { otherNamespacesOf } from '../../src/system/namespaces.js';
import { nameNamespace } from '../../src/analysis/namespaces.js';
import type { DecideContext } from '../../src/checks/check.js';
import type { TcpSocket } from '../../src/system/socket.js';
import { paramsOf } from './replay.js';
import { assertHas } from '../helpers/narrow.js';

// The namespaces step's decision, from the other namespaces' sockets as read from /proc.

const at = (protocol: 'tcp' | 'udp' = 'tcp'): DecideContext => ({ target: { host: '127.0.0.1', port: 7071, protocol }, timeoutMs: 1000 });

function sock(address: string, port: number, state: TcpSocket['state'] = 'LISTEN'): TcpSocket {
  return { family: address.includes(':') ? 'inet6' : 'inet', state, recvQ: 0, sendQ: 0, local: { address, port }, peer: { address: '0.0.0.0', port: 0 }, inode: 4242 };
}

const docker = (sockets: TcpSocket[]) => ({ inode: 4026532301, pid: 812, cgroup: '0::/system.slice/docker-3f2a9c1b7e4d5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a.scope', names: [], sockets });
const netns = (sockets: TcpSocket[]) => ({ inode: 4026532400, pid: 900, names: ['blue'], sockets });
const found = { owners: { owners: [{ inode: 4242, holders: [{ pid: 812, program: 'myapp' }] }], hidden: false }, addresses: ['127.0.0.1', '172.17.0.2', 'fe80::1'] };

describe('decideNamespaces', () => {
  it('hidden: not root and no namespace could be read', () => {
    const d = decideNamespaces({ root: false, views: [] }, { port: 7071 }, at());
    expect(d).toMatchObject({ outcome: 'hidden', status: 'info', evidence: { looked: 0 }, command: 'lsns -t net' });
  });

  it('none: root, and no other namespace', () => {
    const d = decideNamespaces({ root: true, views: [] }, { port: 7071 }, at());
    expect(d).toMatchObject({ outcome: 'none', summary: 'this host has no other network namespace (no container) to look in', evidence: { looked: 0 } });
  });

  it('none: the namespaces looked at have nothing on the port', () => {
    const d = decideNamespaces({ root: true, views: [netns([sock('0.0.0.0', 22)])] }, { port: 7071 }, at());
    expect(d.summary).toBe('no other network namespace of this host (1 looked at) has a listener on port 7071');
    expect(d.command).toBe("nsenter -t 900 -n ss -Htlnp 'sport = :7071'");
  });

  it('listening: a container listens on every address; its name from the runtime, its address and the publish command', () => {
    const r: NamespacesReadings = { root: true, views: [netns([sock('127.0.0.1', 7071)]), docker([sock('0.0.0.0', 7071)])], found: { ...found, containerName: 'web' } };
    const d = decideNamespaces(r, { port: 7071 }, at());
    expect(d.outcome).toBe('listening');
    expect(d.status).toBe('fail');
    expect(d.summary).toBe('myapp (pid 812) listens on 0.0.0.0:7071 inside container web (docker 3f2a9c1b7e4d), a network namespace of its own');
    expect(d.evidence).toMatchObject({ namespace: { kind: 'container', name: 'web', pid: 812 }, listeners: ['0.0.0.0:7071'], loopbackOnly: false, looked: 2, address: '172.17.0.2', publish: ['docker', 'run', '-p', '7071:7071', 'IMAGE'] });
  });

  it('listening on loopback only, in a named netns, over UDP', () => {
    const r: NamespacesReadings = { root: true, views: [netns([sock('127.0.0.1', 7071, 'UNCONN')])], found: { ...found, owners: { owners: [], hidden: true }, addresses: ['127.0.0.1'] } };
    const d = decideNamespaces(r, { port: 7071 }, at('udp'));
    expect(d.summary).toBe('a program is bound to UDP 127.0.0.1:7071 inside network namespace blue, a network namespace of its own (on loopback only, even there)');
    assertHas(d.evidence, 'publish');
    expect(d.evidence.publish).toEqual(['iptables', '-t', 'nat', '-A', 'PREROUTING', '-p', 'udp', '--dport', '7071', '-j', 'DNAT', '--to-destination', 'ADDRESS:7071']);
    expect(d.evidence).not.toHaveProperty('address');
  });

  it('publishCommand: nspawn and kubernetes', () => {
    expect(publishCommand({ ...nameNamespace(netns([])), container: { runtime: 'nspawn', cgroup: '/payload/init.scope' } }, 53, undefined, 'udp')).toEqual(['systemd-nspawn', '--port=udp:53:53', '-M', 'blue']);
  });
});

describe('namespaces.prefetch', () => {
  it("the other namespaces' sockets of the target's protocol, only when the target is this host", () => {
    const p = paramsOf(namespaces, { port: '53', host: '127.0.0.1' });
    expect(namespaces.prefetch?.(p, at('udp'))).toEqual([{ reader: otherNamespacesOf, key: 'udp', onlyForLocalTarget: true }]);
    expect(namespaces.prefetch?.(p, at('tcp'))).toEqual([{ reader: otherNamespacesOf, key: 'tcp', onlyForLocalTarget: true }]);
  });
});
