import { describe, expect, it } from 'vitest';
import { arrival, decideArrival, type ArrivalReadings } from '../../src/checks/arrival.js';
import { runCheck } from '../../src/checks/check.js';
import { contextWith, FakeFacts, replay } from './replay.js';

// The arrival step's decision, from what it read: the client's packets captured on the server, none,
// or a capture that could not run.

const at = (protocol: 'tcp' | 'udp' = 'tcp') => ({ target: { host: 'appserver', port: 7071, protocol }, timeoutMs: 1000 });
const params = { host: 'appserver', port: 7071 };
const via = { client: '10.0.0.9', server: '10.0.0.5' };
const probe = { address: '10.0.0.5', port: 7071, outcome: 'timeout' as const, durationMs: 1600 };
const captured = (syns: number): ArrivalReadings => ({ via, kind: 'captured', address: '10.0.0.5', capture: { kind: 'captured', syns, lines: Array(syns).fill('IP 10.0.0.9.40000 > 10.0.0.5.7071: Flags [S]') }, probe });
const FILTER = 'tcp dst port 7071 and tcp[tcpflags] & tcp-syn != 0 and src host 10.0.0.9';

describe('decideArrival', () => {
  it('arrived: SYNs captured from the client, none answered', () => {
    const d = decideArrival(captured(2), params, at());
    expect(d).toMatchObject({
      outcome: 'arrived',
      status: 'fail',
      summary: "the client's SYNs arrive at the server (2 captured from 10.0.0.9 to 10.0.0.5:7071), and the server does not answer them",
      command: `tcpdump -n -i any -c 2 '${FILTER}'`,
      evidence: { client: '10.0.0.9', server: '10.0.0.5', filter: FILTER, syns: 2, probe },
    });
  });

  it('none-arrived: nothing captured while the client connected', () => {
    expect(decideArrival(captured(0), params, at()).summary).toBe(
      "none of the client's SYNs from 10.0.0.9 arrived at the server (tcpdump captured nothing for 10.0.0.5:7071 in 3 s while the client connected): they die on the way",
    );
  });

  it('UDP: datagrams, and the filter is the port only', () => {
    const d = decideArrival({ kind: 'captured', address: '10.0.0.5', capture: { kind: 'captured', syns: 0, lines: [] }, probe }, { host: 'appserver', port: 53 }, at('udp'));
    expect(d).toMatchObject({ outcome: 'none-arrived', evidence: { filter: 'udp dst port 53' } });
    expect(d.summary).toMatch(/^none of the client's datagrams arrived at the server \(tcpdump captured nothing for 10\.0\.0\.5:53 in 3 s while the client sent\)/);
  });

  it("a probe from another address than ssh's (a two-homed client): the capture takes both, and names the probe's", () => {
    const r: ArrivalReadings = { via, kind: 'captured', address: '10.0.0.5', source: '10.0.0.7', capture: { kind: 'captured', syns: 2, lines: ['20:53:40.411614 eth1   In  IP 10.0.0.7.34078 > 10.0.0.5.7071: Flags [S], seq 1, win 64240, length 0'] }, probe };
    const d = decideArrival(r, params, at());
    expect(d).toMatchObject({
      outcome: 'arrived',
      evidence: { client: '10.0.0.7', sshClient: '10.0.0.9', source: '10.0.0.7', interface: 'eth1', filter: 'tcp dst port 7071 and tcp[tcpflags] & tcp-syn != 0 and (src host 10.0.0.7 or src host 10.0.0.9)' },
    });
    expect(d.summary).toContain('from 10.0.0.7');
  });

  it('cannot: no client end, a name the client cannot resolve, a capture that did not run', () => {
    expect(decideArrival({ kind: 'no-client' }, params, at())).toMatchObject({ outcome: 'cannot', status: 'info', summary: 'there is no client end to connect from (the capture runs with --ssh)' });
    expect(decideArrival({ via, kind: 'unresolved' }, params, at()).summary).toBe('appserver does not resolve on the client');
    const reason = 'tcpdump is not installed on the server: …';
    expect(decideArrival({ via, kind: 'captured', address: '10.0.0.5', capture: { kind: 'cannot', reason }, probe }, params, at())).toMatchObject({ outcome: 'cannot', evidence: { reason, filter: FILTER } });
  });
});

describe('the arrival step without a client end', () => {
  it('reads only who it is, and captures nothing', async () => {
    const host = replay({}, { identity: { hostname: 'server', uid: 0, root: true, byteOrder: 'LE' } });
    const res = await runCheck(arrival, params, contextWith(host, new FakeFacts(host), { host: 'appserver' }));
    expect(res.outcome).toBe('cannot');
    expect(host.calls).toEqual(['identity']);
  });
});
