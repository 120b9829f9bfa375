/**
 * What answers after the TCP handshake, per protocol: who speaks first, the smallest harmless
 * request whyport sends when the client must (never a password or any credential), and how the
 * port's expected protocol is named (its /etc/services name, the program that holds it). Like
 * udp-payloads.ts, every request is built here from the protocol's own specification, named in
 * the comment, not copied from a capture.
 *
 * The exchange is a list of steps (Host.talk): each may send bytes, then waits a bounded time
 * for the answer to be complete, by a rule simple enough for a remote bash to follow as well
 * (src/host/ssh/talk.ts): a line (up to a newline) or a chunk (what arrives at once).
 */

/** The protocols whyport can talk to after the handshake. */
export const PROTOCOL_NAMES = ['ssh', 'smtp', 'ftp', 'mysql', 'redis', 'postgresql', 'http', 'imap', 'pop3'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

/** When an answer to a step is complete: up to the first newline, or the bytes that arrive together. */
export type AnswerEnd = 'line' | 'chunk';

/** One step of an exchange (see Host.talk). */
export interface ExchangeStep {
  /** Sent when the step begins. */
  send?: Uint8Array;
  /** The step runs only when the previous step's answer was exactly these bytes (PostgreSQL's 'N'). */
  onlyAfter?: Uint8Array;
  until: AnswerEnd;
}

export interface ProtocolSpec {
  name: ProtocolName;
  /** As a sentence names it. */
  title: string;
  /**
   * 'server': the server greets at once, silence is a finding (a hung or overloaded server, TCP
   * wrappers); 'client': the server answers a request; 'both': each side sends at once (SSH).
   */
  speaksFirst: 'server' | 'client' | 'both';
  /** /etc/services names (and aliases) of ports that speak it. */
  services: readonly string[];
  /** Process names (comm) of programs that serve it. */
  programs: readonly string[];
  /** The specification the request and the classifier follow. */
  spec: string;
  /** What whyport sends, as a sentence names it ('nothing: it waits for the greeting'). */
  sends: string;
}

export const PROTOCOLS: readonly ProtocolSpec[] = [
  {
    name: 'ssh',
    title: 'SSH',
    // RFC 4253 §4.2: "When the connection has been established, both sides MUST send an
    // identification string" `SSH-protoversion-softwareversion SP comments CR LF`; the server may
    // send other lines before it. whyport sends its own identification, as every client does at
    // once: that also makes an HTTP server on the port answer (400), so a wrong protocol shows.
    speaksFirst: 'both',
    services: ['ssh'],
    programs: ['sshd', 'dropbear'],
    spec: 'RFC 4253 §4.2 (protocol version exchange)',
    sends: 'its SSH identification string (no key exchange, no login)',
  },
  {
    name: 'smtp',
    title: 'SMTP',
    // RFC 5321 §3.1 and §4.2: the server greets with 220, or 554 when it refuses this client; 421
    // (§4.2.3 "Service not available, closing transmission channel") when it cannot serve now. A
    // client must wait for the greeting (§4.3.1), so nothing is sent.
    speaksFirst: 'server',
    services: ['smtp', 'mail', 'submission'],
    programs: ['master', 'smtpd', 'exim4', 'exim', 'sendmail', 'opensmtpd'],
    spec: 'RFC 5321 §3.1, §4.2 (greeting and reply codes)',
    sends: 'nothing: it reads the greeting',
  },
  {
    name: 'ftp',
    title: 'FTP',
    // RFC 959 §4.2 and §5.4: on connection the server sends 220 (ready), 120 (ready in nnn
    // minutes) or 421 (service not available, closing).
    speaksFirst: 'server',
    services: ['ftp'],
    programs: ['vsftpd', 'proftpd', 'pure-ftpd', 'in.ftpd'],
    spec: 'RFC 959 §4.2, §5.4 (reply codes on connection)',
    sends: 'nothing: it reads the greeting',
  },
  {
    name: 'mysql',
    title: 'MySQL/MariaDB',
    // MySQL Client/Server Protocol, "Connection Phase": the server sends an Initial Handshake
    // packet (protocol version 10, then the server version, NUL-terminated), or an ERR_Packet
    // (0xFF, a 2-byte error code, the message) in its place: 1130 host not allowed, 1040 too many
    // connections. Packets are framed by a 3-byte little-endian length and a sequence number.
    speaksFirst: 'server',
    services: ['mysql'],
    programs: ['mariadbd', 'mysqld'],
    spec: 'MySQL Client/Server Protocol: Initial Handshake, ERR_Packet',
    sends: 'nothing: it reads the handshake',
  },
  {
    name: 'redis',
    title: 'Redis',
    // RESP (Redis serialization protocol specification): an "inline command" is a line of words;
    // PING answers `+PONG`, or an error `-PREFIX message` (`-NOAUTH` with a password: healthy).
    // In protected mode Redis sends `-DENIED …` on accept, before any command, and closes.
    speaksFirst: 'client',
    services: ['redis'],
    programs: ['redis-server', 'valkey-server', 'keydb-server'],
    spec: 'RESP (inline commands, simple strings and errors)',
    sends: 'PING',
  },
  {
    name: 'postgresql',
    title: 'PostgreSQL',
    // PostgreSQL Frontend/Backend Protocol, "Message Flow: Start-up" and "Message Formats":
    // SSLRequest (Int32 8, Int32 80877103) answered by one byte 'S' or 'N'; then a StartupMessage
    // (Int32 length, Int32 196608 = protocol 3.0, name/value pairs, a final NUL). The server
    // answers with an Authentication request ('R': the client is admitted to log in) or an
    // ErrorResponse ('E' with the SQLSTATE in field 'C': 28000 pg_hba.conf, 53300, 57P03).
    speaksFirst: 'client',
    services: ['postgresql', 'postgres'],
    programs: ['postgres', 'postmaster'],
    spec: 'PostgreSQL protocol: SSLRequest, StartupMessage, ErrorResponse (Message Formats)',
    sends: 'an SSLRequest and a StartupMessage naming a user (no password)',
  },
  {
    name: 'http',
    title: 'HTTP',
    // RFC 9110 §9.3.2 (HEAD: the headers of GET without a body), §7.2 (Host), RFC 9112 §3 and
    // §9.6 (`Connection: close`).
    speaksFirst: 'client',
    services: ['http', 'www', 'http-alt', 'webcache'],
    programs: ['nginx', 'apache2', 'httpd', 'caddy', 'lighttpd', 'haproxy', 'traefik', 'varnishd', 'envoy'],
    spec: 'RFC 9110 §9.3.2 (HEAD), RFC 9112',
    sends: 'HEAD / with the host name',
  },
  {
    name: 'imap',
    title: 'IMAP',
    // RFC 9051 §7.1 (and RFC 3501 §7.1): the greeting is an untagged OK, PREAUTH or BYE; BYE
    // means the server will not accept this connection.
    speaksFirst: 'server',
    services: ['imap2', 'imap'],
    programs: ['dovecot', 'imap-login', 'cyrus-imapd', 'imapd'],
    spec: 'RFC 9051 §7.1 (server greeting)',
    sends: 'nothing: it reads the greeting',
  },
  {
    name: 'pop3',
    title: 'POP3',
    // RFC 1939 §4: once connected the server greets with a positive response `+OK`.
    speaksFirst: 'server',
    services: ['pop3', 'pop-3'],
    programs: ['dovecot', 'pop3-login', 'popa3d'],
    spec: 'RFC 1939 §4 (greeting)',
    sends: 'nothing: it reads the greeting',
  },
];

const BY_NAME = new Map(PROTOCOLS.map((p) => [p.name, p]));

/** The specification of a protocol. */
export function protocolSpec(name: ProtocolName): ProtocolSpec {
  return BY_NAME.get(name)!;
}

/** `--protocol NAME` and friends: the protocol of that name (aliases: postgres, mariadb, ssh2 …), or undefined. */
export function protocolByName(name: string): ProtocolName | undefined {
  const n = name.trim().toLowerCase();
  const alias: Record<string, ProtocolName> = { postgres: 'postgresql', pgsql: 'postgresql', mariadb: 'mysql', imap2: 'imap', imap4: 'imap', 'pop-3': 'pop3', www: 'http' };
  if (alias[n]) return alias[n];
  return BY_NAME.has(n as ProtocolName) ? (n as ProtocolName) : undefined;
}

/** The protocol a port's /etc/services name (or alias) stands for, or undefined. */
export function protocolOfService(serviceName: string): ProtocolName | undefined {
  const n = serviceName.toLowerCase();
  return PROTOCOLS.find((p) => p.services.includes(n))?.name;
}

/**
 * The protocol a program that holds the port speaks, from its process name (comm, 15 characters
 * at most), or undefined. Programs that speak several (dovecot: IMAP and POP3; nginx on a mail
 * port) are resolved by the port's service name when it gives one.
 */
export function protocolOfProgram(program: string, serviceName?: string): ProtocolName | undefined {
  const n = program.toLowerCase();
  const byService = serviceName ? protocolOfService(serviceName) : undefined;
  const speakers = PROTOCOLS.filter((p) => p.programs.includes(n)).map((p) => p.name);
  if (speakers.length === 0) return undefined;
  if (byService && speakers.includes(byService)) return byService;
  return speakers.length === 1 ? speakers[0] : undefined;
}

/** What whyport identifies itself as (the SSH comment, the HTTP User-Agent, PostgreSQL's application_name). */
export const CLIENT_NAME = 'whyport';

/** RFC 4253 §4.2: `SSH-2.0-softwareversion CR LF`; softwareversion is printable US-ASCII without spaces or '-'. */
export const SSH_IDENTIFICATION = Buffer.from(`SSH-2.0-${CLIENT_NAME}\r\n`, 'ascii');

/** RESP inline command (see the Redis protocol specification, "Inline commands"). */
export const REDIS_PING = Buffer.from('PING\r\n', 'ascii');

/** PostgreSQL SSLRequest: Int32 length 8, Int32 80877103 (1234 << 16 | 5679). */
export const PG_SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/**
 * PostgreSQL StartupMessage (protocol 3.0): user and database both the given name, as psql does
 * when no database is named, and application_name so the server's log can tell whyport's probe.
 */
export function pgStartupMessage(user: string): Buffer {
  const pairs = ['user', user, 'database', user, 'application_name', CLIENT_NAME];
  const body = Buffer.concat([...pairs.map((s) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])])), Buffer.from([0])]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

