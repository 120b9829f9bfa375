import { isIP } from 'node:net';
import { isLoopback, isWildcard, normalizeAddress } from '../net/address.js';
import { asciiHostName } from '../net/host-name.js';
import { errorCode, type Host, type HostIdentity, type ResolvedAddress } from '../host/host.js';
import type { SocketTable } from './socket.js';
import { readSocketTable } from './socket-query.js';
import { readEphemeralRange } from './udp-stats.js';
import { findProcesses, pidsNamed, runningProgramNames, type ProcessLookup } from './processes.js';
import { systemdRunning } from './systemd/units.js';
import type { HostFeature } from '../knowledge/host-features.js';
import type { IptablesRuleset } from './firewall/iptables.js';
import type { NftRuleset } from './firewall/nft.js';

export type { ResolvedAddress } from '../host/host.js';

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
    /** The machine diagnosed: every scan below reads it. */
    readonly host: Host,
    readonly options: { timeoutMs: number; /** The program the user named: its processes are searched first for socket owners. */ process?: string } = { timeoutMs: 3_000 },
  ) {}

  /** systemd is the running init (else no unit can be asked about). */
  systemdRunning(): Promise<boolean> {
    return this.once('systemd-running', () => systemdRunning(this.host));
  }

  /** Whether the host has what an input needs (HOST_FEATURES). */
  has(feature: HostFeature): Promise<boolean> {
    switch (feature) {
      case 'systemd':
        return this.systemdRunning();
    }
  }

  /** Who whyport runs as on the host (root sees every socket's owner and the firewall), and the host's name. */
  identity(): Promise<HostIdentity> {
    return this.once('identity', () => this.host.identity());
  }

  /** The processes of that name (pgrep semantics), once per diagnosis however many steps ask. */
  processes(name: string): Promise<ProcessLookup> {
    return this.once(`pgrep:${name}`, () => findProcesses(this.host, name));
  }

  /** The names of the running programs (process names, and the scripts interpreters run), once per diagnosis. */
  programNames(): Promise<string[]> {
    return this.once('program-names', () => runningProgramNames(this.host));
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
  resolve(name: string): Promise<Resolution> {
    return this.once(`resolve:${name}`, () => resolveHost(this.host, name, this.options.timeoutMs));
  }

  /** TCP (or UDP) sockets in every state on the port (local or peer side), read once and shared. */
  socketTable(port: number, protocol: 'tcp' | 'udp' = 'tcp'): Promise<SocketTable> {
    // ss starts in this very tick (main loads the diagnosis modules right after); the named
    // program's pids are only needed once the table is there.
    return this.once(protocol === 'udp' ? `sockets:udp:${port}` : `sockets:${port}`, () =>
      readSocketTable(this.host, port, {
        timeoutMs: this.options.timeoutMs,
        ...(protocol === 'udp' ? { protocol } : {}),
        ...(this.options.process ? { candidatePids: pidsNamed(this.host, this.options.process) } : {}),
      }),
    );
  }

  /** net.ipv4.ip_local_port_range, read once (only when a UDP socket might be a client's ephemeral port). */
  ephemeralRange(): Promise<[number, number] | undefined> {
    return this.once('ephemeral-range', () => readEphemeralRange(this.host));
  }

  /** The nat rules (is the port forwarded?), read once; prefetched with the socket table. */
  natRules(): Promise<{ iptables: IptablesRuleset[]; nft?: NftRuleset }> {
    return this.once('nat', async () => (await import('./firewall/nat.js')).readNatRules(this.host, { timeoutMs: this.options.timeoutMs }));
  }

  /** The host's own addresses: every interface address (loopback included). */
  localAddresses(): Promise<string[]> {
    return this.once('interfaces', async () => (await this.host.networkInterfaces()).map((a) => a.address));
  }

  /** The address belongs to the host (127.0.0.0/8 and ::1 always do). */
  async isLocalAddress(address: string): Promise<boolean> {
    // Loopback and wildcards need no interface list.
    return isOwnAddress(address, []) || isOwnAddress(address, await this.localAddresses());
  }
}

/** The address is loopback, a wildcard, or one of `own` (a host's interface addresses). */
export function isOwnAddress(address: string, own: readonly string[]): boolean {
  return isLoopback(address) || isWildcard(address) || own.includes(normalizeAddress(address));
}

export { isLoopback, isWildcard, normalizeAddress };

async function resolveHost(host: Host, name: string, timeoutMs: number): Promise<Resolution> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const bare = name.replace(/^\[|\]$/g, '');
  if (isIP(bare)) {
    return { ok: true, addresses: [{ address: bare, family: isIP(bare) as 4 | 6 }], literal: true, durationMs: 0 };
  }
  try {
    // An internationalised name goes to the resolver in punycode (the report keeps it as typed).
    const addresses = await host.lookup(asciiHostName(bare), { timeoutMs });
    return { ok: true, addresses, literal: false, durationMs: elapsed() };
  } catch (err) {
    const code = errorCode(err) ?? 'UNKNOWN';
    const error =
      code === 'ENOTFOUND' ? `${name} does not resolve (no such name)` :
      code === 'EAI_AGAIN' ? `the resolver did not answer for ${name} (temporary failure)` :
      err instanceof Error ? err.message : String(err);
    return { ok: false, error, code, durationMs: elapsed() };
  }
}
