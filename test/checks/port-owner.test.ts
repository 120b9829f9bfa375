import { describe, expect, it } from 'vitest';
import { decidePortOwner, portOwner, type PortOwnerReadings } from '../../src/checks/port-owner.js';
import type { SocketTable, TcpSocket } from '../../src/system/socket.js';
import type { SocketUnit } from '../../src/system/systemd/sockets.js';
import type { UnitStatus } from '../../src/system/systemd/units.js';

// The port-owner step's decision on plain readings: who holds the socket against what was named,
// with the units, command lines and socket units it read.

const params = (more: { process?: string; service?: string } = {}) => portOwner.params.parse({ port: '7071', ...more });

function listener(owners: { pid: number; program: string }[] | undefined, more: Partial<TcpSocket> = {}): TcpSocket {
  return { family: 'inet', state: 'LISTEN', recvQ: 0, sendQ: 128, local: { address: '0.0.0.0', port: 7071 }, peer: { address: '0.0.0.0', port: 0 }, ...(owners ? { owners: owners.map((o) => ({ ...o, fd: 3 })) } : {}), ...more };
}

function readings(list: TcpSocket[], more: Partial<PortOwnerReadings> = {}): PortOwnerReadings {
  const table: SocketTable = { source: 'ss', command: 'ss', sockets: list, ownersHidden: false, notices: [] };
  return { protocol: 'tcp', table, listening: list, units: {}, argv: {}, ...more };
}

const appSocket: SocketUnit = { unit: 'app.socket', listen: [{ address: '0.0.0.0:7071', kind: 'Stream' }], service: 'app.service', accept: false, state: 'active', subState: 'listening', result: 'success' };
const appService = { state: 'inactive', unit: 'app.service', subState: 'dead', commands: [{ phase: 'ExecStart', path: '/usr/bin/appd', argv: ['/usr/bin/appd'] }] } as unknown as UnitStatus;

