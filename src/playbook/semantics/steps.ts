import { hintFor } from '../suggest.js';
import type { StepDoc, StepParams } from '../schema.js';
import type { Path } from '../yaml-position.js';
import { branchesOfList, branchesOfMap, type BranchSet } from '../branches.js';
import { requiredHint, type Semantics } from './context.js';
import { safeParse } from 'zod/mini';
import type { $ZodType } from 'zod/v4/core';

/**
 * What a step runs: exactly one of `check` (a known check, given only its parameters and all the
 * ones it requires, in `with:` and in each case's `with:`), `ask` (a known input) or `follow` (a
 * walk of another target from a step that exists, with inputs of this playbook); `quiet` only
 * with `ask`, `with:` only with `check`.
 */
export function checkStepRuns({ pb, catalog, at, inputNames, stepIds }: Semantics, id: string, doc: StepDoc): void {
  const base: Path = ['steps', id];
  const kinds = (['check', 'ask', 'follow'] as const).filter((k) => doc[k] !== undefined);
  if (kinds.length !== 1) {
    at(
      base,
      kinds.length ? `a step has one of 'check', 'ask' or 'follow', not ${kinds.map((k) => `'${k}'`).join(' and ')}` : "a step needs 'check' (what to run), 'ask' (what to ask the user) or 'follow' (another target to diagnose)",
      kinds.length ? `split it into ${kinds.length} steps` : undefined,
      { key: true },
    );
  } else if (doc.check !== undefined) {
    const info = catalog[doc.check];
    if (!info) {
      at([...base, 'check'], `unknown check '${doc.check}'`, hintFor(doc.check, Object.keys(catalog), 'checks'));
    } else {
      const checkParams = (w: StepParams | undefined, wp: Path) => {
        for (const [p, value] of Object.entries(w ?? {})) {
          if (!info.params.includes(p)) at([...wp, p], `check '${doc.check}' has no parameter '${p}'`, hintFor(p, info.params, 'parameters'), { key: true });
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
    }
  } else if (doc.ask !== undefined) {
    if (!pb.inputs?.[doc.ask]) at([...base, 'ask'], `unknown input '${doc.ask}'`, hintFor(doc.ask, inputNames, 'inputs'));
  } else if (doc.follow !== undefined) {
    const f = doc.follow;
    if (f.start !== undefined && !pb.steps[f.start]) at([...base, 'follow', 'start'], `unknown step '${f.start}'`, hintFor(f.start, stepIds, 'steps'));
    for (const name of Object.keys(f.inputs ?? {})) {
      if (!pb.inputs?.[name]) at([...base, 'follow', 'inputs', name], `unknown input '${name}'`, hintFor(name, inputNames, 'inputs'), { key: true });
    }
    if (typeof f.port === 'number' && !(Number.isInteger(f.port) && f.port >= 1 && f.port <= 65535)) at([...base, 'follow', 'port'], `${f.port} is not a port`, 'a port is a whole number from 1 to 65535, or a template');
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
