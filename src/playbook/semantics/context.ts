import type { CheckCatalog } from '../../checks/check.js';
import { ASK_OUTCOMES, type PlaybookDoc } from '../schema.js';
import type { At } from '../branches.js';
import { ENDPOINT, followOf, followOutcomes, loadedPlaybooks, type OtherPlaybooks } from '../follow.js';

/** What every semantic check of one playbook reads: the document, the checks it may name, where to report. */
export interface Semantics {
  pb: PlaybookDoc;
  catalog: CheckCatalog;
  at: At;
  stepIds: string[];
  inputNames: string[];
  diagnosisIds: string[];
  /** The outcomes of each `follow:` step: the codes its walk may end in, and inconclusive. */
  follows: Map<string, string[]>;
  /** The other playbooks follow steps name (`playbook:`), loaded before this one was validated. */
  others: OtherPlaybooks;
}

/** The semantics of a playbook that passed the schema. */
export function semanticsOf(pb: PlaybookDoc, catalog: CheckCatalog, at: At, others: OtherPlaybooks = {}): Semantics {
  return { pb, catalog, at, stepIds: Object.keys(pb.steps), inputNames: Object.keys(pb.inputs ?? {}), diagnosisIds: Object.keys(pb.diagnoses), follows: followOutcomes(pb, loadedPlaybooks(others)), others };
}

/** The outcomes a step can have: an ask step's two, a follow step's codes, or its check's; undefined for an unknown check. */
export function outcomesOfStep(s: Semantics, id: string): readonly string[] | undefined {
  const doc = s.pb.steps[id];
  if (doc === undefined) return undefined;
  if (doc.ask !== undefined) return ASK_OUTCOMES;
  const w = followOf(doc);
  if (w !== undefined) {
    // A playbook that did not load is the one problem to report: not every outcome named after it.
    // So is a start that is not a step of the playbook walked.
    const other = w.follow.playbook === undefined ? undefined : s.others[w.follow.playbook];
    if (w.follow.playbook !== undefined && (other === undefined || 'error' in other)) return undefined;
    const steps = other && !('error' in other) ? other.steps : s.pb.steps;
    if (w.follow.start !== undefined && !steps[w.follow.start]) return undefined;
    return s.follows.get(id);
  }
  return doc.check !== undefined ? s.catalog[doc.check]?.outcomes : undefined;
}

/** How messages name what a step runs: `check 'sockets'`, `an ask step`, `follow step 'upstream'`. */
export function runsText(id: string, doc: { check?: string; ask?: string; follow?: unknown }): string {
  if (doc.ask !== undefined) return 'an ask step';
  if (doc.follow !== undefined) return `follow step '${id}' (the codes its walk may end in)`;
  if (doc.check === ENDPOINT) return `endpoint step '${id}' (the codes its walk may end in)`;
  return `check '${doc.check}'`;
}

/** The hint for a required field that is missing. */
export function requiredHint(path: readonly (string | number)[]): string | undefined {
  const field = String(path.at(-1));
  if (field === 'version') return "add 'version: 1' at the top";
  if (field === 'outcomes') return 'add outcomes: a list of branches like `- when: none` / `next: other-step`, ending with a catch-all';
  if (field === 'prompt') return 'add the question to put to the user';
  if (field === 'on') return 'add `on: { OUTCOME: next-step, OTHER: DIAGNOSIS }` naming every outcome of the check';
  return undefined;
}
