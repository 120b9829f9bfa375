import type { Step } from '../schema.js';
import type { Semantics } from './context.js';
import { everyBranch } from '../branches.js';

/**
 * Every step is reachable from the start (or, with --ssh, from the server's start): an error; every
 * diagnosis is reached by some branch: a warning. Not judged when a branch points at a name that
 * does not exist: the typo is the one problem, and everything behind it would be reported too.
 */
export function checkReachability({ pb, at, stepIds, diagnosisIds }: Semantics, steps: Record<string, Step>, start: string, serverStart: string | undefined): void {
  if (!steps[start]) return;
  // The server's side is a second way in (with --ssh).
  const entries = [start, ...(serverStart && steps[serverStart] ? [serverStart] : [])];
  const seen = new Set<string>(entries);
  const usedDiagnoses = new Set<string>();
  const queue = [...entries];
  while (queue.length) {
    const step = steps[queue.shift()!]!;
    // A follow step's walk enters the playbook again at its start (unless it walks another playbook).
    if (step.follow && step.follow.playbook === undefined && steps[step.follow.start] && !seen.has(step.follow.start)) {
      seen.add(step.follow.start);
      queue.push(step.follow.start);
    }
    for (const b of everyBranch(step)) {
      if (b.next && steps[b.next] && !seen.has(b.next)) {
        seen.add(b.next);
        queue.push(b.next);
      }
      if (b.diagnose) usedDiagnoses.add(b.diagnose);
    }
  }
  const v2 = pb.version === 2;
  for (const id of stepIds) {
    if (!seen.has(id)) at(['steps', id], `step '${id}' is unreachable: no branch leads to it from '${start}'`, v2 ? 'name it as the target of an outcome in some `on:`, or remove it' : 'point a branch at it with `next`, or remove it', { key: true });
  }
  for (const code of diagnosisIds) {
    if (!usedDiagnoses.has(code)) at(['diagnoses', code], `diagnosis '${code}' is never reached`, v2 ? 'name it as the target of an outcome in some `on:`, or remove it' : 'point a branch at it with `diagnose`, or remove it', { key: true, severity: 'warning' });
  }
}