/** A host name fit for a Host header (RFC 9110 §7.2): a name or literal address, with the port unless it is 80. */
export function httpHostHeader(name: string, port: number): string {
  const host = /^[0-9a-fA-F:]+$/.test(name) && name.includes(':') ? `[${name}]` : name;
  return port === 80 ? host : `${host}:${port}`;
}

/** HEAD / HTTP/1.1 with Host and `Connection: close` (RFC 9110 §9.3.2, RFC 9112 §9.6). */
export function httpHeadRequest(hostName: string, port: number): Buffer {
  // Only what a Host header may carry: a name, a bracketed IPv6 literal, a port. Anything else
  // (CR, LF, spaces) could split the request; it never comes from the target, but stays out.
  const host = httpHostHeader(hostName, port);
  if (!/^[A-Za-z0-9._\-:[\]]+$/.test(host)) throw new Error(`not a host name for an HTTP request: ${JSON.stringify(hostName)}`);
  return Buffer.from(`HEAD / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${CLIENT_NAME}\r\nAccept: */*\r\nConnection: close\r\n\r\n`, 'ascii');
}

/**
 * What a name must look like to be sent as a PostgreSQL user: a role name may hold any character
 * but NUL (which would end the field) and is cut at 63 bytes (NAMEDATALEN); control characters
 * are refused too. It travels as bytes (in hex over ssh), never through a shell; `--as-user`'s
 * own check of the command line is stricter.
 */
