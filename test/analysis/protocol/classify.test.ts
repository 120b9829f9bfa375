import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyExchange } from '../../../src/analysis/protocol/classify.js';
import type { Exchange } from '../../../src/analysis/protocol/finding.js';
import { printable } from '../../../src/analysis/protocol/said.js';
import { sniffProtocol } from '../../../src/analysis/protocol/sniff.js';
import type { TalkResult } from '../../../src/host/tcp-talk.js';
import { PROTOCOL_NAMES, type ProtocolName } from '../../../src/knowledge/protocols.js';

/**
 * The classifier on the real exchanges the integration test captured (test/fixtures/<protocol>/,
 * made by test/integration/protocol.test.ts from redis-server, postgres, mariadbd, sshd, python's
 * http.server and small greeters), on messages built from the protocols' specifications where
 * no real server could be made to say them here, and on random and truncated bytes.
 */

const FIXTURES = new URL('../../fixtures/', import.meta.url);
interface Capture {
  expected: ProtocolName | null;
  outcome: string;
  talks: Omit<TalkResult, 'durationMs'>[];
}
const capture = (protocol: string, name: string): Capture => JSON.parse(readFileSync(new URL(`${protocol}/${name}.json`, FIXTURES), 'utf8')) as Capture;

/** What probeProtocol hands the classifier (a PostgreSQL 'S' second talk aside). */
function exchangeOf(c: Capture): Exchange {
  const t = c.talks[c.talks.length - 1]!;
  const answers = t.answers.map((h) => Buffer.from(h, 'hex'));
  return { answers: c.talks.length > 1 && c.expected === 'postgresql' ? [Buffer.from('S'), ...answers] : answers, end: t.end!, ...(t.endMs !== undefined ? { endMs: t.endMs } : {}) };
}
const classify = (protocol: string, name: string) => {
  const c = capture(protocol, name);
  return classifyExchange(c.expected ?? undefined, exchangeOf(c));
};
const x = (answers: (string | Buffer)[], end: Exchange['end'] = 'complete', endMs = 5): Exchange => ({ answers: answers.map((a) => (typeof a === 'string' ? Buffer.from(a, 'latin1') : a)), end, endMs });

describe('real exchanges (captured)', () => {
  it('Redis in protected mode refuses this client, in its own words', () => {
    const f = classify('redis', 'protected-mode');
    expect(f.outcome).toBe('refuses-client');
    expect(f.evidence).toMatchObject({ protocol: 'redis', product: 'Redis', reason: 'protected-mode' });
    expect(f.evidence.said).toMatch(/^-DENIED Redis is running in protected mode because protected mode is enabled/);
    expect(f.evidence.said!.length).toBeLessThanOrEqual(201);
  });
  it('Redis with a password answers PING with -NOAUTH: healthy', () => {
    expect(classify('redis', 'noauth')).toMatchObject({ outcome: 'answered', evidence: { reason: 'auth-required', said: '-NOAUTH Authentication required.' } });
  });
  it('PostgreSQL without a pg_hba.conf line: 28000, its message, the client named', () => {
    const f = classify('postgresql', 'no-pg-hba-entry');
    expect(f).toMatchObject({ outcome: 'refuses-client', evidence: { protocol: 'postgresql', product: 'PostgreSQL', sqlState: '28000', reason: 'pg_hba' } });
    expect(f.evidence.said).toMatch(/^FATAL: no pg_hba.conf entry for host "10\.213\.\d+\.1", user "whyport_probe", database "whyport_probe", no encryption$/);
  });
  it('PostgreSQL admitting this client asks for a password (SASL): healthy', () => {
    expect(classify('postgresql', 'admitted-scram')).toMatchObject({ outcome: 'answered', evidence: { product: 'PostgreSQL', reason: 'auth-required' } });
  });
  it('MariaDB sends 1130 in place of its greeting', () => {
    const f = classify('mysql', 'host-not-allowed');
    expect(f).toMatchObject({ outcome: 'refuses-client', evidence: { protocol: 'mysql', errorCode: 1130, reason: 'host-not-allowed' } });
    expect(f.evidence.said).toMatch(/^Host '10\.213\.\d+\.1' is not allowed to connect to this MariaDB server$/);
  });
  it('OpenSSH names itself', () => {
    expect(classify('ssh', 'openssh').evidence.product).toMatch(/^OpenSSH_9\.2p1 Debian-2\+deb12u\d+$/);
  });
  it('sshd past MaxStartups is overloaded', () => {
    expect(classify('ssh', 'max-startups')).toMatchObject({ outcome: 'overloaded', evidence: { reason: 'max-startups', said: 'Exceeded MaxStartups' } });
  });
  it("sshd refusing by hosts.deny: nothing, then a close ~5 s later (libwrap's refuse)", () => {
    expect(classify('ssh', 'tcp-wrappers')).toMatchObject({ outcome: 'refuses-client', evidence: { reason: 'tcp-wrappers', bytes: 0 } });
  });
  it('an HTTP server answering an SSH identification is named as the wrong protocol', () => {
    expect(classify('http', 'answers-ssh-identification')).toMatchObject({ outcome: 'wrong-protocol', evidence: { protocol: 'http', expected: 'ssh' } });
  });
  it('an HTTP server answers HEAD / with its status and product', () => {
    expect(classify('http', 'python-http-server')).toMatchObject({ outcome: 'answered', evidence: { status: 200, product: 'SimpleHTTP' } });
  });
  it('no alarm for a greeting of no known protocol, or for silence on a port of no known protocol', () => {
    expect(classify('unknown', 'myapp-greeting')).toMatchObject({ outcome: 'unknown-greeting', evidence: { protocol: 'unknown', said: 'MYAPP 2.1 ready' } });
    expect(classify('unknown', 'silent').outcome).toBe('quiet');
  });
  it('every capture classifies as it did when it was made', () => {
    for (const dir of readdirSync(FIXTURES)) {
      if (!['redis', 'postgresql', 'mysql', 'ssh', 'http', 'unknown', 'ftp', 'imap', 'pop3'].includes(dir)) continue;
      for (const file of readdirSync(new URL(`${dir}/`, FIXTURES)).filter((f) => f.endsWith('.json'))) {
        const c = capture(dir, file.replace(/\.json$/, ''));
        expect(classifyExchange(c.expected ?? undefined, exchangeOf(c)).outcome, join(dir, file)).toBe(c.outcome);
      }
    }
  });
});

