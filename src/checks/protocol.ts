import { port, z } from './params.js';
import { defineCheck, type CheckContext, type DecideContext } from './check.js';
import { e, fields } from './evidence.js';
import { expectedProtocol, weakExpectation, type ExpectedProtocol } from '../analysis/expected-protocol.js';
import type { ProtocolOutcome } from '../analysis/protocol/finding.js';
import { judgeTls, type TlsFinding } from '../analysis/tls.js';
import { protocolByName, protocolSpec, UNKNOWN_PROTOCOL_WAIT_MS, USER_NAME } from '../knowledge/protocols.js';
import { protocolProbeOf, type ProtocolProbe } from '../system/protocol-probe.js';
import type { TlsReading } from '../system/tls.js';
import { showCommand } from '../system/runner.js';
import { isIP } from 'node:net';
import { nameToSend } from '../net/host-name.js';

/** What the protocol step read: nothing (skipped), a plaintext talk, or a TLS handshake. */
export type ProtocolReadings =
  | { kind: 'skipped'; why: string }
  | ({ kind: 'plain'; address: string; expected: ExpectedProtocol; probe: ProtocolProbe } & Weak)
  | ({ kind: 'tls'; address: string; expected: ExpectedProtocol; serverName?: string; reading: TlsReading; now: string } & Weak);

/**
 * Only the port's name said what to expect, and the program holding it (seen on the server) is
 * none whyport knows for any protocol: a custom program on a well-known port. It is listened to
 * briefly, and silence or a close is no alarm.
 */
interface Weak {
  /** Why the expectation is weak, as a clause ("python3 holds it, …"). */
  weak?: { why: string };
}

/** Whether the protocol expected sends a user name (PostgreSQL's StartupMessage). */
function wantsUser(e: ExpectedProtocol): boolean {
  return e.speaks === 'plain' && e.protocol === 'postgresql';
}

/** How long the TLS handshake with a port of no known protocol may take once its answers said it may be TLS. */
const UNKNOWN_TLS_WAIT_MS = 1_000;

/**
 * What a port of no known protocol said to HEAD / on the second connection hints at TLS: it closed
 * without a byte (Python's and node's TLS servers), sent a TLS record (an alert), or answered 400
 * Bad Request (Go's, Tomcat's and nginx's answers to plain HTTP on a TLS port).
 */
function mayBeTls(probe: ProtocolProbe): boolean {
  const asked = probe.talks[1];
  if (!asked || asked.outcome !== 'connected') return false;
  if (probe.evidence.protocol === 'tls') return true;
  if (probe.evidence.protocol === 'http' && probe.evidence.status === 400) return true;
  return closedWithoutAWord(asked);
}

/** A talk the server ended (EOF or reset) before it sent a byte. */
function closedWithoutAWord(t: ProtocolProbe['talks'][number]): boolean {
  return t.answers.every((a) => a === '') && (t.end === 'eof' || t.end === 'reset');
}

/** What the second connection's HEAD / got from a port that said nothing at first, as a clause. */
function afterHead(probe: ProtocolProbe): string {
  const asked = probe.talks[1];
  if (!asked) return '';
  if (asked.outcome !== 'connected') return '; a second connection for HEAD / did not get through';
  return closedWithoutAWord(asked) ? ', and it closed a second connection on HEAD / without a word' : ', nor to an HTTP request (HEAD /)';
}

/** The protocol step's parameters, as `decide` sees them. */
export interface ProtocolParams {
  host: string;
  port: number;
  address?: string | undefined;
  protocol?: string | undefined;
  tls?: string | undefined;
  user?: string | undefined;
}

export const PROTOCOL_OUTCOMES = ['answered', 'unavailable', 'refuses-client', 'overloaded', 'not-ready', 'tls-failure', 'wrong-protocol', 'closed-after-accept', 'silent', 'unknown'] as const;
export type ProtocolStepOutcome = (typeof PROTOCOL_OUTCOMES)[number];

