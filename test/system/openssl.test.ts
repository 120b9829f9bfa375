import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSClient, sClientArgv, type SClientRun } from '../../src/system/openssl.js';
import { judgeTls, type TlsFinding } from '../../src/analysis/tls.js';
import type { TlsHandshake } from '../../src/host/tls-probe.js';
import { inspectTls } from '../helpers/inspect-tls.js';
import { tlsReadingOf } from '../../src/system/tls.js';
import { replayHost } from '../helpers/replay-host.js';

/**
 * The parser of `openssl s_client -showcerts -msg` on its real output, captured from a real nginx
 * by test/integration/tls.test.ts (WHYPORT_CAPTURE=1) into test/fixtures/openssl/: each case's
 * stdout, stderr, and in cases.json its argv, exit status and the time it was captured (the
 * "now" its certificates' dates are judged at). Then fuzzed: random and truncated text.
 */

const DIR = join(__dirname, '..', 'fixtures', 'openssl');
interface Case {
  argv: string[];
  serverName: string | null;
  exitCode: number | null;
  timedOut: boolean;
  capturedAt: string;
}
const CASES = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as Record<string, Case>;

function run(name: string): SClientRun {
  const c = CASES[name]!;
  return { stdout: readFileSync(join(DIR, `${name}.stdout.txt`), 'utf8'), stderr: readFileSync(join(DIR, `${name}.stderr.txt`), 'utf8'), exitCode: c.exitCode, timedOut: c.timedOut, durationMs: 5 };
}

function target(name: string): { address: string; port: number } {
  const t = CASES[name]!.argv[CASES[name]!.argv.indexOf('-connect') + 1]!;
  const at = t.lastIndexOf(':');
  return { address: t.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(t.slice(at + 1)) };
}

/** The finding for a captured case, judged at the time it was captured. */
function judged(name: string): TlsFinding {
  const { address, port } = target(name);
  const serverName = CASES[name]!.serverName;
  return judge(parseSClient(run(name), address, port), serverName ?? undefined, new Date(CASES[name]!.capturedAt));
}

function judge(h: TlsHandshake, serverName: string | undefined, now: Date): TlsFinding {
  return judgeTls(tlsReadingOf(h, 'openssl', 'openssl s_client …'), { ...(serverName ? { serverName } : {}), now });
}

