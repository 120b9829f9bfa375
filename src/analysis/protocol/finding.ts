import type { ProtocolName } from '../../knowledge/protocols.js';
import type { TalkEnd } from '../../host/tcp-talk.js';

/**
 * What answered after the TCP handshake, as a closed set (CONTRACT "Beyond the handshake"):
 * - answered: the protocol expected (or, for a port of no known protocol, one whyport recognises) answered as a healthy server does
 * - refuses-client: it turned this client away by its own rules (protected mode, pg_hba.conf, host grants, TCP wrappers)
 * - overloaded: turned away for capacity (too many connections, MaxStartups, 421)
 * - not-ready: it says it is not ready (starting up, shutting down, in recovery, loading)
 * - wrong-protocol: another protocol answered than the one expected (`evidence.protocol` names it)
 * - closed-after-accept: closed or reset without a byte where the protocol must greet or answer
 * - silent: nothing within the wait where the protocol must greet or answer (hung or overloaded)
 * - unknown-greeting: bytes of no protocol whyport knows: the port answers, no alarm
 * - quiet: nothing said by a port of no known protocol within the short wait, nor to HEAD / on a second connection: no alarm
 * - not-connected: this time the connect itself failed (the talk could not begin)
 */
export type ProtocolOutcome =
  | 'answered'
  | 'refuses-client'
  | 'overloaded'
  | 'not-ready'
  | 'wrong-protocol'
  | 'closed-after-accept'
  | 'silent'
  | 'unknown-greeting'
  | 'quiet'
  | 'not-connected';

/** A protocol name as the report gives it: whyport's, or one only recognised ('tls'), or 'unknown'. */
export type AnsweringProtocol = ProtocolName | 'tls' | 'unknown';

export interface ProtocolEvidence {
  /** What answered (`diagnosis.service.protocol`); the expected one when nothing did. */
  protocol: AnsweringProtocol;
  /** The protocol expected, when one was. */
  expected?: ProtocolName;
  /** The program, as it names itself ('OpenSSH_9.2p1 Debian-2+deb12u3', 'MariaDB', 'nginx', 'Redis'). */
  product?: string;
  version?: string;
  /** The server's own words, printable, control characters escaped, at most ~200 characters. */
  said?: string;
  /** PostgreSQL's SQLSTATE. */
  sqlState?: string;
  /** MySQL's error code. */
  errorCode?: number;
  /** HTTP's status code, SMTP/FTP's reply code. */
  status?: number;
  /** Why, in a word the report can key on: 'protected-mode', 'pg_hba', 'host-not-allowed', 'tcp-wrappers', 'max-startups', 'too-many-connections', 'auth-required', 'unknown-user', 'starting-up', … */
  reason?: string;
  /** PostgreSQL: the server offers TLS and whyport asked without it (a hostssl line might admit a TLS client). */
  withoutTls?: boolean;
  /** How the connection ended and when (ms after the connect). */
  end?: TalkEnd;
  endMs?: number;
  /** Bytes received in all. */
  bytes: number;
}

export interface ProtocolFinding {
  outcome: ProtocolOutcome;
  evidence: ProtocolEvidence;
}

/** What came back from a talk, as the classifiers take it. */
export interface Exchange {
  /** The answer of each step that ran, in order. */
  answers: readonly Uint8Array[];
  end: TalkEnd;
  /** From the connect to the end. */
  endMs?: number;
}

/** All bytes of an exchange. */
export function allBytes(x: Exchange): Buffer {
  return Buffer.concat(x.answers.map((a) => Buffer.from(a)));
}
