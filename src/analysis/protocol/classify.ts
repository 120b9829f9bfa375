import { TCP_WRAPPERS_CLOSE_MS, type ProtocolName } from '../../knowledge/protocols.js';
import { allBytes, type Exchange, type ProtocolEvidence, type ProtocolFinding } from './finding.js';
import { classifyHttpResponse } from './http.js';
import { classifyImapGreeting, classifyPop3Greeting } from './mail.js';
import { classifyMysqlGreeting } from './mysql.js';
import { classifyPostgresql } from './postgresql.js';
import { classifyRedisReply } from './redis.js';
import { classifyReplyGreeting } from './reply-code.js';
import { printable } from './said.js';
import { sniffProtocol } from './sniff.js';
import { classifySshGreeting } from './ssh.js';

/** The expected protocol's own reading of the bytes, or undefined when they are not its words. */
function byProtocol(protocol: ProtocolName, x: Exchange, base: { bytes: number }): ProtocolFinding | undefined {
  const first = x.answers[0] ?? new Uint8Array(0);
  switch (protocol) {
    case 'ssh':
      return classifySshGreeting(first, base);
    case 'smtp':
    case 'ftp': {
      const f = classifyReplyGreeting(protocol, first, base);
      // A 220 naming the other protocol (an FTP server on the SMTP port) is not this one.
      const other = sniffProtocol(first);
      if (f && other && other !== protocol && (other === 'smtp' || other === 'ftp')) return undefined;
      return f;
    }
    case 'imap':
      return classifyImapGreeting(first, base);
    case 'pop3':
      return classifyPop3Greeting(first, base);
    case 'mysql':
      return classifyMysqlGreeting(first, base);
    case 'redis':
      return classifyRedisReply(first, base);
    case 'postgresql':
      return classifyPostgresql(x.answers[0], x.answers[1], base);
    case 'http':
      return classifyHttpResponse(first, base);
  }
}

/**
 * What a talk with a port came back with, as a closed set of outcomes (finding.ts), given the
 * protocol expected there (undefined: none known). Pure: bytes, how the connection ended, when.
 *
 * No byte at all: the server closed or reset ('closed-after-accept'; an SSH server that closes
 * after ~5 s of silence is libwrap's refusal), or said nothing within the wait ('silent' where
 * the protocol must speak, 'quiet' for a port of no known protocol). Bytes: the protocol's own
 * reading; failing that, the protocol they look like ('wrong-protocol', or just 'answered' for a
 * port of no known protocol); failing that, 'unknown-greeting' (no alarm).
 */
export function classifyExchange(expected: ProtocolName | undefined, x: Exchange): ProtocolFinding {
  const bytes = allBytes(x);
  const base: { bytes: number } & Pick<ProtocolEvidence, 'end' | 'endMs' | 'expected'> = {
    bytes: bytes.length,
    end: x.end,
    ...(x.endMs !== undefined ? { endMs: x.endMs } : {}),
    ...(expected ? { expected } : {}),
  };
  // PostgreSQL's one-byte answer to the SSLRequest is no answer to the StartupMessage.
  const first = x.answers[0]?.length ?? 0;
  const nothing = expected === 'postgresql' ? first === 0 || (first === 1 && (x.answers[1]?.length ?? 0) === 0) : bytes.length === 0;
  if (nothing) {
    const protocol = expected ?? 'unknown';
    const said = {};
    if (x.end === 'eof' || x.end === 'reset' || x.end === 'error') {
      const [lo, hi] = TCP_WRAPPERS_CLOSE_MS;
      // A reset as often as an EOF: sshd never read whyport's identification before it closed.
      if (expected === 'ssh' && (x.end === 'eof' || x.end === 'reset') && x.endMs !== undefined && x.endMs >= lo && x.endMs <= hi) {
        return { outcome: 'refuses-client', evidence: { ...base, protocol, reason: 'tcp-wrappers' } };
      }
      return { outcome: 'closed-after-accept', evidence: { ...base, protocol, ...said } };
    }
    return { outcome: expected ? 'silent' : 'quiet', evidence: { ...base, protocol, ...said } };
  }
  if (expected) {
    const own = byProtocol(expected, x, base);
    if (own) return { outcome: own.outcome, evidence: { ...own.evidence, ...base } };
  }
  const other = sniffProtocol(bytes);
  const said = printable(bytes);
  if (other && other !== expected) {
    if (expected) return { outcome: 'wrong-protocol', evidence: { ...base, protocol: other, said } };
    // No protocol was expected: what the bytes are, read as that protocol (a Redis refusal on a custom port is one).
    const own = other === 'tls' || other === 'unknown' ? undefined : byProtocol(other, x, base);
    if (own) return { outcome: own.outcome, evidence: { ...own.evidence, ...base } };
    return { outcome: 'answered', evidence: { ...base, protocol: other, said } };
  }
  return { outcome: 'unknown-greeting', evidence: { ...base, protocol: 'unknown', said } };
}
