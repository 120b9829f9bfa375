import { wellKnown } from '../knowledge/well-known.js';
import { unitsOfPids } from '../system/systemd/cgroup.js';
import { unitsLoggingPortOf } from '../system/systemd/journal.js';
import { unitStatus, unitStatuses } from '../system/systemd/status.js';
import { allUnitFiles, installedUnitFiles, programOfUnit, unitsMentioning } from '../system/systemd/unit-files.js';
import type { UnitDetails } from '../system/systemd/units.js';
import type { GuessSource } from './check.js';
import type { CheckContext } from './check.js';

/** A likely answer to offer at a prompt; `likely` ones are taken with --yes. */
export interface Guess {
  value: string;
  reason: string;
  likely: boolean;
  /** Higher ranks first among guesses equally likely: failed beats mentions the port beats running beats installed. */
  rank?: number;
}

export type GuessProvider = (ctx: CheckContext, answers: Readonly<Record<string, string>>) => Promise<Guess[]>;

const stripService = (u: string) => u.replace(/\.service$/, '');
/** A guess is a side show: it may not hold the diagnosis up for long. */
const GUESS_TIMEOUT_MS = 1_500;
const journalUnitsFor = (ctx: CheckContext) => ctx.facts.read(unitsLoggingPortOf, { port: ctx.target.port, timeoutMs: Math.min(ctx.timeoutMs, GUESS_TIMEOUT_MS) });

/** What a holder of the port holds, in words: the listener, a connection in a state, a UDP socket. */
function holding(state: string, protocol: 'tcp' | 'udp'): string {
  if (state === 'LISTEN') return 'the listener';
  if (protocol === 'udp') return state === 'UNCONN' ? 'a bound UDP socket' : 'a connected UDP socket';
  return `a ${state} connection`;
}

/** Programs holding connections on the port right now (a CLOSE_WAIT outlives its dead listener). */
async function programsOnPort(ctx: CheckContext): Promise<Guess[]> {
  const table = await ctx.facts.socketTable(ctx.target.port, ctx.target.protocol).catch(() => undefined);
  const out: Guess[] = [];
  for (const s of table?.sockets ?? []) {
    if (s.local.port !== ctx.target.port || s.state === 'LISTEN') continue;
    for (const o of s.owners ?? []) out.push({ value: o.program, reason: `holds ${holding(s.state, ctx.target.protocol)} on port ${ctx.target.port} (pid ${o.pid})`, likely: true });
  }
  return out;
}

const unitFilesFor = (ctx: CheckContext) => ctx.facts.read(allUnitFiles, undefined).then((files) => unitsMentioning(files, ctx.target.port));

/**
 * The programs the unit files that mention the port run: a unit name is never a program name,
 * but `ExecStart=/usr/sbin/sshd -D` names sshd (for a socket unit, its service's ExecStart=).
 * Read on any host: the program is worth a guess even where systemd does not run.
 */
async function programsOfPortUnits(ctx: CheckContext): Promise<Guess[]> {
  const files = await ctx.facts.read(allUnitFiles, undefined);
  const out: Guess[] = [];
  for (const unit of unitsMentioning(files, ctx.target.port)) {
    const p = programOfUnit(files, unit);
    if (!p) continue;
    const runs = `runs ${p.execStart[0]}`;
    const reason = p.unit === p.service ? `unit file ${unit} mentions port ${ctx.target.port} and ${runs}` : `${unit} listens on port ${ctx.target.port} for ${p.service}, which ${runs}`;
    out.push({ value: p.program, reason, likely: true });
  }
  return out;
}

/**
 * The processes that hold the port — its listener's owners, then those holding connections
 * accepted on it — and whether something holds it whose owner cannot be seen (not root).
 */
async function holdersOfPort(ctx: CheckContext): Promise<{ holders: { pid: number; program: string; state: string }[]; unseen: boolean }> {
  const table = await ctx.facts.socketTable(ctx.target.port, ctx.target.protocol).catch(() => undefined);
  const mine = (table?.sockets ?? []).filter((s) => s.local.port === ctx.target.port);
  const ordered = [...mine.filter((s) => s.state === 'LISTEN'), ...mine.filter((s) => s.state !== 'LISTEN')];
  const holders = new Map<number, { pid: number; program: string; state: string }>();
  for (const s of ordered) for (const o of s.owners ?? []) if (!holders.has(o.pid)) holders.set(o.pid, { pid: o.pid, program: o.program, state: s.state });
  // A TIME_WAIT or a queued connection has no owner by nature (owners: []); undefined is unseen.
  return { holders: [...holders.values()], unseen: mine.some((s) => s.owners === undefined && (s.inode ?? 1) !== 0) };
}

