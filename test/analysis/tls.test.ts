import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { nameMatches, tlsProblems, wrongProtocol } from '../../src/analysis/tls.js';
import { certificateFacts, subjectAltNames, type CertificateFacts } from '../../src/system/certificate.js';
import { alertOf, isNotTlsReason, reasonOfCode, verifyErrorName, verifyErrorProblem } from '../../src/knowledge/tls-errors.js';

/**
 * The judgement of a TLS connection on plain objects: every problem at once, names by RFC 6125,
 * what answered instead of TLS (from nginx's real bytes, test/fixtures/tls/), OpenSSL's words.
 */

const FIXTURES = join(__dirname, '..', 'fixtures');
const now = new Date('2026-06-01T00:00:00Z');

const cert = (over: Partial<CertificateFacts> = {}): CertificateFacts => ({
  subject: 'CN=site.test',
  commonName: 'site.test',
  names: ['site.test'],
  issuer: 'CN=Some CA',
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2027-01-01T00:00:00.000Z',
  selfSigned: false,
  ...over,
});

describe('tlsProblems: every problem, in one list', () => {
  it('a valid, trusted certificate for the name: none, and the certificate as CONTRACT shows it', () => {
    expect(tlsProblems({ certificate: cert(), verifyErrors: [] }, { serverName: 'site.test', now })).toEqual({
      problems: [],
      subject: 'CN=site.test',
      names: ['site.test'],
      issuer: 'CN=Some CA',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2027-01-01T00:00:00.000Z',
      serverName: 'site.test',
    });
  });

  it('the dates are judged against now, whatever the verifier said', () => {
    expect(tlsProblems({ certificate: cert({ notAfter: '2026-05-31T23:59:59.000Z' }), verifyErrors: [] }, { now }).problems).toEqual(['expired']);
    expect(tlsProblems({ certificate: cert({ notBefore: '2026-06-01T00:00:01.000Z' }), verifyErrors: [] }, { now }).problems).toEqual(['not-yet-valid']);
  });

  it('expired, for another name, self-signed and untrusted: all of them, in CONTRACT order, self-signed not doubled as untrusted', () => {
    const several = cert({ names: ['other.test'], commonName: 'other.test', notAfter: '2021-01-01T00:00:00.000Z', selfSigned: true, issuer: 'CN=other.test' });
    expect(tlsProblems({ certificate: several, verifyErrors: ['DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED'] }, { serverName: 'site.test', now }).problems).toEqual(['expired', 'name-mismatch', 'self-signed']);
    // node hears only the last error: the probe's chain walk says the self-signed leaf leads nowhere trusted.
    expect(tlsProblems({ certificate: several, verifyErrors: ['CERT_HAS_EXPIRED'], chainTrusted: false }, { serverName: 'site.test', now }).problems).toEqual(['expired', 'name-mismatch', 'self-signed']);
    expect(tlsProblems({ certificate: cert({ notAfter: '2021-01-01T00:00:00.000Z' }), verifyErrors: ['CERT_HAS_EXPIRED'], chainTrusted: false }, { serverName: 'site.test', now }).problems).toEqual(['expired', 'untrusted']);
  });

  it('a self-signed certificate the client trusts is no problem; an unknown issuer is untrusted', () => {
    expect(tlsProblems({ certificate: cert({ selfSigned: true }), verifyErrors: [] }, { serverName: 'site.test', now }).problems).toEqual([]);
    for (const e of ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_REVOKED', 'SOMETHING_NEW']) {
      expect(tlsProblems({ certificate: cert(), verifyErrors: [e] }, { now }).problems).toEqual(['untrusted']);
    }
  });

  it("a chain certificate's date, which only the verifier saw, is kept", () => {
    expect(tlsProblems({ certificate: cert(), verifyErrors: ['CERT_HAS_EXPIRED'] }, { now }).problems).toEqual(['expired']);
  });

  it('a failed handshake: the problem, the alert in RFC 8446 words, the reason as evidence', () => {
    expect(tlsProblems({ verifyErrors: [], handshakeError: 'tlsv1 alert protocol version' }, { serverName: 'site.test', now })).toEqual({ problems: ['handshake'], serverName: 'site.test', alert: 'protocol version', error: 'tlsv1 alert protocol version' });
    expect(tlsProblems({ certificate: cert({ notAfter: '2020-01-01T00:00:00.000Z' }), verifyErrors: [], handshakeError: 'legacy sigalg disallowed or unsupported' }, { now }).problems).toEqual(['expired', 'handshake']);
  });
});

