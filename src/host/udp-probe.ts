import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';

/** What a UDP probe ran into: a reply, an ICMP error the kernel reported, or nothing at all. */
export type UdpProbeOutcome = 'reply' | 'refused' | 'unreachable' | 'silent' | 'error';

export interface UdpProbeResult {
  address: string;
  port: number;
  outcome: UdpProbeOutcome;
  /** The errno: ECONNREFUSED (ICMP port unreachable), EHOSTUNREACH (admin-prohibited), ENETUNREACH, EPERM, … */
  errno?: string;
  durationMs: number;
  /** Datagrams sent before the verdict. */
  tries: number;
  /** The payload's name (src/knowledge/udp-payloads.ts), or 'empty'. */
  payload: string;
  /** The size of the reply, when one came. */
  replyBytes?: number;
}

export interface UdpProbeOptions {
  timeoutMs: number;
  /** The datagram to send; an empty one when not given. */
  payload?: Uint8Array;
  /** Its name, for the result ('empty' when there is no payload, 'custom' when it is not named). */
  payloadName?: string;
  /** Ctrl-C: the probe ends at once (outcome 'error', errno ABORT_ERR) and its socket is closed. */
  signal?: AbortSignal;
}

/**
 * When the tries go out, in ms after the first: the gaps double from 250 ms (0, 250, 750, 1750,
 * 3750, …), so a lost datagram or an ICMP error the server's rate limit swallowed (Linux allows a
 * burst of 6, then one a second per client: net.ipv4.icmp_ratelimit) gets another chance while
 * the timeout lasts, without flooding a port that answers nothing.
 */
export function udpSendTimes(timeoutMs: number): number[] {
  const times = [0];
  for (let gap = 250; times[times.length - 1]! + gap < timeoutMs; gap *= 2) times.push(times[times.length - 1]! + gap);
  return times;
}

/** ICMP errors Linux reports to a connected UDP socket as a hard error (see probeUdp). */
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);

/**
 * Probes one UDP port at one literal address, by nmap's rule, from a CONNECTED socket: Linux
 * reports an ICMP error only to a connected UDP socket, on its next receive. Measured in
 * namespaces here: port unreachable (nothing bound, or REJECT icmp-port-unreachable) →
 * ECONNREFUSED; admin-prohibited (REJECT icmp-admin-prohibited) → EHOSTUNREACH, and over IPv6
 * (icmp6-adm-prohibited) → EACCES; no route → ENETUNREACH at connect. ICMP host- and net-unreachable from a router or a REJECT are soft errors
 * that Linux does not report to UDP without IP_RECVERR (which node does not set): they look like
 * silence, as a DROP does. A reply, or an ICMP error to any try (a late one included), ends the
 * probe at once; silence is the verdict at `timeoutMs`, never later. The socket is always closed
 * and no timer outlives the probe.
 */
export function probeUdp(address: string, port: number, opts: UdpProbeOptions): Promise<UdpProbeResult> {
  const started = performance.now();
  const payload = opts.payload ?? new Uint8Array(0);
  const name = opts.payloadName ?? (payload.length === 0 ? 'empty' : 'custom');
  return new Promise((resolve) => {
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    const timers: NodeJS.Timeout[] = [];
    let tries = 0;
    let done = false;
    const finish = (outcome: UdpProbeOutcome, extra: { errno?: string; replyBytes?: number } = {}) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener('abort', aborted);
      try {
        socket.close();
      } catch {
        // never bound: nothing to close
      }
      resolve({ address, port, outcome, ...extra, durationMs: Math.round(performance.now() - started), tries, payload: name });
    };
    const failed = (err: NodeJS.ErrnoException) => {
      const errno = err.code ?? 'UNKNOWN';
      if (errno === 'ECONNREFUSED') finish('refused', { errno });
      // ICMPv6 "administratively prohibited" comes back as EACCES on the receive; EACCES at connect
      // is a route of type prohibit.
      else if (UNREACHABLE.has(errno) || (errno === 'EACCES' && err.syscall === 'recvmsg')) finish('unreachable', { errno });
      else finish('error', { errno });
    };
    const aborted = () => finish('error', { errno: 'ABORT_ERR' });
    if (opts.signal?.aborted) return aborted();
    opts.signal?.addEventListener('abort', aborted, { once: true });
    socket.on('error', failed);
    socket.on('message', (msg) => finish('reply', { replyBytes: msg.length }));
    timers.push(setTimeout(() => finish('silent'), opts.timeoutMs));
    // No callback to connect(): given one, node hands it a connect error (ENETUNREACH) instead of
    // emitting 'error'.
    socket.once('connect', () => {
      for (const at of udpSendTimes(opts.timeoutMs)) {
        timers.push(
          setTimeout(() => {
            if (done) return;
            tries++;
            socket.send(payload, (err) => err && failed(err));
          }, at),
        );
      }
    });
    socket.connect(port, address);
  });
}
