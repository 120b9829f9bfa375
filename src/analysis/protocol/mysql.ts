import type { ProtocolFinding, ProtocolOutcome } from './finding.js';
import { printable } from './said.js';

/**
 * What a MySQL or MariaDB server sends first (MySQL Client/Server Protocol, Connection Phase): a
 * packet (3-byte little-endian length, sequence id) holding the Initial Handshake (protocol 10,
 * then the server version, NUL-terminated) or an ERR_Packet in its place (0xFF, a 2-byte error
 * code, `#` and a SQLSTATE only after a 4.1 handshake, the message). undefined: not such a packet.
 */
export function classifyMysqlGreeting(bytes: Uint8Array, base: { bytes: number }): ProtocolFinding | undefined {
  const b = Buffer.from(bytes);
  if (b.length < 5 || b[3] !== 0) return undefined;
  const len = b[0]! | (b[1]! << 8) | (b[2]! << 16);
  if (len < 1) return undefined;
  const payload = b.subarray(4, 4 + len);
  if (payload[0] === 0x0a || payload[0] === 0x09) {
    const nul = payload.indexOf(0, 1);
    const raw = payload.subarray(1, nul < 0 ? payload.length : nul).toString('latin1');
    if (!/^[\x20-\x7e]+$/.test(raw)) return undefined;
    // MariaDB prefixes "5.5.5-" so that old clients read a version they accept.
    const version = raw.replace(/^5\.5\.5-/, '');
    const product = /mariadb/i.test(version) ? 'MariaDB' : 'MySQL';
    return { outcome: 'answered', evidence: { ...base, protocol: 'mysql', product, version: printable(version, 80) } };
  }
  if (payload[0] !== 0xff || payload.length < 3) return undefined;
  const errorCode = payload.readUInt16LE(1);
  let text = payload.subarray(3);
  let sqlState: string | undefined;
  if (text[0] === 0x23 && text.length >= 6) {
    sqlState = text.subarray(1, 6).toString('latin1');
    text = text.subarray(6);
  }
  // ER_HOST_NOT_PRIVILEGED 1130, ER_HOST_IS_BLOCKED 1129 (max_connect_errors), ER_CON_COUNT_ERROR
  // 1040, ER_SERVER_SHUTDOWN 1053; any other error in place of the greeting turns the client away.
  const [outcome, reason]: [ProtocolOutcome, string] =
    errorCode === 1130 ? ['refuses-client', 'host-not-allowed']
    : errorCode === 1129 ? ['refuses-client', 'host-blocked']
    : errorCode === 1040 ? ['overloaded', 'too-many-connections']
    : errorCode === 1053 ? ['not-ready', 'shutting-down']
    : ['refuses-client', 'error'];
  return { outcome, evidence: { ...base, protocol: 'mysql', errorCode, ...(sqlState ? { sqlState: printable(sqlState) } : {}), said: printable(text.toString('utf8')), reason } };
}
