import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'zod/mini';
import type { $ZodType } from 'zod/v4/core';
import type { CheckContext, Target } from '../../src/checks/check.js';
import type { Host } from '../../src/host/host.js';
import { Facts, type Resolution } from '../../src/system/facts.js';
import { replayHost, type CapturedHost, type Reply } from '../helpers/replay-host.js';

export type { Reply } from '../helpers/replay-host.js';

/** A captured command: CASE.txt (stdout), CASE.stderr.txt and CASE.exitcode, side by side. */
export function captured(tool: string, name: string): Reply {
  const file = (suffix: string) => new URL(`../fixtures/${tool}/${name}${suffix}`, import.meta.url);
  const read = (suffix: string) => (existsSync(file(suffix)) ? readFileSync(file(suffix), 'utf8') : '');
  return { stdout: read('.txt'), stderr: read('.stderr.txt'), exitCode: Number(read('.exitcode').trim() || '0') };
}

/** One fixture file's text. */
export function fixtureText(tool: string, name: string): string {
  return readFileSync(new URL(`../fixtures/${tool}/${name}`, import.meta.url), 'utf8');
}

/** A host that replays captured output by command line (anything not listed is not installed), with more of a captured host if given. */
export function replay(replies: Record<string, Reply>, more: Omit<CapturedHost, 'commands'> = {}): Host & { calls: string[] } {
  return replayHost({ ...more, commands: replies });
}

/**
 * Facts for a made-up network: names resolve as told, and the listed addresses are this machine's
 * (besides loopback). Everything else is the real Facts, memo included.
 */
export class FakeFacts extends Facts {
  constructor(
    host: Host,
    private readonly names: Record<string, Resolution> = {},
    private readonly own: string[] = [],
  ) {
    super(host, { timeoutMs: 1000 });
  }

  override resolve(host: string): Promise<Resolution> {
    return this.names[host] ? Promise.resolve(this.names[host]) : super.resolve(host);
  }

  override async isLocalAddress(address: string): Promise<boolean> {
    return this.own.includes(address) || super.isLocalAddress(address);
  }
}

/** The context a check runs in, on that host and those facts. */
export function contextWith(host: Host, facts: Facts, target: Partial<Target> = {}, more: Partial<CheckContext> = {}): CheckContext {
  return { target: { host: '127.0.0.1', port: 7071, protocol: 'tcp', ...target }, host, facts, timeoutMs: 1000, ...more };
}

/** A resolution of a name to these addresses. */
export function resolvedTo(...addresses: string[]): Resolution {
  return { ok: true, literal: false, durationMs: 1, addresses: addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })) };
}

/** A check's parameters as a playbook passes them (text), validated by the check's own schema as the walk does. */
export function paramsOf<P>(check: { params: $ZodType<P> }, input: Record<string, unknown>): P {
  return parse(check.params, input);
}
