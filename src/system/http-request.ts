import type { TalkResult, TalkStep } from '../host/tcp-talk.js';
import { defineReader } from './reader.js';

/**
 * One plain HTTP/1.1 request (`Connection: close`) from the host, through Host.talk: node:net
 * here, bash's /dev/tcp on a server over ssh (host/ssh/talk.ts) — the request runs where the
 * check runs. The response is read chunk by chunk until the server closes, `maxBytes` are read,
 * a chunk does not come within `timeoutMs`, or MAX_READS chunks came (what is read is enough to
 * judge: the bound is the check's, not the server's).
 */

/** How many reads after the request (a response arrives in a few; a trickle is cut off). */
export const MAX_READS = 32;

export interface HttpRequestKey {
  /** A literal address. */
  address: string;
  port: number;
  method: 'GET' | 'HEAD';
  /** The request target: an absolute path with its query, printable ASCII without spaces. */
  path: string;
  /** The Host header: the name asked for, with the port unless it is 80. */
  hostHeader: string;
  timeoutMs: number;
  maxBytes: number;
}

/** The request's bytes: the smallest a server answers, and never kept alive. */
export function httpRequestBytes(k: Pick<HttpRequestKey, 'method' | 'path' | 'hostHeader'>): Buffer {
  return Buffer.from(`${k.method} ${k.path} HTTP/1.1\r\nHost: ${k.hostHeader}\r\nUser-Agent: whyport\r\nAccept: */*\r\nConnection: close\r\n\r\n`, 'latin1');
}

export const httpRequestOf = defineReader<HttpRequestKey, TalkResult>({
  name: 'http request',
  key: (k) => [k.address, k.port, k.method, k.path, k.hostHeader, k.timeoutMs, k.maxBytes].join(' '),
  read: (k, s) => {
    const steps: TalkStep[] = [{ send: httpRequestBytes(k), until: 'chunk' }, ...Array.from({ length: MAX_READS - 1 }, (): TalkStep => ({ until: 'chunk' }))];
    return s.host.talk(k.address, k.port, { steps, connectTimeoutMs: k.timeoutMs, waitMs: k.timeoutMs, maxBytes: k.maxBytes });
  },
});
