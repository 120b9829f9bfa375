import { Socket } from 'node:net';

/** What a TCP connection attempt ran into, in nmap's terms where they apply. */
export type ProbeOutcome = 'connected' | 'refused' | 'timeout' | 'unreachable' | 'error';

export interface ProbeResult {
  address: string;
  port: number;
  outcome: ProbeOutcome;
  /** The errno, e.g. ECONNREFUSED, EHOSTUNREACH, ENETUNREACH. */
  errno?: string;
  durationMs: number;
}

/**
 * One TCP connect to one literal address (no name lookup, so no happy-eyeballs choosing an address
 * for us: every resolved address is probed on its own). The socket is closed as soon as it connects.
 */
export function probeTcp(address: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = new Socket();
    let done = false;
    const finish = (outcome: ProbeOutcome, errno?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      socket.destroy();
      resolve({ address, port, outcome, ...(errno ? { errno } : {}), durationMs: Math.round(performance.now() - started) });
    };
    const timer = setTimeout(() => finish('timeout', 'ETIMEDOUT'), timeoutMs);
    // Ctrl-C: the socket is closed now, not at the timeout.
    const aborted = () => finish('error', 'ABORT_ERR');
    if (signal?.aborted) return aborted();
    signal?.addEventListener('abort', aborted, { once: true });
    socket.once('connect', () => finish('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'UNKNOWN';
      if (code === 'ECONNREFUSED') finish('refused', code);
      else if (code === 'ETIMEDOUT') finish('timeout', code);
      else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN' || code === 'ENETDOWN' || code === 'EADDRNOTAVAIL') finish('unreachable', code);
      else finish('error', code);
    });
    socket.connect({ host: address, port, noDelay: true });
  });
}