describe('nameMatches: RFC 6125 as node checks it', () => {
  const names = (...n: string[]) => ({ names: n });
  it('exact, case-insensitive, a trailing dot ignored', () => {
    expect(nameMatches('Site.Test.', names('site.test'))).toBe(true);
    expect(nameMatches('www.site.test', names('site.test'))).toBe(false);
  });
  it('a wildcard stands for exactly the leftmost label', () => {
    expect(nameMatches('www.site.test', names('*.site.test'))).toBe(true);
    expect(nameMatches('site.test', names('*.site.test'))).toBe(false);
    expect(nameMatches('a.b.site.test', names('*.site.test'))).toBe(false);
    expect(nameMatches('www.site.test', names('www.*.test'))).toBe(false);
  });
  it('an IP address only against the IP addresses of subjectAltName, IPv6 in any spelling', () => {
    expect(nameMatches('10.0.0.5', names('10.0.0.5'))).toBe(true);
    expect(nameMatches('10.0.0.5', { names: ['site.test'], commonName: '10.0.0.5' })).toBe(false);
    expect(nameMatches('2001:db8::1', names('2001:db8:0:0:0:0:0:1'))).toBe(true);
  });
  it('the CN only when there is no DNS name', () => {
    expect(nameMatches('site.test', { names: [], commonName: 'site.test' })).toBe(true);
    expect(nameMatches('site.test', { names: ['other.test'], commonName: 'site.test' })).toBe(false);
  });
});

describe('nameMatches agrees with node tls.checkServerIdentity', () => {
  it('on thousands of random names, patterns, IP addresses and CNs', () => {
    let seed = 6125;
    const next = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
    const labels = ['a', 'b', 'www', 'W', '*', 'w*', '*w', 'w*w', '**', 'xn--a', 'xn--*', 'test', ''];
    const ips = ['10.0.0.5', '10.0.0.6', '::1', '0:0:0:0:0:0:0:1', '2001:db8::5', '2001:DB8:0:0:0:0:0:5'];
    const name = (wild: boolean) => Array.from({ length: 1 + Math.floor(next() * 4) }, () => pick(wild ? labels : labels.filter((l) => !l.includes('*')))).join('.') + (next() < 0.1 ? '.' : '');
    let agreed = 0;
    for (let i = 0; i < 5000; i++) {
      const host = next() < 0.2 ? pick(ips) : name(false);
      const names = Array.from({ length: Math.floor(next() * 3) }, () => (next() < 0.3 ? pick(ips) : name(true)));
      const commonName = next() < 0.7 ? name(true) : undefined;
      const san = names.map((n) => (n.includes(':') || /^\d/.test(n) ? `IP Address:${n}` : `DNS:${n}`)).join(', ');
      const peer = { subject: commonName !== undefined ? { CN: commonName } : {}, ...(san ? { subjectaltname: san } : {}) } as unknown as PeerCertificate;
      const node = checkServerIdentity(host, peer) === undefined;
      expect(nameMatches(host, { names, ...(commonName !== undefined ? { commonName } : {}) }), `${host} against ${san || '(no SAN)'} CN=${commonName}`).toBe(node);
      if (node) agreed++;
    }
    // Both answers occur, so the comparison means something.
    expect(agreed).toBeGreaterThan(50);
  });
});

describe('certificateFacts and subjectAltNames', () => {
  const pem = (name: string) => readFileSync(join(FIXTURES, 'openssl', `${name}.stdout.txt`), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0];
  it("a real certificate (openssl ca -selfsign, 2020-2021, other.test): RFC 4514 subject, ISO dates, self-signed", () => {
    expect(certificateFacts(pem('several'))).toEqual({ subject: 'CN=other.test', commonName: 'other.test', names: ['other.test'], issuer: 'CN=other.test', notBefore: '2020-01-01T00:00:00.000Z', notAfter: '2021-01-01T00:00:00.000Z', selfSigned: true });
    expect(certificateFacts(pem('expired'))).toMatchObject({ issuer: 'CN=whyport-ca test CA', selfSigned: false });
  });
  it("node's subjectAltName text: DNS and IP entries, quoted values with commas, other kinds left out", () => {
    expect(subjectAltNames('DNS:a.test, DNS:*.b.test, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1, email:x@y')).toEqual(['a.test', '*.b.test', '10.0.0.1', '::1']);
    expect(subjectAltNames('"DNS:a,b.test", DNS:c.test')).toEqual(['a,b.test', 'c.test']);
    expect(subjectAltNames(undefined)).toEqual([]);
  });
  it('what does not parse is undefined, not a throw', () => {
    expect(certificateFacts('not a certificate')).toBeUndefined();
    expect(certificateFacts(pem('several').slice(0, 200))).toBeUndefined();
  });
});

