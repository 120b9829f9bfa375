import { HostError, type Host } from './host.js';
import { askedOf, HOST_CALLS, type HostCall, type RecordedCall, type Recording, type Vantage } from './recording.js';
import type { CommandResult } from './runner.js';
import { redactValue } from '../text/redact.js';

// `whyport HOST PORT --replay FILE`: a Host that answers from a recording (recording.ts), so the
// playbook is walked on what another machine said, elsewhere, later: nothing is run, read or sent
// here. A call is matched by what it asks (the recording's arguments, redacted as the recording
// was); the same call asked again gets the next recorded answer, then the last one again. A call
// the recording does not hold is answered as unreadable — HostError ENOREPLAY, a probe's error
// outcome, a command that did not run — so the checks say "could not read", never crash.

/** The code of a call the recording does not hold. */
export const NOT_RECORDED = 'ENOREPLAY';

/** A Host answering from the calls `recording` holds for one end (`at`). */
export function replayHost(recording: Recording, at: Vantage): Host {
  const answers = new Map<string, { queue: RecordedCall[]; next: number }>();
  for (const c of recording.calls) {
    if (c.at !== at) continue;
    const k = keyOf(c.call, c.args);
    const slot = answers.get(k);
    if (slot) slot.queue.push(c);
    else answers.set(k, { queue: [c], next: 0 });
  }
  const answer = (call: HostCall, args: unknown[]): RecordedCall | undefined => {
    const slot = answers.get(keyOf(call, redactValue(askedOf(call, args), '', [])));
    if (!slot) return undefined;
    const c = slot.queue[Math.min(slot.next, slot.queue.length - 1)];
    slot.next++;
    return c;
  };
  const notRecorded = (call: HostCall, args: unknown[]) => {
    const what = askedOf(call, args).flatMap((a) => (typeof a === 'string' || typeof a === 'number' ? [String(a)] : Array.isArray(a) ? [a.join(' ')] : []));
    return new HostError(`not in the recording: ${call} ${what.join(' ')}`.trim(), NOT_RECORDED);
  };

  const host: Record<string, unknown> = {};
  for (const call of HOST_CALLS) {
    // node's TLS is a method of this machine only: the replay offers it where the recorded end was this machine.
    if (call === 'probeTls' && !(at === 'client' && recording.vantages.client.local)) continue;
    host[call] = async (...args: unknown[]) => {
      const c = answer(call, args);
      if (!c) return unrecorded(call, args, notRecorded(call, args));
      if (c.error) throw new HostError(c.error.message, c.error.code);
      return revive(call, c.result);
    };
  }
  return host as unknown as Host;
}

/** What a call the recording lacks answers: unreadable, in the form its callers expect. */
function unrecorded(call: HostCall, args: unknown[], err: HostError): unknown {
  const [address, port] = args as [string, number];
  switch (call) {
    case 'run': {
      const r: CommandResult = { argv: args[0] as string[], exitCode: null, stdout: '', stderr: `${err.message}\n`, missing: false, timedOut: false, durationMs: 0 };
      return r;
    }
    case 'connectTcp':
      return { address, port, outcome: 'error', errno: NOT_RECORDED, durationMs: 0 };
    case 'talk':
      return { address, port, outcome: 'error', errno: NOT_RECORDED, answers: [], durationMs: 0 };
    case 'probeUdp':
      return { address, port, outcome: 'error', errno: NOT_RECORDED, durationMs: 0, tries: 0, payload: (args[2] as { payloadName?: string })?.payloadName ?? 'empty' };
    case 'probeTls':
      return { address, port, stage: 'connect', errno: NOT_RECORDED, chain: [], verifyErrors: [], receivedBytes: 0, durationMs: 0 };
    default:
      throw err;
  }
}

/** JSON has no undefined: a stat or a cgroup of a process that was gone is null in the file. */
function revive(call: HostCall, result: unknown): unknown {
  if ((call === 'stat' || call === 'cgroups') && Array.isArray(result)) return result.map((x) => (x === null ? undefined : x));
  return result;
}

/** The key a call is found by: its name and what it asked, as canonical JSON. */
function keyOf(call: string, asked: unknown): string {
  return `${call} ${canonical(asked)}`;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}
