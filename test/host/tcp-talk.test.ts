import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { talkTcp, type TalkOptions, type TalkResult } from '../../src/host/tcp-talk.js';
import { parseTalkOutput, talkOverShell } from '../../src/host/tcp-talk-remote.js';
import { execaRunner } from '../../src/host/runner.js';
import { abortable } from '../../src/host/abortable.js';
import { localHost } from '../../src/host/local.js';
import { type SshSession, sshHost } from '../../src/host/ssh.js';
import { loopbackSession, sshdAvailable, startLoopbackSshd, type LoopbackSshd } from '../helpers/ssh.js';

/**
 * Host.talk on real loopback sockets (no root needed), the same cases through node:net (the local
 * host) and through the bash script the ssh host runs on a server (here run by the local runner;
 * through a real sshd at the end): a greeting, a request answered, a step that needs the previous
 * answer, a line in pieces, NUL and high bytes, a close, a reset, silence, the byte limit, Ctrl-C.
 */

type Behaviour = (c: Socket) => void;
let server: Server;
let port = 0;
let behaviour: Behaviour = () => {};
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
    c.on('error', () => {});
    behaviour(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterEach(() => {
  for (const s of sockets) s.destroy();
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

// A server whose commands run in a UTF-8 locale, as many logins do.
const shell = (a: string, p: number, o: TalkOptions) => talkOverShell((argv, ro) => execaRunner.run(argv, { ...ro, env: { LC_ALL: 'C.UTF-8' } }), a, p, o);
const opts = (steps: TalkOptions['steps'], more: Partial<TalkOptions> = {}): TalkOptions => ({ steps, connectTimeoutMs: 2_000, waitMs: 1_000, maxBytes: 16_384, ...more });
const text = (r: TalkResult) => r.answers.map((h) => Buffer.from(h, 'hex').toString('latin1'));

describe.each([
  ['node:net', talkTcp],
  ['the remote bash script', shell],
] as const)('talk through %s', (_, talk) => {
  it('reads a greeting line, and no further', async () => {
    behaviour = (c) => c.write('SSH-2.0-Test_1.0\r\nmore that is not read\r\n');
    const r = await talk('127.0.0.1', port, opts([{ until: 'line' }]));
    expect(r).toMatchObject({ outcome: 'connected', end: 'complete' });
    expect(text(r)).toEqual(['SSH-2.0-Test_1.0\r\n']);
  });
  it('sends a request and reads the answer; a line that comes in pieces is waited for', async () => {
    behaviour = (c) =>
      c.once('data', (d) => {
        c.write(`+${d.toString().trim()}`);
        setTimeout(() => c.write('ED\r\n'), 80);
      });
    const r = await talk('127.0.0.1', port, opts([{ send: Buffer.from('PING\r\n'), until: 'line' }]));
    expect(text(r)).toEqual(['+PINGED\r\n']);
  });
  it("runs a step only after the answer it needs (PostgreSQL's 'N'), and keeps NUL and high bytes", async () => {
    behaviour = (c) => {
      let n = 0;
      c.on('data', () => c.write(n++ === 0 ? 'N' : Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0xff])));
    };
    const r = await talk('127.0.0.1', port, opts([{ send: Buffer.from([0, 0, 0, 8]), until: 'chunk' }, { send: Buffer.from('x'), onlyAfter: Buffer.from('N'), until: 'chunk' }]));
    expect(r.answers).toEqual(['4e', '52000000080000ff']);
    const skipped = await talk('127.0.0.1', port, opts([{ send: Buffer.from([0, 0, 0, 8]), until: 'chunk' }, { send: Buffer.from('x'), onlyAfter: Buffer.from('S'), until: 'chunk' }]));
    expect(skipped).toMatchObject({ answers: ['4e'], end: 'complete' });
  });
  it('an accept then a close: eof without a byte, and when', async () => {
    behaviour = (c) => setTimeout(() => c.end(), 150);
    const r = await talk('127.0.0.1', port, opts([{ until: 'line' }]));
    expect(r).toMatchObject({ end: 'eof', answers: [''] });
    expect(r.endMs).toBeGreaterThanOrEqual(140);
  });
  it('a reset', async () => {
    behaviour = (c) => setTimeout(() => c.resetAndDestroy(), 50);
    const r = await talk('127.0.0.1', port, opts([{ until: 'line' }]));
    expect(r.end).toBe('reset');
  });
  it('silence ends the talk at the wait, not later', async () => {
    behaviour = () => {};
    const r = await talk('127.0.0.1', port, opts([{ until: 'chunk' }], { waitMs: 300 }));
    expect(r).toMatchObject({ end: 'silent', answers: [''] });
    expect(r.endMs).toBeGreaterThanOrEqual(290);
    expect(r.endMs).toBeLessThan(450);
  });
  it('bytes that would be UTF-8 characters stay bytes, whatever the locale', async () => {
    behaviour = (c) => c.write(Buffer.from('é€\n', 'utf8'));
    const r = await talk('127.0.0.1', port, opts([{ until: 'line' }]));
    expect(r.answers).toEqual(['c3a9e282ac0a']);
  });
  it('stops at maxBytes', async () => {
    behaviour = (c) => c.write('y'.repeat(5000));
    const r = await talk('127.0.0.1', port, opts([{ until: 'line' }], { maxBytes: 100 }));
    expect(r.end).toBe('limit');
    expect(r.answers[0]).toHaveLength(200);
  });
  it('a port nobody holds is refused at the connect', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const free = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await talk('127.0.0.1', free, opts([{ until: 'line' }]))).toMatchObject({ outcome: 'refused', errno: 'ECONNREFUSED', answers: [] });
  });
});