/** Every probe leaves a trace where it talks: said in the report, so nobody is surprised by it. */
export const LOG_NOTE = "the probe leaves one line in the service's log (a connection from this machine that ended without logging in)";

/** The user running whyport (on the client's side of an --ssh walk too), sent where a protocol needs a user name (PostgreSQL). */
async function runningUser(ctx: CheckContext): Promise<string> {
  const here = ctx.client ?? ctx;
  return (await here.facts.identity().catch(() => undefined))?.user ?? 'whyport';
}

/** The program that holds the port, when whyport sees the server (the address is one of this host's). */
async function programOnPort(address: string, portNumber: number, ctx: CheckContext): Promise<string | undefined> {
  if (!(await ctx.facts.isLocalAddress(address).catch(() => false))) return undefined;
  const table = await ctx.facts.socketTable(portNumber).catch(() => undefined);
  const listener = table?.sockets.find((s) => s.state === 'LISTEN' && s.local.port === portNumber && s.owners?.length);
  return listener?.owners?.[0]?.program;
}

/**
 * After the handshake: does what answers speak the protocol expected there, and does it let this
 * client in? A TLS handshake (every certificate problem) or the smallest harmless request of the
 * protocol (src/knowledge/protocols.ts), never a password. A port of no known protocol is only
 * listened to briefly and never raises an alarm.
 */
