import { didYouMean, hintFor } from '../suggest.js';
import type { Step, StepCase, StepDoc } from '../schema.js';
import type { Path } from '../yaml-position.js';
import { branchesOfMap, type At, type BranchSet } from '../branches.js';
import { outcomesOfStep, type Semantics } from './context.js';

const CASE_KEY = /^([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*)$/;

/** Where a case is written: the key of its `after:` entry, and where its STEP.OUTCOME starts in it. */
export type CasePlaces = Map<StepCase, { key: string; offset: number }>;

/**
 * The `after: STEP.OUTCOME` cases of a step: each key names another step and one of its outcomes,
 * or several (`a.x, b.y:`) that share the branches and parameters, as outcomes share a line of
 * `on:`. Returns the cases as the engine walks them (one per STEP.OUTCOME, in the order written),
 * where each is written, and their branches (partial: an outcome a case leaves out falls back to
 * the step's own) for the outcome checks.
 */
export function afterCases(s: Semantics, id: string, doc: StepDoc, places: CasePlaces): { cases: StepCase[]; sets: BranchSet[] } {
  const { pb, at, stepIds } = s;
  const cases: StepCase[] = [];
  const sets: BranchSet[] = [];
  const written = new Set<string>();
  for (const [key, c] of Object.entries(doc.after ?? {})) {
    const cp: Path = ['steps', id, 'after', key];
    const named: { step: string; outcome: string; offset: number }[] = [];
    let from = 0;
    for (const part of key.split(',').map((p) => p.trim())) {
      const offset = key.indexOf(part, from);
      from = offset + part.length;
      const place = { key: true, offset };
      const m = CASE_KEY.exec(part);
      if (!m) {
        at(cp, `'${part}' is not STEP.OUTCOME`, 'name an earlier step and one of its outcomes, e.g. `owner.other:`', place);
        continue;
      }
      const [, other, outcome] = m as unknown as [string, string, string];
      if (!pb.steps[other]) at(cp, `unknown step '${other}'`, hintFor(other, stepIds, 'steps'), place);
      else if (other === id) at(cp, `a step cannot depend on its own outcome`, 'name a step that runs before it', place);
      else {
        const theirs = outcomesOfStep(s, other);
        if (theirs && !theirs.includes(outcome)) at(cp, `'${outcome}' is not an outcome of step '${other}'`, didYouMean(outcome, theirs) ?? `its outcomes: ${theirs.join(', ')}`, place);
      }
      if (written.has(part)) at(cp, `'${part}' has a case above: only the first is ever taken`, 'name each STEP.OUTCOME once', place);
      written.add(part);
      named.push({ step: other, outcome, offset });
    }
    if (!named.length) continue;
    const branches = branchesOfMap(c.on, [...cp, 'on'], at);
    sets.push({ branches, path: [...cp, 'on'], partial: true, compact: true });
    for (const n of named) {
      const stepCase: StepCase = { after: { step: n.step, outcome: n.outcome }, ...(c.with ? { with: c.with } : {}), outcomes: branches.map((b) => b.branch) };
      places.set(stepCase, { key, offset: n.offset });
      cases.push(stepCase);
    }
  }
  return { cases, sets };
}

/**
 * An `after: STEP.OUTCOME` case applies only if STEP can have that outcome on a road to the step
 * the case belongs to. Reachability over every branch over-approximates the roads, so a case
 * found unreachable here is dead for sure.
 */
export function checkCasesCanApply(steps: Record<string, Step>, serverStart: string | undefined, places: CasePlaces, at: At): void {
  // With --ssh, a client step's verdict leads on to the server's first step.
  const targets = (step: Step, outcome?: string) =>
    [...(step.cases ?? []).flatMap((c) => c.outcomes), ...step.outcomes]
      .filter((b) => outcome === undefined || b.when === undefined || (Array.isArray(b.when) ? b.when : [b.when]).includes(outcome))
      .flatMap((b) => (b.next !== undefined ? [b.next] : b.diagnose !== undefined && serverStart !== undefined && step.vantage === 'client' ? [serverStart] : []));
  const reachable = new Map<string, Set<string>>();
  const from = (id: string): Set<string> => {
    let seen = reachable.get(id);
    if (seen) return seen;
    seen = new Set([id]);
    const queue = [id];
    while (queue.length) for (const t of targets(steps[queue.shift()!]!)) if (steps[t] && !seen.has(t)) (seen.add(t), queue.push(t));
    reachable.set(id, seen);
    return seen;
  };
  for (const [id, step] of Object.entries(steps)) {
    for (const c of step.cases ?? []) {
      const before = steps[c.after.step];
      if (!before) continue;
      if (!targets(before, c.after.outcome).some((t) => from(t).has(id))) {
        const { key, offset } = places.get(c) ?? { key: `${c.after.step}.${c.after.outcome}`, offset: 0 };
        at(['steps', id, 'after', key], `this case never applies: no road from '${c.after.step}' with outcome '${c.after.outcome}' leads to '${id}'`, `name a step and outcome that come before '${id}', or remove the case`, { key: true, offset });
      }
    }
  }
}