describe("the port-owner step's decision", () => {
  it('none: nothing listens (UDP: nothing is bound)', () => {
    expect(decidePortOwner(readings([]), params())).toMatchObject({ outcome: 'none', status: 'fail', summary: 'nothing listens on port 7071', command: "ss -Htlnp 'sport = :7071'", evidence: {} });
    expect(decidePortOwner({ ...readings([]), protocol: 'udp' }, params())).toMatchObject({ outcome: 'none', summary: 'nothing is bound to UDP port 7071', command: "ss -Hulnp 'sport = :7071'" });
  });

  it('hidden: not root, so sudo; root and still no owner, said as such', () => {
    const r = readings([listener(undefined)]);
    r.table.ownersHidden = true;
    expect(decidePortOwner(r, params())).toMatchObject({ outcome: 'hidden', status: 'info', command: "sudo ss -Htlnp 'sport = :7071'", evidence: { ownersHidden: true } });
    expect(decidePortOwner(readings([listener([])]), params()).summary).toBe('no process could be found holding port 7071');
  });

  it('unnamed: who holds it, grouped by program and unit', () => {
    const d = decidePortOwner(readings([listener([{ pid: 41, program: 'nginx' }, { pid: 42, program: 'nginx' }])], { units: { 41: 'nginx.service', 42: 'nginx.service' } }), params());
    expect(d).toMatchObject({ outcome: 'unnamed', status: 'info', summary: 'port 7071 is held by nginx (pids 41, 42) in nginx.service', evidence: { expected: '', holderText: 'nginx (pids 41, 42) in nginx.service' } });
  });

  it('expected: by process name, by the script an interpreter runs, by unit, by the unit an alias names', () => {
    const nginx = readings([listener([{ pid: 41, program: 'nginx' }])], { units: { 41: 'nginx.service' } });
    expect(decidePortOwner(nginx, params({ process: 'nginx' }))).toMatchObject({ outcome: 'expected', summary: 'port 7071 is held by nginx (pid 41) in nginx.service, as expected' });
    expect(decidePortOwner(nginx, params({ service: 'nginx' })).outcome).toBe('expected');
    const script = readings([listener([{ pid: 50, program: 'python3' }])], { argv: { 50: ['python3', '/srv/myapp.py'] } });
    expect(decidePortOwner(script, params({ process: 'myapp' })).outcome).toBe('expected');
    const alias = readings([listener([{ pid: 60, program: 'sshd' }])], { units: { 60: 'ssh.service' }, namedUnit: { ...(appService as object), unit: 'ssh.service', state: 'active' } as UnitStatus });
    expect(decidePortOwner(alias, params({ service: 'sshd' })).outcome).toBe('expected');
  });

  it('other: someone else holds it (PORT_TAKEN); an alias systemd does not know matches nothing', () => {
    const r = readings([listener([{ pid: 41, program: 'nginx' }])], { units: { 41: 'nginx.service' }, argv: { 41: ['nginx: master process /usr/sbin/nginx'] } });
    expect(decidePortOwner(r, params({ process: 'apache2' }))).toMatchObject({ outcome: 'other', status: 'fail', summary: 'port 7071 is held by nginx (pid 41) in nginx.service, not by apache2' });
    const unknown = { ...r, namedUnit: { state: 'not-found', unit: 'web.service' } as UnitStatus };
    expect(decidePortOwner(unknown, params({ service: 'web' })).outcome).toBe('other');
    const udp = decidePortOwner({ ...r, protocol: 'udp' }, params({ process: 'dnsmasq' }));
    expect(udp.summary).toBe('nginx (pid 41) in nginx.service is bound to UDP port 7071, not dnsmasq');
  });

  it('socket-activated: pid 1 holds it for a socket unit; named by the socket, its service or its program', () => {
    const r = readings([listener([{ pid: 1, program: 'systemd' }])], { units: {}, socketUnits: [appSocket], serviceStatuses: [appService] });
    const d = decidePortOwner(r, params());
    expect(d).toMatchObject({
      outcome: 'socket-activated',
      status: 'pass',
      summary: 'systemd listens on port 7071 for app.socket, which starts app.service on the first connection',
      command: "ss -Htlnp 'sport = :7071'; systemctl list-sockets --all",
      evidence: { socket: 'app.socket', listen: ['0.0.0.0:7071'], accept: false, service: 'app', serviceState: 'inactive (dead)', holderText: 'systemd (pid 1) for app.socket (app.service)' },
    });
    expect(decidePortOwner(r, params({ service: 'app.socket' })).outcome).toBe('socket-activated');
    expect(decidePortOwner(r, params({ process: 'appd' })).outcome).toBe('socket-activated');
    expect(decidePortOwner(r, params({ process: 'nginx' }))).toMatchObject({ outcome: 'other', summary: 'port 7071 is held by systemd (pid 1) for app.socket (app.service), not by nginx' });
  });

  it('socket-activated once its service runs: the service holds the socket; a socket unit on another port is not it', () => {
    const running = readings([listener([{ pid: 70, program: 'appd' }])], { units: { 70: 'app.service' }, socketUnits: [appSocket], serviceStatuses: [appService] });
    expect(decidePortOwner(running, params({ process: 'appd' }))).toMatchObject({ outcome: 'socket-activated', summary: 'systemd listens on port 7071 for app.socket, which starts app.service on the first connection; app.service runs (appd (pid 70) in app.service)' });
    const elsewhere = { ...running, socketUnits: [{ ...appSocket, listen: [{ address: '0.0.0.0:9000', kind: 'Stream' }] }] };
    expect(decidePortOwner(elsewhere, params({ process: 'appd' })).outcome).toBe('expected');
  });

  it('Accept=yes: an instance per connection, for TCP and for UDP datagrams', () => {
    const perConnection = { ...appSocket, accept: true, service: 'app@.service' };
    const r = readings([listener([{ pid: 1, program: 'systemd' }])], { socketUnits: [perConnection] });
    expect(decidePortOwner(r, params()).summary).toBe('systemd listens on port 7071 for app.socket, which starts an instance of app@.service for each connection');
    const udp = { ...r, protocol: 'udp' as const, socketUnits: [{ ...appSocket, listen: [{ address: '0.0.0.0:7071', kind: 'Datagram' }] }], serviceStatuses: [appService] };
    expect(decidePortOwner(udp, params()).summary).toBe('systemd holds UDP port 7071 for app.socket, which starts app.service on the first datagram');
  });
});
