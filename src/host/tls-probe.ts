import { Socket, isIP } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';

/**
 * What one TLS handshake attempt saw, from either probe (node's TLS here, `openssl s_client` on a
 * server: system/openssl.ts): plain JSON-able data, so the same analysis serves both.
 */
export interface TlsHandshake {
  address: string;
  port: number;
  /** How far it got: no TCP connection, connected but the handshake failed or timed out, or done. */
  stage: 'connect' | 'handshake' | 'done';
  /** The errno of a failed connect (ECONNREFUSED, EHOSTUNREACH, ETIMEDOUT, …); ABORT_ERR when interrupted. */
  errno?: string;
  /** The peer's certificates as PEM, leaf first, as the server sent them. */
  chain: string[];
  /** Certificate verification's failures, by OpenSSL's name (CERT_HAS_EXPIRED, …); empty when it passed or never ran. */
  verifyErrors: string[];
  /** The negotiated version (TLSv1.3), cipher and ALPN protocol, once done. */
  protocol?: string;
  cipher?: string;
  alpn?: string;
  /** handshake: OpenSSL's reason ("wrong version number", "tlsv1 alert protocol version"), node's code, or a message. */
  error?: string;
  /** handshake: the peer closed or reset the connection; `receivedBytes` says whether it said anything first. */
  closed?: boolean;
  /** handshake: nothing more came back in time. */
  timedOut?: boolean;
  /** The first bytes the peer sent (at most PEEK_BYTES), as hex, when the handshake failed: what answered instead. */
  firstBytes?: string;
  receivedBytes: number;
  durationMs: number;
}

export interface TlsProbeOptions {
  /** The name for SNI; never sent for an IP literal (RFC 6066 §3). */
  serverName?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** ALPN protocols to offer (h2, http/1.1); none by default. */
  alpn?: readonly string[];
  /** The trust to verify against (a context over the system's CA bundle); node's bundled roots when not given. */
  secureContext?: SecureContext;
}

/** How much of the peer's first bytes is kept to name what answered instead of TLS. */
export const PEEK_BYTES = 512;
/** A handshake that has read this much without completing is not one a real server sends (a long chain is ~10 KiB). */
export const MAX_HANDSHAKE_BYTES = 64 * 1024;

type Ending = Omit<TlsHandshake, 'address' | 'port' | 'receivedBytes' | 'durationMs' | 'chain' | 'verifyErrors'> & Partial<Pick<TlsHandshake, 'chain' | 'verifyErrors'>>;

/**
 * One TLS handshake to a literal address with verification off (every problem is collected, none
 * stops the handshake), then closed at once. A tee between the TCP socket and the TLS layer keeps
 * the peer's first bytes, so a failure can say what spoke instead (`HTTP/1.1 400`). Bounded: the
 * whole attempt ends within `timeoutMs`, after MAX_HANDSHAKE_BYTES, or when `signal` aborts; no
 * socket or timer outlives it.
 */
