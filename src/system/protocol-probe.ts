import type { Host } from '../host/host.js';
import { defineReader } from './reader.js';
import type { TalkResult } from '../host/tcp-talk.js';
import { classifyExchange } from '../analysis/protocol/classify.js';
import type { Exchange, ProtocolFinding } from '../analysis/protocol/finding.js';
import { exchangeFor, httpHeadRequest, pgStartupMessage, protocolSpec, UNKNOWN_HTTP_WAIT_MS, UNKNOWN_PROTOCOL_WAIT_MS, type ProtocolName } from '../knowledge/protocols.js';

/** At most this much of what a server says is read (a greeting or a response head is far less). */
export const PROTOCOL_MAX_BYTES = 16 * 1024;

export interface ProtocolProbeOptions {
  /** A literal address (the connect step's). */
  address: string;
  port: number;
  /** The protocol expected there (`--protocol`, the program holding the port, /etc/services), or undefined. */
  protocol: ProtocolName | undefined;
  /** The name asked for, for HTTP's Host header; the address when not given. */
  hostName?: string;
  /** The user name sent where the protocol needs one (PostgreSQL): `--as-user`, else the user running whyport. Never a password. */
  userName: string;
  /** How long the connect and each wait may take; a port of no known protocol is listened to for UNKNOWN_PROTOCOL_WAIT_MS at most. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ProtocolProbe extends ProtocolFinding {
  /** What whyport sent, as a sentence (the report says it, and that it leaves a line in the service's log). */
  sent: string;
  /** The user name sent, when one was. */
  userName?: string;
  /** The raw talks (one; two for a PostgreSQL server that offers TLS), for captures and --verbose. */
  talks: TalkResult[];
}

const fromHex = (hex: string) => Buffer.from(hex, 'hex');

function exchangeOf(t: TalkResult): Exchange {
  return { answers: t.answers.map(fromHex), end: t.end ?? 'error', ...(t.endMs !== undefined ? { endMs: t.endMs } : {}) };
}

/**
 * Talks to the port as a client of its protocol would, from `host`, and classifies the answer:
 * what the `protocol` check reads. One connection; a second one for a PostgreSQL server that
 * answers the SSLRequest with 'S' (whyport does not speak TLS there, so it asks again without
 * it, as libpq's sslmode=prefer would after a failed TLS attempt), and for a port of no known
 * protocol that said nothing: `HEAD /` there, since most such programs serve HTTP.
 */
export async function probeProtocol(host: Host, o: ProtocolProbeOptions): Promise<ProtocolProbe> {
  const steps = exchangeFor(o.protocol, { hostName: o.hostName ?? o.address, port: o.port, user: o.userName });
  const waitMs = o.protocol ? o.timeoutMs : Math.min(o.timeoutMs, UNKNOWN_PROTOCOL_WAIT_MS);
  const talk = (s: typeof steps, wait = waitMs) => host.talk(o.address, o.port, { steps: s, connectTimeoutMs: o.timeoutMs, waitMs: wait, maxBytes: PROTOCOL_MAX_BYTES, ...(o.signal ? { signal: o.signal } : {}) });
  const sent = o.protocol ? protocolSpec(o.protocol).sends : 'nothing: it listens for a greeting';
  const user = o.protocol === 'postgresql' ? { userName: o.userName } : {};
  const first = await talk(steps);
  if (first.outcome !== 'connected') {
    return { outcome: 'not-connected', evidence: { protocol: o.protocol ?? 'unknown', bytes: 0, said: `${first.outcome}${first.errno ? ` (${first.errno})` : ''}` }, sent, ...user, talks: [first] };
  }
  const talks = [first];
  let exchange = exchangeOf(first);
  if (o.protocol === 'postgresql' && first.answers[0] === '53') {
    const second = await talk([{ send: pgStartupMessage(o.userName), until: 'chunk' }]);
    talks.push(second);
    if (second.outcome === 'connected') exchange = { ...exchangeOf(second), answers: [Buffer.from('S'), ...second.answers.map(fromHex)] };
  }
  const finding = classifyExchange(o.protocol, exchange);
  if (o.protocol || finding.outcome !== 'quiet' || o.signal?.aborted) return { ...finding, sent, ...user, talks };
  // Silent, as a program waiting for its client is: ask once more as an HTTP client, on a new
  // connection (nmap's GetRequest after its NULL probe). Its answer, if any, is what it speaks.
  const hostName = o.hostName ?? o.address;
  const asked = await talk([{ send: httpHeadRequest(hostName, o.port), until: 'chunk' }], Math.min(o.timeoutMs, UNKNOWN_HTTP_WAIT_MS));
  talks.push(asked);
  const second = asked.outcome === 'connected' ? classifyExchange(undefined, exchangeOf(asked)) : undefined;
  const spoke = second && second.evidence.bytes > 0;
  return {
    ...(spoke ? second : finding),
    sent: spoke ? `nothing at first; after ${waitMs} ms of silence, HEAD / on a second connection, as an HTTP client (and nmap's service scan) would` : `nothing at first, then HEAD / on a second connection: neither got a byte back`,
    talks,
  };
}

/** What makes two protocol probes the same read. */
export type ProtocolProbeKey = Omit<ProtocolProbeOptions, 'signal'>;

/**
 * The protocol probe as a reader (the future `protocol` step's read): once per diagnosis for an
 * address, port, protocol and user. The signal is the host's (abortable()), not the key's.
 */
export const protocolProbeOf = defineReader<ProtocolProbeKey, ProtocolProbe>({
  name: 'protocol probe',
  key: (k) => [k.address, k.port, k.protocol ?? '-', k.userName, k.hostName ?? '-', k.timeoutMs].join(' '),
  read: (k, s) => probeProtocol(s.host, k),
});
