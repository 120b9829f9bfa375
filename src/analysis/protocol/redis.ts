import type { ProtocolFinding } from './finding.js';
import { firstLine, printable } from './said.js';

/**
 * A Redis reply to PING, or what Redis sends on accept (RESP): `+PONG` answers; `-NOAUTH` (a
 * password is set) and any other error to a command are a healthy server too; `-DENIED` is
 * protected mode (networking.c), `-ERR max number of clients reached` maxclients, `-LOADING` the
 * dataset still loading, `-MASTERDOWN` a replica that will not serve stale data. undefined: not RESP.
 */
export function classifyRedisReply(bytes: Uint8Array, base: { bytes: number }): ProtocolFinding | undefined {
  const line = firstLine(bytes);
  if (!/^[-+:$*_#,(!=%~>|]/.test(line)) return undefined;
  // RESP's errors and simple strings start with an upper-case word; other types with a number.
  if (/^[-+]/.test(line) && !/^[-+][A-Za-z]/.test(line)) return undefined;
  if (/^[:$*]/.test(line) && !/^[:$*]-?\d+$/.test(line)) return undefined;
  if (/^[_#,(!=%~>|]/.test(line)) return undefined; // RESP3 types never answer a RESP2 PING
  const said = printable(line);
  const ev = { ...base, protocol: 'redis' as const, product: 'Redis', said };
  if (/^-DENIED\b/.test(line)) return { outcome: 'refuses-client', evidence: { ...ev, reason: 'protected-mode' } };
  if (/^-ERR max number of clients reached/i.test(line)) return { outcome: 'overloaded', evidence: { ...ev, reason: 'max-clients' } };
  if (/^-LOADING\b/.test(line)) return { outcome: 'not-ready', evidence: { ...ev, reason: 'loading' } };
  if (/^-MASTERDOWN\b/.test(line)) return { outcome: 'not-ready', evidence: { ...ev, reason: 'master-down' } };
  if (/^-NOAUTH\b/.test(line)) return { outcome: 'answered', evidence: { ...ev, reason: 'auth-required' } };
  return { outcome: 'answered', evidence: ev };
}