export function probeTls(address: string, port: number, opts: TlsProbeOptions): Promise<TlsHandshake> {
  const started = performance.now();
  return new Promise((resolve) => {
    const raw = new Socket();
    const peek: Buffer[] = [];
    let peeked = 0;
    let received = 0;
    let connected = false;
    let done = false;
    let tls: TLSSocket | undefined;

    const finish = (ending: Ending) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', aborted);
      if (ending.stage === 'done' && tls) closeGracefully(tls, raw);
      else {
        tls?.destroy();
        raw.destroy();
      }
      const first = Buffer.concat(peek);
      resolve({
        address,
        port,
        chain: [],
        verifyErrors: [],
        ...ending,
        ...(ending.stage === 'handshake' && first.length > 0 ? { firstBytes: first.toString('hex') } : {}),
        receivedBytes: received,
        durationMs: Math.round(performance.now() - started),
      });
    };

    const timer = setTimeout(() => (connected ? finish({ stage: 'handshake', timedOut: true }) : finish({ stage: 'connect', errno: 'ETIMEDOUT' })), opts.timeoutMs);
    // Ctrl-C: the sockets are closed now, not at the timeout.
    const aborted = () => finish({ stage: connected ? 'handshake' : 'connect', errno: 'ABORT_ERR', error: 'interrupted' });
    if (opts.signal?.aborted) return aborted();
    opts.signal?.addEventListener('abort', aborted, { once: true });

    // The TLS layer reads and writes through this Duplex, so every byte passes where it can be counted and kept.
    const tee = new Duplex({
      read: () => void raw.resume(),
      write: (chunk: Buffer, _enc, cb) => (raw.destroyed ? cb() : void raw.write(chunk, () => cb())),
      final: (cb) => {
        raw.end();
        cb();
      },
    });
    tee.on('error', () => {}); // its errors reach the TLS socket, which reports them
    raw.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (peeked < PEEK_BYTES) {
        const part = chunk.subarray(0, PEEK_BYTES - peeked);
        peek.push(part);
        peeked += part.length;
      }
      if (received > MAX_HANDSHAKE_BYTES) return finish({ stage: 'handshake', error: `more than ${MAX_HANDSHAKE_BYTES} bytes without a complete handshake` });
      if (!tee.push(chunk)) raw.pause();
    });
    raw.on('end', () => tee.push(null));
    raw.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) return finish({ stage: 'connect', errno: err.code ?? 'UNKNOWN' });
      finish({ stage: 'handshake', closed: true, error: err.code ?? err.message });
    });
    raw.once('connect', () => {
      connected = true;
      const sni = opts.serverName && isIP(opts.serverName) === 0 ? opts.serverName : undefined;
      try {
        tls = tlsConnect({
          socket: tee,
          rejectUnauthorized: false,
          ...(sni ? { servername: sni } : {}),
          ...(opts.alpn?.length ? { ALPNProtocols: [...opts.alpn] } : {}),
          ...(opts.secureContext ? { secureContext: opts.secureContext } : {}),
          // The name is judged by the analysis (every problem, not the first): node's check would
          // take the place of the verifier's own error in authorizationError.
          checkServerIdentity: () => undefined,
        });
      } catch (err) {
        // Options node refuses (an ALPN name too long): no handshake was tried.
        return finish({ stage: 'handshake', error: (err as Error).message });
      }
      tls.once('secureConnect', () => {
        const socket = tls!;
        const verify = socket.authorizationError;
        const cipher = socket.getCipher();
        const protocol = socket.getProtocol();
        const alpn = socket.alpnProtocol;
        finish({
          stage: 'done',
          chain: peerChain(socket),
          verifyErrors: verify ? [String(verify)] : [],
          ...(protocol ? { protocol } : {}),
          ...(cipher?.standardName ? { cipher: cipher.standardName } : cipher?.name ? { cipher: cipher.name } : {}),
          ...(alpn ? { alpn } : {}),
        });
      });
      // A peer that closes before the handshake completes shows here too ("Client network socket
      // disconnected before secure TLS connection was established", code ECONNRESET).
      tls.once('error', (err: NodeJS.ErrnoException & { reason?: string }) => {
        const closed = err.code === 'ECONNRESET' || err.code === 'EPIPE';
        finish({ stage: 'handshake', error: err.reason ?? err.code ?? err.message, ...(closed ? { closed: true } : {}) });
      });
    });
    raw.connect({ host: address, port, noDelay: true });
  });
}

/**
 * Ends a completed handshake as a client does (close_notify, then FIN after the last bytes are
 * written), so the server logs a closed connection rather than a broken handshake: the TLS 1.3
 * client's Finished may still be on its way. Never later than a second, and nothing waits for it.
 */
function closeGracefully(tls: TLSSocket, raw: Socket): void {
  const force = setTimeout(() => {
    tls.destroy();
    raw.destroy();
  }, 1_000);
  force.unref();
  raw.once('close', () => {
    clearTimeout(force);
    tls.destroy();
  });
  tls.on('error', () => {});
  tls.end();
}

/** The peer's certificates as PEM, leaf first, by the issuer links node makes (a self-signed root links to itself). */
function peerChain(socket: TLSSocket): string[] {
  const pems: string[] = [];
  let cert = socket.getPeerCertificate(true) as LinkedCertificate | undefined;
  while (cert?.raw && pems.length < 10) {
    const pem = toPem(cert.raw);
    if (pems.includes(pem)) break;
    pems.push(pem);
    cert = cert.issuerCertificate;
  }
  return pems;
}

interface LinkedCertificate {
  raw?: Buffer;
  issuerCertificate?: LinkedCertificate;
}

function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}
