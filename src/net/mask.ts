import { isIP } from 'node:net';

/** A dotted or IPv6 netmask as a prefix length; undefined when it is not contiguous ones then zeros. */
export function maskPrefix(mask: string): number | undefined {
  let bits = '';
  if (isIP(mask) === 4) bits = mask.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join('');
  else if (isIP(mask) === 6) {
    const [head, tail] = mask.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
    bits = groups.map((g) => parseInt(g || '0', 16).toString(2).padStart(16, '0')).join('');
  } else return undefined;
  return /^1*0*$/.test(bits) ? bits.indexOf('0') < 0 ? bits.length : bits.indexOf('0') : undefined;
}
