import type { Host } from '../host/host.js';

/**
 * One kind of scan of a host — its socket table for a port, its nat rules, the processes of a
 * name — run at most once per diagnosis for each key and shared by every step that asks
 * (goss caches its port table once per run). A reader only reads and parses: deciding what the
 * reading means is a check's `decide` or a function of src/analysis/.
 */
export interface Reader<K, T> {
  /** Names the scan in messages and tests ("socket table"). */
  readonly name: string;
  /** What makes two reads the same scan (a port, an address); host-wide scans have none. */
  key?(k: K): string;
  read(k: K, scope: ReadScope): Promise<T>;
}

/** What a reader reads with: the host, the per-command timeout, and the other readers (memoised too). */
export interface ReadScope {
  readonly host: Host;
  readonly timeoutMs: number;
  /** The program the user named: its processes are searched first for socket owners. */
  readonly process?: string;
  read<K, T>(reader: Reader<K, T>, key: K): Promise<T>;
}

/** Declares a reader with its key and result types inferred. */
export function defineReader<K = void, T = unknown>(reader: Reader<K, T>): Reader<K, T> {
  return reader;
}

/** One read a step will make: a reader and its key (a check's `prefetch` lists them). */
export interface ReadCall<K = unknown, T = unknown> {
  reader: Reader<K, T>;
  key: K;
  /** Only worth starting when the target is an address of the host read (a scan a listener there makes needless). */
  onlyForLocalTarget?: boolean;
}

/** Names a read for a prefetch list, with the key checked against the reader. */
export function readOf<K, T>(reader: Reader<K, T>, key: K, opts: { onlyForLocalTarget?: boolean } = {}): ReadCall {
  return { reader, key, ...opts } as ReadCall;
}
