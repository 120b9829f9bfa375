import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TlsHandshake } from '../../src/host/tls-probe.js';
import { wrongProtocol } from '../../src/analysis/tls.js';
import { sClientArgv } from '../../src/system/openssl.js';
import type { InspectTlsOptions, TlsFinding } from '../helpers/inspect-tls.js';
import { REPO_ROOT } from '../helpers/nspawn.js';
import { netnsSkipReason } from '../helpers/netns.js';
import { startListener, type Listener } from '../helpers/servers.js';
import { twoHostNetwork, type TwoHosts } from '../helpers/ssh.js';
import { SITE, buildTlsAgent, makeCertificates, startNginx, type CertCase, type RunningNginx, type TestCertificates } from '../helpers/tls-bed.js';

/**
 * inspectTls against a real nginx, for real: a client and a server namespace of this test's own
 * joined by a veth pair; in the server's, nginx serving `listen 443 ssl` with certificates this
 * test made with openssl (expired, for another name, not yet valid, self-signed, from an unknown
 * CA, several problems at once), plain HTTP on 443 of a second address, a TLS version the client
 * refuses, a port that never speaks and one that closes at once. The probe runs in the client's
 * namespace both ways whyport runs it: node's TLS (this machine) and `openssl s_client` through a
 * host's runner (the ssh vantage). With WHYPORT_CAPTURE=1 the s_client output of every case is
 * saved under test/fixtures/openssl/ for the parser's unit tests.
 */

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');
const CAPTURE = process.env.WHYPORT_CAPTURE === '1';

