import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortable } from '../../src/host/abortable.js';
import { localHost } from '../../src/host/local.js';
import { SshSession } from '../../src/host/ssh/session.js';
import { sshHost } from '../../src/host/ssh/host.js';
import { MAX_HANDSHAKE_BYTES, probeTls } from '../../src/host/tls-probe.js';
import { judgeTls } from '../../src/analysis/tls.js';
import { inspectTls } from '../helpers/inspect-tls.js';
import { tlsReadingOf } from '../../src/system/tls.js';
import { loopbackSession, sshdAvailable, startLoopbackSshd, type LoopbackSshd } from '../helpers/ssh.js';

/**
 * node's TLS probe on loopback (no root needed), against node's own TLS server with a chain the
 * test makes with openssl: SNI only for names, ALPN, the chain leaf first, and the bounds — a
 * silent port ends at the timeout, Ctrl-C ends it at once, and neither leaves a socket or a timer.
 * Then a real sshd: its greeting is what answered instead of TLS; and inspectTls over the real ssh
 * host, whose s_client runs on the server.
 */

const haveOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
if (!haveOpenssl) console.warn('skipping the TLS probe tests: openssl is not installed (apt-get install -y openssl)');

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

const handles = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap' || r === 'TLSWrap').length;

interface LoopbackServers {
  /** The CA (PEM) that signed the TLS server's certificate (DNS:probe.test, IP:127.0.0.1), and its file. */
  ca: string;
  caFile: string;
  /** A TLS server (node's own, sending its CA along) and a TCP server that never says a word. */
  tlsPort: number;
  silentPort: number;
  /** What the TLS server saw of each client: SNI and ALPN. */
  seen: { servername: string | false; alpn: string | false }[];
  close(): Promise<void>;
}

