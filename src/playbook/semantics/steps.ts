import { hintFor } from '../suggest.js';
import type { StepDoc, StepParams } from '../schema.js';
import type { Path } from '../yaml-position.js';
import { branchesOfList, branchesOfMap, type BranchSet } from '../branches.js';
import { requiredHint, type Semantics } from './context.js';
import { safeParse } from 'zod/mini';
import type { $ZodType } from 'zod/v4/core';
import { ENDPOINT, ENDPOINT_PARAMS, ENDPOINT_REQUIRED, followOf, type WrittenFollow } from '../follow.js';

/**
 * What a step runs: exactly one of `check` (a known check, given only its parameters and all the
 * ones it requires, in `with:` and in each case's `with:`), `ask` (a known input) or `follow` (a
 * walk of another target from a step that exists, with inputs of the playbook it walks; `check:
 * endpoint` is the same with its fields under `with:`); `quiet` only with `ask`, `with:` only
 * with `check`.
 */
export function checkStepRuns(s: Semantics, id: string, doc: StepDoc): void {
  const { pb, catalog, at, inputNames } = s;
  const base: Path = ['steps', id];
  const kinds = (['check', 'ask', 'follow'] as const).filter((k) => doc[k] !== undefined);
  if (kinds.length !== 1) {
    at(
      base,
      kinds.length ? `a step has one of 'check', 'ask' or 'follow', not ${kinds.map((k) => `'${k}'`).join(' and ')}` : "a step needs 'check' (what to run), 'ask' (what to ask the user) or 'follow' (another target to diagnose)",
      kinds.length ? `split it into ${kinds.length} steps` : undefined,
      { key: true },
    );
  } else if (doc.check === ENDPOINT) {
    checkEndpointParams(s, id, doc);
    checkFollow(s, id, followOf(doc)!);
  } else if (doc.check !== undefined) {
    const info = catalog[doc.check];
    if (!info) {
      at([...base, 'check'], `unknown check '${doc.check}'`, hintFor(doc.check, [...Object.keys(catalog), ENDPOINT], 'checks'));
    } else {
      const checkParams = (w: StepParams | undefined, wp: Path) => {
        for (const [p, value] of Object.entries(w ?? {})) {
          if (!info.params.includes(p)) at([...wp, p], `check '${doc.check}' has no parameter '${p}'`, hintFor(p, info.params, 'parameters'), { key: true });
          else if (value !== null && typeof value === 'object' && !Array.isArray(value)) at([...wp, p], `'${p}' of check '${doc.check}' is one value (a text, a number or a list), not a mapping`);
          else {
            const problem = literalProblem(info.paramSchemas?.[p], value);
            if (problem) at([...wp, p], problem);
          }
        }
      };
      checkParams(doc.with, [...base, 'with']);
      for (const [key, c] of Object.entries(doc.after ?? {})) checkParams(c.with, [...base, 'after', key, 'with']);
      for (const p of info.required) {
        if (!(p in (doc.with ?? {}))) at([...base, 'check'], `check '${doc.check}' needs the parameter '${p}'`, `add 'with: { ${p}: … }'`);
      }
      // What the check says of its parameters as written; a case's `with:` joins the step's, and
      // only what is wrong with the case's own parameters is the case's to report.
      if (info.lint) {
        const templated = (v: unknown): boolean => (Array.isArray(v) ? v.some(templated) : typeof v === 'string' && v.includes('{{'));
        const lint = (w: StepParams, wp: Path, only?: StepParams) => {
          const written = Object.fromEntries(Object.entries(w).filter(([, v]) => !templated(v)));
          for (const problem of info.lint!(written, Object.keys(w))) {
            if (only && (problem.param === undefined || !(problem.param in only))) continue;
            at(problem.param !== undefined ? [...wp, problem.param] : [...base, 'check'], problem.message, problem.hint);
          }
        };
        lint(doc.with ?? {}, [...base, 'with']);
        for (const [key, c] of Object.entries(doc.after ?? {})) if (c.with) lint({ ...doc.with, ...c.with }, [...base, 'after', key, 'with'], c.with);
      }
    }
  } else if (doc.ask !== undefined) {
    if (!pb.inputs?.[doc.ask]) at([...base, 'ask'], `unknown input '${doc.ask}'`, hintFor(doc.ask, inputNames, 'inputs'));
  } else if (doc.follow !== undefined) {
    checkFollow(s, id, followOf(doc)!);
    const withs = [doc.with, ...Object.values(doc.after ?? {}).map((c) => c.with)];
    if (withs.some((w) => w !== undefined)) at(doc.with !== undefined ? [...base, 'with'] : base, "'with' gives a check its parameters: a follow step has none", 'give the nested walk its answers with `follow: { inputs: { NAME: … } }`', { key: true });
  }
  if (doc.quiet !== undefined && doc.ask === undefined) at([...base, 'quiet'], "'quiet' only applies to 'ask' steps", undefined, { key: true });
}

/**
 * A step's own branches, in the form of the file's version: an `outcomes:` list in version 1, an
 * `on:` map in version 2 (and `after:` only there). Empty when they are missing or of the other
 * version, which is reported.
 */
