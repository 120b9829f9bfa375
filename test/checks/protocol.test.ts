import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideProtocol, PROTOCOL_OUTCOMES, type ProtocolReadings } from '../../src/checks/protocol.js';
import { classifyExchange } from '../../src/analysis/protocol/classify.js';
import { expectedProtocol, weakExpectation } from '../../src/analysis/expected-protocol.js';
import type { ProtocolProbe } from '../../src/system/protocol-probe.js';
import type { TlsReading } from '../../src/system/tls.js';
import type { ProtocolName } from '../../src/knowledge/protocols.js';
import type { DecideContext } from '../../src/checks/check.js';
import { assertHas } from '../helpers/narrow.js';

// The protocol step's decision, on plain objects: the probe's classification of real bytes
// (classifyExchange, whose own tests replay the captured fixtures) and TLS readings as the reader
// returns them.

const at: DecideContext = { target: { host: 'db.test', port: 5432, protocol: 'tcp' }, timeoutMs: 3000 };
const params = { host: 'db.test', port: 5432 };

function plain(protocol: ProtocolName | undefined, answer: string | Buffer, end: 'eof' | 'reset' | 'silent' = 'eof', endMs = 20): ProtocolReadings {
  const bytes = typeof answer === 'string' ? Buffer.from(answer, 'latin1') : answer;
  const finding = classifyExchange(protocol, { answers: [bytes], end, endMs });
  const probe: ProtocolProbe = { ...finding, sent: 'PING', talks: [] };
  return { kind: 'plain', address: '10.0.0.5', expected: protocol ? { speaks: 'plain', protocol, from: 'service-name' } : { speaks: 'unknown' }, probe };
}

const NOW = '2026-12-06T12:00:00.000Z';
function tls(h: Partial<TlsReading['handshake']>, cert?: Partial<NonNullable<TlsReading['certificate']>>): ProtocolReadings {
  const handshake = { address: '10.0.0.5', port: 443, stage: 'done' as const, chain: [], verifyErrors: [], receivedBytes: 900, durationMs: 12, ...h };
  const certificate = cert ? { subject: 'CN=site.test', names: ['site.test'], issuer: 'CN=Test CA', notBefore: '2025-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', selfSigned: false, ...cert } : undefined;
  const reading: TlsReading = { via: 'node', command: 'openssl s_client -connect 10.0.0.5:443', handshake, ...(certificate ? { certificate } : {}) };
  return { kind: 'tls', address: '10.0.0.5', expected: { speaks: 'tls', from: 'service-name' }, serverName: 'site.test', reading, now: NOW };
}

