import { errorCode, type Host } from '../host/host.js';
import { defineReader } from './reader.js';

/**
 * Where the kernel says it dropped a packet, read before and after a window in which the client
 * (or whyport itself) connects: its counters (`nstat`), and, as root where tracefs is mounted, the
 * reason of every drop (`skb:kfree_skb`, since Linux 5.17) through a trace instance of whyport's
 * own, made for the window and removed after it.
 */

/** Every counter of `nstat -asz` by name (`TcpExtIPReversePathFilter 3 0.0`); the `#kernel` line and anything else is skipped. Pure. */
export function parseNstatCounters(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name && /^[A-Za-z][A-Za-z0-9]*$/.test(name) && value !== undefined && /^\d+$/.test(value)) out[name] = Number(value);
  }
  return out;
}

/** The kernel's counters at one moment, or why they could not be read. */
export type KernelCounters = { kind: 'read'; counters: Record<string, number> } | { kind: 'cannot'; reason: string };

// -a absolute values, -s leave nstat's history file alone (the user's next `nstat` still shows what
// changed since theirs), -z zeros too: a counter missing and a counter at 0 are told apart.
const NSTAT_ARGV = ['nstat', '-asz'];

/** `nstat -asz` on the host, at the moment named by the key ('before' or 'after' a window). */
export const kernelCountersOf = defineReader<string, KernelCounters>({
  name: 'kernel counters',
  key: (when) => when,
  async read(_, s) {
    const r = await s.host.run(NSTAT_ARGV, { timeoutMs: s.timeoutMs });
    if (r.missing) return { kind: 'cannot', reason: 'nstat is not installed (apt-get install iproute2)' };
    const counters = parseNstatCounters(r.stdout);
    if (r.exitCode !== 0 || Object.keys(counters).length === 0) return { kind: 'cannot', reason: `nstat -az failed (${r.stderr.trim().split('\n').pop() || `exit status ${r.exitCode}`})` };
    return { kind: 'read', counters };
  },
});

/** One line of the kfree_skb trace: where the kernel freed a packet it dropped, and why. */
export interface SkbDrop {
  /** The kernel's own name (`IP_RPFILTER`, `NETFILTER_DROP`, `TCP_LISTEN_OVERFLOW`, …). */
  reason: string;
  /** The function that dropped it (`ip_rcv_finish_core+0x260/0x470`). */
  location: string;
  /** The ethertype: 2048 IPv4, 34525 IPv6. */
  protocol: number;
}

/**
 * The drops of a tracefs `trace` file of kfree_skb events:
 * `bash-903 [000] ..s1. 12467.814251: kfree_skb: skbaddr=… rx_sk=… protocol=2048 location=ip_rcv_finish_core+0x260/0x470 reason: IP_RPFILTER`.
 * Comment lines and other events are skipped; a kernel without `reason:` (before 5.17) gives none. Pure.
 */
export function parseKfreeSkbTrace(text: string): SkbDrop[] {
  const out: SkbDrop[] = [];
  for (const line of text.split('\n')) {
    const m = /\bkfree_skb:.*\bprotocol=(\d+)\s+location=(\S+)\s+reason:\s*(\S+)/.exec(line);
    if (m) out.push({ protocol: Number(m[1]), location: m[2]!, reason: m[3]! });
  }
  return out;
}

/** How many drops the kernel traced of each reason. Pure. */
export function dropsByReason(drops: readonly SkbDrop[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of drops) out[d.reason] = (out[d.reason] ?? 0) + 1;
  return out;
}

/** Where tracefs may be mounted: its own mount point, or under debugfs on older systems. */
export const TRACEFS_ROOTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'] as const;

/** A trace instance of whyport's own, recording kfree_skb for one window; or why none could be made. */
export type DropTraceStart = { kind: 'tracing'; instance: string } | { kind: 'cannot'; reason: string };

/** What the instance recorded over the window, read once it was stopped and removed. */
export type DropTrace = { kind: 'traced'; drops: SkbDrop[]; removed: boolean } | { kind: 'cannot'; reason: string };

/** Per CPU: a window of a few seconds never needs more, and the machine never gives more. */
const BUFFER_KB = '256';

const EVENT = 'events/skb/kfree_skb';

