import { isIP } from 'node:net';
import { asciiHostName } from '../net/host-name.js';
import { UsageError } from '../errors.js';

const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** HOST as given: a name, an IPv4 address, or an IPv6 address (brackets allowed). Returns it bare. */
export function parseHost(text: string): string {
  const t = text.trim();
  const bare = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
  if (isIP(bare)) return bare;
  if (/^[\d.]+$/.test(bare)) throw new UsageError(`'${text}' is not a valid IPv4 address`, 'each of the four parts is a number from 0 to 255');
  if (bare.includes(':')) throw new UsageError(`'${text}' is not a valid IPv6 address`, 'write it like 2001:db8::5 or [2001:db8::5]');
  if (!HOSTNAME.test(asciiHostName(bare))) throw new UsageError(`'${text}' is not a host name or address`, 'a host name has letters, digits, dashes and dots (e.g. db.internal, or 例え.jp)');
  return bare;
}