export const USER_NAME = /^[^\x00-\x1f\x7f]{1,63}$/;

/** The steps whyport takes with a port of that protocol (Host.talk). `hostName` for HTTP's Host, `user` for PostgreSQL. */
export function exchangeFor(protocol: ProtocolName | undefined, ctx: { hostName: string; port: number; user: string }): ExchangeStep[] {
  switch (protocol) {
    case 'ssh':
      return [{ send: SSH_IDENTIFICATION, until: 'line' }];
    case 'smtp':
    case 'ftp':
    case 'imap':
    case 'pop3':
      return [{ until: 'line' }];
    case 'mysql':
      return [{ until: 'chunk' }];
    case 'redis':
      return [{ send: REDIS_PING, until: 'line' }];
    case 'postgresql':
      if (!USER_NAME.test(ctx.user) || Buffer.byteLength(ctx.user) > 63) throw new Error(`not a user name to send: ${JSON.stringify(ctx.user)}`);
      return [
        { send: PG_SSL_REQUEST, until: 'chunk' },
        { send: pgStartupMessage(ctx.user), onlyAfter: Buffer.from('N'), until: 'chunk' },
      ];
    case 'http':
      return [{ send: httpHeadRequest(ctx.hostName, ctx.port), until: 'chunk' }];
    case undefined:
      // A protocol whyport does not know: listen for a greeting, send nothing.
      return [{ until: 'chunk' }];
  }
}

