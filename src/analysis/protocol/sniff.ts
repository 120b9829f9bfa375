import { firstLine } from './said.js';
import type { AnsweringProtocol } from './finding.js';

/**
 * Which protocol some bytes a server sent first (or in answer) look like, whatever was expected:
 * so that a wrong protocol can be named. Only shapes that are hard to mistake: a TLS record
 * header, an HTTP status line, an SSH identification, a Redis error or status line, a MySQL
 * handshake or error packet, a PostgreSQL ErrorResponse, an IMAP or POP3 greeting, an SMTP or
 * FTP greeting that names itself.
 */
export function sniffProtocol(bytes: Uint8Array): AnsweringProtocol | undefined {
  const b = Buffer.from(bytes);
  if (b.length === 0) return undefined;
  // TLS record (RFC 8446 §5.1): ContentType alert(21) or handshake(22), legacy version 3.x.
  if (b.length >= 3 && (b[0] === 0x15 || b[0] === 0x16) && b[1] === 0x03 && b[2]! <= 0x04) return 'tls';
  const line = firstLine(b);
  if (/^HTTP\/\d(\.\d)? \d{3}\b/.test(line)) return 'http';
  // An HTTP server's answer to a request line it reads as HTTP/0.9 (one word: an SSH
  // identification) is the error page alone, without a status line (python's http.server, nginx).
  if (/^\s*<(!DOCTYPE html|html|head|body)\b/i.test(line)) return 'http';
  if (/^SSH-\d\.\d+-/.test(line)) return 'ssh';
  if (/^\* (OK|PREAUTH|BYE)\b/i.test(line)) return 'imap';
  if (/^\+OK\b/.test(line)) return 'pop3';
  if (/^[-+][A-Z]{2,}\b/.test(line) && /\r\n/.test(b.toString('latin1'))) return 'redis';
  if (/^\d{3}[ -].*\b(E?SMTP|Postfix|Exim|Sendmail)\b/i.test(line)) return 'smtp';
  if (/^\d{3}[ -].*FTP/i.test(line)) return 'ftp';
  if (looksLikeMysqlPacket(b)) return 'mysql';
  if (looksLikePgError(b)) return 'postgresql';
  return undefined;
}

/** A MySQL packet with sequence 0 whose payload is a v10 handshake or an ERR packet (0xFF). */
export function looksLikeMysqlPacket(b: Buffer): boolean {
  if (b.length < 5) return false;
  const len = b[0]! | (b[1]! << 8) | (b[2]! << 16);
  if (b[3] !== 0 || len < 1 || len > 0xffff) return false;
  if (b[4] === 0x0a) return b.length >= 6 && b[5]! >= 0x20 && b[5]! < 0x7f;
  return b[4] === 0xff && len >= 3;
}

/** A PostgreSQL ErrorResponse: 'E', an Int32 length, then a field ('S', 'V', 'C', 'M') with text. */
export function looksLikePgError(b: Buffer): boolean {
  if (b.length < 7 || b[0] !== 0x45) return false;
  const len = b.readUInt32BE(1);
  return len >= 6 && len < 1 << 16 && [0x53, 0x56, 0x43, 0x4d].includes(b[5]!);
}