describe('decideProtocol', () => {
  const seen = new Set<string>();
  const decide = (r: ProtocolReadings) => {
    const d = decideProtocol(r, params, at);
    seen.add(d.outcome);
    return d;
  };

  it('answered: a healthy Redis that asks for a password, with the service in its words', () => {
    const d = decide(plain('redis', '-NOAUTH Authentication required.\r\n'));
    expect(d).toMatchObject({ outcome: 'answered', status: 'pass', evidence: { service: { protocol: 'redis' }, sent: 'PING' } });
    assertHas(d.evidence, 'note');
    expect(d.evidence.note).toMatch(/one line in the service's log/);
  });

  it("refuses-client: Redis's protected mode, the DENIED words quoted", () => {
    const d = decide(plain('redis', '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.\r\n'));
    expect(d).toMatchObject({ outcome: 'refuses-client', status: 'fail', evidence: { service: { protocol: 'redis', said: expect.stringMatching(/^-?DENIED Redis is running in protected mode/) }, reason: 'protected-mode' } });
  });

  it('refuses-client: an SSH server that closes after 5 s without a word is TCP wrappers', () => {
    const d = decide(plain('ssh', '', 'eof', 5_010));
    expect(d).toMatchObject({ outcome: 'refuses-client', evidence: { reason: 'tcp-wrappers' } });
    expect(d.summary).toMatch(/hosts\.deny/);
  });

  it('overloaded: an FTP 421 greeting', () => {
    expect(decide(plain('ftp', '421 Too many connections (10) from this IP\r\n'))).toMatchObject({ outcome: 'overloaded', status: 'fail' });
  });

  it('unavailable: the real 502 of nginx and 503 of haproxy in front of a dead upstream; a 200 or a 404 is answered', () => {
    const real = (f: string) => readFileSync(join(import.meta.dirname, '../fixtures/proxy/real', f));
    const nginx = decide(plain('http', real('nginx-502.head.http')));
    expect(nginx).toMatchObject({ outcome: 'unavailable', status: 'fail', evidence: { status: 502, service: { protocol: 'http', product: 'nginx' } } });
    expect(nginx.summary).toMatch(/answered 502.*as a gateway or proxy it got no valid answer from the upstream/);
    expect(decide(plain('http', real('haproxy-503.head.http')))).toMatchObject({ outcome: 'unavailable', evidence: { status: 503 } });
    expect(decide(plain('http', real('nginx-200.head.http')))).toMatchObject({ outcome: 'answered', evidence: { status: 200 } });
    expect(decide(plain('http', 'HTTP/1.1 404 Not Found\r\n\r\n'))).toMatchObject({ outcome: 'answered' });
  });

  it('unknown: a port of no known protocol that accepts and closes is said so, not "said something"', () => {
    const d = decide(plain(undefined, '', 'eof', 3));
    expect(d).toMatchObject({ outcome: 'unknown', status: 'info' });
    expect(d.summary).toBe('no protocol whyport knows is expected on port 5432: it accepted the connection and closed it without a word (eof after 3 ms), which only its own protocol can call right or wrong (--protocol NAME)');
  });

  it("unavailable on a port of no known protocol: a real application's 503 to the HEAD / of the second connection (captured), its words and curl to see it", () => {
    const capture = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/unknown/http-503.json'), 'utf8')) as { talks: { answers: string[]; end: 'complete' | 'silent'; endMs: number }[] };
    const asked = capture.talks[1]!;
    const finding = classifyExchange(undefined, { answers: asked.answers.map((h) => Buffer.from(h, 'hex')), end: asked.end, endMs: asked.endMs });
    const probe: ProtocolProbe = { ...finding, sent: 'nothing at first; then HEAD /', talks: [] };
    const d = decide({ kind: 'plain', address: '10.0.0.5', expected: { speaks: 'unknown' }, probe });
    expect(d).toMatchObject({ outcome: 'unavailable', status: 'fail', evidence: { status: 503, service: { protocol: 'http', product: 'BaseHTTP' } } });
    expect(d.summary).toMatch(/answered 503: “HTTP\/1\.0 503 Service Unavailable”: the server is up, and cannot serve requests now/);
    expect(d.command).toBe("curl -sSI http://10.0.0.5:5432/");
  });

  it('wrong-protocol: an SSH greeting where HTTP was expected', () => {
    const d = decide(plain('http', 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'));
    expect(d).toMatchObject({ outcome: 'wrong-protocol', evidence: { service: { protocol: 'ssh' }, expected: 'http' } });
  });

  it('closed-after-accept: a known protocol closed without a byte; a custom one is no alarm', () => {
    expect(decide(plain('smtp', '', 'eof', 3))).toMatchObject({ outcome: 'closed-after-accept', status: 'fail' });
    expect(decide(plain(undefined, '', 'eof', 3))).toMatchObject({ outcome: 'unknown', status: 'info' });
  });

  it('silent: a protocol that always greets said nothing', () => {
    expect(decide(plain('ssh', '', 'silent', 3000))).toMatchObject({ outcome: 'silent', status: 'fail' });
  });

  it('unknown: a greeting whyport does not know, and silence from a custom port, raise no alarm', () => {
    expect(decide(plain(undefined, 'MYAPP 1.0 ready\n'))).toMatchObject({ outcome: 'unknown', status: 'info' });
    expect(decide(plain(undefined, '', 'silent', 300))).toMatchObject({ outcome: 'unknown', status: 'info' });
    expect(decide({ kind: 'skipped', why: '--no-protocol: stopped at the handshake' })).toMatchObject({ outcome: 'unknown', summary: expect.stringMatching(/--no-protocol/) });
  });

  it('not-ready: PostgreSQL starting up', () => {
    // 'N' to the SSLRequest, then an ErrorResponse with SQLSTATE 57P03.
    const fields = Buffer.from('SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0', 'latin1');
    const err = Buffer.concat([Buffer.from('E'), Buffer.from([0, 0, 0, fields.length + 4]), fields]);
    const finding = classifyExchange('postgresql', { answers: [Buffer.from('N'), err], end: 'eof', endMs: 5 });
    const probe: ProtocolProbe = { ...finding, sent: 'an SSLRequest and a StartupMessage', userName: 'app', talks: [] };
    const d = decide({ kind: 'plain', address: '10.0.0.5', expected: { speaks: 'plain', protocol: 'postgresql', from: 'service-name' }, probe });
    expect(d).toMatchObject({ outcome: 'not-ready', evidence: { userName: 'app', sqlState: '57P03' } });
  });

  it('answered over TLS: a certificate a client accepts', () => {
    expect(decide(tls({ protocol: 'TLSv1.3' }, {}))).toMatchObject({ outcome: 'answered', evidence: { service: { protocol: 'tls' }, tls: { problems: [] } } });
  });

  it('tls-failure: every problem of the certificate, with its names and dates', () => {
    const d = decide(tls({ verifyErrors: ['CERT_HAS_EXPIRED'] }, { names: ['other.test'], notAfter: '2026-01-01T00:00:00.000Z' }));
    expect(d).toMatchObject({ outcome: 'tls-failure', status: 'fail', evidence: { tls: { problems: ['expired', 'name-mismatch'], names: ['other.test'], notAfter: '2026-01-01T00:00:00.000Z', subject: 'CN=site.test', issuer: 'CN=Test CA' } } });
    expect(d.summary).toMatch(/expired on 2026-01-01.*another name \(it names other\.test\)/);
  });

  it('wrong-protocol over TLS: plain HTTP on 443', () => {
    const firstBytes = Buffer.from('HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n').toString('hex');
    const d = decide(tls({ stage: 'handshake', error: 'ERR_SSL_WRONG_VERSION_NUMBER', firstBytes, receivedBytes: 40 }));
    expect(d).toMatchObject({ outcome: 'wrong-protocol', evidence: { service: { protocol: 'http', said: 'HTTP/1.1 400 Bad Request' } } });
  });

  it('closed-after-accept and silent over TLS', () => {
    expect(decide(tls({ stage: 'handshake', closed: true, receivedBytes: 0 }))).toMatchObject({ outcome: 'closed-after-accept' });
    expect(decide(tls({ stage: 'handshake', timedOut: true, receivedBytes: 0 }))).toMatchObject({ outcome: 'silent' });
  });

  it('a custom program on a well-known port (a name only): silence or a close is no alarm', () => {
    const silent = { ...plain('ssh', '', 'silent', 300), weak: { why: 'python3 holds it, a program of no protocol whyport knows' } } as ProtocolReadings;
    expect(decide(silent)).toMatchObject({ outcome: 'unknown', status: 'info', summary: expect.stringMatching(/python3 holds it.*no alarm/) });
    const tlsSilent = { ...tls({ stage: 'handshake', timedOut: true, receivedBytes: 0 }), weak: { why: 'only the port’s name says so' } } as ProtocolReadings;
    expect(decide(tlsSilent)).toMatchObject({ outcome: 'unknown' });
    // What it does say still counts.
    expect(decide({ ...plain('redis', '-DENIED Redis is running in protected mode\r\n'), weak: { why: 'x' } } as ProtocolReadings)).toMatchObject({ outcome: 'refuses-client' });
  });

  it('covers every outcome', () => {
    expect([...seen].sort()).toEqual([...PROTOCOL_OUTCOMES].sort());
  });
});

describe('expectedProtocol', () => {
  it('the user first, then the port name, then the program', () => {
    expect(expectedProtocol({ protocol: 'postgres' }, 'https')).toEqual({ speaks: 'plain', protocol: 'postgresql', from: 'option' });
    expect(expectedProtocol({ protocol: 'none' }, 'ssh')).toEqual({ speaks: 'skip' });
    expect(expectedProtocol({}, 'https')).toEqual({ speaks: 'tls', from: 'service-name' });
    expect(expectedProtocol({ tls: 'no' }, 'https')).toEqual({ speaks: 'plain', protocol: 'http', from: 'option' });
    expect(expectedProtocol({ tls: 'yes' }, 'http-alt')).toEqual({ speaks: 'tls', from: 'option' });
    expect(expectedProtocol({}, 'postgresql')).toEqual({ speaks: 'plain', protocol: 'postgresql', from: 'service-name' });
    expect(expectedProtocol({}, undefined, 'redis-server')).toEqual({ speaks: 'plain', protocol: 'redis', from: 'program' });
    expect(expectedProtocol({}, 'myapp', 'python3')).toEqual({ speaks: 'unknown' });
  });
});

describe('weakExpectation', () => {
  it('only the name says so, and a program of its own holds the port, or the client must speak first', () => {
    expect(weakExpectation({ speaks: 'tls', from: 'service-name' }, 'python3')).toMatch(/python3 holds it/);
    expect(weakExpectation({ speaks: 'tls', from: 'service-name' }, 'nginx')).toBeUndefined();
    expect(weakExpectation({ speaks: 'tls', from: 'service-name' }, undefined)).toMatch(/only the port/);
    expect(weakExpectation({ speaks: 'plain', protocol: 'ssh', from: 'service-name' }, undefined)).toBeUndefined();
    expect(weakExpectation({ speaks: 'tls', from: 'option' }, 'python3')).toBeUndefined();
    expect(weakExpectation({ speaks: 'unknown' }, undefined)).toBeUndefined();
  });
});
