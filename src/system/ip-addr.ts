import type { InterfaceAddress } from '../host/host.js';

/**
 * The addresses of `ip -o addr show` (iproute2), one line each: `2: eth0    inet 10.0.0.5/24 brd …
 * scope global eth0\ …`; a veth's `eth0@if7` named `eth0`, loopback marked internal, the address
 * without its prefix length.
 */
export function interfacesOfIpAddr(text: string): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+(inet6?)\s+([0-9A-Fa-f.:]+)(?:\/\d+)?\s/.exec(line);
    if (!m) continue;
    out.push({ name: m[1]!, address: m[3]!, family: m[2] === 'inet6' ? 6 : 4, internal: m[1] === 'lo' });
  }
  return out;
}
