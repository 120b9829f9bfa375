import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  exchangeFor,
  httpHeadRequest,
  PG_SSL_REQUEST,
  pgStartupMessage,
  protocolByName,
  protocolOfProgram,
  protocolOfService,
  PROTOCOLS,
  REDIS_PING,
  SSH_IDENTIFICATION,
} from '../../src/knowledge/protocols.js';

/** The requests, read back by the rules of their specifications, and the names that lead to a protocol. */

describe('requests, by their specifications', () => {
  it('PostgreSQL SSLRequest: Int32 8, Int32 80877103', () => {
    expect(PG_SSL_REQUEST.readInt32BE(0)).toBe(8);
    expect(PG_SSL_REQUEST.readInt32BE(4)).toBe(80877103);
  });
  it('PostgreSQL StartupMessage: its length, protocol 3.0, NUL-terminated pairs and a final NUL; no password', () => {
    const m = pgStartupMessage('alice');
    expect(m.readInt32BE(0)).toBe(m.length);
    expect(m.readInt32BE(4)).toBe(3 << 16);
    expect(m[m.length - 1]).toBe(0);
    const words = m.subarray(8, m.length - 1).toString('utf8').split('\0').slice(0, -1);
    expect(Object.fromEntries(words.flatMap((w, i) => (i % 2 === 0 ? [[w, words[i + 1]]] : [])))).toEqual({ user: 'alice', database: 'alice', application_name: 'whyport' });
    expect(m.toString('latin1')).not.toMatch(/password/i);
  });
  it('SSH identification (RFC 4253 §4.2) and Redis PING (inline)', () => {
    expect(SSH_IDENTIFICATION.toString()).toMatch(/^SSH-2\.0-[\x21-\x2c\x2e-\x7e]+\r\n$/);
    expect(REDIS_PING.toString()).toBe('PING\r\n');
  });
  it('HEAD / with Host (port unless 80, IPv6 in brackets) and Connection: close', () => {
    expect(httpHeadRequest('example.org', 80).toString()).toBe('HEAD / HTTP/1.1\r\nHost: example.org\r\nUser-Agent: whyport\r\nAccept: */*\r\nConnection: close\r\n\r\n');
    expect(httpHeadRequest('2001:db8::1', 8080).toString()).toContain('\r\nHost: [2001:db8::1]:8080\r\n');
    expect(() => httpHeadRequest('evil\r\nX-Injected: 1', 80)).toThrow();
  });
  it('a user name that would break the message (NUL, control characters, over 63 bytes) is never sent', () => {
    expect(() => exchangeFor('postgresql', { hostName: 'h', port: 5432, user: 'a\0user' })).toThrow();
    expect(() => exchangeFor('postgresql', { hostName: 'h', port: 5432, user: 'a\r\nb' })).toThrow();
    expect(() => exchangeFor('postgresql', { hostName: 'h', port: 5432, user: 'é'.repeat(40) })).toThrow();
    // Bytes on a socket, never a shell word: a role named so is sent as it is.
    expect(exchangeFor('postgresql', { hostName: 'h', port: 5432, user: 'CORP\\jo smith' })).toHaveLength(2);
    expect(exchangeFor('postgresql', { hostName: 'h', port: 5432, user: 'postgres' })).toHaveLength(2);
  });
  it('greeting protocols send nothing; a port of no known protocol is only listened to', () => {
    for (const p of ['smtp', 'ftp', 'mysql', 'imap', 'pop3'] as const) expect(exchangeFor(p, { hostName: 'h', port: 1, user: 'u' }).every((s) => !s.send)).toBe(true);
    expect(exchangeFor(undefined, { hostName: 'h', port: 1, user: 'u' })).toEqual([{ until: 'chunk' }]);
  });
});

describe('names that lead to a protocol', () => {
  it("every /etc/services name of Debian 12's that a protocol claims is there", () => {
    const services = readFileSync(new URL('../fixtures/services/debian12.txt', import.meta.url), 'utf8');
    const names = new Set(services.split('\n').flatMap((l) => l.replace(/#.*/, '').trim().split(/\s+/).filter((w, i) => i !== 1 && w)));
    for (const p of PROTOCOLS) for (const s of p.services) expect(names.has(s), `${p.name}: ${s}`).toBe(true);
  });
  it('from /etc/services, from the program, from --protocol', () => {
    expect(protocolOfService('postgresql')).toBe('postgresql');
    expect(protocolOfService('postgres')).toBe('postgresql');
    expect(protocolOfService('imap2')).toBe('imap');
    expect(protocolOfService('http-alt')).toBe('http');
    expect(protocolOfService('myapp')).toBeUndefined();
    expect(protocolOfProgram('sshd')).toBe('ssh');
    expect(protocolOfProgram('redis-server')).toBe('redis');
    expect(protocolOfProgram('postgres')).toBe('postgresql');
    expect(protocolOfProgram('mariadbd')).toBe('mysql');
    expect(protocolOfProgram('mysqld')).toBe('mysql');
    expect(protocolOfProgram('nginx')).toBe('http');
    expect(protocolOfProgram('apache2')).toBe('http');
    // dovecot speaks both: the port's name decides.
    expect(protocolOfProgram('dovecot')).toBeUndefined();
    expect(protocolOfProgram('dovecot', 'pop3')).toBe('pop3');
    expect(protocolByName('MariaDB')).toBe('mysql');
    expect(protocolByName('postgres')).toBe('postgresql');
    expect(protocolByName('gopher')).toBeUndefined();
  });
  it('each protocol cites its specification', () => {
    for (const p of PROTOCOLS) expect(p.spec, p.name).toMatch(/RFC \d+|Protocol|RESP|protocol/);
  });
});
