import { defineReader } from './reader.js';

/** Where the kernel says whether it forwards packets of a family between interfaces (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding). */
export const FORWARDING_FILE = { 4: '/proc/sys/net/ipv4/ip_forward', 6: '/proc/sys/net/ipv6/conf/all/forwarding' } as const;

/** The sysctl as `sysctl` names it. */
export const FORWARDING_SYSCTL = { 4: 'net.ipv4.ip_forward', 6: 'net.ipv6.conf.all.forwarding' } as const;

/** Whether this host forwards packets of the family; `on: undefined` when the file could not be read. */
export interface ForwardingReading {
  family: 4 | 6;
  sysctl: string;
  on?: boolean;
  /** Why it could not be read. */
  error?: string;
}

/** Parses the file's text ("1\n"): any non-zero number is on. Pure. */
export function parseForwarding(text: string): boolean | undefined {
  const n = Number.parseInt(text.trim(), 10);
  return Number.isFinite(n) ? n !== 0 : undefined;
}

/** net.ipv4.ip_forward (or IPv6's forwarding) of the host diagnosed, once per family per diagnosis. */
export const ipForwarding = defineReader<4 | 6, ForwardingReading>({
  name: 'ip forwarding',
  key: (family) => String(family),
  read: async (family, s) => {
    const sysctl = FORWARDING_SYSCTL[family];
    try {
      const on = parseForwarding(await s.host.readFile(FORWARDING_FILE[family]));
      return on === undefined ? { family, sysctl, error: `${FORWARDING_FILE[family]} holds no number` } : { family, sysctl, on };
    } catch (err) {
      return { family, sysctl, error: (err as Error).message.split('\n')[0] ?? 'unreadable' };
    }
  },
});