export const protocol = defineCheck({
  description: 'What answers after the TCP handshake: the protocol expected there (TLS, SSH, HTTP, PostgreSQL, Redis, MySQL, SMTP, FTP, IMAP, POP3), and whether it lets this client in',
  outcomes: PROTOCOL_OUTCOMES,
  // HTTP 502/503/504 was `answered` before: a playbook that does not name it walks as it did.
  refines: { unavailable: 'answered' },
  params: z.object({ host: z.string(), port: port(), address: z.optional(z.string()), protocol: z.optional(z.string()), tls: z.optional(z.string()), user: z.optional(z.string()) }),
  evidence: fields({
    service: fields({ protocol: e.str(), product: e.str(), said: e.str() }),
    tls: fields({ problems: e.list(e.str()), subject: e.str(), names: e.list(e.str()), issuer: e.str(), notBefore: e.str(), notAfter: e.str() }),
    /** The protocol expected, and why (option, service-name, program). */
    expected: e.str(),
    expectedFrom: e.str(),
    address: e.str(),
    /** What whyport sent, as a sentence. */
    sent: e.str(),
    userName: e.str(),
    /** The refusal in a word ('protected-mode', 'pg_hba', 'host-not-allowed', 'tcp-wrappers', 'max-startups', …). */
    reason: e.str(),
    sqlState: e.str(),
    errorCode: e.num(),
    status: e.num(),
    serverName: e.str(),
    alert: e.str(),
    error: e.str(),
    /** The name of the expected protocol as a sentence says it ("PostgreSQL", "TLS"). */
    title: e.str(),
    note: e.str(),
    endMs: e.num(),
  }),
  describe: (p, at) => `talking to ${p.host} port ${p.port} as a client of ${p.protocol || at.target.portName || 'its protocol'} would`,
  async read(p, ctx): Promise<ProtocolReadings> {
    if (ctx.target.protocol === 'udp') return { kind: 'skipped', why: 'UDP has no handshake to look beyond: the probe’s answer is what answered' };
    if (p.protocol?.trim().toLowerCase() === 'none') return { kind: 'skipped', why: '--no-protocol: stopped at the handshake' };
    let address = p.address;
    if (!address || isIP(address) === 0) {
      const r = await ctx.facts.resolve(p.host);
      if (!r.ok || r.addresses.length === 0) return { kind: 'skipped', why: `${p.host} did not resolve this time` };
      address = r.addresses[0]!.address;
    }
    const wish = { protocol: p.protocol, tls: p.tls };
    let expected = expectedProtocol(wish, ctx.target.portName);
    const byName = expected.speaks !== 'skip' && expected.speaks !== 'unknown' && expected.from === 'service-name';
    const program = expected.speaks === 'unknown' || byName ? await programOnPort(address, p.port, ctx) : undefined;
    if (expected.speaks === 'unknown') expected = expectedProtocol(wish, ctx.target.portName, program);
    const why = weakExpectation(expected, program);
    const weak = why ? { weak: { why } } : {};
    const serverName = nameToSend(p.host);
    const timeoutMs = weak.weak ? Math.min(ctx.timeoutMs, UNKNOWN_PROTOCOL_WAIT_MS) : ctx.timeoutMs;
    const tls = async (wait = timeoutMs): Promise<Extract<ProtocolReadings, { kind: 'tls' }>> => ({
      kind: 'tls',
      address: address!,
      expected: expected as Extract<ExpectedProtocol, { speaks: 'tls' }>,
      ...weak,
      ...(serverName ? { serverName } : {}),
      // node:tls and the trust store load only when a walk reaches a TLS port.
      reading: await ctx.facts.read((await import('../system/tls.js')).tlsOf, { address: address!, port: p.port, timeoutMs: wait, ...(serverName ? { serverName } : {}) }),
      now: new Date().toISOString(),
    });
    if (expected.speaks === 'tls') return tls();
    const userName = p.user || (wantsUser(expected) ? await runningUser(ctx) : 'whyport');
    const wanted = expected.speaks === 'plain' ? expected.protocol : undefined;
    if (wanted === 'postgresql' && !USER_NAME.test(userName)) return { kind: 'skipped', why: `the user name ${JSON.stringify(userName)} cannot be sent (give --as-user NAME)` };
    const probe = await ctx.facts.read(protocolProbeOf, { address, port: p.port, protocol: wanted, userName, timeoutMs, ...(serverName ? { hostName: serverName } : {}) });
    // The program serves HTTP and the port answered in TLS: it serves HTTPS there (nginx on 8443).
    if (expected.speaks === 'plain' && expected.from === 'program' && probe.outcome === 'wrong-protocol' && ['tls', 'https'].includes(probe.evidence.protocol)) {
      expected = { speaks: 'tls', from: 'program' };
      return tls();
    }
    // A port of no known protocol that closed on HEAD /, or answered it with a TLS alert or a 400
    // Bad Request (Go's and Tomcat's "an HTTP request to an HTTPS port"): asked in TLS once (nmap's
    // SSLSessionReq probe). A certificate back makes it a TLS port, judged as one.
    if (expected.speaks === 'unknown' && mayBeTls(probe)) {
      const plain = expected;
      expected = { speaks: 'tls', from: 'answer' };
      const asTls = await tls(Math.min(ctx.timeoutMs, UNKNOWN_TLS_WAIT_MS));
      if (asTls.reading.handshake.chain.length > 0) return asTls;
      expected = plain;
    }
    return { kind: 'plain', address, expected, probe, ...weak };
  },
  decide: (r, p, at) => decideProtocol(r, p, at),
});

const OF_PLAIN: Record<ProtocolOutcome, ProtocolStepOutcome> = {
  answered: 'answered',
  'refuses-client': 'refuses-client',
  overloaded: 'overloaded',
  'not-ready': 'not-ready',
  'wrong-protocol': 'wrong-protocol',
  'closed-after-accept': 'closed-after-accept',
  silent: 'silent',
  // No alarm: a greeting whyport does not know, a custom protocol that waits for its client, a
  // connect that failed this time (the handshake step already said it succeeded).
  'unknown-greeting': 'unknown',
  quiet: 'unknown',
  'not-connected': 'unknown',
};

function titleOf(name: string): string {
  if (name === 'tls') return 'TLS';
  if (name === 'https') return 'HTTPS';
  const known = protocolByName(name);
  return known ? protocolSpec(known).title : name === 'unknown' ? 'the program' : name;
}

