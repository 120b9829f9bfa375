import type { Family } from '../system/socket.js';
import { compareListeners, isLoopbackOnly, type Listener, type Protocol } from './model.js';

/** What happened to a listener between the baseline and now. */
export type ChangeKind = 'appeared' | 'disappeared' | 'changed';

/** A field of a listener that can change while it stays "the same listener" (same protocol, port, family). */
export type ChangedField = 'address' | 'program' | 'unit';

/** One difference between the baseline and now. */
export interface ListenerChange {
  kind: ChangeKind;
  protocol: Protocol;
  port: number;
  family: Family;
  /** The baseline's entry; absent for 'appeared'. */
  before?: Listener;
  /** The current entry; absent for 'disappeared'. */
  after?: Listener;
  /** For 'changed': what differs (address includes the bound device). Empty otherwise. */
  fields: ChangedField[];
  /**
   * Reachable from other hosts now where the baseline had it on loopback only: a changed
   * listener that moved off loopback, or a new one on a port (any family) the baseline only had
   * on loopback — e.g. 127.0.0.1:8080 gone and *:8080 new.
   */
  exposure: boolean;
}

const KIND_ORDER: Record<ChangeKind, number> = { appeared: 0, disappeared: 1, changed: 2 };

/**
 * Compares two listener sets. Listeners are the same when protocol, port and family match; a
 * new address or owner is then a 'changed', not one gone and one new. When a port has several
 * listeners on one side (one per address), they are paired by address first, then by program,
 * then in order. Exposure changes come first, then appeared, disappeared, changed, each in
 * listener order. Pure.
 */
export function diffListeners(before: readonly Listener[], after: readonly Listener[]): ListenerChange[] {
  const groups = new Map<string, { before: Listener[]; after: Listener[] }>();
  const group = (l: Listener) => {
    const key = `${l.protocol}/${l.port}/${l.family}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { before: [], after: [] }));
    return g;
  };
  for (const l of before) group(l).before.push(l);
  for (const l of after) group(l).after.push(l);

  // Ports (protocol+port, any family) the baseline had on loopback only.
  const loopbackOnly = new Map<string, boolean>();
  for (const l of before) {
    const key = `${l.protocol}/${l.port}`;
    loopbackOnly.set(key, (loopbackOnly.get(key) ?? true) && isLoopbackOnly(l));
  }

  const changes: ListenerChange[] = [];
  for (const g of groups.values()) {
    const olds = [...g.before].sort(compareListeners);
    const news = [...g.after].sort(compareListeners);
    const pairs: [Listener, Listener][] = [];
    const passes: ((a: Listener, b: Listener) => boolean)[] = [
      (a, b) => sameAddress(a, b) && a.program === b.program,
      sameAddress,
      (a, b) => a.program !== undefined && a.program === b.program,
      () => true,
    ];
    for (const matches of passes) {
      for (let i = 0; i < olds.length; ) {
        const old = olds[i]!;
        const j = news.findIndex((n) => matches(old, n));
        if (j < 0) {
          i++;
          continue;
        }
        pairs.push([old, news[j]!]);
        olds.splice(i, 1);
        news.splice(j, 1);
      }
    }
    for (const [old, now] of pairs) {
      const fields = changedFields(old, now);
      if (fields.length === 0) continue;
      changes.push({ kind: 'changed', ...keyOf(now), before: old, after: now, fields, exposure: isLoopbackOnly(old) && !isLoopbackOnly(now) });
    }
    for (const old of olds) changes.push({ kind: 'disappeared', ...keyOf(old), before: old, fields: [], exposure: false });
    for (const now of news) {
      const exposure = !isLoopbackOnly(now) && loopbackOnly.get(`${now.protocol}/${now.port}`) === true;
      changes.push({ kind: 'appeared', ...keyOf(now), after: now, fields: [], exposure });
    }
  }
  return changes.sort(
    (a, b) =>
      Number(b.exposure) - Number(a.exposure) ||
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      compareListeners((a.after ?? a.before)!, (b.after ?? b.before)!),
  );
}

function keyOf(l: Listener): { protocol: Protocol; port: number; family: Family } {
  return { protocol: l.protocol, port: l.port, family: l.family };
}

function sameAddress(a: Listener, b: Listener): boolean {
  return a.address === b.address && a.device === b.device;
}

/**
 * An absent program means the holder could not be seen (not root, another PID namespace), which
 * is not a change of owner: programs are compared only when both are known. A unit is known when
 * it is there or the program is (then "no unit" is a fact).
 */
function changedFields(a: Listener, b: Listener): ChangedField[] {
  const fields: ChangedField[] = [];
  if (!sameAddress(a, b)) fields.push('address');
  if (a.program !== undefined && b.program !== undefined && a.program !== b.program) fields.push('program');
  const unitKnown = (l: Listener) => l.unit !== undefined || l.program !== undefined;
  if (unitKnown(a) && unitKnown(b) && a.unit !== b.unit) fields.push('unit');
  return fields;
}

/** A port or an inclusive range of ports to leave out of the report. */
export interface PortRange {
  from: number;
  to: number;
}

/** What `--ignore-port` and `--ignore-program` ask to leave out. */
export interface ChangeFilter {
  ports: readonly PortRange[];
  programs: readonly string[];
}

/**
 * Leaves out changes on ignored ports, and changes that only concern ignored programs. A listener
 * that moves from an ignored program to another one is kept: that is a takeover worth seeing.
 */
export function filterChanges(changes: readonly ListenerChange[], filter: ChangeFilter): ListenerChange[] {
  const programs = new Set(filter.programs);
  const ignoredProgram = (l: Listener | undefined) => l?.program !== undefined && programs.has(l.program);
  return changes.filter((c) => {
    if (filter.ports.some((r) => c.port >= r.from && c.port <= r.to)) return false;
    if (c.kind === 'changed') return !(ignoredProgram(c.before) && ignoredProgram(c.after));
    return !ignoredProgram(c.after ?? c.before);
  });
}

/** Parses `--ignore-port` words: `22`, `8000-8100`, or a comma list of them. */
export function parsePortRanges(words: readonly string[]): PortRange[] | { error: string } {
  const ranges: PortRange[] = [];
  for (const part of words.flatMap((w) => w.split(','))) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part.trim());
    const from = m ? Number(m[1]) : NaN;
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!m || from > 65535 || to > 65535 || to < from) return { error: part };
    ranges.push({ from, to });
  }
  return ranges;
}
