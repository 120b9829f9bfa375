import { describe, expect, it } from 'vitest';
import { tcpConnectOfBash, udpProbeOfBash } from '../../src/system/bash-sockets.js';
import { captured } from '../helpers/fixtures.js';

// The ssh host's connect and udp scripts run over ssh, in a namespace with an unreachable and a
// prohibit route, a TCP listener, a UDP echo and a UDP port that never answers
// (test/fixtures/capture-ssh-host.sh).
describe('tcpConnectOfBash on captured /dev/tcp connects', () => {
  it.each([
    ['connect-connected', { outcome: 'connected' }],
    ['connect-refused', { outcome: 'refused', errno: 'ECONNREFUSED' }],
    ['connect-timeout', { outcome: 'timeout', errno: 'ETIMEDOUT' }],
    ['connect-no-route', { outcome: 'unreachable', errno: 'EHOSTUNREACH' }],
    ['connect-network-unreachable', { outcome: 'unreachable', errno: 'ENETUNREACH' }],
    ['connect-prohibited', { outcome: 'error', errno: '10.56.0.1: line 1: /dev/tcp/10.56.0.1/7171: Permission denied' }],
  ])('%s', (name, expected) => {
    expect(tcpConnectOfBash(captured('bash', name))).toEqual(expected);
  });

  it('no bash on the server (the script exits 9)', () => {
    expect(tcpConnectOfBash({ exitCode: 9, stdout: '', stderr: '' })).toEqual({ outcome: 'error', errno: 'no bash on the server' });
  });
});

describe('udpProbeOfBash on captured /dev/udp probes', () => {
  it.each([
    ['udp-reply', { outcome: 'reply', tries: 1 }],
    ['udp-refused', { outcome: 'refused', errno: 'ECONNREFUSED', tries: 1 }],
    ['udp-silent', { outcome: 'silent', tries: 3 }],
    ['udp-no-route', { outcome: 'unreachable', errno: 'EHOSTUNREACH', tries: 0 }],
    ['udp-prohibited', { outcome: 'error', errno: 'EACCES', tries: 0 }],
  ])('%s', (name, expected) => {
    expect(udpProbeOfBash(captured('bash', name))).toEqual(expected);
  });
});
