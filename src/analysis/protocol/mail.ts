import type { ProtocolFinding } from './finding.js';
import { firstLine, printable } from './said.js';

const CAPACITY = /too many|limit|busy|overload|try (again )?later/i;

/** An IMAP greeting (RFC 9051 §7.1): `* OK`, `* PREAUTH` answer; `* BYE` turns the client away. */
export function classifyImapGreeting(bytes: Uint8Array, base: { bytes: number }): ProtocolFinding | undefined {
  const line = firstLine(bytes);
  const m = /^\* (OK|PREAUTH|BYE)\b ?(.*)$/i.exec(line);
  if (!m) return undefined;
  const said = printable(line);
  const product = /\b(Dovecot|Cyrus|Courier)\b/i.exec(m[2] ?? '')?.[1];
  const ev = { ...base, protocol: 'imap' as const, said, ...(product ? { product } : {}) };
  if (m[1]!.toUpperCase() !== 'BYE') return { outcome: 'answered', evidence: ev };
  return CAPACITY.test(m[2] ?? '') ? { outcome: 'overloaded', evidence: { ...ev, reason: 'bye' } } : { outcome: 'refuses-client', evidence: { ...ev, reason: 'bye' } };
}

/** A POP3 greeting (RFC 1939 §4): `+OK` answers; `-ERR` in its place turns the client away. */
export function classifyPop3Greeting(bytes: Uint8Array, base: { bytes: number }): ProtocolFinding | undefined {
  const line = firstLine(bytes);
  const m = /^(\+OK|-ERR)\b ?(.*)$/.exec(line);
  if (!m) return undefined;
  const said = printable(line);
  const product = /\b(Dovecot|Cyrus|Courier)\b/i.exec(m[2] ?? '')?.[1];
  const ev = { ...base, protocol: 'pop3' as const, said, ...(product ? { product } : {}) };
  if (m[1] === '+OK') return { outcome: 'answered', evidence: ev };
  return CAPACITY.test(m[2] ?? '') ? { outcome: 'overloaded', evidence: { ...ev, reason: 'err' } } : { outcome: 'refuses-client', evidence: { ...ev, reason: 'err' } };
}