/** A PostgreSQL ErrorResponse (Message Formats): 'E', Int32 length, fields, a final NUL. */
function pgError(fields: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(fields).map(([k, v]) => Buffer.from(`${k}${v}\0`, 'utf8')), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head[0] = 0x45;
  head.writeUInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}
/** A MySQL ERR_Packet as the first packet (sequence 0): 0xFF, the code, the message. */
function mysqlErr(code: number, message: string): Buffer {
  const payload = Buffer.concat([Buffer.from([0xff, code & 0xff, code >> 8]), Buffer.from(message)]);
  return Buffer.concat([Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, 0, 0]), payload]);
}

describe('from the specifications', () => {
  it('PostgreSQL: 53300 is overloaded, 57P03 not ready, a role that does not exist is not a refusal', () => {
    const f = (fields: Record<string, string>) => classifyExchange('postgresql', x(['N', pgError(fields)]));
    expect(f({ S: 'FATAL', V: 'FATAL', C: '53300', M: 'sorry, too many clients already' })).toMatchObject({ outcome: 'overloaded', evidence: { sqlState: '53300' } });
    expect(f({ S: 'FATAL', V: 'FATAL', C: '57P03', M: 'the database system is starting up' })).toMatchObject({ outcome: 'not-ready', evidence: { said: 'FATAL: the database system is starting up' } });
    expect(f({ S: 'FATAL', V: 'FATAL', C: '28000', M: 'role "whyport_probe" does not exist' })).toMatchObject({ outcome: 'answered', evidence: { reason: 'unknown-user' } });
    expect(f({ S: 'FATAL', V: 'FATAL', C: '28000', M: 'pg_hba.conf rejects connection for host "10.0.0.7"' })).toMatchObject({ outcome: 'refuses-client', evidence: { reason: 'pg_hba' } });
    expect(f({ S: 'FATAL', V: 'FATAL', C: '3D000', M: 'database "x" does not exist' }).outcome).toBe('answered');
    // A server that offers TLS, asked again without it: the refusal says so.
    expect(classifyExchange('postgresql', x(['S', pgError({ V: 'FATAL', C: '28000', M: 'no pg_hba.conf entry for host "10.0.0.7", user "u", database "u", no encryption' })])).evidence.withoutTls).toBe(true);
  });
  it('MySQL: 1040 overloaded, 1129 blocked, a v10 handshake names MariaDB or MySQL', () => {
    expect(classifyExchange('mysql', x([mysqlErr(1040, 'Too many connections')]))).toMatchObject({ outcome: 'overloaded', evidence: { errorCode: 1040 } });
    expect(classifyExchange('mysql', x([mysqlErr(1129, "Host '10.0.0.7' is blocked")]))).toMatchObject({ outcome: 'refuses-client', evidence: { reason: 'host-blocked' } });
    const hs = (v: string) => {
      const payload = Buffer.concat([Buffer.from([0x0a]), Buffer.from(`${v}\0`), Buffer.alloc(20, 1)]);
      return Buffer.concat([Buffer.from([payload.length, 0, 0, 0]), payload]);
    };
    expect(classifyExchange('mysql', x([hs('5.5.5-10.11.6-MariaDB-0+deb12u1')])).evidence).toMatchObject({ product: 'MariaDB', version: '10.11.6-MariaDB-0+deb12u1' });
    expect(classifyExchange('mysql', x([hs('8.0.36')])).evidence).toMatchObject({ product: 'MySQL', version: '8.0.36' });
  });
  it('Redis: maxclients overloaded, LOADING not ready, PONG healthy', () => {
    expect(classifyExchange('redis', x(['-ERR max number of clients reached\r\n'])).outcome).toBe('overloaded');
    expect(classifyExchange('redis', x(['-LOADING Redis is loading the dataset in memory\r\n'])).outcome).toBe('not-ready');
    expect(classifyExchange('redis', x(['+PONG\r\n']))).toMatchObject({ outcome: 'answered', evidence: { product: 'Redis' } });
  });
  it('SMTP and FTP: 220 ready, 421 overloaded, 554 refuses, 120 not ready', () => {
    expect(classifyExchange('smtp', x(['220 mx.example.org ESMTP Postfix (Debian/GNU)\r\n']))).toMatchObject({ outcome: 'answered', evidence: { status: 220, product: 'Postfix' } });
    expect(classifyExchange('smtp', x(['421 4.3.2 Service not available, closing transmission channel\r\n'])).outcome).toBe('overloaded');
    expect(classifyExchange('smtp', x(['554 5.7.1 No SMTP service here\r\n'])).outcome).toBe('refuses-client');
    expect(classifyExchange('ftp', x(['220 (vsFTPd 3.0.3)\r\n']))).toMatchObject({ outcome: 'answered', evidence: { product: 'vsFTPd', version: '3.0.3' } });
    expect(classifyExchange('ftp', x(['421 There are too many connected users, please try later.\r\n'])).outcome).toBe('overloaded');
    expect(classifyExchange('ftp', x(['120 Service ready in 5 minutes.\r\n'])).outcome).toBe('not-ready');
    // An FTP server on the SMTP port is another protocol.
    expect(classifyExchange('smtp', x(['220 ProFTPD Server (Debian) [10.0.0.1]\r\n']))).toMatchObject({ outcome: 'wrong-protocol', evidence: { protocol: 'ftp' } });
  });
  it("HTTP: 400 to whyport's well-formed HEAD is marked (nginx says so on its TLS port)", () => {
    // What nginx 1.22's `listen 443 ssl` port answered a plain HEAD / here.
    const answer = 'HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 18:09:15 GMT\r\nContent-Type: text/html\r\nContent-Length: 255\r\nConnection: close\r\n\r\n';
    expect(classifyExchange('http', x([answer]))).toMatchObject({ outcome: 'answered', evidence: { status: 400, reason: 'bad-request', product: 'nginx', version: '1.22.1' } });
    expect(classifyExchange('http', x(['HTTP/1.1 200 OK\r\nServer: Apache/2.4.62 (Debian)\r\n\r\n'])).evidence).toMatchObject({ product: 'Apache', version: '2.4.62' });
  });
  it('IMAP and POP3 greetings', () => {
    expect(classifyExchange('imap', x(['* OK [CAPABILITY IMAP4rev1] Dovecot (Debian) ready.\r\n']))).toMatchObject({ outcome: 'answered', evidence: { product: 'Dovecot' } });
    expect(classifyExchange('imap', x(['* BYE Too many connections\r\n'])).outcome).toBe('overloaded');
    expect(classifyExchange('pop3', x(['+OK Dovecot (Debian) ready.\r\n'])).outcome).toBe('answered');
  });
  it('TLS where SSH is expected is the wrong protocol; HTTP where PostgreSQL is, too', () => {
    // A TLS alert record (RFC 8446 §6): fatal, protocol_version.
    expect(classifyExchange('ssh', x([Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])]))).toMatchObject({ outcome: 'wrong-protocol', evidence: { protocol: 'tls' } });
    expect(classifyExchange('redis', x(['HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\n\r\n']))).toMatchObject({ outcome: 'wrong-protocol', evidence: { protocol: 'http' } });
  });
  it('nothing at all: closed after accept, silent where a greeting is due, quiet where none is known', () => {
    expect(classifyExchange('mysql', x([''], 'eof', 3)).outcome).toBe('closed-after-accept');
    expect(classifyExchange('ssh', x([''], 'reset', 40)).outcome).toBe('closed-after-accept');
    expect(classifyExchange('ssh', x([''], 'silent', 3000)).outcome).toBe('silent');
    expect(classifyExchange(undefined, x([''], 'silent', 300)).outcome).toBe('quiet');
    expect(classifyExchange(undefined, x([''], 'eof', 2)).outcome).toBe('closed-after-accept');
    // PostgreSQL's 'N' alone is no answer to the StartupMessage.
    expect(classifyExchange('postgresql', x(['N', ''], 'eof', 4)).outcome).toBe('closed-after-accept');
  });
  it('a port of no known protocol that answers in a known one is read as that one', () => {
    expect(classifyExchange(undefined, x(['SSH-2.0-OpenSSH_9.6\r\n']))).toMatchObject({ outcome: 'answered', evidence: { protocol: 'ssh', product: 'OpenSSH_9.6' } });
    expect(classifyExchange(undefined, x(['-DENIED Redis is running in protected mode\r\n'])).outcome).toBe('refuses-client');
  });
});