/**
 * The well-known programs of the port; one that runs is likely (taken with --yes), unless the port
 * is held by some process already: then that process is the answer, not a guess from the number.
 */
async function wellKnownPrograms(ctx: CheckContext, held: boolean): Promise<Guess[]> {
  const w = wellKnown(ctx.target.port, ctx.target.protocol);
  if (!w) return [];
  const running = await Promise.all(w.programs.map((p) => ctx.facts.processes(p).then((f) => f.processes, () => [])));
  return w.programs.map((p, i) => {
    const pids = running[i]!.map((x) => x.pid);
    const why = `usually on port ${ctx.target.port} (${w.name})`;
    return pids.length ? { value: p, reason: `${why}, and running (pid ${pids.slice(0, 3).join(', ')})`, likely: !held } : { value: p, reason: why, likely: false };
  });
}

/**
 * The units of the processes that hold the port (from /proc/PID/cgroup): when the port is held,
 * restarting or inspecting any other unit would be a guess from the number, so only these are likely.
 */
async function unitsOfHolders(ctx: CheckContext): Promise<{ guesses: Guess[]; held: boolean }> {
  const { holders, unseen } = await holdersOfPort(ctx);
  const guesses: Guess[] = [];
  const first = holders.slice(0, 5);
  const units = await unitsOfPids(ctx.host, first.map((h) => h.pid));
  for (const [i, h] of first.entries()) {
    const u = units[i];
    if (u) guesses.push({ value: stripService(u), reason: `${h.program} (pid ${h.pid}) holds ${holding(h.state, ctx.target.protocol)} on port ${ctx.target.port} and runs in ${u}`, likely: true });
  }
  return { guesses, held: holders.length > 0 || unseen };
}

/** A well-known unit is likely when it is installed (its unit file exists) and the port is not held. */
async function wellKnownUnits(ctx: CheckContext, held: boolean): Promise<Guess[]> {
  const w = wellKnown(ctx.target.port, ctx.target.protocol);
  const units = w?.units ?? [];
  const files = units.length ? await installedUnitFiles(ctx.host, units.map((u) => `${u}.service`)) : [];
  return units.map((u, i) => {
    const file = files[i];
    const why = `usually on port ${ctx.target.port} (${w!.name})`;
    return file ? { value: u, reason: `${why}, and installed (${file})`, likely: !held, rank: RANK.installed } : { value: u, reason: why, likely: false, rank: 0 };
  });
}

/** What ranks a candidate unit: it is the unit of the program the user named, it holds the port, it failed (the likeliest reason nothing listens), it mentions the port, it runs, it is installed. */
const RANK = { named: 200, holder: 100, failed: 50, mentions: 20, logged: 10, running: 10, installed: 5 } as const;

/** One guess per value: the reasons joined, the ranks added, likely if any source says so. */
export function mergeGuesses(list: Guess[]): Guess[] {
  const out = new Map<string, Guess>();
  for (const g of list) {
    const had = out.get(g.value);
    if (!had) out.set(g.value, { ...g, rank: g.rank ?? 0 });
    else out.set(g.value, { value: g.value, reason: `${had.reason}; ${g.reason}`, likely: had.likely || g.likely, rank: (had.rank ?? 0) + (g.rank ?? 0) });
  }
  return [...out.values()];
}

/**
 * Asks systemd about every candidate unit at once and ranks them: a unit that failed (or is
 * restarting in a loop) explains an empty port better than one that is merely installed. A failed
 * unit is likely even when only the port's number named it — unless the port is held by something.
 */
