import type { ProtocolFinding, ProtocolOutcome } from './finding.js';
import { firstLine, printable } from './said.js';

/** A product a greeting names, for the few servers that do ('Postfix', 'vsFTPd 3.0.3', …). */
function productOf(text: string): { product?: string; version?: string } {
  const m = /\b(Postfix|Exim|Sendmail|OpenSMTPD|Microsoft ESMTP|vsFTPd|ProFTPD|Pure-FTPd|FileZilla Server)(?:[ /]([0-9][\w.-]*))?/i.exec(text);
  return m ? { product: m[1]!, ...(m[2] ? { version: m[2] } : {}) } : {};
}

/**
 * The greeting of a reply-code protocol: SMTP (RFC 5321 §4.2: 220 ready, 421 not available, 554
 * no service for this client) or FTP (RFC 959 §4.2: 220 ready, 120 ready in nnn minutes, 421).
 * A 5yz greeting refuses, a 4yz one is a capacity or availability limit. undefined: no reply code.
 */
export function classifyReplyGreeting(protocol: 'smtp' | 'ftp', bytes: Uint8Array, base: { bytes: number }): ProtocolFinding | undefined {
  const line = firstLine(bytes);
  const m = /^([1-5])(\d\d)(?:[ -]|$)(.*)$/.exec(line);
  if (!m) return undefined;
  const status = Number(`${m[1]}${m[2]}`);
  const said = printable(line);
  let outcome: ProtocolOutcome;
  let reason: string | undefined;
  if (status === 220) outcome = 'answered';
  else if (status === 120) [outcome, reason] = ['not-ready', 'ready-later'];
  else if (m[1] === '4') [outcome, reason] = ['overloaded', status === 421 ? 'not-available' : 'transient'];
  // vsftpd's fatal errors ("500 OOPS: …", a configuration it cannot run with) turn every client away.
  else if (m[1] === '5') [outcome, reason] = ['refuses-client', /^500 OOPS/.test(line) ? 'server-error' : 'no-service'];
  else outcome = 'answered';
  return { outcome, evidence: { ...base, protocol, status, said, ...productOf(m[3] ?? ''), ...(reason ? { reason } : {}) } };
}