/** Stops and removes a trace instance; true when it is gone. Never throws: it runs in a finally. */
async function removeInstance(host: Host, instance: string): Promise<boolean> {
  await host.writeFile(`${instance}/${EVENT}/enable`, '0').catch(() => undefined);
  try {
    await host.removeDir(instance);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes `instances/whyport-PID` under tracefs and turns kfree_skb on in it (never the global
 * buffer): a bounded buffer, a filter on the protocol where the kernel takes one. Whatever fails
 * after the instance exists removes it again. The key is the window's name and the protocol's
 * ethertype filter (`protocol == 2048`).
 */
export const dropTraceStartOf = defineReader<{ window: string; ethertype: number }, DropTraceStart>({
  name: 'kfree_skb trace start',
  key: (k) => `${k.window} ${k.ethertype}`,
  async read(k, s) {
    // One round trip over ssh (commands of one turn go together, run in the order asked): the
    // instance is made under the usual mount point and set up at once; where that fails, the
    // stat of both mount points says why. A write never creates a file, so after a failed mkdir
    // the writes fail too, harmlessly.
    const instance = `${TRACEFS_ROOTS[0]}/instances/whyport-${process.pid}-${k.window}`;
    const [stats, made, , , enabled, format] = await Promise.allSettled([
      s.host.stat(TRACEFS_ROOTS.flatMap((r) => [`${r}/instances`, `${r}/${EVENT}/enable`])),
      s.host.makeDir(instance),
      // A bounded buffer, then only the target's protocol (the rest of the machine's drops are
      // noise; a kernel that cannot parse the filter refuses it, and the count skips more lines).
      s.host.writeFile(`${instance}/buffer_size_kb`, BUFFER_KB),
      s.host.writeFile(`${instance}/${EVENT}/filter`, `protocol == ${k.ethertype}`),
      s.host.writeFile(`${instance}/${EVENT}/enable`, '1'),
      s.host.readFile(`${instance}/${EVENT}/format`),
    ]);
    if (made.status === 'rejected') {
      const info = stats.status === 'fulfilled' ? stats.value : [];
      const code = errorCode(made.reason);
      if (info[0]?.kind !== 'directory') {
        return info[2]?.kind === 'directory'
          ? { kind: 'cannot', reason: `tracefs is mounted only under ${TRACEFS_ROOTS[1]}: mount -t tracefs nodev ${TRACEFS_ROOTS[0]} (as root) would show the kernel's reason for each drop` }
          : { kind: 'cannot', reason: `tracefs is not mounted (mount -t tracefs nodev ${TRACEFS_ROOTS[0]}, as root, would show the kernel's reason for each drop)` };
      }
      if (!info[1]) return { kind: 'cannot', reason: `this kernel has no skb:kfree_skb event under ${TRACEFS_ROOTS[0]}` };
      return { kind: 'cannot', reason: code === 'EACCES' || code === 'EPERM' ? `a trace instance needs root (run with --sudo, or as root): it would show the kernel's reason for each drop` : `could not make a trace instance under ${TRACEFS_ROOTS[0]}/instances (${code ?? (made.reason as Error).message})` };
    }
    if (enabled.status === 'rejected') {
      await removeInstance(s.host, instance);
      return { kind: 'cannot', reason: `could not turn kfree_skb on in ${instance} (${errorCode(enabled.reason) ?? (enabled.reason as Error).message})` };
    }
    if (format.status === 'fulfilled' && !/\breason\b/.test(format.value)) {
      await removeInstance(s.host, instance);
      return { kind: 'cannot', reason: 'this kernel gives no drop reasons (kfree_skb has no reason field before Linux 5.17)' };
    }
    return { kind: 'tracing', instance };
  },
});

/** Reads what the instance recorded, then stops and removes it, whatever the read did. Keyed by the instance's path. */
export const dropTraceOf = defineReader<string, DropTrace>({
  name: 'kfree_skb trace',
  key: (instance) => instance,
  async read(instance, s) {
    // Off, then read, in one round trip.
    const [, read] = await Promise.all([
      s.host.writeFile(`${instance}/${EVENT}/enable`, '0').catch(() => undefined),
      s.host.readFile(`${instance}/trace`).then(
        (text) => ({ text }),
        (err: unknown) => ({ error: errorCode(err) ?? (err as Error).message }),
      ),
    ]);
    const removed = await removeInstance(s.host, instance);
    if (!('text' in read)) return { kind: 'cannot', reason: `${instance}/trace could not be read (${read.error})` };
    return { kind: 'traced', drops: parseKfreeSkbTrace(read.text), removed };
  },
});