/** What a person would type to ask the same. */
function commandFor(name: string, address: string, portNumber: number, user: string | undefined): string {
  switch (name) {
    case 'ssh':
      return showCommand(['ssh', '-v', '-p', String(portNumber), address]);
    case 'http':
      return showCommand(['curl', '-sSI', `http://${isIP(address) === 6 ? `[${address}]` : address}:${portNumber}/`]);
    case 'redis':
      return showCommand(['redis-cli', '-h', address, '-p', String(portNumber), 'PING']);
    case 'postgresql':
      return showCommand(['psql', '-h', address, '-p', String(portNumber), '-U', user ?? 'postgres', '-c', 'select 1']);
    case 'mysql':
      return showCommand(['mysql', '-h', address, '-P', String(portNumber), '-e', 'select 1']);
    default:
      return showCommand(['nc', '-v', address, String(portNumber)]);
  }
}

const NOTE = { note: LOG_NOTE };

/**
 * 502 Bad Gateway, 503 Service Unavailable, 504 Gateway Timeout (RFC 9110 §15.6.3-5): what nginx,
 * haproxy and apache2 answer when their upstream does not, and what an application answers when
 * it cannot serve for now. What each says, as the RFC defines it.
 */
const GATEWAY_WORDS: Readonly<Record<number, string>> = {
  502: 'the server is up, and as a gateway or proxy it got no valid answer from the upstream it passes requests to',
  503: 'the server is up, and cannot serve requests now (overloaded, in maintenance, something it needs is down, or a proxy with no upstream left)',
  504: 'the server is up, and as a gateway or proxy it got no answer in time from the upstream it passes requests to',
};

