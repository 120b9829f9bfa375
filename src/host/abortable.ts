import { HostError, type Host } from './host.js';

// Ctrl-C stops a diagnosis at once (issue 19): every command, probe and name lookup in flight ends
// when the diagnosis's signal aborts, instead of running to its timeout. The checks and readers
// never see the signal: the Host they are given hands it to each call that can wait.

const UNDER = new WeakMap<Host, Host>();

/** `host` with `signal` given to every call that waits (commands, probes, lookups); `host` itself without one. */
export function abortable(host: Host, signal: AbortSignal | undefined): Host {
  if (!signal) return host;
  const wrapped: Host = {
    ...host,
    run: (argv, options = {}) => host.run(argv, { ...options, signal }),
    connectTcp: (address, port, timeoutMs) => host.connectTcp(address, port, timeoutMs, signal),
    probeUdp: (address, port, opts) => host.probeUdp(address, port, { ...opts, signal }),
    talk: (address, port, opts) => host.talk(address, port, { ...opts, signal }),
    lookup: (name, opts) => untilAborted(host.lookup(name, { ...opts, signal }), signal),
    queryNameservers: (servers, name, opts) => untilAborted(host.queryNameservers(servers, name, opts), signal),
  };
  // Methods that call one another through `this` (the ssh host's nameservers) keep doing so.
  for (const [k, v] of Object.entries(wrapped)) if (typeof v === 'function' && !(k in overridden)) (wrapped as unknown as Record<string, unknown>)[k] = (v as (...a: unknown[]) => unknown).bind(host);
  UNDER.set(wrapped, host);
  return wrapped;
}

const overridden = { run: 1, connectTcp: 1, probeUdp: 1, talk: 1, lookup: 1, queryNameservers: 1 };

/** The host an abortable() host wraps (or the host itself): to ask which machine it is. */
export function underlying(host: Host): Host {
  return UNDER.get(host) ?? host;
}

/**
 * `work`, or a rejection as soon as `signal` aborts (by default HostError ABORT_ERR): for what
 * cannot be cancelled itself (getaddrinfo, a step in flight). What `work` still does is left to the
 * signal to stop.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, interrupted: () => Error = () => new HostError('interrupted', 'ABORT_ERR')): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(interrupted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
