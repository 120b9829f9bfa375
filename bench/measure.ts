/**
 * `__measure CONFIG`: the timing harness, started by the orchestrator inside the measured
 * namespace (so that `ip netns exec` is not part of any measured time). It runs one phase of a
 * case and prints its results as JSON on stdout.
 */
import { measureClosedPort } from './closed-port.js';
import { measureListener } from './listener.js';
import { measureNamespaces, type NsListeners } from './namespaces.js';
import type { CaseResult } from './shared/timing.js';
import { measureSsh, type SshReach } from './ssh.js';
import { measureStartup } from './startup.js';

export interface MeasureConfig {
  phase: 'closed' | 'listener' | 'ssh' | 'namespaces';
  port: number;
  runs: number;
  listenerPid?: number;
  /** The ssh case: how the client namespace reaches the server's sshd. */
  ssh?: SshReach;
  /** The namespaces case: the id of the lone case, or the listeners to toggle between (a) and (b). */
  namespaces?: { id: string; listeners?: NsListeners };
}

/** Runs the phase the orchestrator asked for and prints its results (CaseResult[]) as JSON on stdout. */
export async function measureMode(config: MeasureConfig): Promise<void> {
  const P = config.port;
  const results: CaseResult[] = [];
  if (config.phase === 'namespaces') {
    results.push(...(await measureNamespaces(P, config.runs, config.namespaces!)));
  } else if (config.phase === 'ssh') {
    results.push(...(await measureSsh(P, config.runs, config.ssh!)));
  } else if (config.phase === 'closed') {
    results.push(...(await measureClosedPort(P, config.runs)));
    results.push(...(await measureStartup(config.runs)));
  } else {
    results.push(...(await measureListener(P, config.runs)));
  }
  process.stdout.write(JSON.stringify(results));
}
