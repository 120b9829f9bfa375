import type { CheckCatalog } from '../../checks/check.js';
import type { PlaybookDoc, Step, StepDoc, StepCase } from '../schema.js';
import type { At, BranchSet } from '../branches.js';
import { outcomesOfStep, semanticsOf } from './context.js';
import { checkEntries } from './entries.js';
import { checkDiagnosisKeys, checkExplanations, checkFixCommands, checkFromSteps } from './diagnoses.js';
import { checkStepRuns, ownBranches } from './steps.js';
import { afterCases, checkCasesCanApply, type CasePlaces } from './cases.js';
import { checkBranchSet } from './outcomes.js';
import { checkPlaceholders } from './placeholders.js';
import { checkInputPatterns } from './inputs.js';
import { checkReachability } from './reachability.js';
import { followOf, type OtherPlaybooks } from '../follow.js';

export { requiredHint } from './context.js';

/**
 * Validates everything beyond the schema and returns the steps in the one form the engine walks
 * (version 1 and 2 alike): ordered branches, first match wins, with the cases of `after:`.
 * Each question is a function of its own; this one only puts them in order.
 */
export function checkSemantics(pb: PlaybookDoc, catalog: CheckCatalog, at: At, others: OtherPlaybooks = {}): Record<string, Step> {
  const s = semanticsOf(pb, catalog, at, others);
  checkEntries(s);
  checkDiagnosisKeys(s);
  checkExplanations(s);

  const start = pb.start ?? s.stepIds[0]!;
  let brokenLinks = false;
  const places: CasePlaces = new Map();
  const steps: Record<string, Step> = {};
  for (const [id, doc] of Object.entries(pb.steps)) {
    checkStepRuns(s, id, doc);
    const own = ownBranches(s, id, doc);
    const { cases, sets } = afterCases(s, id, doc, places);
    const outcomes = outcomesOfStep(s, id);
    for (const set of [...own, ...sets]) if (checkBranchSet(s, id, doc, set, outcomes).brokenLinks) brokenLinks = true;
    steps[id] = stepOf(doc, own[0] ?? sets[0], cases, start, s.follows.get(id) ?? [], others);
  }

  const serverStart = pb.server?.start !== undefined && steps[pb.server.start] ? pb.server.start : undefined;
  if (!brokenLinks) checkCasesCanApply(steps, serverStart, places, at);
  checkPlaceholders(s, steps);
  checkInputPatterns(s);
  checkFixCommands(s);
  if (!brokenLinks) checkReachability(s, steps, start, serverStart);
  if (!brokenLinks) checkFromSteps(s, steps, [start, ...(serverStart ? [serverStart] : [])]);
  return steps;
}

/**
 * A step as the engine walks it; a follow step (either spelling) knows the playbook it walks, where
 * its walk starts and the outcomes it may have. `check: endpoint` keeps its check's name, for the
 * report and the graph, and gives its `with:` to the follow.
 */
function stepOf(doc: StepDoc, own: BranchSet | undefined, cases: StepCase[], start: string, possible: string[], others: OtherPlaybooks): Step {
  const f = followOf(doc)?.follow;
  const other = f?.playbook === undefined ? undefined : others[f.playbook];
  const walkStart = other && !('error' in other) ? other.start : start;
  return {
    ...(doc.vantage !== undefined ? { vantage: doc.vantage } : {}),
    ...(doc.check !== undefined ? { check: doc.check } : {}),
    ...(doc.ask !== undefined ? { ask: doc.ask } : {}),
    ...(f !== undefined ? { follow: { host: f.host, port: f.port, ...(f.playbook !== undefined ? { playbook: f.playbook } : {}), start: f.start ?? walkStart, ...(f.inputs ? { inputs: f.inputs } : {}), possible } } : {}),
    ...(doc.quiet !== undefined ? { quiet: doc.quiet } : {}),
    ...(doc.title !== undefined ? { title: doc.title } : {}),
    ...(doc.with !== undefined && f === undefined ? { with: doc.with } : {}),
    outcomes: own?.branches.map((b) => b.branch) ?? [],
    ...(cases.length ? { cases } : {}),
  };
}