/** Certificates made with openssl in a temp dir, and the two servers on 127.0.0.1. */
async function loopbackServers(): Promise<LoopbackServers> {
  const dir = mkdtempSync(join(tmpdir(), 'wpt-tls-probe-'));
  const o = (args: string[]) => execa('openssl', args, { cwd: dir });
  await o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=probe test CA', '-days', '2', '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign']);
  await o(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=probe.test']);
  writeFileSync(join(dir, 'ext'), 'subjectAltName=DNS:probe.test,IP:127.0.0.1\n');
  await o(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'leaf.crt', '-extfile', 'ext']);
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const seen: LoopbackServers['seen'] = [];
  const held: Socket[] = [];
  const tlsServer = createTlsServer({ key: readFileSync(join(dir, 'leaf.key')), cert: readFileSync(join(dir, 'leaf.crt'), 'utf8') + ca, ALPNProtocols: ['h2', 'http/1.1'] }, (s: TLSSocket) => {
    seen.push({ servername: (s as TLSSocket & { servername: string | false }).servername, alpn: s.alpnProtocol ?? false });
    s.on('error', () => {});
    s.end();
  });
  tlsServer.on('tlsClientError', () => {});
  const silent: Server = createTcpServer((s) => {
    held.push(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  return {
    ca,
    caFile: join(dir, 'ca.crt'),
    tlsPort: (tlsServer.address() as { port: number }).port,
    silentPort: (silent.address() as { port: number }).port,
    seen,
    async close() {
      for (const s of held) s.destroy();
      await new Promise((r) => tlsServer.close(r));
      await new Promise((r) => silent.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe.skipIf(!haveOpenssl)('probeTls on loopback', () => {
  let servers: LoopbackServers;
  let ca = '';
  let tlsPort = 0;
  let silentPort = 0;
  let seen: LoopbackServers['seen'] = [];

  beforeAll(async () => {
    servers = await loopbackServers();
    ({ ca, tlsPort, silentPort, seen } = servers);
  });

  afterAll(async () => {
    await servers?.close();
  });

  it('a handshake: the chain leaf first, SNI for a name, none for an IP literal, ALPN when offered', async () => {
    const h = await probeTls('127.0.0.1', tlsPort, { serverName: 'probe.test', timeoutMs: 3_000, alpn: ['h2'], secureContext: createSecureContext({ ca }) });
    expect(h).toMatchObject({ stage: 'done', verifyErrors: [], protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', alpn: 'h2' });
    expect(h.chain).toHaveLength(2);
    expect(h.chain[1]!.replace(/\s/g, '')).toBe(ca.replace(/\s/g, ''));
    // The server's side of the handshake completes a moment after the client's.
    await until(() => seen.length === 1);
    expect(seen[0]).toEqual({ servername: 'probe.test', alpn: 'h2' });
    await probeTls('127.0.0.1', tlsPort, { serverName: '127.0.0.1', timeoutMs: 3_000 });
    await until(() => seen.length === 2);
    expect(seen[1]).toEqual({ servername: false, alpn: false });
  });

  it("untrusted without the CA: node's verifier names it; with the CA given, nothing", async () => {
    // The server sends its CA along: a self-signed root nobody trusts, at the end of the chain.
    expect((await probeTls('127.0.0.1', tlsPort, { timeoutMs: 3_000 })).verifyErrors).toEqual(['SELF_SIGNED_CERT_IN_CHAIN']);
    expect(await inspectTls(localHost, { address: '127.0.0.1', port: tlsPort, serverName: 'probe.test', timeoutMs: 3_000, extraCa: [ca] })).toMatchObject({ via: 'node', outcome: 'secure', tls: { problems: [], names: ['probe.test', '127.0.0.1'] } });
    expect(await inspectTls(localHost, { address: '127.0.0.1', port: tlsPort, serverName: 'probe.test', timeoutMs: 3_000 })).toMatchObject({ outcome: 'problems', tls: { problems: ['untrusted'] } });
  });

  it('a silent port: the verdict at the timeout, not later, nothing left behind', async () => {
    const before = handles();
    const h = await probeTls('127.0.0.1', silentPort, { serverName: 'probe.test', timeoutMs: 400 });
    expect(h).toMatchObject({ stage: 'handshake', timedOut: true, receivedBytes: 0 });
    expect(h.durationMs).toBeGreaterThanOrEqual(399);
    expect(h.durationMs).toBeLessThan(400 + 300);
    await new Promise((r) => setTimeout(r, 20));
    expect(handles()).toBeLessThanOrEqual(before);
  });

  it('a server that starts a record and stalls: a handshake that got no answer in time, not a silent port', async () => {
    const stall = createTcpServer((c) => {
      c.on('error', () => {});
      c.resume();
      c.write(Buffer.from([0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00]));
    });
    await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
    const h = await probeTls('127.0.0.1', (stall.address() as { port: number }).port, { timeoutMs: 400 });
    expect(h).toMatchObject({ stage: 'handshake', timedOut: true, receivedBytes: 7, firstBytes: '16030300400200' });
    expect(judgeTls(tlsReadingOf(h, 'node', ''), { now: new Date() })).toMatchObject({ outcome: 'problems', tls: { problems: ['handshake'], error: 'no answer to the handshake in time' } });
    await new Promise((r) => stall.close(r));
  });

  it('Ctrl-C: the probe ends at once, through the signal of an abortable host too', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    const h = await probeTls('127.0.0.1', silentPort, { timeoutMs: 10_000, signal: controller.signal });
    expect(h).toMatchObject({ errno: 'ABORT_ERR' });
    expect(performance.now() - started).toBeLessThan(400);
    const already = new AbortController();
    already.abort();
    expect(await inspectTls(abortable(localHost, already.signal), { address: '127.0.0.1', port: silentPort, timeoutMs: 10_000, signal: already.signal })).toMatchObject({ outcome: 'unknown', reason: 'interrupted' });
  });

  it('nothing listening: no-connection, ECONNREFUSED', async () => {
    expect(await inspectTls(localHost, { address: '127.0.0.1', port: 1, timeoutMs: 1_000 })).toMatchObject({ outcome: 'no-connection', errno: 'ECONNREFUSED' });
  });
});

describe('probeTls against a server that sends anything at all', () => {
  it('random bytes, TLS headers with junk, a flood: always a verdict within the timeout, never a throw, a bounded read', async () => {
    let seed = 3;
    const next = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256)));
    let send: (s: Socket) => void = () => {};
    const server = createTcpServer((s) => {
      s.on('error', () => {});
      s.resume(); // reads (and drops) the ClientHello, so it sees the probe close
      send(s);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const shapes: ((s: Socket) => void)[] = [
      (s) => s.end(bytes(1 + Math.floor(next() * 64))),
      (s) => s.write(bytes(1 + Math.floor(next() * 3000))), // and stays open
      (s) => s.end(Buffer.concat([Buffer.from([0x16, 0x03, 0x03]), bytes(2 + Math.floor(next() * 600))])),
      (s) => s.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x03, 0x40, 0x00]), bytes(100)])), // a record that never completes
      (s) => {
        // A flood of well-formed handshake records of one message that never ends.
        const record = Buffer.concat([Buffer.from([0x16, 0x03, 0x03, 0x40, 0x00]), Buffer.alloc(0x4000, 0x0b)]);
        const pump = () => {
          while (!s.destroyed && s.write(record));
          if (!s.destroyed) s.once('drain', pump);
        };
        pump();
      },
    ];
    try {
      for (let i = 0; i < 40; i++) {
        send = shapes[i % shapes.length]!;
        const started = performance.now();
        const h = await probeTls('127.0.0.1', port, { serverName: 'probe.test', timeoutMs: 500 });
        expect(performance.now() - started).toBeLessThan(500 + 300);
        expect(['handshake', 'done']).toContain(h.stage);
        expect(h.receivedBytes).toBeLessThanOrEqual(MAX_HANDSHAKE_BYTES + 64 * 1024);
        expect(h.firstBytes === undefined || h.firstBytes.length <= 2 * 512).toBe(true);
        expect(() => judgeTls(tlsReadingOf(h, 'node', ''), { serverName: 'probe.test', now: new Date() })).not.toThrow();
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  }, 60_000);
});

const unavailable = haveOpenssl ? await sshdAvailable() : 'openssl is not installed';
if (unavailable) console.warn(`skipping the TLS probe against sshd and over ssh: ${unavailable}`);

describe.skipIf(unavailable !== null)('a real sshd: its greeting instead of TLS; inspectTls through the real ssh host', () => {
  let sshd: LoopbackSshd;
  let session: SshSession;
  let servers: LoopbackServers;
  beforeAll(async () => {
    [sshd, servers] = await Promise.all([startLoopbackSshd(), loopbackServers()]);
    session = loopbackSession(sshd);
  }, 30_000);
  afterAll(async () => {
    await session?.close();
    await sshd?.stop();
    await servers?.close();
  });

  it('by node: wrong-protocol ssh, with the greeting sshd sent', async () => {
    const f = await inspectTls(localHost, { address: '127.0.0.1', port: sshd.port, serverName: 'probe.test', timeoutMs: 3_000 });
    expect(f).toMatchObject({ outcome: 'wrong-protocol', answered: { protocol: 'ssh', said: expect.stringMatching(/^SSH-2\.0-OpenSSH_/) } });
  });

  it('over ssh: one remote command, s_client run on the server, the same verdict', async () => {
    const host = sshHost(session);
    await host.run(['true']); // the connection and its preflight, before counting
    const before = await sshd.sessionCount();
    const f = await inspectTls(host, { address: '127.0.0.1', port: sshd.port, serverName: 'probe.test', timeoutMs: 3_000 });
    expect(await sshd.sessionCount()).toBe(before + 1);
    // s_client stops at the 5-byte header: "SSH-2" is what it read.
    expect(f).toMatchObject({ via: 'openssl', outcome: 'wrong-protocol', answered: { protocol: 'ssh', said: 'SSH-2' } });
  });

  it('over ssh: a healthy server with the CA given there is secure; a silent port is silent, bounded by the remote timeout', async () => {
    const host = sshHost(session);
    expect(await inspectTls(host, { address: '127.0.0.1', port: servers.tlsPort, serverName: 'probe.test', timeoutMs: 3_000, caFile: servers.caFile })).toMatchObject({
      via: 'openssl',
      outcome: 'secure',
      tls: { problems: [], subject: 'CN=probe.test', names: ['probe.test', '127.0.0.1'] },
      protocol: 'TLSv1.3',
    });
    const started = performance.now();
    expect(await inspectTls(host, { address: '127.0.0.1', port: servers.silentPort, serverName: 'probe.test', timeoutMs: 1_000 })).toMatchObject({ outcome: 'silent' });
    expect(performance.now() - started).toBeLessThan(1_000 + 2_000);
  });
});