export function ownBranches({ pb, at }: Semantics, id: string, doc: StepDoc): BranchSet[] {
  const base: Path = ['steps', id];
  if (pb.version === 1) {
    for (const f of ['on', 'after'] as const) {
      if (doc[f] !== undefined) at([...base, f], `'${f}:' is version 2 of the playbook language`, "write 'version: 2' at the top (then the whole file is version 2), or use an `outcomes:` list", { key: true });
    }
    // With `on:` written, the version is the one problem to report, not the missing list.
    if (doc.outcomes === undefined && doc.on === undefined) at(base, "missing required field 'outcomes'", requiredHint([...base, 'outcomes']));
    else if (doc.outcomes !== undefined) return [{ branches: branchesOfList(doc.outcomes, [...base, 'outcomes']), path: [...base, 'outcomes'], partial: false, compact: false }];
    return [];
  }
  if (doc.outcomes !== undefined) at([...base, 'outcomes'], "'outcomes:' lists are version 1; version 2 says where each outcome leads in an `on:` map", 'write `on: { OUTCOME: step-or-DIAGNOSIS, …, else: … }`', { key: true });
  if (doc.on === undefined && doc.outcomes === undefined) at(base, "missing required field 'on'", requiredHint([...base, 'on']));
  else if (doc.on !== undefined) return [{ branches: branchesOfMap(doc.on, [...base, 'on'], at), path: [...base, 'on'], partial: false, compact: true }];
  return [];
}

/**
 * What is wrong with a parameter's value written without placeholders, by its check's own schema
 * (a regular expression that does not compile, a mode that is not octal); undefined when it is
 * fine, or holds a placeholder (checked when the walk renders it).
 */
function literalProblem(schema: $ZodType | undefined, value: unknown): string | undefined {
  if (!schema || JSON.stringify(value).includes('{{')) return undefined;
  const r = safeParse(schema, value);
  if (r.success) return undefined;
  const issue = r.error.issues[0]!;
  const where = issue.path.length ? `item ${issue.path.map(String).join('.')}: ` : '';
  return `${where}${issue.message}`;
}

/**
 * `check: endpoint`: its parameters are the fields of `follow:` — host and port required, each of
 * its type — and a case cannot change them (the walk it follows is one, whatever came before).
 */
function checkEndpointParams({ at }: Semantics, id: string, doc: StepDoc): void {
  const base: Path = ['steps', id];
  const w = doc.with ?? {};
  for (const [p, v] of Object.entries(w)) {
    const wp: Path = [...base, 'with', p];
    if (!(ENDPOINT_PARAMS as readonly string[]).includes(p)) {
      at(wp, `check 'endpoint' has no parameter '${p}'`, hintFor(p, ENDPOINT_PARAMS, 'parameters'), { key: true });
    } else if (p === 'inputs') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) at(wp, "'inputs' of check 'endpoint' is a mapping: the answers its walk starts with", 'write `inputs: { NAME: value, … }` (inputs of the playbook it walks)');
    } else if (p === 'port' ? typeof v !== 'string' && typeof v !== 'number' : typeof v !== 'string') {
      at(wp, `'${p}' of check 'endpoint' is ${p === 'port' ? 'a port number or a template' : 'a text'}, not ${Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `a ${typeof v}`}`);
    }
  }
  for (const p of ENDPOINT_REQUIRED) if (!(p in w)) at([...base, 'check'], `check 'endpoint' needs the parameter '${p}'`, `add 'with: { ${p}: … }'`);
  for (const [key, c] of Object.entries(doc.after ?? {})) {
    if (c.with !== undefined) at([...base, 'after', key, 'with'], "a case cannot change what an endpoint step follows", 'write another endpoint step for the other target', { key: true });
  }
}

/**
 * A follow step's walk, either spelling: the playbook it names loaded and valid, its start a step
 * of that playbook, its inputs inputs of it, its port a port.
 */
function checkFollow({ at, stepIds, inputNames, others }: Semantics, id: string, w: WrittenFollow): void {
  const base: Path = ['steps', id, w.field];
  const f = w.follow;
  let steps = stepIds;
  let inputs = inputNames;
  let walked = '';
  if (f.playbook !== undefined) {
    const other = others[f.playbook];
    if (other === undefined || 'error' in other) {
      at([...base, 'playbook'], other?.error ?? `the playbook '${f.playbook}' was not loaded`, other?.hint ?? 'name a built-in playbook (whyport playbook list) or a playbook file, relative to this one');
      return;
    }
    steps = Object.keys(other.steps);
    inputs = Object.keys(other.inputs);
    walked = ` of playbook '${f.playbook}'`;
  }
  if (f.start !== undefined && !steps.includes(f.start)) at([...base, 'start'], `unknown step '${f.start}'${walked}`, hintFor(f.start, steps, 'steps'));
  for (const name of Object.keys(f.inputs ?? {})) {
    if (!inputs.includes(name)) at([...base, 'inputs', name], `unknown input '${name}'${walked}`, hintFor(name, inputs, 'inputs'), { key: true });
  }
  if (typeof f.port === 'number' && !(Number.isInteger(f.port) && f.port >= 1 && f.port <= 65535)) at([...base, 'port'], `${f.port} is not a port`, 'a port is a whole number from 1 to 65535, or a template');
}
