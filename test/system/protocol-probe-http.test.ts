import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { localHost } from '../../src/host/local.js';
import { probeProtocol } from '../../src/system/protocol-probe.js';
import { UNKNOWN_HTTP_WAIT_MS, UNKNOWN_PROTOCOL_WAIT_MS } from '../../src/knowledge/protocols.js';

/**
 * A port of no known protocol that says nothing at once is asked once more as an HTTP client
 * (HEAD / on a second connection, as nmap's GetRequest follows its NULL probe): real sockets on
 * loopback, the local host's own talk.
 */

const servers: (Server | HttpServer)[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen<T extends Server | HttpServer>(s: T): Promise<number> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

/** An HTTP server that answers every request with `status` (an application in maintenance answers 503). */
const answering = (status: number) =>
  listen(
    createHttpServer((req, res) => {
      res.writeHead(status, { 'Content-Type': 'text/plain', Server: 'maint/1.0' });
      res.end(req.method === 'HEAD' ? undefined : 'down for maintenance\n');
    }),
  );

describe('probeProtocol on a port of no known protocol', () => {
  it('an HTTP application that answers 503 is read as HTTP with its status, after a silent first connection', async () => {
    const port = await answering(503);
    const p = await probeProtocol(localHost, { address: '127.0.0.1', port, protocol: undefined, userName: 'u', timeoutMs: 3_000 });
    expect(p.outcome).toBe('answered');
    expect(p.evidence).toMatchObject({ protocol: 'http', status: 503, product: 'maint' });
    expect(p.talks).toHaveLength(2);
    expect(p.talks[0]!.answers.join('')).toBe('');
    expect(Buffer.from(p.talks[1]!.answers[0]!, 'hex').toString('latin1')).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(p.sent).toMatch(/HEAD \/ on a second connection/);
  });

  it('a healthy HTTP application is HTTP with 200: no alarm, and the report can say what answered', async () => {
    const port = await answering(200);
    const p = await probeProtocol(localHost, { address: '127.0.0.1', port, protocol: undefined, userName: 'u', timeoutMs: 3_000 });
    expect(p).toMatchObject({ outcome: 'answered', evidence: { protocol: 'http', status: 200 } });
  });

  it('a program that waits for its own client and ignores HTTP stays quiet, both connections said, within the two short waits', async () => {
    const port = await listen(createTcpServer((s) => sockets.push(s.on('error', () => {}))));
    const started = performance.now();
    const p = await probeProtocol(localHost, { address: '127.0.0.1', port, protocol: undefined, userName: 'u', timeoutMs: 3_000 });
    const took = performance.now() - started;
    expect(p.outcome).toBe('quiet');
    expect(p.talks).toHaveLength(2);
    expect(p.sent).toBe('nothing at first, then HEAD / on a second connection: neither got a byte back');
    expect(took).toBeGreaterThanOrEqual(UNKNOWN_PROTOCOL_WAIT_MS + UNKNOWN_HTTP_WAIT_MS - 50);
    expect(took).toBeLessThan(UNKNOWN_PROTOCOL_WAIT_MS + UNKNOWN_HTTP_WAIT_MS + 1_500);
  });

  it('a program that greets first is read from its greeting alone: no second connection', async () => {
    const port = await listen(createTcpServer((s) => s.end('banner v1 ready\n')));
    const p = await probeProtocol(localHost, { address: '127.0.0.1', port, protocol: undefined, userName: 'u', timeoutMs: 3_000 });
    expect(p.outcome).toBe('unknown-greeting');
    expect(p.talks).toHaveLength(1);
    expect(p.sent).toBe('nothing: it listens for a greeting');
  });

  it('a known protocol is never asked in HTTP: a silent SSH port stays silent', async () => {
    const port = await listen(createTcpServer((s) => sockets.push(s.on('error', () => {}))));
    const p = await probeProtocol(localHost, { address: '127.0.0.1', port, protocol: 'ssh', userName: 'u', timeoutMs: 400 });
    expect(p.outcome).toBe('silent');
    expect(p.talks).toHaveLength(1);
  });
});