describe('said: the server words, printable', () => {
  it('escapes control bytes, drops the line end, truncates at 200', () => {
    expect(printable(Buffer.from('a\tb\x00c\x1b[31m\xff\r\n', 'latin1'))).toBe('a\\tb\\x00c\\x1b[31m\\xff');
    expect(printable('x'.repeat(500))).toBe(`${'x'.repeat(200)}…`);
    expect(printable('x'.repeat(200))).toBe('x'.repeat(200));
  });
});

/** Deterministic random bytes (xorshift32), so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

describe('fuzz: random and truncated bytes never throw, hang, or escape the closed set', () => {
  const OUTCOMES = ['answered', 'refuses-client', 'overloaded', 'not-ready', 'wrong-protocol', 'closed-after-accept', 'silent', 'unknown-greeting', 'quiet'];
  const expectations: (ProtocolName | undefined)[] = [...PROTOCOL_NAMES, undefined];
  const ends: Exchange['end'][] = ['complete', 'eof', 'reset', 'silent', 'limit', 'error'];
  const check = (expected: ProtocolName | undefined, answers: Buffer[], end: Exchange['end']) => {
    const f = classifyExchange(expected, { answers, end, endMs: 5_000 });
    expect(OUTCOMES).toContain(f.outcome);
    if (f.evidence.said !== undefined) {
      expect(f.evidence.said.length).toBeLessThanOrEqual(201);
      expect(f.evidence.said).not.toMatch(/[\x00-\x1f\x7f]/);
    }
  };
  it('random bytes', () => {
    const next = random(21);
    const started = performance.now();
    for (let i = 0; i < 3_000; i++) {
      const len = next() % 300;
      const bytes = Buffer.alloc(len);
      for (let j = 0; j < len; j++) bytes[j] = next() & 0xff;
      // Lead with shapes the parsers look for, so the fuzz gets past their first test.
      const leads = [[], [0x45], [0x4e], [0x53], [0x52], [0x16, 0x03], [0xff], [0x0a]];
      const lead = leads[next() % leads.length]!;
      const b = Buffer.concat([Buffer.from(lead), bytes]);
      check(expectations[i % expectations.length], next() % 3 === 0 ? [b.subarray(0, 1), b.subarray(1)] : [b], ends[next() % ends.length]!);
    }
    expect(performance.now() - started).toBeLessThan(10_000);
  });
  it('every prefix of every real capture and of the spec messages', () => {
    const real = readdirSync(FIXTURES)
      .filter((d) => ['redis', 'postgresql', 'mysql', 'ssh', 'http', 'unknown', 'ftp', 'imap', 'pop3'].includes(d))
      .flatMap((d) => readdirSync(new URL(`${d}/`, FIXTURES)).filter((f) => f.endsWith('.json')).map((f) => capture(d, f.replace(/\.json$/, ''))));
    const messages = [
      ...real.flatMap((c) => c.talks.flatMap((t) => t.answers.map((h) => Buffer.from(h, 'hex')))),
      pgError({ S: 'FATAL', C: '53300', M: 'sorry' }),
      mysqlErr(1130, "Host 'x' is not allowed"),
      Buffer.from('HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n\r\n'),
    ];
    for (const m of messages) {
      for (let cut = 0; cut <= m.length; cut++) {
        for (const expected of expectations) check(expected, [m.subarray(0, cut)], 'eof');
        check('postgresql', [Buffer.from('N'), m.subarray(0, cut)], 'eof');
      }
    }
  });
  it('the sniffer alone', () => {
    const next = random(7);
    for (let i = 0; i < 2_000; i++) {
      const bytes = Buffer.alloc(next() % 64);
      for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
      expect(() => sniffProtocol(bytes)).not.toThrow();
    }
  });
});