async function rankByState(ctx: CheckContext, candidates: Guess[], held: boolean): Promise<Guess[]> {
  const states = await unitStatuses(ctx.host, candidates.map((c) => c.value), { timeoutMs: Math.min(ctx.timeoutMs, GUESS_TIMEOUT_MS) }).catch(() => []);
  const byName = new Map<string, UnitDetails>();
  for (const s of states) if ('subState' in s) byName.set(stripService(s.unit), s);
  const out = candidates.map((c) => {
    const s = byName.get(c.value) ?? byName.get(stripService(c.value));
    if (!s) return c;
    const since = s.since ? ` since ${s.since}` : '';
    if (s.state === 'failed' || (s.state === 'activating' && s.subState === 'auto-restart')) {
      const what = s.state === 'failed' ? `it has failed${since}` : `it is restarting in a loop (${s.nRestarts} restarts)`;
      return { ...c, reason: `${what}; ${c.reason}`, likely: !held, rank: (c.rank ?? 0) + RANK.failed };
    }
    if (s.state === 'active' || s.state === 'activating' || s.state === 'reloading') return { ...c, reason: `${c.reason}; it is ${s.state} (${s.subState})`, rank: (c.rank ?? 0) + RANK.running };
    return { ...c, reason: `${c.reason}; it is ${s.state}`, rank: c.rank ?? 0 };
  });
  return out.sort((a, b) => (b.rank ?? 0) - (a.rank ?? 0));
}

/** Where guesses come from; the names are what playbooks write under `guesses:`. */
export const guessers = {
  async 'programs-for-port'(ctx) {
    // The unit files are read meanwhile (over ssh, in the same round trip as the processes).
    const fromUnits = programsOfPortUnits(ctx);
    fromUnits.catch(() => undefined);
    const out: Guess[] = await programsOnPort(ctx);
    out.push(...(await wellKnownPrograms(ctx, out.length > 0)));
    out.push(...(await fromUnits));
    return mergeGuesses(out).map(({ rank, ...g }) => (rank ? { ...g, rank } : g));
  },
  async 'units-for-port'(ctx) {
    // Without systemd running no unit can be asked about: guessing one would only lead to a
    // 'no systemd' step (and scanning the unit files costs time on every diagnosis).
    if (!(await ctx.facts.systemdRunning())) return [];
    const { guesses: holders, held } = await unitsOfHolders(ctx);
    // Asked at once: over ssh the three reads go in one round trip.
    const [wellKnown, mentioning, logging] = await Promise.all([wellKnownUnits(ctx, held), unitFilesFor(ctx), journalUnitsFor(ctx)]);
    const candidates: Guess[] = [...wellKnown];
    for (const u of mentioning) {
      const name = u.split('/').pop()!;
      // A socket unit that listens on the port stands for the service it starts (ssh.socket → ssh).
      const value = name.endsWith('.socket') ? name.replace(/\.socket$/, '') : stripService(name);
      const reason = name.endsWith('.socket') ? `its socket unit ${name} listens on port ${ctx.target.port}` : `its unit file mentions port ${ctx.target.port}`;
      candidates.push({ value, reason, likely: !held, rank: RANK.mentions });
    }
    for (const u of logging) {
      candidates.push({ value: stripService(u), reason: `its journal mentioned port ${ctx.target.port} in the last day`, likely: false, rank: RANK.logged });
    }
    if (ctx.target.portName) candidates.push({ value: ctx.target.portName, reason: `port ${ctx.target.port} is named ${ctx.target.portName} in /etc/services`, likely: false, rank: 0 });
    const ranked = await rankByState(ctx, mergeGuesses(candidates), held);
    return [...holders.map((g) => ({ ...g, rank: RANK.holder })), ...ranked];
  },
  async 'unit-for-process'(ctx, answers) {
    const name = answers.process;
    // Without systemd running no unit can be asked about (/proc/PID/cgroup names none either).
    if (!name || !(await ctx.facts.systemdRunning())) return [];
    const out: Guess[] = [];
    const found = await ctx.facts.processes(name);
    const first = found.processes.slice(0, 5);
    const units = await unitsOfPids(ctx.host, first.map((p) => p.pid));
    for (const [i, p] of first.entries()) {
      const u = units[i];
      if (u) out.push({ value: stripService(u), reason: `${name} (pid ${p.pid}) runs in ${u}`, likely: true, rank: RANK.named });
    }
    const s = await unitStatus(ctx.host, name, { timeoutMs: ctx.timeoutMs, journalLines: 0 });
    if (s.state !== 'not-found' && s.state !== 'no-systemd' && s.state !== 'error') {
      out.push({ value: name, reason: `a unit named ${stripService(s.unit)} exists`, likely: true, rank: RANK.named });
    }
    return out;
  },
  async 'running-programs'(ctx, answers) {
    const name = answers.process;
    if (!name) return [];
    const found = await ctx.facts.processes(name);
    return found.processes.slice(0, 5).map((p) => ({ value: name, reason: `running as pid ${p.pid}`, likely: false }));
  },
} satisfies Record<GuessSource, GuessProvider>;

export type GuessProviders = typeof guessers;
