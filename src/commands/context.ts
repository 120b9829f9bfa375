import type { DiagnoseOptions } from '../cli/diagnose-args.js';
import type { CheckContext } from '../checks/check.js';
import type { Playbook } from '../playbook/schema.js';
import { openPlaybook } from '../playbook/source.js';
import { Facts } from '../system/facts.js';
import { firstReads } from '../engine/first-reads.js';
import { checks } from '../checks/index.js';
import type { Host } from '../host/host.js';
import { isLocalHost, localHost, localHostWith } from '../host/local.js';
import type { EarlyReads } from '../host/early-reads.js';
import { abortable, underlying } from '../host/abortable.js';

/**
 * The check context of one diagnosis: the target, the host it reads, and fresh memoised host facts.
 * With `signal` (Ctrl-C), every command, probe and lookup of the host ends when it aborts.
 */
export function makeContext(opts: DiagnoseOptions, on: Host = localHost, signal?: AbortSignal): CheckContext {
  const host = abortable(on, signal);
  return {
    target: { host: opts.host, port: opts.port, ...(opts.portName ? { portName: opts.portName } : {}), protocol: opts.protocol },
    host,
    facts: new Facts(host, { timeoutMs: opts.timeoutMs, ...(opts.answers.process ? { process: opts.answers.process } : {}) }),
    timeoutMs: opts.timeoutMs,
  };
}

/**
 * Starts the reads the playbook's first steps declare (engine/first-reads.ts) before the walk
 * reaches them: `ss` is the slowest read on a busy server, and started here it runs on another core
 * while the rest of whyport loads. Facts memoises them, so the steps get the same answers; errors
 * surface in the step. A read that only a local target needs (is the port forwarded? does another
 * namespace listen?) waits for the name to resolve to an address of this host.
 */
export function prefetch(playbook: Playbook, ctx: CheckContext, start: string = playbook.start): void {
  const thisMachine = isLocalHost(underlying(ctx.host));
  let local: Promise<boolean> | undefined;
  for (const call of firstReads(playbook, start, { target: ctx.target, timeoutMs: ctx.timeoutMs }, checks)) {
    if (call.onlyWhereBatched || (call.onlyOnThisMachine && !thisMachine)) continue;
    const read = () => void ctx.facts.read(call.reader, call.key).catch(() => {});
    if (!call.onlyForLocalTarget) read();
    else (local ??= targetIsLocal(ctx)).then((yes) => yes && read(), () => {});
  }
}

/** Whether the target's name resolves to an address of the diagnosed host. */
async function targetIsLocal(ctx: CheckContext): Promise<boolean> {
  const r = await ctx.facts.resolve(ctx.target.host);
  return r.ok && (await Promise.all(r.addresses.map((a) => ctx.facts.isLocalAddress(a.address)))).some(Boolean);
}

/** What main starts before the diagnosis modules load: a built-in playbook and its first scans. */
export interface EarlyStart {
  playbook: Playbook;
  ctx: CheckContext;
}

/** Begins a diagnosis with a built-in playbook (already validated); undefined for a playbook file. */
export async function beginDiagnosis(opts: DiagnoseOptions, signal?: AbortSignal, early?: EarlyReads): Promise<EarlyStart | undefined> {
  // A recording or a replay makes its own host (commands/diagnose.ts).
  if (opts.watch || opts.record || opts.replay) return undefined;
  const playbook = await openPlaybook(opts.playbook, { precompiledOnly: true });
  if (!playbook) return undefined;
  const ctx = makeContext(opts, localHostWith(early), signal);
  prefetch(playbook, ctx);
  return { playbook, ctx };
}