describe('parseSClient on real s_client output', () => {
  it('a healthy certificate from the CA it was told to trust: done, the chain (leaf first), version, cipher, no verify error', () => {
    const { address, port } = target('healthy-trusted');
    const h = parseSClient(run('healthy-trusted'), address, port);
    // nginx 1.22's default ssl_protocols stop at TLS 1.2.
    expect(h).toMatchObject({ stage: 'done', verifyErrors: [], protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
    expect(h.chain).toHaveLength(2);
    expect(h.chain[0]).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    expect(h.receivedBytes).toBeGreaterThan(500);
    expect(judged('healthy-trusted')).toMatchObject({ outcome: 'secure', tls: { problems: [], subject: 'CN=site.test', names: ['site.test'], issuer: 'CN=whyport-ca test CA' } });
  });

  it('every verify error s_client printed, in order, by OpenSSL name (it goes on after each, unlike node)', () => {
    const p = (name: string) => parseSClient(run(name), target(name).address, target(name).port).verifyErrors;
    expect(p('healthy-system-store')).toEqual(['SELF_SIGNED_CERT_IN_CHAIN']);
    expect(p('several')).toEqual(['DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED']);
    expect(p('expired-untrusted')).toEqual(['SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED']);
    expect(p('not-yet-valid')).toEqual(['CERT_NOT_YET_VALID']);
    expect(p('other-name')).toEqual([]);
  });

  it.each([
    ['healthy-system-store', ['untrusted']],
    ['expired', ['expired']],
    ['other-name', ['name-mismatch']],
    ['not-yet-valid', ['not-yet-valid']],
    ['self-signed', ['self-signed']],
    ['untrusted', ['untrusted']],
    ['expired-untrusted', ['expired', 'untrusted']],
    ['several', ['expired', 'name-mismatch', 'self-signed']],
  ])('%s → %j, every problem at once', (name, problems) => {
    expect(judged(name)).toMatchObject({ outcome: 'problems', tls: { problems } });
  });

  it('the dates of the certificate in ISO 8601, the names it carries', () => {
    expect(judged('several')).toMatchObject({ tls: { subject: 'CN=other.test', names: ['other.test'], issuer: 'CN=other.test', notBefore: '2020-01-01T00:00:00.000Z', notAfter: '2021-01-01T00:00:00.000Z' } });
    expect(judged('other-name')).toMatchObject({ tls: { names: ['other.test', '*.other.test'], serverName: 'site.test' } });
  });

  it('an IP literal: -noservername, judged against the IP SANs', () => {
    expect(CASES['ip-literal']!.argv).toContain('-noservername');
    expect(judged('ip-literal')).toMatchObject({ outcome: 'secure', tls: { names: [target('ip-literal').address] } });
  });

  it('plain HTTP on 443: wrong version number, and -msg shows the 5 bytes read: "HTTP/"', () => {
    const { address, port } = target('plain-http-443');
    const h = parseSClient(run('plain-http-443'), address, port);
    expect(h).toMatchObject({ stage: 'handshake', error: 'wrong version number', firstBytes: Buffer.from('HTTP/').toString('hex'), receivedBytes: 5 });
    expect(judged('plain-http-443')).toMatchObject({ outcome: 'wrong-protocol', answered: { protocol: 'http', said: 'HTTP/' }, tls: { problems: ['handshake'], error: 'wrong version number' } });
  });

  it('a server that only speaks TLS 1.1: the handshake fails in OpenSSL words, after the certificate came', () => {
    expect(judged('old-tls-only')).toMatchObject({ outcome: 'problems', tls: { problems: ['handshake'], error: 'legacy sigalg disallowed or unsupported', subject: 'CN=site.test' } });
  });

  it('closed at once, silent, refused', () => {
    expect(parseSClient(run('closes-at-once'), '10.0.0.1', 1)).toMatchObject({ stage: 'handshake', closed: true, receivedBytes: 0, error: 'unexpected eof while reading' });
    expect(judged('closes-at-once')).toMatchObject({ outcome: 'closed' });
    expect(judged('silent')).toMatchObject({ outcome: 'silent' });
    expect(parseSClient(run('refused'), '10.0.0.1', 1)).toMatchObject({ stage: 'connect', errno: 'ECONNREFUSED' });
    expect(judged('refused')).toMatchObject({ outcome: 'no-connection', errno: 'ECONNREFUSED' });
  });
});

describe('parseSClient on output cut where a stalled server leaves it', () => {
  it('killed at the timeout after the ServerHello: no summary line, yet bytes came: a handshake that stalled, not a silent port', () => {
    const r = run('healthy-trusted');
    const stalled = r.stdout.slice(0, r.stdout.indexOf('\n', r.stdout.indexOf('ServerHello')) + 1);
    const h = parseSClient({ ...r, stdout: stalled, stderr: '', exitCode: null, timedOut: true }, '10.0.0.1', 443);
    expect(h).toMatchObject({ stage: 'handshake', timedOut: true });
    expect(h.receivedBytes).toBeGreaterThan(5);
    expect(judge(h, 'site.test', new Date())).toMatchObject({ outcome: 'problems', tls: { problems: ['handshake'], error: 'no answer to the handshake in time' } });
  });
});

describe('sClientArgv', () => {
  it('SNI for a name, -noservername for an IP literal or none, brackets for IPv6', () => {
    expect(sClientArgv('10.0.0.5', 443, { serverName: 'a.test' })).toEqual(['openssl', 's_client', '-connect', '10.0.0.5:443', '-servername', 'a.test', '-showcerts', '-msg']);
    expect(sClientArgv('10.0.0.5', 443, { serverName: '10.0.0.5' })).toContain('-noservername');
    expect(sClientArgv('2001:db8::1', 8443, { alpn: ['h2', 'http/1.1'] })).toEqual(['openssl', 's_client', '-connect', '[2001:db8::1]:8443', '-noservername', '-showcerts', '-msg', '-alpn', 'h2,http/1.1']);
  });
});

describe('inspectTls on a host that is not this machine: s_client through the host runner', () => {
  it('one command, its argv as shown, the same judgement; openssl missing there is unknown, not a verdict', async () => {
    const c = CASES['several']!;
    const { address, port } = target('several');
    const host = replayHost({ commands: { [c.argv.join(' ')]: { stdout: run('several').stdout, stderr: run('several').stderr, exitCode: 0 } } });
    const f = await inspectTls(host, { address, port, serverName: 'site.test', timeoutMs: 3_000, caFile: c.argv[c.argv.indexOf('-CAfile') + 1]!, now: new Date(c.capturedAt) });
    expect(host.calls).toEqual([c.argv.join(' ')]);
    expect(f).toMatchObject({ via: 'openssl', outcome: 'problems', tls: { problems: ['expired', 'name-mismatch', 'self-signed'] } });
    expect(f.via === 'openssl' && f.command).toMatch(/^openssl s_client -connect \S+ -servername site\.test -showcerts -msg -CAfile \S+ <\/dev\/null$/);
    const bare = replayHost({});
    expect(await inspectTls(bare, { address, port, timeoutMs: 3_000 })).toMatchObject({ outcome: 'unknown', reason: expect.stringMatching(/openssl is not installed/) });
  });
});

/** A deterministic generator, so a failing input can be reproduced. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('parseSClient never throws or hangs on what a server or a broken openssl prints', () => {
  const names = Object.keys(CASES);
  it('every real output cut at every 97th character, stdout and stderr', () => {
    for (const name of names) {
      const r = run(name);
      for (let cut = 0; cut < r.stdout.length; cut += 97) {
        const h = parseSClient({ ...r, stdout: r.stdout.slice(0, cut) }, '10.0.0.1', 443);
        expect(['connect', 'handshake', 'done']).toContain(h.stage);
        expect(() => judge(h, 'site.test', new Date())).not.toThrow();
      }
      for (let cut = 0; cut < r.stderr.length; cut += 31) parseSClient({ ...r, stderr: r.stderr.slice(0, cut) }, '10.0.0.1', 443);
    }
  });

  it('random text, random lines of real output shuffled and mangled, in bounded time', () => {
    const next = rng(21);
    const lines = names.flatMap((n) => run(n).stdout.split('\n'));
    const started = performance.now();
    for (let i = 0; i < 300; i++) {
      const pick = Array.from({ length: 1 + Math.floor(next() * 60) }, () => {
        const line = lines[Math.floor(next() * lines.length)]!;
        const at = Math.floor(next() * (line.length + 1));
        return next() < 0.3 ? line.slice(0, at) + String.fromCharCode(Math.floor(next() * 65536)) + line.slice(at) : line;
      });
      const junk = Array.from({ length: Math.floor(next() * 400) }, () => String.fromCharCode(Math.floor(next() * 256))).join('');
      const stdout = next() < 0.5 ? pick.join('\n') : junk + pick.join('\n');
      const h = parseSClient({ stdout, stderr: junk, exitCode: next() < 0.5 ? 0 : 1, timedOut: next() < 0.2, durationMs: 1 }, '::1', 443);
      expect(() => judge(h, next() < 0.5 ? 'site.test' : '10.0.0.1', new Date())).not.toThrow();
    }
    // A PEM block of junk, an enormous hex run: still linear.
    parseSClient({ stdout: `CONNECTED(3)\n<<< Not TLS data\n${'    41 42\n'.repeat(50_000)}-----BEGIN CERTIFICATE-----\n${'A'.repeat(200_000)}`, stderr: '', exitCode: 1, timedOut: false, durationMs: 1 }, '10.0.0.1', 1);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
