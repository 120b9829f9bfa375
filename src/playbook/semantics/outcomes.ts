import { didYouMean, hintFor } from '../suggest.js';
import type { StepDoc } from '../schema.js';
import type { BranchSet } from '../branches.js';
import { runsText, type Semantics } from './context.js';

/**
 * One set of branches of a step (its own, or a case's): each leads to a step or a diagnosis that
 * exists and not back to the step itself; each outcome is one of the step's and named once; the
 * catch-all comes last (version 1) and is not dead (version 2); and unless the set is a case, every
 * outcome is handled — an outcome that refines an older one (Check.refines) wherever that one is.
 * Returns whether a branch points at a name that does not exist (then reachability is not judged).
 */
export function checkBranchSet(s: Semantics, id: string, doc: StepDoc, set: BranchSet, outcomes: readonly string[] | undefined): { brokenLinks: boolean } {
  const { pb, catalog, at, stepIds, diagnosisIds } = s;
  let brokenLinks = false;
  const handled = new Set<string>();
  let catchAll = -1;
  set.branches.forEach((src, i) => {
    const b = src.branch;
    if (!set.compact && catchAll >= 0) at(src.path, `this branch can never be taken: the catch-all at outcomes[${catchAll}] comes before it`, 'move the catch-all (the branch without `when`) to the end');
    if (!set.compact && (b.next === undefined) === (b.diagnose === undefined)) {
      at(src.path, "a branch needs exactly one of 'next' (a step) or 'diagnose' (a diagnosis)");
    }
    if (b.next !== undefined && !pb.steps[b.next]) {
      brokenLinks = true;
      at(src.targetPath, `unknown step '${b.next}'`, set.compact ? hintFor(b.next, [...stepIds, ...diagnosisIds], 'steps and diagnoses') : hintFor(b.next, stepIds, 'steps'));
    }
    if (b.next === id) at(src.targetPath, `step '${id}' leads to itself`, 'a step that repeats itself never ends; point it elsewhere');
    if (b.diagnose !== undefined && !pb.diagnoses[b.diagnose]) {
      brokenLinks = true;
      at(src.targetPath, `unknown diagnosis '${b.diagnose}'`, hintFor(b.diagnose, diagnosisIds, 'diagnoses'));
    }
    if (b.when === undefined) {
      if (catchAll < 0) catchAll = i;
      return;
    }
    const whens = Array.isArray(b.when) ? b.when : [b.when];
    whens.forEach((w, j) => {
      const wp = src.whenPaths[j] ?? src.path;
      const place = { key: set.compact, offset: src.whenOffsets?.[j] ?? 0 };
      if (outcomes && !outcomes.includes(w)) {
        at(wp, `'${w}' is not an outcome of ${runsText(id, doc)}`, didYouMean(w, outcomes) ?? `its outcomes: ${outcomes.join(', ')}`, place);
      } else if (handled.has(w)) {
        at(wp, `outcome '${w}' is already handled by an earlier branch`, set.compact ? 'name each outcome once' : 'the first matching branch wins, so this one is never taken', place);
      }
      handled.add(w);
    });
  });
  // An outcome that refines an older one is handled wherever that one is (Check.refines).
  const refines = (doc.check !== undefined ? catalog[doc.check]?.refines : undefined) ?? {};
  const isHandled = (o: string, n = 0): boolean => handled.has(o) || (refines[o] !== undefined && n < 8 && isHandled(refines[o]!, n + 1));
  if (outcomes && set.compact && catchAll >= 0 && outcomes.every((o) => isHandled(o))) {
    at(set.branches[catchAll]!.path, "'else' is never taken: every outcome is named", 'remove it', { key: true });
  }
  if (outcomes && catchAll < 0 && !set.partial) {
    const unhandled = outcomes.filter((o) => !isHandled(o));
    // Handling the older outcome handles its refinement too: name only the older one.
    const missing = unhandled.filter((o) => refines[o] === undefined || !unhandled.includes(refines[o]!));
    if (missing.length) {
      at(set.path, `outcomes not handled: ${missing.join(', ')}`, set.compact ? 'name them in `on:` (`a, b: target`), or add `else:` if they all mean "anything else"' : 'add branches for them, or a catch-all branch without `when` at the end', { key: set.compact });
    }
  }
  return { brokenLinks };
}
