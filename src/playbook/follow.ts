import * as z from 'zod/mini';
import { CODE_RE } from './branches.js';
import { PLACED_FIELDS } from './placed.js';
import type { PlaybookDoc, StepDoc } from './schema.js';

/**
 * `follow:` steps: a step that diagnoses another HOST:PORT with the same playbook (a nested walk),
 * and whose outcome is the code of the diagnosis that walk ends in. What the validator, the graph
 * and the engine share of it lives here; the walk itself is src/engine/follow.ts.
 */

/** The check name a follow step's record carries (StepRecord.check), as an ask step's carries 'ask'. */
export const FOLLOW = 'follow';

/** How deep walks may nest: the walk the user asked for, then at most this many inside it. */
export const MAX_FOLLOW_DEPTH = 3;

/** A follow step's outcome when its walk did not run or did not decide: a loop, too deep, no address, interrupted. */
export const FOLLOW_UNDECIDED = 'inconclusive';

/** A diagnosis code as a follow step's outcome: `SERVICE_FAILED` → `service-failed`. */
export function outcomeOfCode(code: string): string {
  return code.toLowerCase().replace(/_/g, '-');
}

/** The evidence of a follow step: the nested diagnosis and the target it was about. */
export const followEvidence = z.object({
  code: z.string().check(z.describe('The nested diagnosis\'s code, e.g. SERVICE_FAILED')),
  title: z.string(),
  explanation: z.string(),
  host: z.string().check(z.describe('The host followed, as the step rendered it')),
  port: z.number(),
  address: z.nullable(z.string()).check(z.describe('The address it resolved to (null: it did not)')),
  diagnosis: z.object({
    code: z.string(),
    title: z.string(),
    explanation: z.string(),
    fix: z.optional(z.unknown()),
    evidence: z.optional(z.array(z.string())),
    ...Object.fromEntries(PLACED_FIELDS.map((f) => [f, z.optional(z.unknown())])),
  }),
});

/** Where a step's branches lead, as written (either version), for walking the graph before it is validated. */
function targetsOf(doc: StepDoc): { next: string[]; diagnose: string[] } {
  const next: string[] = [];
  const diagnose: string[] = [];
  const maps = [doc.on, ...Object.values(doc.after ?? {}).map((c) => c.on)];
  for (const on of maps) for (const t of Object.values(on ?? {})) (CODE_RE.test(t) ? diagnose : next).push(t);
  for (const b of doc.outcomes ?? []) {
    if (b.next !== undefined) next.push(b.next);
    if (b.diagnose !== undefined) diagnose.push(b.diagnose);
  }
  return { next, diagnose };
}

/** The diagnoses a walk from `start` can end in, along every branch (no server side: a nested walk has none). */
export function diagnosesFrom(pb: Pick<PlaybookDoc, 'steps'>, start: string): Set<string> {
  const seen = new Set<string>();
  const out = new Set<string>();
  const queue = [start];
  while (queue.length) {
    const id = queue.shift()!;
    const doc = pb.steps[id];
    if (!doc || seen.has(id)) continue;
    seen.add(id);
    const t = targetsOf(doc);
    queue.push(...t.next);
    for (const d of t.diagnose) out.add(d);
  }
  return out;
}

/**
 * The outcomes each follow step can have: the code, in lower-kebab case, of every diagnosis its
 * walk can end in, and `inconclusive`. A diagnosis that takes a nested one (`from:`) without a
 * code of its own reports that one's code, so this is a fixpoint over the follow steps.
 */
export function followOutcomes(pb: Pick<PlaybookDoc, 'steps' | 'diagnoses' | 'start'>): Map<string, string[]> {
  const start = pb.start ?? Object.keys(pb.steps)[0];
  const follows = Object.entries(pb.steps).filter(([, d]) => d.follow !== undefined);
  const ends = new Map(follows.map(([id, d]) => [id, diagnosesFrom(pb, d.follow!.start ?? start ?? '')]));
  const codes = new Map<string, Set<string>>(follows.map(([id]) => [id, new Set([FOLLOW_UNDECIDED])]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [id] of follows) {
      const mine = codes.get(id)!;
      for (const key of ends.get(id)!) {
        const d = pb.diagnoses[key];
        if (!d) continue;
        const from = d.from !== undefined && d.code === undefined ? codes.get(d.from) : undefined;
        const add = from ? [...from] : [outcomeOfCode(d.code ?? key)];
        for (const o of add) if (!mine.has(o)) (mine.add(o), (changed = true));
      }
    }
  }
  return new Map([...codes].map(([id, set]) => [id, [...set].sort()]));
}
