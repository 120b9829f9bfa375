import { defineReader } from './reader.js';

/** Where the kernel says how full its connection-tracking table is (nf_conntrack loaded). */
const COUNT = '/proc/sys/net/netfilter/nf_conntrack_count';
const MAX = '/proc/sys/net/netfilter/nf_conntrack_max';
const STAT = '/proc/net/stat/nf_conntrack';

/** The table's use and the kernel's drop counters, summed over the CPUs; `loaded: false` without nf_conntrack. */
export type ConntrackReading =
  | { loaded: true; count: number; max: number; drops: ConntrackDrops | undefined }
  | { loaded: false }
  | { loaded: 'unreadable'; error: string };

/** Counters of /proc/net/stat/nf_conntrack that grow when the table is full. */
export interface ConntrackDrops {
  /** New connections dropped because the table was full and nothing could be evicted. */
  drop: number;
  /** Entries evicted early to make room. */
  earlyDrop: number;
  insertFailed: number;
}

/**
 * /proc/net/stat/nf_conntrack: a header of column names, then one line of hex counters per CPU;
 * the columns are summed. Undefined when the text has no such columns.
 */
export function parseConntrackStat(text: string): ConntrackDrops | undefined {
  const [head, ...rows] = text.split('\n').filter((l) => l.trim() !== '');
  if (!head) return undefined;
  const names = head.trim().split(/\s+/);
  const at = (n: string) => names.indexOf(n);
  const [drop, earlyDrop, insertFailed] = [at('drop'), at('early_drop'), at('insert_failed')];
  if (drop < 0 || earlyDrop < 0 || insertFailed < 0) return undefined;
  const sum = (i: number) =>
    rows.reduce((total, row) => {
      const v = Number.parseInt(row.trim().split(/\s+/)[i] ?? '', 16);
      return Number.isFinite(v) ? total + v : total;
    }, 0);
  return { drop: sum(drop), earlyDrop: sum(earlyDrop), insertFailed: sum(insertFailed) };
}

/** How full the connection-tracking table is, read at one moment (`when` names the sample: 'first', 'again', 'before', 'after'). */
export const conntrackOf = defineReader<string, ConntrackReading>({
  name: 'conntrack table',
  key: (when) => when,
  async read(_, s) {
    // The three at once: one round trip over ssh.
    const [count, max, stat] = await Promise.all([
      s.host.readFile(COUNT).then((text) => ({ text }), (err: unknown) => ({ err })),
      s.host.readFile(MAX).catch(() => ''),
      s.host.readFile(STAT).catch(() => ''),
    ]);
    if ('err' in count) {
      const code = (count.err as { code?: string }).code;
      return code === 'ENOENT' ? { loaded: false } : { loaded: 'unreadable', error: (count.err as Error).message };
    }
    const n = Number(count.text.trim());
    const m = Number(max.trim());
    if (!Number.isFinite(n) || !Number.isFinite(m) || m <= 0) return { loaded: 'unreadable', error: `${COUNT} or ${MAX} does not hold a number` };
    return { loaded: true, count: n, max: m, drops: parseConntrackStat(stat) };
  },
});
