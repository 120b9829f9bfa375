import { isIP } from 'node:net';
import { isLoopback, isWildcard, normalizeAddress } from '../net/address.js';
import { asciiHostName } from '../net/host-name.js';
import { errorCode, type Host, type HostIdentity, type ResolvedAddress } from '../host/host.js';
import type { SocketTable } from './socket.js';
import { readSocketTable } from './socket-query.js';
import { readEphemeralRange } from './udp-stats.js';
import { findProcesses, pidsNamed, runningProgramNames, type ProcessLookup } from './processes.js';
import { systemdRunsReader } from './systemd/units.js';
import type { HostFeature } from '../knowledge/host-features.js';
import type { IptablesRuleset } from './firewall/iptables.js';
import type { NftRuleset } from './firewall/nft.js';
import { defineReader, type ReadScope, type Reader } from './reader.js';

export type { ResolvedAddress } from '../host/host.js';

export type Resolution =
  | { ok: true; addresses: ResolvedAddress[]; literal: boolean; durationMs: number }
  | { ok: false; error: string; code: string; durationMs: number };

/** getaddrinfo for a name (an address literal resolves to itself), as other programs see it. */
export const resolution = defineReader<string, Resolution>({
  name: 'name resolution',
  key: (name) => name,
  read: (name, s) => resolveHost(s.host, name, s.timeoutMs),
});

/** TCP (or UDP) sockets in every state on the port (local or peer side). */
export const socketTableOf = defineReader<{ port: number; protocol: 'tcp' | 'udp' }, SocketTable>({
  name: 'socket table',
  key: ({ port, protocol }) => `${protocol}:${port}`,
  read: ({ port, protocol }, s) =>
    readSocketTable(s.host, port, {
      timeoutMs: s.timeoutMs,
      ...(protocol === 'udp' ? { protocol } : {}),
      ...(s.process ? { candidatePids: pidsNamed(s.host, s.process) } : {}),
    }),
});

const identityOf = defineReader<void, HostIdentity>({ name: 'identity', read: (_, s) => s.host.identity() });
const processesNamed = defineReader<string, ProcessLookup>({ name: 'processes by name', key: (name) => name, read: (name, s) => findProcesses(s.host, name) });
const programNamesOf = defineReader<void, string[]>({ name: 'running program names', read: (_, s) => runningProgramNames(s.host) });
export const ephemeralRangeOf = defineReader<void, [number, number] | undefined>({ name: 'ephemeral port range', read: (_, s) => readEphemeralRange(s.host) });
const natRulesOf = defineReader<void, { iptables: IptablesRuleset[]; nft?: NftRuleset }>({
  name: 'nat rules',
  read: async (_, s) => (await import('./firewall/nat.js')).readNatRules(s.host, { timeoutMs: s.timeoutMs }),
});
/** The host's interface addresses (loopback included). */
export const interfaceAddresses = defineReader<void, string[]>({ name: 'interface addresses', read: async (_, s) => (await s.host.networkInterfaces()).map((a) => a.address) });

/**
 * The host scans of one diagnosis, each run at most once per reader and key and shared (goss caches
 * its port table the same way). A new Facts is made for each diagnosis, so a re-check after a fix
 * sees the host afresh. The named methods are the common reads, typed; any reader goes through `read`.
 */
export class Facts implements ReadScope {
  readonly #memo = new Map<Reader<never, unknown>, Map<string, Promise<unknown>>>();
  readonly timeoutMs: number;
  readonly process?: string;

  constructor(
    /** The machine diagnosed: every scan below reads it. */
    readonly host: Host,
    readonly options: { timeoutMs: number; /** The program the user named: its processes are searched first for socket owners. */ process?: string } = { timeoutMs: 3_000 },
  ) {
    this.timeoutMs = options.timeoutMs;
    if (options.process) this.process = options.process;
  }

  /** Runs the reader once per key for this diagnosis and shares its answer. */
  read<K, T>(reader: Reader<K, T>, key: K): Promise<T> {
    let byKey = this.#memo.get(reader as Reader<never, unknown>);
    if (!byKey) this.#memo.set(reader as Reader<never, unknown>, (byKey = new Map()));
    const k = reader.key ? reader.key(key) : '';
    let p = byKey.get(k) as Promise<T> | undefined;
    if (!p) {
      p = reader.read(key, this);
      byKey.set(k, p);
    }
    return p;
  }

  /** systemd is the running init (else no unit can be asked about). */
  systemdRunning(): Promise<boolean> {
    return this.read(systemdRunsReader, undefined);
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
    return this.read(identityOf, undefined);
  }

  /** The processes of that name (pgrep semantics), once per diagnosis however many steps ask. */
  processes(name: string): Promise<ProcessLookup> {
    return this.read(processesNamed, name);
  }

  /** The names of the running programs (process names, and the scripts interpreters run), once per diagnosis. */
  programNames(): Promise<string[]> {
    return this.read(programNamesOf, undefined);
  }

  /** Every address of both families the host resolves to (getaddrinfo, as other programs see it). */
  resolve(name: string): Promise<Resolution> {
    return this.read(resolution, name);
  }

  /** TCP (or UDP) sockets in every state on the port (local or peer side), read once and shared. */
  socketTable(port: number, protocol: 'tcp' | 'udp' = 'tcp'): Promise<SocketTable> {
    return this.read(socketTableOf, { port, protocol });
  }

  /** net.ipv4.ip_local_port_range, read once (only when a UDP socket might be a client's ephemeral port). */
  ephemeralRange(): Promise<[number, number] | undefined> {
    return this.read(ephemeralRangeOf, undefined);
  }

  /** The nat rules (is the port forwarded?), read once; prefetched with the socket table. */
  natRules(): Promise<{ iptables: IptablesRuleset[]; nft?: NftRuleset }> {
    return this.read(natRulesOf, undefined);
  }

  /** The host's own addresses: every interface address (loopback included). */
  localAddresses(): Promise<string[]> {
    return this.read(interfaceAddresses, undefined);
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
