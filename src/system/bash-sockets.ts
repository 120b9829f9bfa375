import type { CommandResult } from '../host/runner.js';
import type { ProbeOutcome } from '../host/tcp-connect.js';
import type { UdpProbeOutcome } from '../host/udp-probe.js';
import { socketErrno } from './strerror.js';

// A TCP connect or a UDP probe made on another host with bash's /dev/tcp and /dev/udp (the ssh
// host's `connect` and `udp` scripts, host/ssh/remote-scripts.ts, whose exit statuses these read),
// as the outcome and errno a local socket would have given.

type BashRun = Pick<CommandResult, 'exitCode' | 'stdout' | 'stderr'>;

/** What failed, when nothing else says: no bash there (exit 9), else bash's last line. */
function otherError(r: BashRun): string {
  return r.exitCode === 9 ? 'no bash on the server' : r.stderr.trim().split('\n').pop() || `exit status ${r.exitCode}`;
}

/** `exec 3<>/dev/tcp/ADDRESS/PORT` under `timeout`: connected, refused, unreachable, timeout or error. */
export function tcpConnectOfBash(r: BashRun): { outcome: ProbeOutcome; errno?: string } {
  if (r.exitCode === 0) return { outcome: 'connected' };
  if (r.exitCode === 124 || /timed out/i.test(r.stderr)) return { outcome: 'timeout', errno: 'ETIMEDOUT' };
  const errno = socketErrno(r.stderr);
  if (errno) return { outcome: errno === 'ECONNREFUSED' ? 'refused' : 'unreachable', errno };
  return { outcome: 'error', errno: otherError(r) };
}

/**
 * The udp script: `sent` per datagram written, `reply` when one came back; exit 2, 3 or 4 when the
 * connect, a write or a read failed (bash's error on stderr), 5 or 124 for silence.
 */
export function udpProbeOfBash(r: BashRun): { outcome: UdpProbeOutcome; errno?: string; tries: number } {
  const tries = r.stdout.split('\n').filter((l) => l === 'sent').length;
  const e = r.stderr;
  const result = (outcome: UdpProbeOutcome, errno?: string) => ({ outcome, ...(errno ? { errno } : {}), tries });
  if (r.exitCode === 0 && /^reply$/m.test(r.stdout)) return result('reply');
  if (r.exitCode === 5 || r.exitCode === 124) return result('silent');
  const errno = socketErrno(e);
  if (errno) return result(errno === 'ECONNREFUSED' ? 'refused' : 'unreachable', errno);
  if (/Operation not permitted/.test(e)) return result('error', 'EPERM');
  // A read that fails so is ICMPv6's "administratively prohibited"; a connect, a prohibit route.
  if (/Permission denied/.test(e)) return result(r.exitCode === 4 ? 'unreachable' : 'error', 'EACCES');
  if (/Invalid argument/.test(e)) return result('error', 'EINVAL');
  return result('error', otherError(r));
}
