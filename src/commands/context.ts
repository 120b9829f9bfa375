import type { DiagnoseOptions } from '../cli/diagnose-args.js';
import type { CheckContext } from '../checks/check.js';
import type { Playbook } from '../playbook/schema.js';
import { openPlaybook } from '../playbook/source.js';
import { Facts } from '../system/facts.js';
import { otherNamespacesOf } from '../system/namespaces.js';
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
 * Starts the host scans the playbook will need before the walk reaches them: `ss` is the slowest
 * read on a busy server, and started here it runs on another core while the rest of whyport
 * loads. Facts memoises them, so the steps get the same answers; errors surface in the step.
 */
export function prefetch(playbook: Playbook, ctx: CheckContext): void {
  const used = new Set(Object.values(playbook.steps).map((s) => s.check));
  if (used.has('sockets') || used.has('listeners')) ctx.facts.socketTable(ctx.target.port, ctx.target.protocol).catch(() => {});
  // Whether the port is forwarded (DNAT), and whether another network namespace listens on it, is
  // asked as soon as nothing listens on this machine: read both meanwhile, but not for another
  // machine's address, where only the client's probe runs. The namespaces' socket tables cost as
  // much as ss on a busy host and are read beside it; only on this machine, where a scan that a
  // listener makes needless costs no round trip.
  const namespaces = used.has('namespaces') && isLocalHost(underlying(ctx.host));
  if (used.has('forward') || namespaces) {
    ctx.facts
      .resolve(ctx.target.host)
      .then(async (r) => {
        if (!r.ok || !(await Promise.all(r.addresses.map((a) => ctx.facts.isLocalAddress(a.address)))).some(Boolean)) return;
        await Promise.all([used.has('forward') && ctx.facts.natRules(), namespaces && ctx.facts.read(otherNamespacesOf, ctx.target.protocol)]);
      })
      .catch(() => {});
  }
  ctx.facts.resolve(ctx.target.host).catch(() => {});
}

/** What main starts before the diagnosis modules load: a built-in playbook and its first scans. */
export interface EarlyStart {
  playbook: Playbook;
  ctx: CheckContext;
}

/** Begins a diagnosis with a built-in playbook (already validated); undefined for a playbook file. */
export async function beginDiagnosis(opts: DiagnoseOptions, signal?: AbortSignal, early?: EarlyReads): Promise<EarlyStart | undefined> {
  if (opts.watch) return undefined;
  const playbook = await openPlaybook(opts.playbook, { precompiledOnly: true });
  if (!playbook) return undefined;
  const ctx = makeContext(opts, localHostWith(early), signal);
  prefetch(playbook, ctx);
  return { playbook, ctx };
}
