import type { Branch, Playbook, Step, StepCase } from '../playbook/schema.js';

/** Where a step's outcome leads: another step, or the end of the walk with a diagnosis. */
export type Transition = { kind: 'step'; step: string } | { kind: 'diagnose'; diagnosis: string };

/** The outcomes of the steps that ran so far, by step id. */
export type History = Readonly<Record<string, string>>;

/** The cases of a step that apply after these outcomes (their earlier step had their outcome), in the order written. */
export function activeCases(step: Pick<Step, 'cases'>, history: History): StepCase[] {
  return step.cases?.filter((c) => history[c.after.step] === c.after.outcome) ?? [];
}

/** The first case that applies: its parameters are the step's for this walk. */
export function activeCase(step: Pick<Step, 'cases'>, history: History): StepCase | undefined {
  return activeCases(step, history)[0];
}

function match(branches: readonly Branch[], outcome: string): Transition | undefined {
  for (const b of branches) {
    const whens = b.when === undefined ? undefined : Array.isArray(b.when) ? b.when : [b.when];
    if (whens === undefined || whens.includes(outcome)) {
      if (b.next !== undefined) return { kind: 'step', step: b.next };
      if (b.diagnose !== undefined) return { kind: 'diagnose', diagnosis: b.diagnose };
    }
  }
  return undefined;
}

/**
 * The pure decision: the first branch of the step whose `when` names the outcome, or the catch-all;
 * when an earlier step's outcome selects a case of the step, its branches are tried first. No I/O
 * (XState's transition()); validation guarantees a branch exists, so a miss is a bug.
 */
export function transition(playbook: Pick<Playbook, 'steps'>, stepId: string, given: string, history: History = {}, refines: Readonly<Record<string, string>> = {}): Transition {
  const step = playbook.steps[stepId];
  if (!step) throw new Error(`internal: no step '${stepId}'`);
  const outcome = asNamed(step, given, history, refines);
  // Every case that applies is tried in order, then the step's own branches: first match wins.
  for (const c of activeCases(step, history)) {
    const t = match(c.outcomes, outcome);
    if (t) return t;
  }
  const t = match(step.outcomes, outcome);
  if (t) return t;
  throw new Error(`internal: step '${stepId}' does not handle outcome '${outcome}'`);
}

/** An outcome no branch names that refines an older one (Check.refines) is taken as that one. */
function asNamed(step: Step, outcome: string, history: History, refines: Readonly<Record<string, string>>): string {
  const branches = [...activeCases(step, history).flatMap((c) => c.outcomes), ...step.outcomes];
  const named = (o: string) => branches.some((b) => b.when !== undefined && (Array.isArray(b.when) ? b.when : [b.when]).includes(o));
  let o = outcome;
  for (let n = 0; !named(o) && refines[o] !== undefined && n < 8; n++) o = refines[o]!;
  return named(o) ? o : outcome;
}

/**
 * Every path of a playbook from its start: each a list of step ids and the diagnosis it ends in.
 * With a `server:` entry, a path whose verdict came from a client step goes on on the server, as
 * a walk with --ssh does (its diagnosis is then the server's).
 */
export function allPaths(
  playbook: Pick<Playbook, 'steps' | 'start' | 'server'>,
  outcomesOf: (stepId: string) => readonly string[],
  refinesOf: (stepId: string) => Readonly<Record<string, string>> = () => ({}),
): { steps: string[]; outcomes: string[]; diagnosis: string }[] {
  const paths: { steps: string[]; outcomes: string[]; diagnosis: string }[] = [];
  const walk = (stepId: string, steps: string[], outcomes: string[]) => {
    if (steps.includes(stepId)) return; // a cycle: bounded at run time by maxSteps
    const history = Object.fromEntries(steps.map((s, i) => [s, outcomes[i]!]));
    for (const outcome of outcomesOf(stepId)) {
      const t = transition(playbook, stepId, outcome, history, refinesOf(stepId));
      const s = [...steps, stepId];
      const o = [...outcomes, outcome];
      const onClient = playbook.steps[stepId]!.vantage === 'client' && !s.some((id) => playbook.steps[id]!.vantage === 'server');
      if (t.kind === 'diagnose' && playbook.server && onClient) {
        paths.push({ steps: s, outcomes: o, diagnosis: t.diagnosis });
        walk(playbook.server.start, s, o);
      } else if (t.kind === 'diagnose') paths.push({ steps: s, outcomes: o, diagnosis: t.diagnosis });
      else walk(t.step, s, o);
    }
  };
  walk(playbook.start, [], []);
  return paths;
}