/**
 * How long whyport listens to a port of no known protocol for a greeting: a custom protocol
 * that waits for its client costs at most this much more than the handshake (issue 21).
 */
export const UNKNOWN_PROTOCOL_WAIT_MS = 300;

/**
 * A port of no known protocol that said nothing in UNKNOWN_PROTOCOL_WAIT_MS is asked once more, on
 * a second connection, as an HTTP client would (`HEAD /`): most programs of their own on a port
 * of their own serve HTTP, and a 502/503 from one is not a working service. nmap's service scan
 * does the same (its NULL probe, then GetRequest). How long that answer may take.
 */
export const UNKNOWN_HTTP_WAIT_MS = 500;

/** libwrap's refuse() sleeps 5 s before it closes (tcp_wrappers clean_exit): an SSH server silent that long, then closing, is TCP wrappers. */
export const TCP_WRAPPERS_CLOSE_MS: readonly [number, number] = [4_500, 6_500];

/**
 * /etc/services names of ports that speak TLS from the first byte (implicit TLS): HTTPS (RFC 9110
 * §4.2.2), IMAPS and POP3S (RFC 8314 §3.3), SMTP submission over TLS (RFC 8314 §3.3), LDAPS,
 * FTPS (RFC 4217 §3, implicit), NNTPS (RFC 4642 §2), and the other `…s` ports Debian's /etc/services lists.
 */
export const TLS_SERVICES: readonly string[] = ['https', 'imaps', 'pop3s', 'submissions', 'ldaps', 'ftps', 'nntps', 'telnets', 'ircs-u', 'amqps', 'syslog-tls'];

/** Whether a port of that /etc/services name speaks TLS from its first byte. */
export function isTlsService(serviceName: string): boolean {
  return TLS_SERVICES.includes(serviceName.toLowerCase());
}

/** The protocol names `--protocol` takes: whyport's plaintext protocols, and tls/https for a TLS port. */
export const PROTOCOL_CHOICES: readonly string[] = [...PROTOCOL_NAMES, 'tls', 'https'];
