import { existsSync, readFileSync } from 'node:fs';
import type { CheckContext, Target } from '../../src/checks/check.js';
import { Facts, type Resolution } from '../../src/system/facts.js';
import type { CommandResult, Runner } from '../../src/system/runner.js';

/** A reply a replaying runner gives for one command line; 'missing' when the tool is not installed. */
export type Reply = { stdout?: string; stderr?: string; exitCode?: number } | 'missing';

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

/** A runner that replays captured output by command line; anything not listed is not installed. */
export function replay(replies: Record<string, Reply>): Runner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async run(argv) {
      const key = argv.join(' ');
      calls.push(key);
      const r = replies[key] ?? 'missing';
      const base: CommandResult = { argv, exitCode: null, stdout: '', stderr: '', missing: false, timedOut: false, durationMs: 1 };
      if (r === 'missing') return { ...base, missing: true };
      return { ...base, exitCode: r.exitCode ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
  };
}

/**
 * Facts for a made-up network: names resolve as told, and the listed addresses are this machine's
 * (besides loopback). Everything else is the real Facts, memo included.
 */
export class FakeFacts extends Facts {
  constructor(
    runner: Runner,
    private readonly names: Record<string, Resolution> = {},
    private readonly own: string[] = [],
  ) {
    super(runner, { timeoutMs: 1000 });
  }

  override resolve(host: string): Promise<Resolution> {
    return this.names[host] ? Promise.resolve(this.names[host]) : super.resolve(host);
  }

  override isLocalAddress(address: string): boolean {
    return this.own.includes(address) || super.isLocalAddress(address);
  }
}

/** The context a check runs in, on that runner and those facts. */
export function contextWith(runner: Runner, facts: Facts, target: Partial<Target> = {}, more: Partial<CheckContext> = {}): CheckContext {
  return { target: { host: '127.0.0.1', port: 7071, protocol: 'tcp', ...target }, runner, facts, timeoutMs: 1000, isRoot: true, ...more };
}

/** A resolution of a name to these addresses. */
export function resolvedTo(...addresses: string[]): Resolution {
  return { ok: true, literal: false, durationMs: 1, addresses: addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })) };
}
