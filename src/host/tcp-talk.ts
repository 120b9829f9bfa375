import { Socket } from 'node:net';
import type { ProbeOutcome } from './tcp-connect.js';

/** One step of a talk: send (maybe), then read until the answer is complete (see TalkOptions). */
export interface TalkStep {
  /** Sent when the step begins. */
  send?: Uint8Array;
  /** The step runs only when the previous step's answer was exactly these bytes; else the talk ends 'complete'. */
  onlyAfter?: Uint8Array;
  /** 'line': the answer ends with the first newline; 'chunk': it is what arrives at once (one read). */
  until: 'line' | 'chunk';
}

export interface TalkOptions {
  steps: readonly TalkStep[];
  /** How long the connect may take. */
  connectTimeoutMs: number;
  /** How long each step may wait for its answer to be complete. */
  waitMs: number;
  /** At most this many bytes are read in all (what comes beyond is never read). */
  maxBytes: number;
  /** Ctrl-C: the talk ends at once (outcome 'error', errno ABORT_ERR) and the socket is closed. */
  signal?: AbortSignal;
}

/**
 * How a talk ended after the connect: every step answered ('complete', whyport closed), the server
 * closed ('eof') or reset ('reset') the connection, a step's wait passed without a complete answer
 * ('silent'), `maxBytes` were read ('limit'), or a socket error ('error', with `endErrno`).
 */
export type TalkEnd = 'complete' | 'eof' | 'reset' | 'silent' | 'limit' | 'error';

export interface TalkResult {
  address: string;
  port: number;
  /** The connect, as Host.connectTcp says it; the rest is only there when 'connected'. */
  outcome: ProbeOutcome;
  errno?: string;
  /** The bytes of each step's answer in hex, one per step that ran (the last one maybe partial). */
  answers: string[];
  end?: TalkEnd;
  endErrno?: string;
  /** From the connect to the end of the talk (how long a server stayed silent before closing). */
  endMs?: number;
  durationMs: number;
}

/**
 * Talks to one literal address over TCP (node:net): connects, then runs the steps in order, each
 * sending its bytes and reading until its answer is complete, bounded in time (waitMs a step),
 * bytes (maxBytes) and by the signal. The socket is always closed and no timer outlives the talk.
 */
export function talkTcp(address: string, port: number, opts: TalkOptions): Promise<TalkResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = new Socket();
    const answers: string[] = [];
    let connectedAt: number | undefined;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let step = -1;
    let answer = Buffer.alloc(0);
    let pending = Buffer.alloc(0);
    let total = 0;
    const finish = (outcome: ProbeOutcome, extra: { errno?: string; end?: TalkEnd; endErrno?: string } = {}) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', aborted);
      socket.destroy();
      if (step >= 0 && step < opts.steps.length && answers.length === step) answers.push(answer.toString('hex'));
      const now = performance.now();
      resolve({
        address,
        port,
        outcome,
        ...(extra.errno ? { errno: extra.errno } : {}),
        answers,
        ...(extra.end ? { end: extra.end } : {}),
        ...(extra.endErrno ? { endErrno: extra.endErrno } : {}),
        ...(connectedAt !== undefined ? { endMs: Math.round(now - connectedAt) } : {}),
        durationMs: Math.round(now - started),
      });
    };
    const end = (kind: TalkEnd, endErrno?: string) => finish('connected', { end: kind, ...(endErrno ? { endErrno } : {}) });
    const begin = (i: number) => {
      clearTimeout(timer);
      const s = opts.steps[i];
      if (!s) return end('complete');
      if (s.onlyAfter && i > 0 && answers[i - 1] !== Buffer.from(s.onlyAfter).toString('hex')) return end('complete');
      step = i;
      answer = Buffer.alloc(0);
      timer = setTimeout(() => end('silent'), opts.waitMs);
      if (s.send?.length) socket.write(s.send);
      take();
    };
    // Moves what came into the running step's answer, and ends the step once it is complete.
    const take = () => {
      const s = opts.steps[step];
      if (!s || pending.length === 0) return;
      let cut = pending.length;
      if (s.until === 'line') {
        const nl = pending.indexOf(0x0a);
        if (nl >= 0) cut = nl + 1;
      }
      answer = Buffer.concat([answer, pending.subarray(0, cut)]);
      pending = pending.subarray(cut);
      const complete = s.until === 'chunk' || answer.includes(0x0a);
      if (!complete) return;
      answers.push(answer.toString('hex'));
      begin(step + 1);
    };
    const connectTimer = setTimeout(() => finish('timeout', { errno: 'ETIMEDOUT' }), opts.connectTimeoutMs);
    const aborted = () => {
      clearTimeout(connectTimer);
      finish('error', { errno: 'ABORT_ERR' });
    };
    if (opts.signal?.aborted) return aborted();
    opts.signal?.addEventListener('abort', aborted, { once: true });
    socket.once('connect', () => {
      clearTimeout(connectTimer);
      connectedAt = performance.now();
      begin(0);
    });
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      const room = opts.maxBytes - total;
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      total += kept.length;
      pending = Buffer.concat([pending, kept]);
      take();
      if (!done && total >= opts.maxBytes) {
        if (step >= 0 && answers.length === step) {
          answer = Buffer.concat([answer, pending]);
          pending = Buffer.alloc(0);
        }
        end('limit');
      }
    });
    socket.once('end', () => end('eof'));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      const code = err.code ?? 'UNKNOWN';
      if (connectedAt !== undefined) {
        if (code === 'ECONNRESET') end('reset', code);
        else if (code === 'EPIPE') end('reset', code);
        else end('error', code);
        return;
      }
      if (code === 'ECONNREFUSED') finish('refused', { errno: code });
      else if (code === 'ETIMEDOUT') finish('timeout', { errno: code });
      else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN' || code === 'ENETDOWN' || code === 'EADDRNOTAVAIL') finish('unreachable', { errno: code });
      else finish('error', { errno: code });
    });
    socket.connect({ host: address, port, noDelay: true });
  });
}
