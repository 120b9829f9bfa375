import { isIP } from 'node:net';

/** An address as a number and its width in bits (32 or 128). */
function toBits(address: string): { value: bigint; bits: 32 | 128 } | null {
  const a = address.replace(/^\[|\]$/g, '').split('%')[0]!;
  const kind = isIP(a);
  if (kind === 4) return { value: a.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n), bits: 32 };
  if (kind !== 6) return null;
  // Expand "::" and an embedded dotted quad ("::ffff:1.2.3.4") into eight groups.
  let s = a;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (quad) {
    const v4 = toBits(quad[1]!)!.value;
    s = `${s.slice(0, quad.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n), bits: 128 };
}

/**
 * Whether `address` falls in `spec`: an address, a CIDR prefix (`10.0.0.0/8`, `fd00::/8`) or a
 * range (`10.0.0.1-10.0.0.9`). Different families never match; an unreadable spec gives null.
 */
export function addressIn(address: string, spec: string): boolean | null {
  const addr = toBits(address);
  if (!addr) return null;
  const range = /^([^/]+)-([^/]+)$/.exec(spec);
  if (range) {
    const lo = toBits(range[1]!);
    const hi = toBits(range[2]!);
    if (!lo || !hi) return null;
    return lo.bits === addr.bits && addr.value >= lo.value && addr.value <= hi.value;
  }
  const [base, len] = spec.split('/');
  const net = toBits(base!);
  if (!net) return null;
  if (net.bits !== addr.bits) return false;
  const prefix = len === undefined ? net.bits : Number(len);
  // iptables prints a dotted netmask for non-contiguous masks; treat a dotted length as unreadable.
  if (!Number.isInteger(prefix)) return null;
  const shift = BigInt(net.bits - prefix);
  return addr.value >> shift === net.value >> shift;
}

/** Whether every address the spec covers is loopback (127.0.0.0/8, ::1). */
export function specIsLoopback(spec: string): boolean {
  const [base, len] = spec.split('/');
  if (!base) return false;
  if (isIP(base) === 4) return base.startsWith('127.') && (len === undefined || Number(len) >= 8);
  return base === '::1' && (len === undefined || len === '128');
}

/** Whether every address the spec covers is multicast or broadcast, never a host's own unicast address. */
export function specIsMulticastOrBroadcast(spec: string): boolean {
  const [base, len] = spec.split('/');
  if (!base) return false;
  if (isIP(base) === 4) {
    if (base === '255.255.255.255') return true;
    const first = Number(base.split('.')[0]);
    return first >= 224 && first <= 239 && (len === undefined || Number(len) >= 4);
  }
  return /^ff/i.test(base) && (len === undefined || Number(len) >= 8);
}