describe("wrongProtocol on nginx's real bytes", () => {
  const bin = (name: string) => readFileSync(join(FIXTURES, 'tls', name));
  it('plain HTTP where TLS was expected: nginx answered our ClientHello with a 400', () => {
    expect(wrongProtocol(bin('nginx-plain-http-answer.bin'), 'tls')).toEqual({ protocol: 'http', said: 'HTTP/1.1 400 Bad Request' });
    expect(wrongProtocol(bin('nginx-plain-http-answer.bin').toString('hex'), 'tls')).toEqual({ protocol: 'http', said: 'HTTP/1.1 400 Bad Request' });
  });
  it("the reverse: a plain GET to nginx's TLS port; a HEAD's 400 alone says nothing", () => {
    expect(wrongProtocol(bin('nginx-plain-get-to-tls-port.bin'), 'plain')).toEqual({ protocol: 'https', said: 'HTTP/1.1 400 Bad Request (The plain HTTP request was sent to HTTPS port)' });
    expect(wrongProtocol(bin('nginx-plain-head-to-tls-port.bin'), 'plain')).toBeUndefined();
  });
  it('TLS records are TLS: no wrong protocol where TLS was expected; a TLS alert where plain text was', () => {
    expect(wrongProtocol(Buffer.from('160303002a', 'hex'), 'tls')).toBeUndefined();
    expect(wrongProtocol(Buffer.from('15030100020246', 'hex'), 'plain')).toEqual({ protocol: 'tls', said: 'a TLS alert' });
    expect(wrongProtocol(Buffer.alloc(0), 'tls')).toBeUndefined();
  });
});

describe("OpenSSL's words (knowledge/tls-errors.ts)", () => {
  it('alerts from reasons and node codes', () => {
    expect(alertOf('tlsv1 alert protocol version')).toBe('protocol version');
    expect(alertOf('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION')).toBe('protocol version');
    expect(alertOf('sslv3 alert handshake failure')).toBe('handshake failure');
    expect(alertOf('ERR_SSL_TLSV1_UNRECOGNIZED_NAME')).toBe('unrecognized name');
    expect(alertOf('tlsv13 alert certificate required')).toBe('certificate required');
    expect(alertOf('wrong version number')).toBeUndefined();
  });
  it('reasons, not-TLS reasons, verify codes', () => {
    expect(reasonOfCode('ERR_SSL_WRONG_VERSION_NUMBER')).toBe('wrong version number');
    expect(isNotTlsReason('wrong version number')).toBe(true);
    expect(isNotTlsReason('tlsv1 alert protocol version')).toBe(false);
    expect(verifyErrorName(10)).toBe('CERT_HAS_EXPIRED');
    expect(verifyErrorName(4242)).toBe('X509_V_ERR_4242');
    expect(verifyErrorProblem('DEPTH_ZERO_SELF_SIGNED_CERT')).toBe('self-signed');
    expect(verifyErrorProblem('ERR_TLS_CERT_ALTNAME_INVALID')).toBe('name-mismatch');
  });
});

describe('fuzz: random and truncated input never throws', () => {
  let s = 7;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const junk = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256)));
  it('wrongProtocol, subjectAltNames, alertOf, certificateFacts', () => {
    const real = [readFileSync(join(FIXTURES, 'tls', 'nginx-plain-http-answer.bin')), readFileSync(join(FIXTURES, 'tls', 'nginx-plain-get-to-tls-port.bin'))];
    const pem = readFileSync(join(FIXTURES, 'openssl', 'several.stdout.txt'), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0];
    for (let i = 0; i < 500; i++) {
      const b = next() < 0.5 ? junk(Math.floor(next() * 600)) : real[i % 2]!.subarray(0, Math.floor(next() * real[i % 2]!.length));
      for (const expected of ['tls', 'plain'] as const) {
        const w = wrongProtocol(b, expected);
        if (w) expect(w.said.length).toBeLessThanOrEqual(260);
        wrongProtocol(b.toString('latin1'), expected);
      }
      const text = b.toString('latin1');
      subjectAltNames(text);
      alertOf(text);
      const cut = pem.slice(0, Math.floor(next() * pem.length));
      certificateFacts(next() < 0.5 ? cut : cut + text);
      nameMatches(text.slice(0, 40), { names: [text.slice(0, 20), '*.' + text.slice(20, 30)], commonName: text.slice(30, 40) });
    }
  });
});