describe('Ctrl-C', () => {
  it('ends a talk at once, through abortable()', async () => {
    behaviour = () => {};
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(), 100);
    const started = performance.now();
    const r = await abortable(localHost, ctrl.signal).talk('127.0.0.1', port, opts([{ until: 'line' }], { waitMs: 5_000 }));
    expect(r).toMatchObject({ outcome: 'error', errno: 'ABORT_ERR' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('parseTalkOutput: what the remote script printed', () => {
  it('a connect bash could not make', () => {
    expect(parseTalkOutput('10.0.0.9', 22, { exitCode: 2, stdout: '', stderr: 'sh: connect: Connection refused\nsh: line 1: /dev/tcp/10.0.0.9/22: Connection refused\n', timedOut: false }, 5)).toMatchObject({ outcome: 'refused', errno: 'ECONNREFUSED' });
    expect(parseTalkOutput('10.0.0.9', 22, { exitCode: 124, stdout: '', stderr: '', timedOut: false }, 5)).toMatchObject({ outcome: 'timeout' });
    expect(parseTalkOutput('10.0.0.9', 22, { exitCode: 9, stdout: '', stderr: '', timedOut: false }, 5)).toMatchObject({ outcome: 'error', errno: 'no bash on the server' });
  });
  it('a reset bash reported on a read', () => {
    const r = parseTalkOutput('10.0.0.9', 22, { exitCode: 0, stdout: 'connected\nanswer \nend eof 5003\n', stderr: 'bash: line 17: read: read error: 0: Connection reset by peer\n', timedOut: false }, 5200);
    expect(r).toMatchObject({ outcome: 'connected', end: 'reset', endErrno: 'ECONNRESET', endMs: 5003, answers: [''] });
  });
});

const unavailable = await sshdAvailable();
describe.skipIf(unavailable !== null)('talk through the ssh host, against a real sshd on loopback', () => {
  let sshd: LoopbackSshd;
  let session: SshSession;
  beforeAll(async () => {
    sshd = await startLoopbackSshd();
    session = loopbackSession(sshd);
  }, 30_000);
  afterAll(async () => {
    await session?.close();
    await sshd?.stop();
  });
  it("reads the sshd's own greeting on the server, quoting and all", async () => {
    behaviour = (c) => c.once('data', (d) => c.end(Buffer.concat([Buffer.from([0, 0xff]), d])));
    const host = sshHost(session);
    const r = await host.talk('127.0.0.1', port, opts([{ send: Buffer.from("it's $HOME `x`\n"), until: 'chunk' }]));
    expect(r).toMatchObject({ outcome: 'connected' });
    expect(Buffer.from(r.answers[0]!, 'hex')).toEqual(Buffer.concat([Buffer.from([0, 0xff]), Buffer.from("it's $HOME `x`\n")]));
    const banner = await host.talk('127.0.0.1', sshd.port, opts([{ until: 'line' }]));
    expect(text(banner)[0]).toMatch(/^SSH-2\.0-OpenSSH_/);
  }, 30_000);
});

describe('parseTalkOutput never throws on what a server could make the script print', () => {
  it('random and truncated output', () => {
    let s = 99;
    const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31), s);
    const pieces = ['connected\n', 'answer ', '0a', 'zz', '\n', 'end ', 'eof ', 'complete ', '5003', 'Connection reset by peer', '\0', 'read error'];
    for (let i = 0; i < 2_000; i++) {
      const out = Array.from({ length: next() % 12 }, () => pieces[next() % pieces.length]).join('');
      const r = parseTalkOutput('10.0.0.9', 22, { exitCode: next() % 3 === 0 ? 124 : 0, stdout: out, stderr: out.slice(0, next() % 20), timedOut: false }, 1);
      expect(['connected', 'refused', 'timeout', 'unreachable', 'error']).toContain(r.outcome);
      for (const a of r.answers) expect(a).toMatch(/^[0-9a-f]*$/);
    }
  });
});
