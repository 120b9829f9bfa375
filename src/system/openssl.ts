import { isIP } from 'node:net';
import type { TlsHandshake } from '../host/tls-probe.js';
import { verifyErrorName } from '../knowledge/tls-errors.js';

// `openssl s_client` run on a server (the ssh vantage, where whyport's own TLS cannot run): its
// argv, and a pure parser of what it prints into the same TlsHandshake node's probe gives.

export interface SClientOptions {
  serverName?: string;
  alpn?: readonly string[];
  /** A CA file on that host trusted instead of the system's default paths (tests). */
  caFile?: string;
}

/**
 * `openssl s_client` for one handshake: SNI unless the name is an IP literal (RFC 6066 §3 forbids
 * it), every certificate the server sends (-showcerts), and the records (-msg), whose first
 * received bytes say what answered when it is not TLS. Run with stdin closed, it ends after the
 * handshake.
 */
export function sClientArgv(address: string, port: number, opts: SClientOptions = {}): string[] {
  const target = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  const sni = opts.serverName && isIP(opts.serverName) === 0 ? ['-servername', opts.serverName] : ['-noservername'];
  return [
    'openssl', 's_client', '-connect', target, ...sni, '-showcerts', '-msg',
    ...(opts.alpn?.length ? ['-alpn', opts.alpn.join(',')] : []),
    ...(opts.caFile ? ['-CAfile', opts.caFile] : []),
  ];
}

/** What one run of s_client printed and how it ended (the Runner's CommandResult has these). */
export interface SClientRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
}

// errno numbers as Linux prints them in `connect:errno=N` (asm-generic/errno.h).
const ERRNO: Readonly<Record<number, string>> = {
  32: 'EPIPE', 99: 'EADDRNOTAVAIL', 101: 'ENETUNREACH', 103: 'ECONNABORTED', 104: 'ECONNRESET', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 112: 'EHOSTDOWN', 113: 'EHOSTUNREACH',
};
// The same failures as OpenSSL 3's BIO_connect words them (strerror).
const STRERROR: Readonly<Record<string, string>> = {
  'connection refused': 'ECONNREFUSED', 'no route to host': 'EHOSTUNREACH', 'network is unreachable': 'ENETUNREACH', 'connection timed out': 'ETIMEDOUT',
};

const PEM = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

/**
 * What s_client saw: connected or not (`CONNECTED(…)`), the certificates (-showcerts), every
 * `verify error:num=N` of its verify callback (it goes on after each, so all are printed, unlike
 * node's one `authorizationError`), the version and cipher (`New, TLSv1.3, Cipher is …`), the
 * first failure of the TLS layer (`…:error:0A00010B:SSL routines:…:wrong version number:…`), and
 * from -msg the first bytes of a record that is no TLS. Never throws: anything it cannot read is
 * left out.
 */
export function parseSClient(run: SClientRun, address: string, port: number): TlsHandshake {
  const out = run.stdout;
  const err = run.stderr;
  const all = `${out}\n${err}`;
  const connected = /^CONNECTED\(/m.test(out);
  const base = { address, port, chain: [] as string[], verifyErrors: [] as string[], receivedBytes: receivedBytes(out), durationMs: run.durationMs };
  if (!connected) {
    const num = /connect:errno=(\d+)/.exec(all)?.[1];
    const word = /BIO_connect:([^:\n]+):/i.exec(all)?.[1]?.toLowerCase();
    const errno = (num !== undefined ? ERRNO[Number(num)] : undefined) ?? (word ? STRERROR[word] : undefined) ?? (run.timedOut ? 'ETIMEDOUT' : 'UNKNOWN');
    return { ...base, stage: 'connect', errno };
  }

  const chain = [...out.matchAll(PEM)].map((m) => `${m[0].replace(/\r/g, '')}\n`);
  const verifyErrors: string[] = [];
  for (const m of all.matchAll(/verify error:num=(\d+):/g)) {
    const name = verifyErrorName(Number(m[1]));
    if (!verifyErrors.includes(name)) verifyErrors.push(name);
  }
  const finalCode = Number(/Verify return code: (\d+)/.exec(out)?.[1] ?? 0);
  if (finalCode !== 0 && chain.length > 0 && !verifyErrors.includes(verifyErrorName(finalCode))) verifyErrors.push(verifyErrorName(finalCode));

  const negotiated = /^New, (TLSv[\d.]+|SSLv3|DTLSv[\d.]+), Cipher is (\S+)/m.exec(out);
  const alpn = /^ALPN protocol: (.+)$/m.exec(out)?.[1]?.trim();
  const reason = /:error:[0-9A-Fa-f]+:SSL routines:[^:\n]*:([^:\n]+)/.exec(all)?.[1]?.trim();
  const firstBytes = notTlsBytes(out);

  if (negotiated && chain.length > 0) {
    return {
      ...base,
      stage: 'done',
      chain,
      verifyErrors: chain.length > 0 ? verifyErrors : [],
      protocol: negotiated[1]!,
      cipher: negotiated[2]!,
      ...(alpn ? { alpn } : {}),
    };
  }
  const closed = reason === 'unexpected eof while reading' || /(?:read|write):errno=(?:104|32)\b/.test(all) || (!reason && base.receivedBytes === 0 && !run.timedOut);
  return {
    ...base,
    stage: 'handshake',
    chain,
    verifyErrors: [],
    ...(reason ? { error: reason } : {}),
    ...(closed ? { closed: true } : {}),
    ...(run.timedOut ? { timedOut: true } : {}),
    ...(firstBytes ? { firstBytes } : {}),
  };
}

/**
 * How much the server sent: s_client's summary says, unless it was killed before printing one (a
 * server that stalls mid-handshake); then the -msg lines of what it received (`<<< … [length 0005]`,
 * hexadecimal) add up to it.
 */
function receivedBytes(out: string): number {
  const summary = /SSL handshake has read (\d+) bytes/.exec(out)?.[1];
  if (summary !== undefined) return Number(summary);
  let total = 0;
  for (const m of out.matchAll(/^<<< [^\n]*\[length ([0-9a-fA-F]{1,8})\]/gm)) total += parseInt(m[1]!, 16);
  return total;
}

/**
 * The bytes of the first received record -msg could not read as TLS (`<<< Not TLS data or unknown
 * version (…) [length 0005]` and its hex lines): OpenSSL stops at the 5-byte header, so "HTTP/" or
 * "SSH-2" is what there is to see. As hex, like TlsHandshake.firstBytes.
 */
function notTlsBytes(out: string): string | undefined {
  const at = out.search(/^<<< Not TLS data[^\n]*$/m);
  if (at < 0) return undefined;
  const lines = out.slice(at).split('\n').slice(1);
  let hex = '';
  for (const line of lines) {
    if (!/^\s+(?:[0-9a-f]{2} ?)+\s*$/.test(line)) break;
    hex += line.replace(/\s+/g, '');
  }
  return hex.length > 0 ? hex : undefined;
}