function skipReason(): string | undefined {
  const ns = netnsSkipReason();
  if (ns) return ns;
  const missing = ['nginx', 'openssl'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`], { stdio: 'ignore' }).status !== 0);
  return missing.length ? `missing ${missing.join(', ')}: apt-get install -y ${missing.join(' ')}` : undefined;
}

const reason = skipReason();
if (reason) console.warn(`skipping the TLS tests: ${reason}`);

/** Ports of the server's first address, one certificate case each (443: several problems at once). */
const PORTS: Record<CertCase, number> = {
  several: 443,
  expired: 8001,
  'other-name': 8002,
  'not-yet-valid': 8003,
  'self-signed': 8004,
  untrusted: 8005,
  healthy: 8006,
  'expired-untrusted': 8007,
  ip: 8008,
};
const OLD_TLS_ONLY = 8009;
const SILENT = 8010;
const CLOSES = 8011;
const NOTHING = 8012;

describe.skipIf(reason !== undefined)('inspectTls: a client namespace against nginx in a server namespace', () => {
  let net: TwoHosts;
  let dir = '';
  let agent = '';
  let certs: TestCertificates;
  let nginx: RunningNginx | undefined;
  let server = '';
  let plainServer = '';
  const listeners: Listener[] = [];
  const captured: Record<string, unknown> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wpt-tls-'));
    net = await twoHostNetwork();
    server = net.server.address;
    // A second address on the server's link, for plain HTTP on port 443 beside the TLS one.
    plainServer = server.replace(/\.2$/, '.3');
    const link = (await execa('ip', ['-n', net.server.netns, '-o', '-4', 'addr', 'show', 'to', server])).stdout.split(/\s+/)[1]!.replace(/@.*/, '');
    await execa('ip', ['-n', net.server.netns, 'addr', 'add', `${plainServer}/24`, 'dev', link]);
    [certs, agent] = await Promise.all([makeCertificates(dir, server), buildTlsAgent(dir, REPO_ROOT)]);
    nginx = await startNginx(dir, net.server.netns, [
      ...Object.entries(PORTS).map(([c, port]) => ({ listen: `${server}:${port}`, cert: certs.files[c as CertCase] })),
      { listen: `${server}:${OLD_TLS_ONLY}`, cert: certs.files.healthy, extra: ['ssl_protocols TLSv1.1;', 'ssl_ciphers ALL:@SECLEVEL=0;'] },
      { listen: `${plainServer}:443` },
    ]);
    listeners.push(await startListener({ host: server, port: SILENT, netns: net.server.netns, runtime: 'node' }));
    listeners.push(await startListener({ host: server, port: CLOSES, netns: net.server.netns, runtime: 'python3' }));
  }, 60_000);

  afterAll(async () => {
    await nginx?.stop();
    for (const l of listeners) await l.stop();
    await net?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (CAPTURE) {
      // Merged into what is there, so a run of some cases (-t) keeps the others.
      const file = join(FIXTURES, 'openssl', 'cases.json');
      const before = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
      writeFileSync(file, `${JSON.stringify({ ...before, ...captured }, null, 2)}\n`);
    }
  });

  /** inspectTls in the client's namespace, by node's TLS or by openssl s_client through the host's runner. */
  const inspect = async (via: 'node' | 'openssl', options: Omit<InspectTlsOptions, 'timeoutMs'> & { timeoutMs?: number }): Promise<TlsFinding> => {
    const r = await net.runInClient([process.execPath, agent], { input: JSON.stringify({ via, options: { timeoutMs: 3_000, ...options } }), timeoutMs: 20_000 });
    try {
      return JSON.parse(r.stdout) as TlsFinding;
    } catch {
      throw new Error(`the TLS agent printed no finding (exit ${r.exitCode}): ${r.stderr}`);
    }
  };

  /** Runs s_client as inspectTls would and, with WHYPORT_CAPTURE=1, keeps what it printed as a fixture. */
  const capture = async (name: string, address: string, port: number, serverName: string | undefined, caFile?: string, timeoutMs = 5_000) => {
    if (!CAPTURE) return;
    const argv = sClientArgv(address, port, { ...(serverName ? { serverName } : {}), ...(caFile ? { caFile } : {}) });
    const r = await net.runInClient(argv, { timeoutMs });
    writeFileSync(join(FIXTURES, 'openssl', `${name}.stdout.txt`), r.stdout);
    writeFileSync(join(FIXTURES, 'openssl', `${name}.stderr.txt`), r.stderr);
    captured[name] = { argv, serverName: serverName ?? null, exitCode: r.exitCode, timedOut: r.timedOut, capturedAt: new Date().toISOString() };
  };

  const both = ['node', 'openssl'] as const;
  const tlsOf = (f: TlsFinding) => ('tls' in f ? f.tls : undefined);

  it.each(both)('a healthy certificate from a CA the client is given: no problem (%s); the same certificate is untrusted by the system store alone', async (via) => {
    const port = PORTS.healthy;
    const trusted = await inspect(via, { address: server, port, serverName: SITE, ...(via === 'node' ? { extraCa: [certs.caPem] } : { caFile: certs.caFile }) });
    expect(trusted).toMatchObject({ outcome: 'secure', tls: { problems: [], subject: `CN=${SITE}`, names: [SITE], issuer: 'CN=whyport-ca test CA' } });
    expect((trusted as { protocol?: string }).protocol).toMatch(/^TLSv1\.[23]$/);
    const system = await inspect(via, { address: server, port, serverName: SITE });
    expect(system).toMatchObject({ outcome: 'problems', tls: { problems: ['untrusted'] } });
    if (via === 'openssl') {
      await capture('healthy-trusted', server, port, SITE, certs.caFile);
      await capture('healthy-system-store', server, port, SITE);
    }
  });

  const single: [CertCase, string[]][] = [
    ['expired', ['expired']],
    ['other-name', ['name-mismatch']],
    ['not-yet-valid', ['not-yet-valid']],
    ['self-signed', ['self-signed']],
    ['untrusted', ['untrusted']],
    // node hears only the verifier's last complaint (the date): the unknown issuer is found all the same.
    ['expired-untrusted', ['expired', 'untrusted']],
    // TESTBED.md's `openssl ca -selfsign` 2020–2021 for another name: three problems at once, on 443.
    ['several', ['expired', 'name-mismatch', 'self-signed']],
  ];
  for (const via of both) {
    it.each(single)(`${via}: %s → %j`, async (c, problems) => {
      const f = await inspect(via, { address: server, port: PORTS[c], serverName: SITE, ...(via === 'node' ? { extraCa: [certs.caPem] } : { caFile: certs.caFile }) });
      expect(f.outcome).toBe('problems');
      expect(tlsOf(f)?.problems).toEqual(problems);
      await capture(c, server, PORTS[c], SITE, certs.caFile);
    });
  }

  it.each(both)('the dates and names of the certificate, in ISO 8601 (%s)', async (via) => {
    const expired = tlsOf(await inspect(via, { address: server, port: PORTS.several, serverName: SITE }));
    expect(expired).toMatchObject({ subject: 'CN=other.test', names: ['other.test'], issuer: 'CN=other.test', notBefore: '2020-01-01T00:00:00.000Z', notAfter: '2021-01-01T00:00:00.000Z', serverName: SITE });
    const future = tlsOf(await inspect(via, { address: server, port: PORTS['not-yet-valid'], serverName: SITE, ...(via === 'node' ? { extraCa: [certs.caPem] } : { caFile: certs.caFile }) }));
    expect(future).toMatchObject({ notBefore: '2099-01-01T00:00:00.000Z', notAfter: '2099-12-31T00:00:00.000Z' });
    const other = tlsOf(await inspect(via, { address: server, port: PORTS['other-name'], serverName: 'www.other.test', ...(via === 'node' ? { extraCa: [certs.caPem] } : { caFile: certs.caFile }) }));
    // *.other.test covers www.other.test (leftmost label): no problem for that name.
    expect(other).toMatchObject({ problems: [], names: ['other.test', '*.other.test'] });
  });

  it.each(both)('an IP address is judged against the IP addresses of subjectAltName, and no SNI is sent for it (%s)', async (via) => {
    const trust = via === 'node' ? { extraCa: [certs.caPem] } : { caFile: certs.caFile };
    expect(await inspect(via, { address: server, port: PORTS.ip, serverName: server, ...trust })).toMatchObject({ outcome: 'secure', tls: { names: [server] } });
    expect(await inspect(via, { address: server, port: PORTS.ip, serverName: SITE, ...trust })).toMatchObject({ outcome: 'problems', tls: { problems: ['name-mismatch'] } });
    expect(await inspect(via, { address: server, port: PORTS.healthy, serverName: server, ...trust })).toMatchObject({ outcome: 'problems', tls: { problems: ['name-mismatch'], names: [SITE] } });
    if (via === 'openssl') await capture('ip-literal', server, PORTS.ip, server, certs.caFile);
  });

  it.each(both)('plain HTTP on 443 where TLS is expected: wrong-protocol, with nginx own first line (%s)', async (via) => {
    const f = await inspect(via, { address: plainServer, port: 443, serverName: SITE });
    expect(f).toMatchObject({ outcome: 'wrong-protocol', answered: { protocol: 'http' }, tls: { problems: ['handshake'] } });
    if (f.outcome === 'wrong-protocol') {
      // node keeps the first bytes (nginx's 400 to a ClientHello); s_client shows the 5-byte header it read.
      expect(f.answered.said).toMatch(via === 'node' ? /^HTTP\/1\.1 400 Bad Request$/ : /^HTTP\/$/);
    }
    await capture('plain-http-443', plainServer, 443, SITE);
    if (CAPTURE && via === 'node') {
      const raw = await net.runInClient([process.execPath, agent], { input: JSON.stringify({ via: 'probe', options: { address: plainServer, port: 443, serverName: SITE, timeoutMs: 3_000 } }), timeoutMs: 20_000 });
      const h = JSON.parse(raw.stdout) as TlsHandshake;
      writeFileSync(join(FIXTURES, 'tls', 'nginx-plain-http-answer.bin'), Buffer.from(h.firstBytes ?? '', 'hex'));
    }
  });

  it('the reverse: plain HTTP sent to nginx TLS port gets its "400 The plain HTTP request was sent to HTTPS port" (in the body: a GET shows it, a HEAD does not)', async () => {
    const ask = async (method: string) => {
      const script = `const s=require('net').connect(${PORTS.healthy},'${server}',()=>s.write('${method} / HTTP/1.1\\r\\nHost: ${SITE}\\r\\nConnection: close\\r\\n\\r\\n'));const b=[];s.on('data',d=>b.push(d));s.on('close',()=>process.stdout.write(Buffer.concat(b).toString('hex')));setTimeout(()=>s.destroy(),3000)`;
      const r = await net.runInClient([process.execPath, '-e', script], { timeoutMs: 10_000 });
      return Buffer.from(r.stdout.trim(), 'hex');
    };
    const get = await ask('GET');
    expect(wrongProtocol(get, 'plain')).toEqual({ protocol: 'https', said: 'HTTP/1.1 400 Bad Request (The plain HTTP request was sent to HTTPS port)' });
    const head = await ask('HEAD');
    expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    // Nothing but a 400 says it: a TLS probe of the port must decide (the protocol step's follow-up).
    expect(wrongProtocol(head, 'plain')).toBeUndefined();
    if (CAPTURE) {
      writeFileSync(join(FIXTURES, 'tls', 'nginx-plain-get-to-tls-port.bin'), get);
      writeFileSync(join(FIXTURES, 'tls', 'nginx-plain-head-to-tls-port.bin'), head);
    }
  });

  it.each(both)('a TLS version the client will not speak: a failed handshake with the alert (%s)', async (via) => {
    const f = await inspect(via, { address: server, port: OLD_TLS_ONLY, serverName: SITE });
    expect(f).toMatchObject({ outcome: 'problems', tls: { problems: ['handshake'] } });
    // node offers TLS 1.2 and 1.3 only: nginx answers with the alert. Debian's openssl still offers
    // TLS 1.1, gets the certificate, and refuses the server's SHA-1 signature itself.
    if (via === 'node') expect(tlsOf(f)).toMatchObject({ alert: 'protocol version', error: 'tlsv1 alert protocol version' });
    else expect(tlsOf(f)).toMatchObject({ error: 'legacy sigalg disallowed or unsupported', subject: `CN=${SITE}` });
    await capture('old-tls-only', server, OLD_TLS_ONLY, SITE);
  });

  it.each(both)('a port that never speaks: silent, within the time given (%s)', async (via) => {
    const started = Date.now();
    const f = await inspect(via, { address: server, port: SILENT, serverName: SITE, timeoutMs: 1_000 });
    // openssl's time is bounded by the runner's timeout, which kills it: the same verdict.
    expect(f.outcome).toBe('silent');
    expect(Date.now() - started).toBeLessThan(1_000 + 1_500);
    if (via === 'openssl') await capture('silent', server, SILENT, SITE, undefined, 1_000);
  });

  it.each(both)('a port that accepts and closes at once: closed (%s)', async (via) => {
    expect(await inspect(via, { address: server, port: CLOSES, serverName: SITE })).toMatchObject({ outcome: 'closed' });
    if (via === 'openssl') await capture('closes-at-once', server, CLOSES, SITE);
  });

  it.each(both)('nothing listens: no-connection, ECONNREFUSED (%s)', async (via) => {
    expect(await inspect(via, { address: server, port: NOTHING, serverName: SITE })).toMatchObject({ outcome: 'no-connection', errno: 'ECONNREFUSED' });
    if (via === 'openssl') await capture('refused', server, NOTHING, SITE);
  });
});
