import type { ResolvedAddress } from '../host/host.js';

/**
 * The addresses of `getent ahosts NAME` (getaddrinfo through NSS, as every program on that host
 * resolves), in the resolver's order, each once: getent prints a line per socket type (`127.0.0.1
 * STREAM localhost`, then `DGRAM`, `RAW`), the name only on the first.
 */
export function addressesOfAhosts(text: string): ResolvedAddress[] {
  const seen = new Set<string>();
  const out: ResolvedAddress[] = [];
  for (const line of text.split('\n')) {
    const address = line.split(/\s+/)[0] ?? '';
    if (!address || seen.has(address)) continue;
    seen.add(address);
    out.push({ address, family: address.includes(':') ? 6 : 4 });
  }
  return out;
}
