import type { ProtocolFinding, ProtocolOutcome } from './finding.js';
import { printable } from './said.js';

/** One backend message: its type byte and body (PostgreSQL protocol, Message Formats). */
interface PgMessage {
  type: string;
  body: Buffer;
}

/** The whole messages at the start of some bytes (a truncated last one is cut to what came). */
export function pgMessages(bytes: Uint8Array): PgMessage[] {
  const b = Buffer.from(bytes);
  const out: PgMessage[] = [];
  for (let at = 0; at + 5 <= b.length && out.length < 64; ) {
    const type = String.fromCharCode(b[at]!);
    const len = b.readUInt32BE(at + 1);
    if (len < 4 || !/^[A-Za-z]$/.test(type)) break;
    out.push({ type, body: b.subarray(at + 5, Math.min(b.length, at + 1 + len)) });
    at += 1 + len;
  }
  return out;
}

/** The fields of an ErrorResponse or NoticeResponse: code byte → text (S, V, C, M, D, H, …). */
export function pgErrorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  for (let at = 0; at < body.length && body[at] !== 0; ) {
    const code = String.fromCharCode(body[at]!);
    const nul = body.indexOf(0, at + 1);
    const end = nul < 0 ? body.length : nul;
    fields.set(code, body.subarray(at + 1, end).toString('utf8'));
    at = end + 1;
  }
  return fields;
}

/**
 * PostgreSQL's answers: to the SSLRequest one byte, 'S' or 'N' (or an ErrorResponse from a server
 * that refuses at once); to the StartupMessage an Authentication request ('R': pg_hba.conf admits
 * this client, a password would be asked next), ParameterStatus ('S', server_version), or an
 * ErrorResponse whose SQLSTATE decides: class 28 refuses the client (28000 `no pg_hba.conf entry`,
 * `pg_hba.conf rejects connection`; a role that does not exist is the probe's user name, not a
 * refusal of this host), class 53 is capacity (53300 too many clients), class 57 not ready (57P03
 * starting up, shutting down, in recovery). undefined: not PostgreSQL's answers.
 */
export function classifyPostgresql(ssl: Uint8Array | undefined, startup: Uint8Array | undefined, base: { bytes: number }): ProtocolFinding | undefined {
  const s = ssl ? Buffer.from(ssl) : Buffer.alloc(0);
  const withoutTls = s.length === 1 && s[0] === 0x53;
  if (s.length >= 1 && s[0] === 0x45) return fromMessages(s, base, false);
  if (s.length > 1 || (s.length === 1 && s[0] !== 0x53 && s[0] !== 0x4e)) return undefined;
  if (!startup || startup.length === 0) return undefined;
  return fromMessages(Buffer.from(startup), base, withoutTls);
}

function fromMessages(bytes: Buffer, base: { bytes: number }, withoutTls: boolean): ProtocolFinding | undefined {
  const messages = pgMessages(bytes);
  if (messages.length === 0) return undefined;
  const tls = withoutTls ? { withoutTls: true } : {};
  const version = messages
    .filter((m) => m.type === 'S')
    .map((m) => m.body.toString('utf8').split('\0'))
    .find(([k]) => k === 'server_version')?.[1];
  const ev = { ...base, protocol: 'postgresql' as const, product: 'PostgreSQL', ...(version ? { version: printable(version, 60) } : {}), ...tls };
  const error = messages.find((m) => m.type === 'E');
  if (error) {
    const f = pgErrorFields(error.body);
    const sqlState = f.get('C') ?? '';
    const message = f.get('M') ?? '';
    const severity = f.get('V') ?? f.get('S') ?? 'FATAL';
    const said = printable(`${severity}: ${message}`);
    const [outcome, reason] = pgOutcome(sqlState, message);
    return { outcome, evidence: { ...ev, said, ...(sqlState ? { sqlState: printable(sqlState, 5) } : {}), ...(reason ? { reason } : {}) } };
  }
  const auth = messages.find((m) => m.type === 'R');
  if (auth) {
    const kind = auth.body.length >= 4 ? auth.body.readUInt32BE(0) : -1;
    const reason = kind === 0 ? 'trusted' : kind === 10 ? 'auth-required' : kind === 3 || kind === 5 ? 'auth-required' : 'auth';
    return { outcome: 'answered', evidence: { ...ev, reason } };
  }
  if (messages.some((m) => m.type === 'S' || m.type === 'N' || m.type === 'v' || m.type === 'K' || m.type === 'Z')) return { outcome: 'answered', evidence: ev };
  return undefined;
}

function pgOutcome(sqlState: string, message: string): [ProtocolOutcome, string | undefined] {
  const cls = sqlState.slice(0, 2);
  if (cls === '28') {
    // The host is admitted when the role itself is unknown (English servers say so; a
    // translated message keeps the refusal, as the code does).
    if (sqlState === '28000' && /^role ".*" does not exist$/.test(message)) return ['answered', 'unknown-user'];
    if (sqlState === '28000' && /role ".*" is not permitted to log in/.test(message)) return ['answered', 'unknown-user'];
    if (sqlState === '28P01') return ['refuses-client', 'password'];
    return ['refuses-client', /pg_hba\.conf/.test(message) ? 'pg_hba' : 'authorization'];
  }
  if (cls === '53') return ['overloaded', sqlState === '53300' ? 'too-many-connections' : 'resources'];
  if (cls === '57') return ['not-ready', sqlState === '57P03' ? 'cannot-connect-now' : 'shutting-down'];
  // 3D000 (no such database), 08P01, 0A000…: the server answered this client.
  return ['answered', sqlState === '3D000' ? 'unknown-database' : undefined];
}
