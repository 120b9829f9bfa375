import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { createNamespace, netnsSkipReason, type Namespace } from '../helpers/netns.js';
import { python3Path } from '../helpers/servers.js';
import { makeCertificates, type TestCertificates } from '../helpers/tls-bed.js';

/**
 * A port of no protocol whyport knows that serves TLS (an app's own HTTPS on 8444): it says
 * nothing at first, closes the connection on `HEAD /`, and so is asked in TLS once — the
 * certificate is judged as on 443. Real python3 `ssl` servers with real openssl certificates
 * (test/helpers/tls-bed.ts), the real CLI, all in a network namespace of the test's own. And no
 * false alarm: a program that closes on HEAD / without speaking TLS, and an HTTP server that
 * answers 400 to everything, stay REACHABLE.
 */

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');
const PYTHON = python3Path();
const reason = netnsSkipReason() ?? (PYTHON ? undefined : 'python3 is missing');
if (reason) console.warn(`skipping the unknown-port TLS tests: ${reason}`);

/**
 * A threaded python3 server on 127.0.0.1:ARGV[1] that prints "ready" once it listens; `serve`
 * is the body of `serve(c)` for each connection, `setup` what it needs first.
 */
const pythonServer = (serve: string, setup = '') => `import socket, ssl, sys, threading
${setup}
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(16)
def serve(c):
${serve}
print('ready', flush=True)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

/** HTTPS with the certificate ARGV[2] and key ARGV[3]. */
const TLS_SERVER = pythonServer(
  `    try:
        t = ctx.wrap_socket(c, server_side=True); t.recv(4096)
        t.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n'); t.close()
    except Exception:
        c.close()`,
  'ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])',
);

/** Reads what the client sends, then closes without a word (no TLS, no HTTP). */
const CLOSER = pythonServer(`    c.settimeout(5)
    try:
        c.recv(4096)
    except Exception:
        pass
    c.close()`);

/** Plain HTTP answering 400 Bad Request to anything. */
const BAD_REQUEST = pythonServer(`    c.settimeout(5)
    try:
        if c.recv(4096):
            c.sendall(b'HTTP/1.1 400 Bad Request\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n')
    except Exception:
        pass
    c.close()`);

describe.skipIf(reason !== undefined || !existsSync(CLI))('TLS on a port of no known protocol (real python3 ssl servers, a namespace of its own)', () => {
  let ns: Namespace;
  let dir = '';
  let certs: TestCertificates;
  const children: ChildProcess[] = [];

  /** Starts a python3 server in the namespace and waits for its "ready". */
  async function serve(code: string, args: string[]): Promise<void> {
    const file = join(dir, `server-${children.length}.py`);
    writeFileSync(file, code);
    const child = spawn(ns.exec[0]!, [...ns.exec.slice(1), PYTHON!, '-u', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${file} did not start`)), 10_000);
      child.stdout!.on('data', (b: Buffer) => {
        if (b.toString().includes('ready')) {
          clearTimeout(timer);
          ok();
        }
      });
      child.once('exit', (code) => fail(new Error(`${file} exited ${code}`)));
    });
  }

  async function whyport(port: number): Promise<{ status: number; report: Report }> {
    const r = await execa(ns.exec[0]!, [...ns.exec.slice(1), process.execPath, CLI, '127.0.0.1', String(port), '--yes', '--json'], { reject: false, timeout: 30_000, env: { NO_COLOR: '1' } });
    return { status: r.exitCode ?? -1, report: JSON.parse(r.stdout) as Report };
  }
  const protocolStep = (r: { report: Report }) => r.report.steps.find((s) => s.id === 'protocol-local')!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wpt-unknown-tls-'));
    ns = createNamespace();
    certs = await makeCertificates(dir, '127.0.0.1');
    await Promise.all([
      serve(TLS_SERVER, ['8444', certs.files.expired.crt, certs.files.expired.key]),
      serve(TLS_SERVER, ['8445', certs.files['self-signed'].crt, certs.files['self-signed'].key]),
      serve(CLOSER, ['8446']),
      serve(BAD_REQUEST, ['8447']),
    ]);
  }, 60_000);

  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an app serving HTTPS with an expired certificate on 8444: TLS_FAILURE naming the date, not REACHABLE', async () => {
    const r = await whyport(8444);
    const s = protocolStep(r);
    expect(r.report.diagnosis.code, JSON.stringify(s)).toBe('TLS_FAILURE');
    expect(r.status).toBe(1);
    expect(s.outcome).toBe('tls-failure');
    expect(s.evidence).toMatchObject({ expectedFrom: 'answer', tls: { problems: expect.arrayContaining(['expired']) } });
    expect(s.summary).toMatch(/the certificate is expired on 2021-01-01/);
  });

  it('a self-signed one on 8445: TLS_FAILURE, self-signed', async () => {
    const r = await whyport(8445);
    expect(r.report.diagnosis.code).toBe('TLS_FAILURE');
    expect(protocolStep(r).evidence).toMatchObject({ tls: { problems: ['self-signed'] } });
  });

  it('no false alarm: a program that closes on HEAD / without speaking TLS stays REACHABLE, and the report says it closed', async () => {
    const r = await whyport(8446);
    expect(r.report.diagnosis.code, JSON.stringify(protocolStep(r))).toBe('REACHABLE');
    expect(r.status).toBe(0);
    expect(protocolStep(r).summary).toMatch(/closed a second connection on HEAD \/ without a word/);
  });

  it('no false alarm: plain HTTP that answers 400 to everything stays REACHABLE, read as HTTP', async () => {
    const r = await whyport(8447);
    expect(r.report.diagnosis.code, JSON.stringify(protocolStep(r))).toBe('REACHABLE');
    expect(protocolStep(r).evidence).toMatchObject({ service: { protocol: 'http' }, status: 400 });
  });
});
