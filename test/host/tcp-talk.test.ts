import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { talkTcp, type TalkOptions, type TalkResult } from '../../src/host/tcp-talk.js';
import { talkOverShell } from '../../src/host/ssh/talk.js';
import { execaRunner } from '../../src/host/runner.js';
import { abortable } from '../../src/host/abortable.js';
import { localHost } from '../../src/host/local.js';
import { sshHost } from '../../src/host/ssh/host.js';
import type { SshSession } from '../../src/host/ssh/session.js';
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
