import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { isLoopback, isWildcard, normalizeAddress } from '../net/address.js';
import type { Runner } from './runner.js';
import type { SocketTable } from './socket.js';
import { readSocketTable } from './socket-query.js';
import { findProcesses, pidsNamed, type ProcessLookup } from './processes.js';
import { systemdRunning } from './systemd.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolution =
  | { ok: true; addresses: ResolvedAddress[]; literal: boolean; durationMs: number }
  | { ok: false; error: string; code: string; durationMs: number };

/**
 * Host scans that several checks need, run at most once per diagnosis and shared (goss caches its
 * port table the same way). A new Facts is made for each diagnosis, so a re-check after a fix
 * sees the host afresh.
 */
export class Facts {
  readonly #memo = new Map<string, Promise<unknown>>();

  constructor(
    readonly runner: Runner,
    readonly options: { timeoutMs: number; /** The program the user named: its processes are searched first for socket owners. */ process?: string } = { timeoutMs: 3_000 },
  ) {}

  /** systemd is the running init (else no unit can be asked about). */
  systemdRunning(): boolean {
    return systemdRunning();
  }

  /** The processes of that name (pgrep semantics), once per diagnosis however many steps ask. */
  processes(name: string): Promise<ProcessLookup> {
    return this.once(`pgrep:${name}`, async () => findProcesses(name));
  }

  /** Runs `make` once per key for this diagnosis and shares the answer (e.g. a scan of unit files). */
  once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.#memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make();
      this.#memo.set(key, p);
    }
    return p;
  }

  /** Every address of both families the host resolves to (getaddrinfo, as other programs see it). */
  resolve(host: string): Promise<Resolution> {
    return this.once(`resolve:${host}`, () => resolveHost(host, this.options.timeoutMs));
  }

  /** TCP sockets in every state on the port (local or peer side), read once and shared. */
  socketTable(port: number): Promise<SocketTable> {
    return this.once(`sockets:${port}`, () => {
      const candidatePids = this.options.process ? pidsNamed(this.options.process) : [];
      return readSocketTable(this.runner, port, { timeoutMs: this.options.timeoutMs, ...(candidatePids.length ? { candidatePids } : {}) });
    });
  }

  /** This machine's own addresses: every interface address plus the loopback ranges. */
  localAddresses(): string[] {
    const out: string[] = [];
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) out.push(a.address.split('%')[0]!);
    }
    return out;
  }

  /** The address belongs to this machine (127.0.0.0/8 and ::1 always do). */
  isLocalAddress(address: string): boolean {
    return isLoopback(address) || isWildcard(address) || this.localAddresses().includes(normalizeAddress(address));
  }
}

async function resolveHost(host: string, timeoutMs: number): Promise<Resolution> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) {
    return { ok: true, addresses: [{ address: bare, family: isIP(bare) as 4 | 6 }], literal: true, durationMs: 0 };
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer from the resolver within ${timeoutMs} ms`), { code: 'ETIMEOUT' })), timeoutMs);
  });
  try {
    const found = await Promise.race([lookup(bare, { all: true, verbatim: true }), timeout]);
    const addresses = found.map((f) => ({ address: f.address, family: f.family as 4 | 6 }));
    return { ok: true, addresses, literal: false, durationMs: elapsed() };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const code = e.code ?? 'UNKNOWN';
    const error =
      code === 'ENOTFOUND' ? `${host} does not resolve (no such name)` :
      code === 'EAI_AGAIN' ? `the resolver did not answer for ${host} (temporary failure)` :
      e.message;
    return { ok: false, error, code, durationMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}
