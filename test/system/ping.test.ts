import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { icmpErrorKind, parsePing, pingArgv, pingDeadlineSeconds, pingOnce, type PingResult } from '../../src/system/ping.js';
import { pingShowsLife } from '../../src/analysis/life.js';
import type { CommandResult, Runner } from '../../src/system/runner.js';

// iputils ping's real output, captured between two network namespaces by
// test/fixtures/ping/capture.sh: stdout, stderr and exit status of each case.
function captured(name: string): { stdout: string; stderr: string; exitCode: number } {
  const file = (suffix: string) => new URL(`../fixtures/ping/${name}${suffix}`, import.meta.url);
  const read = (suffix: string) => (existsSync(file(suffix)) ? readFileSync(file(suffix), 'utf8') : '');
  return { stdout: read('.txt'), stderr: read('.stderr.txt'), exitCode: Number(read('.exitcode').trim()) };
}

const parse = (name: string) => {
  const c = captured(name);
  return parsePing(c.stdout, c.stderr, c.exitCode);
};

describe('parsePing on captured output', () => {
  it('an echo reply, IPv4 and IPv6: round-trip time and ttl', () => {
    // The times change with each capture: the round trip is the reply line's `time=`, not the
    // summary's `time 0ms` (the whole run) nor its rounded min/avg/max.
    for (const name of ['reply-v4', 'reply-v6']) {
      const r = parse(name);
      const replyLine = captured(name).stdout.split('\n').find((l) => l.startsWith('64 bytes from'))!;
      expect(r).toEqual({ outcome: 'reply', ttl: 64, rttMs: Number(/ time=([\d.]+) ms$/.exec(replyLine)![1]) });
      expect(r.rttMs).toBeGreaterThan(0);
    }
  });

  it('nothing back before the deadline (nobody at the address)', () => {
    expect(parse('no-reply')).toEqual({ outcome: 'no-reply' });
  });

  it('ARP and neighbour discovery gave up: this machine itself reports the host unreachable', () => {
    expect(parse('host-unreachable')).toEqual({ outcome: 'icmp-error', icmpError: { from: '10.213.9.1', kind: 'host-unreachable', message: 'Destination Host Unreachable' } });
    expect(parse('host-unreachable-v6')).toEqual({ outcome: 'icmp-error', icmpError: { from: 'fd00:213:9::1', kind: 'host-unreachable', message: 'Destination unreachable: Address unreachable' } });
  });

  it('the target rejects the echo with admin-prohibited: an error, but sent by the host itself', () => {
    expect(parse('packet-filtered')).toEqual({ outcome: 'icmp-error', icmpError: { from: '10.213.9.2', kind: 'admin-prohibited', message: 'Packet filtered' } });
    expect(parse('packet-filtered-v6')).toEqual({ outcome: 'icmp-error', icmpError: { from: 'fd00:213:9::2', kind: 'admin-prohibited', message: 'Destination unreachable: Administratively prohibited' } });
    expect(parse('port-unreachable').icmpError).toEqual({ from: '10.213.9.2', kind: 'port-unreachable', message: 'Destination Port Unreachable' });
  });

  it('no route: the kernel refuses to send (exit 2, on stderr)', () => {
    expect(parse('network-unreachable')).toEqual({ outcome: 'no-route', error: 'connect: Network is unreachable' });
    expect(parse('network-unreachable-v6')).toEqual({ outcome: 'no-route', error: 'connect: Network is unreachable' });
    expect(parse('no-route-to-host')).toEqual({ outcome: 'no-route', error: 'connect: No route to host' });
  });

  it('without CAP_NET_RAW: not permitted, with the line that says why', () => {
    expect(parse('not-permitted')).toEqual({ outcome: 'not-permitted', error: 'socket: Operation not permitted' });
  });

  it('anything else is a failure carrying what ping said', () => {
    expect(parsePing('', 'ping: unknown iface eth9\n', 2)).toEqual({ outcome: 'failed', error: 'unknown iface eth9' });
    expect(parsePing('', '', 2)).toEqual({ outcome: 'failed', error: 'exit status 2' });
  });

  it('ICMP error messages of older and other ping builds', () => {
    expect(icmpErrorKind('Communication prohibited by filter')).toBe('admin-prohibited');
    expect(icmpErrorKind('Destination Net Unreachable')).toBe('net-unreachable');
    expect(icmpErrorKind('Destination unreachable: No route')).toBe('net-unreachable');
    expect(icmpErrorKind('Destination unreachable: Port unreachable')).toBe('port-unreachable');
    expect(icmpErrorKind('Time to live exceeded')).toBe('other');
  });
});

describe('running ping', () => {
  const replaying = (c: Partial<CommandResult>): { runner: Runner; ran: (readonly string[])[] } => {
    const ran: (readonly string[])[] = [];
    return {
      ran,
      runner: { run: async (argv) => (ran.push(argv), { argv, exitCode: 0, stdout: '', stderr: '', missing: false, timedOut: false, durationMs: 3, ...c }) },
    };
  };

  it('one echo, numeric, waiting at most a second (less with a shorter probe timeout)', () => {
    expect(pingArgv('10.0.0.5', 3000)).toEqual(['ping', '-c', '1', '-W', '1', '-n', '10.0.0.5']);
    expect(pingDeadlineSeconds(500)).toBe('0.5');
    expect(pingDeadlineSeconds(20)).toBe('0.1');
  });

  it('a missing ping is said so, not mistaken for silence', async () => {
    const { runner } = replaying({ exitCode: null, missing: true });
    expect(await pingOnce(runner, '10.0.0.5', { timeoutMs: 1000 })).toMatchObject({ outcome: 'missing', command: 'ping -c 1 -W 1 -n 10.0.0.5' });
  });

  it('a reply is life; an error from the host itself is life; an error from elsewhere is not', async () => {
    const c = captured('reply-v4');
    const reply = await pingOnce(replaying(c).runner, '10.213.9.2', { timeoutMs: 1000 });
    expect(pingShowsLife(reply)).toBe(true);
    const filtered: PingResult = { address: '10.213.9.2', command: '', durationMs: 1, ...parse('packet-filtered') };
    expect(pingShowsLife(filtered)).toBe(true);
    const down: PingResult = { address: '10.213.9.78', command: '', durationMs: 1, ...parse('host-unreachable') };
    expect(pingShowsLife(down)).toBe(false);
  });
});
