import type { AnyCheck, DecideContext } from '../checks/check.js';
import { safeParse } from 'zod/mini';
import type { Playbook, Step } from '../playbook/schema.js';
import { parsePlaceholders, renderValue } from '../playbook/template.js';
import type { ReadCall } from '../system/reader.js';
import { everyBranch } from '../playbook/branches.js';

/** How many steps from the start a read is worth beginning before the walk gets there. */
export const FIRST_STEPS_DEPTH = 3;

/**
 * The reads the first steps of a walk from `start` declare (each check's `prefetch`): every check
 * step within `depth` transitions whose parameters follow from the target alone. The one source of
 * what a diagnosis begins reading early — locally (context.ts) and, over ssh, in the first round
 * trip (both-ends.ts). Pure: nothing is read here.
 */
export function firstReads(playbook: Playbook, start: string, at: DecideContext, checks: Readonly<Record<string, AnyCheck>>, depth = FIRST_STEPS_DEPTH): ReadCall[] {
  const out: ReadCall[] = [];
  const seen = new Set<string>();
  let frontier = [start];
  for (let d = 0; d <= depth && frontier.length; d++) {
    const next: string[] = [];
    for (const id of frontier) {
      if (seen.has(id)) continue;
      seen.add(id);
      const step = playbook.steps[id];
      if (!step) continue;
      out.push(...readsOfStep(step, at, checks));
      for (const b of everyBranch(step)) if (b.next) next.push(b.next);
    }
    frontier = next;
  }
  return out;
}

/** A step's declared reads, when its parameters need nothing but the target. */
function readsOfStep(step: Step, at: DecideContext, checks: Readonly<Record<string, AnyCheck>>): ReadCall[] {
  const check = step.check === undefined ? undefined : checks[step.check];
  if (!check?.prefetch) return [];
  const raw = step.with ?? {};
  const texts = Object.values(raw).flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v): v is string => typeof v === 'string');
  if (texts.some((t) => parsePlaceholders(t).some((p) => p.path[0] !== 'target' || !(p.path[1]! in at.target)))) return [];
  const rendered: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) rendered[k] = renderValue(v, { target: at.target });
  const params = safeParse(check.params, rendered);
  return params.success ? check.prefetch(params.data, at) : [];
}