/** The pure decision of the protocol step. */
export function decideProtocol(r: ProtocolReadings, p: ProtocolParams, _at: DecideContext) {
  if (r.kind === 'skipped') {
    return { outcome: 'unknown' as const, status: 'info' as const, summary: `no protocol talk: ${r.why}`, command: '', evidence: {} };
  }
  const expectedName = r.expected.speaks === 'tls' ? 'tls' : r.expected.speaks === 'plain' ? r.expected.protocol : undefined;
  const expectedFields = {
    address: r.address,
    ...(expectedName ? { expected: expectedName, title: titleOf(expectedName) } : {}),
    ...(r.expected.speaks === 'tls' || r.expected.speaks === 'plain' ? { expectedFrom: r.expected.from } : {}),
  };
  if (r.weak) {
    const d = r.kind === 'tls' ? decideTls(judgeTls(r.reading, { ...(r.serverName ? { serverName: r.serverName } : {}), now: new Date(r.now) }), expectedFields) : undefined;
    const outcome = d?.outcome ?? OF_PLAIN[r.kind === 'plain' ? r.probe.outcome : 'quiet'];
    if (outcome === 'silent' || outcome === 'closed-after-accept') {
      return { outcome: 'unknown' as const, status: 'info' as const, summary: `${titleOf(expectedName ?? 'unknown')} was expected (${r.weak.why}), and nothing answered as it would within ${UNKNOWN_PROTOCOL_WAIT_MS} ms: a program of its own, no alarm (--protocol NAME makes silence a finding)`, command: '', evidence: { ...expectedFields, ...NOTE } };
    }
  }
  if (r.kind === 'tls') return decideTls(judgeTls(r.reading, { ...(r.serverName ? { serverName: r.serverName } : {}), now: new Date(r.now) }), expectedFields);
  const { probe } = r;
  const ev = probe.evidence;
  const outcome = OF_PLAIN[probe.outcome];
  // A closed connection says something only where the protocol must greet or answer.
  const finalOutcome: ProtocolStepOutcome = outcome === 'closed-after-accept' && !expectedName ? 'unknown' : outcome;
  const answering = ev.protocol;
  const title = titleOf(answering);
  const said = ev.said !== undefined && ev.said !== '' ? ev.said : undefined;
  const service = { protocol: answering, ...(ev.product ? { product: ev.product } : {}), ...(said ? { said } : {}) };
  const evidence = {
    ...expectedFields,
    service,
    sent: probe.sent,
    ...(probe.userName ? { userName: probe.userName } : {}),
    ...(ev.reason ? { reason: ev.reason } : {}),
    ...(ev.sqlState ? { sqlState: ev.sqlState } : {}),
    ...(ev.errorCode !== undefined ? { errorCode: ev.errorCode } : {}),
    ...(ev.status !== undefined ? { status: ev.status } : {}),
    ...(ev.endMs !== undefined ? { endMs: ev.endMs } : {}),
    ...NOTE,
  };
  const command = commandFor(expectedName ?? answering, r.address, p.port, probe.userName);
  const words = said ? `: “${said}”` : '';
  const expectedTitle = expectedName ? titleOf(expectedName) : 'a program';
  const fail = 'fail' as const;
  switch (finalOutcome) {
    case 'answered':
      const gateway = answering === 'http' && ev.status !== undefined ? GATEWAY_WORDS[ev.status] : undefined;
      if (gateway) {
        // RFC 9110 §15.6.3-5: the server answers for something behind it (a proxy's upstream, an application) that does not.
        return { outcome: 'unavailable' as const, status: fail, summary: `${title}${ev.product && ev.product !== title ? ` (${ev.product})` : ''} answered ${ev.status}${words}: ${gateway}`, command, evidence };
      }
      return { outcome: finalOutcome, status: 'pass' as const, summary: `${title}${ev.product && ev.product !== title ? ` (${ev.product})` : ''} answered as a healthy server does${words}`, command, evidence };
    case 'refuses-client':
      return { outcome: finalOutcome, status: fail, summary: ev.reason === 'tcp-wrappers' && !said ? `${title} accepted the connection, said nothing and closed it after ${Math.round((ev.endMs ?? 5000) / 1000)} s: TCP wrappers (hosts.deny) refuse this client` : `${title} accepted the connection and turned this client away${words}`, command, evidence };
    case 'overloaded':
      return { outcome: finalOutcome, status: fail, summary: `${title} accepted the connection and turned it away for capacity${words}`, command, evidence };
    case 'not-ready':
      return { outcome: finalOutcome, status: fail, summary: `${title} answers that it is not ready${words}`, command, evidence };
    case 'wrong-protocol':
      return { outcome: finalOutcome, status: fail, summary: `${expectedTitle} was expected, and ${title} answered${words}`, command, evidence };
    case 'closed-after-accept':
      return { outcome: finalOutcome, status: fail, summary: `${expectedTitle} accepted the connection and closed it without a word (${ev.end ?? 'closed'} after ${ev.endMs ?? 0} ms)`, command, evidence };
    case 'silent':
      return { outcome: finalOutcome, status: fail, summary: `${expectedTitle} accepted the connection and said nothing in ${ev.endMs !== undefined ? `${ev.endMs} ms` : 'the time given'}, where it always answers at once`, command, evidence };
    default: {
      const why =
        probe.outcome === 'quiet'
          ? `it said nothing at once, as a program that waits for its client does${afterHead(probe)}`
          : probe.outcome === 'not-connected'
            ? `the talk could not begin this time (${said ?? 'no connection'})`
            : probe.outcome === 'closed-after-accept'
              ? `it accepted the connection and closed it without a word (${ev.end ?? 'closed'} after ${ev.endMs ?? 0} ms), which only its own protocol can call right or wrong (--protocol NAME)`
              : `it said something whyport does not know${words}`;
      return { outcome: 'unknown' as const, status: 'info' as const, summary: `no protocol whyport knows is expected on port ${p.port}: ${why}`, command, evidence };
    }
  }
}

