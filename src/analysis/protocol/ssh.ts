import type { ProtocolFinding } from './finding.js';
import { firstLine, printable } from './said.js';

/**
 * An SSH server's first line (RFC 4253 §4.2: `SSH-protoversion-softwareversion SP comments`),
 * or sshd's refusals before it: `Exceeded MaxStartups` (sshd.c drop_connection), and OpenSSH
 * 9.8's per-source penalties `Not allowed at this time`. undefined: not SSH's words.
 */
export function classifySshGreeting(bytes: Uint8Array, base: { bytes: number }): ProtocolFinding | undefined {
  const line = firstLine(bytes);
  const said = printable(line);
  const m = /^SSH-(\d\.\d+)-(\S+)(?: (.*))?$/.exec(line);
  if (m) {
    const product = m[3] ? `${m[2]} ${m[3]}` : m[2]!;
    return { outcome: 'answered', evidence: { ...base, protocol: 'ssh', product: printable(product), said } };
  }
  if (/^Exceeded MaxStartups/.test(line)) return { outcome: 'overloaded', evidence: { ...base, protocol: 'ssh', reason: 'max-startups', said } };
  if (/^Not allowed at this time/.test(line)) return { outcome: 'refuses-client', evidence: { ...base, protocol: 'ssh', reason: 'penalty', said } };
  return undefined;
}
