import { wellKnown } from '../knowledge/well-known.js';
import { unitOfPid, unitStatus, unitsLoggingPort, unitsMentioningPort } from '../system/systemd.js';
import { findProcesses } from '../system/processes.js';
import type { GuessSource } from '../playbook/schema.js';
import type { CheckContext } from './check.js';

/** A likely answer to offer at a prompt; `likely` ones are taken with --yes. */
export interface Guess {
  value: string;
  reason: string;
  likely: boolean;
}

export type GuessProvider = (ctx: CheckContext, answers: Readonly<Record<string, string>>) => Promise<Guess[]>;

const stripService = (u: string) => u.replace(/\.service$/, '');
/** A guess is a side show: it may not hold the diagnosis up for long. */
const GUESS_TIMEOUT_MS = 1_500;
const journalUnitsFor = (ctx: CheckContext) =>
  ctx.facts.once(`units-logging:${ctx.target.port}`, () => unitsLoggingPort(ctx.runner, ctx.target.port, { timeoutMs: Math.min(ctx.timeoutMs, GUESS_TIMEOUT_MS) }));

/** Programs holding connections on the port right now (a CLOSE_WAIT outlives its dead listener). */
async function programsOnPort(ctx: CheckContext): Promise<Guess[]> {
  const table = await ctx.facts.socketTable(ctx.target.port).catch(() => undefined);
  const out: Guess[] = [];
  for (const s of table?.sockets ?? []) {
    if (s.local.port !== ctx.target.port || s.state === 'LISTEN') continue;
    for (const o of s.owners ?? []) out.push({ value: o.program, reason: `holds a ${s.state} connection on port ${ctx.target.port} (pid ${o.pid})`, likely: true });
  }
  return out;
}

const unitFilesFor = (ctx: CheckContext) => ctx.facts.once(`units-mentioning:${ctx.target.port}`, () => unitsMentioningPort(ctx.target.port));

/** Where guesses come from; the names are what playbooks write under `guesses:`. */
export const guessers = {
  async 'programs-for-port'(ctx) {
    const out: Guess[] = await programsOnPort(ctx);
    for (const u of await unitFilesFor(ctx)) {
      out.push({ value: stripService(u.split('/').pop()!), reason: `unit file ${u} mentions port ${ctx.target.port}`, likely: true });
    }
    const w = wellKnown(ctx.target.port);
    for (const p of w?.programs ?? []) out.push({ value: p, reason: `usually on port ${ctx.target.port} (${w!.name})`, likely: false });
    return out;
  },
  async 'units-for-port'(ctx) {
    const out: Guess[] = [];
    for (const u of await unitFilesFor(ctx)) {
      out.push({ value: stripService(u.split('/').pop()!), reason: `its unit file mentions port ${ctx.target.port}`, likely: true });
    }
    for (const u of await journalUnitsFor(ctx)) {
      out.push({ value: stripService(u), reason: `its journal mentioned port ${ctx.target.port} in the last day`, likely: false });
    }
    const w = wellKnown(ctx.target.port);
    for (const u of w?.units ?? []) out.push({ value: u, reason: `usually on port ${ctx.target.port} (${w!.name})`, likely: false });
    if (ctx.target.portName) out.push({ value: ctx.target.portName, reason: `port ${ctx.target.port} is named ${ctx.target.portName} in /etc/services`, likely: false });
    return out;
  },
  async 'unit-for-process'(ctx, answers) {
    const name = answers.process;
    if (!name) return [];
    const out: Guess[] = [];
    const found = await findProcesses(ctx.runner, name, { timeoutMs: ctx.timeoutMs });
    for (const p of found.processes.slice(0, 5)) {
      const u = await unitOfPid(p.pid);
      if (u) out.push({ value: stripService(u), reason: `${name} (pid ${p.pid}) runs in ${u}`, likely: true });
    }
    const s = await unitStatus(ctx.runner, name, { timeoutMs: ctx.timeoutMs, journalLines: 0 });
    if (s.state !== 'not-found' && s.state !== 'no-systemd' && s.state !== 'error') {
      out.push({ value: name, reason: `a unit named ${stripService(s.unit)} exists`, likely: true });
    }
    return out;
  },
  async 'running-programs'(ctx, answers) {
    const name = answers.process;
    if (!name) return [];
    const found = await findProcesses(ctx.runner, name, { timeoutMs: ctx.timeoutMs });
    return found.processes.slice(0, 5).map((p) => ({ value: name, reason: `running as pid ${p.pid}`, likely: false }));
  },
} satisfies Record<GuessSource, GuessProvider>;

export type GuessProviders = typeof guessers;
