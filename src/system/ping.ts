import { showCommand, type CommandResult, type Runner } from './runner.js';
import { defineReader } from './reader.js';

/**
 * One ICMP echo with iputils ping, and what came back. ping prints an ICMP error it receives
 * instead of an echo reply ("From 10.0.0.5 icmp_seq=1 Packet filtered"); who sent it matters: the
 * target itself answering with an error is still a sign that it is up, a router or this machine
 * saying "host unreachable" is not.
 */

/** What one echo request ran into. */
export type PingOutcome =
  /** An echo reply came back. */
  | 'reply'
  /** Nothing came back before the deadline. */
  | 'no-reply'
  /** An ICMP error came back instead (see `icmpError`). */
  | 'icmp-error'
  /** The kernel refused to send it: no route (ENETUNREACH), an unreachable or prohibit route. */
  | 'no-route'
  /** ping may not open its socket (no CAP_NET_RAW, no setuid, ping_group_range excludes us). */
  | 'not-permitted'
  /** ping is not installed. */
  | 'missing'
  /** Anything else: it crashed, timed out, or printed what the parser does not know. */
  | 'failed';

/** The kind of an ICMP error ping printed, in the words of RFC 792 / RFC 4443. */
export type IcmpErrorKind = 'admin-prohibited' | 'host-unreachable' | 'net-unreachable' | 'port-unreachable' | 'other';

/** An ICMP error ping received instead of an echo reply. */
export interface IcmpError {
  /** Who sent it: the target itself, a router on the way, or this machine (ARP/ND failed). */
  from: string;
  kind: IcmpErrorKind;
  /** As ping printed it: "Packet filtered", "Destination Host Unreachable", … */
  message: string;
}

/** What ping's output says, before it is tied to a command run. */
export interface PingParse {
  outcome: PingOutcome;
  /** Round-trip time of the reply, in milliseconds. */
  rttMs?: number;
  ttl?: number;
  icmpError?: IcmpError;
  /** For no-route, not-permitted and failed: what ping said (its first line, without "ping: "). */
  error?: string;
}

/** One echo request sent to one address, as run. */
export interface PingResult extends PingParse {
  address: string;
  /** As a person would type it. */
  command: string;
  durationMs: number;
}

const REPLY = /^\d+ bytes from (\S+?):? .*?(?:ttl|hlim)=(\d+).*?time[=<]([\d.]+) ms/m;
const ICMP_ERROR = /^From (\S+?)(?: \([^)]*\))?:? icmp_seq=\d+ (.+?)\s*$/m;
const NOT_PERMITTED = /operation not permitted|permission denied|missing cap_net_raw|=> missing/i;
const NO_ROUTE = /connect: (network is unreachable|no route to host)/i;

/** Classifies the message of an ICMP error as iputils prints it, for IPv4 and IPv6 alike. */
export function icmpErrorKind(message: string): IcmpErrorKind {
  const m = message.toLowerCase();
  if (/packet filtered|administratively prohibited|prohibited/.test(m)) return 'admin-prohibited';
  if (/port unreachable/.test(m)) return 'port-unreachable';
  if (/host unreachable|address unreachable|host prohibited/.test(m)) return 'host-unreachable';
  if (/net unreachable|no route/.test(m)) return 'net-unreachable';
  return 'other';
}

/** Reads what `ping -c 1 -n ADDRESS` printed and how it exited. Pure: text in, facts out. */
export function parsePing(stdout: string, stderr: string, exitCode: number | null): PingParse {
  const reply = REPLY.exec(stdout);
  if (reply) return { outcome: 'reply', ttl: Number(reply[2]), rttMs: Number(reply[3]) };
  const icmp = ICMP_ERROR.exec(stdout);
  if (icmp) {
    const message = icmp[2]!;
    return { outcome: 'icmp-error', icmpError: { from: icmp[1]!, kind: icmpErrorKind(message), message } };
  }
  const said = firstLine(stderr);
  if (NOT_PERMITTED.test(stderr)) return { outcome: 'not-permitted', error: stderr.split('\n').find((l) => /not permitted|denied/i.test(l))?.replace(/^[^:]*ping: /, '').trim() ?? said };
  if (NO_ROUTE.test(stderr)) return { outcome: 'no-route', error: said };
  // Exit 1 with the statistics line: sent, nothing came back before the deadline.
  if (exitCode === 1 && /\d+ packets transmitted, 0 received/.test(stdout)) return { outcome: 'no-reply' };
  return { outcome: 'failed', error: said || `exit status ${exitCode}` };
}

function firstLine(text: string): string {
  return (text.trim().split('\n')[0] ?? '').replace(/^(\S*\/)?ping: /, '').trim();
}

/** The -W value: ping waits at most a second, less when the probe timeout is shorter. */
export function pingDeadlineSeconds(timeoutMs: number): string {
  const s = Math.max(0.1, Math.min(1, timeoutMs / 1000));
  return String(Math.round(s * 10) / 10);
}

/** The argv of one echo to `address`: -n, because a reverse lookup of the address could hang on DNS. */
export function pingArgv(address: string, timeoutMs: number): string[] {
  return ['ping', '-c', '1', '-W', pingDeadlineSeconds(timeoutMs), '-n', address];
}

/** Sends one echo request to a literal address through the runner and reads the answer. */
export async function pingOnce(runner: Runner, address: string, opts: { timeoutMs: number }): Promise<PingResult> {
  const argv = pingArgv(address, opts.timeoutMs);
  // ping ends itself at its deadline; the runner's timeout only guards against a hang.
  const r: CommandResult = await runner.run(argv, { timeoutMs: Math.min(1000, opts.timeoutMs) + 2000 });
  const command = showCommand(argv);
  if (r.missing) return { address, command, outcome: 'missing', error: 'ping is not installed', durationMs: r.durationMs };
  if (r.timedOut) return { address, command, outcome: 'failed', error: 'ping did not end by its deadline', durationMs: r.durationMs };
  return { address, command, ...parsePing(r.stdout, r.stderr, r.exitCode), durationMs: r.durationMs };
}

/** One ping of an address, once per diagnosis. */
export const pingOf = defineReader<{ address: string; timeoutMs: number }, PingResult>({ name: 'ping', key: (k) => `${k.address} ${k.timeoutMs}`, read: (k, s) => pingOnce(s.host, k.address, { timeoutMs: k.timeoutMs }) });
