import { describe, expect, it } from 'vitest';
import { parseTalkOutput } from '../../src/system/bash-talk.js';

/** What the remote talk script (host/ssh/talk.ts) printed, read back; its real runs are in test/host/tcp-talk.test.ts. */

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
