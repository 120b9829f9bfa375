import { formatIPv6 } from './procnet.js';

// The addresses a network namespace owns, read from /proc/PID/net/* of any process inside it. Those
// files show the namespace of the process, not of the reader, so another namespace's addresses are
// one read away without nsenter or `ip netns exec` (neither of which a read-only diagnosis may run).

/**
 * The IPv4 addresses of a namespace, from its /proc/PID/net/fib_trie: every leaf whose route is
 * `/32 host LOCAL`, the routes the kernel adds for the addresses on its interfaces (127.0.0.1
 * included). `/8 host LOCAL` (127.0.0.0/8) and other prefix routes are not addresses. The trie is
 * printed twice (Main, then Local); each address comes once, in the order first seen.
 */
export function localAddressesOfFibTrie(text: string): string[] {
  const out: string[] = [];
  let leaf: string | undefined;
  for (const line of text.split('\n')) {
    const node = /^\s*\|--\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/.exec(line);
    if (node) {
      leaf = node[1];
      continue;
    }
    if (/^\s*\+--/.test(line) || /^\S/.test(line)) {
      // A new subtree or table header: the next route line belongs to a leaf not yet seen.
      leaf = undefined;
      continue;
    }
    // A leaf's routes follow it, one per line: `/32 host LOCAL`, `/24 link UNICAST`, …
    const route = /^\s*\/(\d+)\s+\S+\s+(\S+)/.exec(line);
    if (route && leaf !== undefined && route[1] === '32' && route[2] === 'LOCAL' && !out.includes(leaf)) out.push(leaf);
  }
  return out;
}

/**
 * The IPv6 addresses of a namespace, from its /proc/PID/net/if_inet6 (one line per address:
 * 32 hex digits, interface index, prefix length, scope, flags, interface name), written the way
 * ss and ip print them (`fd00:30::2`, `::1`, `fe80::…`). Link-local and tentative addresses are
 * included: the file does not say which ones a caller cares about.
 */
export function addressesOfIfInet6(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{32})\s/.exec(line);
    if (!m) continue;
    const address = formatIPv6(Buffer.from(m[1]!, 'hex'));
    if (!out.includes(address)) out.push(address);
  }
  return out;
}