function tlsEvidence(t: NonNullable<Extract<TlsFinding, { tls: unknown }>['tls']>) {
  return {
    problems: [...t.problems],
    ...(t.subject ? { subject: t.subject } : {}),
    ...(t.names ? { names: [...t.names] } : {}),
    ...(t.issuer ? { issuer: t.issuer } : {}),
    ...(t.notBefore ? { notBefore: t.notBefore } : {}),
    ...(t.notAfter ? { notAfter: t.notAfter } : {}),
  };
}

const PROBLEM_WORDS: Record<string, string> = {
  expired: 'expired',
  'not-yet-valid': 'not yet valid',
  'name-mismatch': 'issued for another name',
  'self-signed': 'self-signed',
  untrusted: 'from an issuer this machine does not trust',
  handshake: 'the handshake fails',
};

/** A TLS finding as the protocol step's outcome. */
function decideTls(f: TlsFinding, expectedFields: Record<string, string>) {
  const command = f.command;
  const base = { ...expectedFields, ...NOTE, sent: 'a TLS ClientHello (no certificate, nothing after the handshake)' };
  const fail = 'fail' as const;
  switch (f.outcome) {
    case 'secure':
    case 'problems': {
      const tls = tlsEvidence(f.tls);
      const evidence = { ...base, service: { protocol: 'tls', ...(f.protocol ? { product: f.protocol } : {}) }, tls, ...(f.tls.serverName ? { serverName: f.tls.serverName } : {}), ...(f.tls.alert ? { alert: f.tls.alert } : {}), ...(f.tls.error ? { error: f.tls.error } : {}) };
      if (f.outcome === 'secure') return { outcome: 'answered' as const, status: 'pass' as const, summary: `TLS${f.protocol ? ` (${f.protocol})` : ''} answered with a certificate a client accepts${tls.subject ? ` (${tls.subject})` : ''}`, command, evidence };
      const when = tls.problems.includes('expired') && tls.notAfter ? ` on ${tls.notAfter}` : '';
      const names = tls.problems.includes('name-mismatch') && tls.names ? ` (it names ${tls.names.join(', ')})` : '';
      const words = tls.problems.map((x) => `${PROBLEM_WORDS[x] ?? x}${x === 'expired' ? when : x === 'name-mismatch' ? names : ''}`);
      const alert = f.tls.alert ? `: alert “${f.tls.alert}”` : f.tls.error ? `: ${f.tls.error}` : '';
      return { outcome: 'tls-failure' as const, status: fail, summary: `a TLS client would reject it: ${tls.problems.includes('handshake') && !tls.subject ? `the handshake fails${alert}` : `the certificate is ${words.join('; ')}`}`, command, evidence };
    }
    case 'wrong-protocol':
      return { outcome: 'wrong-protocol' as const, status: fail, summary: `TLS was expected, and ${titleOf(f.answered.protocol)} answered: “${f.answered.said}”`, command, evidence: { ...base, service: { protocol: f.answered.protocol, said: f.answered.said }, tls: tlsEvidence(f.tls) } };
    case 'closed':
      return { outcome: 'closed-after-accept' as const, status: fail, summary: 'TLS was expected: the connection was accepted and closed without a byte of the handshake', command, evidence: { ...base, service: { protocol: 'tls' } } };
    case 'silent':
      return { outcome: 'silent' as const, status: fail, summary: `TLS was expected: the connection was accepted and nothing answered the ClientHello in ${f.durationMs} ms`, command, evidence: { ...base, service: { protocol: 'tls' } } };
    case 'no-connection':
      return { outcome: 'unknown' as const, status: 'info' as const, summary: `the TLS handshake could not begin this time (${f.errno})`, command, evidence: { ...base } };
    default:
      return { outcome: 'unknown' as const, status: 'info' as const, summary: `the TLS handshake could not be tried: ${f.reason}`, command, evidence: { ...base } };
  }
}
