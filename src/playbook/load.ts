import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { $ZodIssue, $ZodType } from 'zod/v4/core';
import { config, safeParse } from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { PlaybookError, type LintError } from '../errors.js';
import { ASK_OUTCOMES, PlaybookSchema, type Branch, type BranchDoc, type Playbook, type PlaybookDoc, type Step, type StepCase, type StepDoc, type StepParams } from './schema.js';
import { didYouMean, hintFor } from './suggest.js';
import { parsePlaceholders, splitWords, TemplateSyntaxError } from './template.js';
import { evidenceJsonSchema, lookupEvidence, type JsonSchema } from './evidence-schema.js';
import { fieldName, positionOf, sortProblems, type Path } from './yaml-position.js';
import { branchesOfList, branchesOfMap, CODE_RE, type At, type BranchSet, type BranchSource } from './branches.js';

export { evidenceFields, evidenceJsonSchema, lookupEvidence, type JsonSchema } from './evidence-schema.js';

import type { CheckCatalog, CheckInfo } from '../checks/check.js';
export type { CheckCatalog, CheckInfo };

// zod/mini carries no messages of its own: the English ones, as classic zod would say them.
config(en());

const DEFAULT_MAX_STEPS = 50;
const NOT_A_PLAYBOOK_HINT = 'give a playbook file (start from: whyport playbook show default), or the name of a built-in one (whyport playbook list)';
const SHELL_OPERATOR = /^(\|\|?|&&?|;|>>?|<<?|\d?>&\d|\d>)$/;
const TARGET_FIELDS = ['host', 'address', 'addresses', 'port', 'portName', 'protocol', 'local', 'listeners', 'sockets'];
const STEP_FIELDS = ['outcome', 'summary', 'command', 'evidence', 'durationMs'];


/**
 * Parses and validates playbook text. Everything is checked before anything runs: YAML syntax,
 * the schema, check names and parameters, step targets, unhandled and unknown outcomes,
 * unreachable steps and branches, and placeholders. Every problem carries file:line:col.
 */
export function parsePlaybook(text: string, file: string, catalog: CheckCatalog): Playbook {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: LintError[] = [];
  const at = (path: Path, message: string, hint?: string, opts: { key?: boolean; offset?: number; severity?: 'error' | 'warning' } = {}) => {
    const pos = positionOf(doc, lineCounter, path, opts.key ?? false, opts.offset ?? 0);
    problems.push({ file, ...pos, field: fieldName(path), message, ...(hint ? { hint } : {}), severity: opts.severity ?? 'error' });
  };

  // whyport may run with more rights than its user (sudoers): until the file has shown itself a
  // playbook (a mapping with version: and steps:), a problem says where it is, never what the file
  // holds — `--playbook /etc/shadow` must not print a line of it.
  const shown = isMap(doc.contents) && doc.contents.has('version') && doc.contents.has('steps');
  for (const e of doc.errors) {
    const pos = lineCounter.linePos(e.pos[0]);
    const message = shown ? e.message.split('\n')[0]! : `not valid YAML (${e.code})`;
    problems.push({ file, line: pos.line, col: pos.col, field: '', message, hint: shown ? 'fix the YAML syntax' : NOT_A_PLAYBOOK_HINT, severity: 'error' });
    if (!shown) break;
  }
  if (problems.length) throw new PlaybookError(problems);

  if (!shown) {
    const top = isMap(doc.contents) ? doc.contents : undefined;
    if (top && (top.has('version') || top.has('steps'))) {
      // Half a playbook: say which of the two is missing, and nothing of the rest.
      for (const field of ['version', 'steps'].filter((f) => !top.has(f))) at([], `missing required field '${field}'`, requiredHint([field]) ?? 'add the steps to walk: start from whyport playbook show default');
    } else {
      at([], 'not a playbook: a playbook is a YAML mapping with version:, steps: and diagnoses:', NOT_A_PLAYBOOK_HINT);
    }
    throw new PlaybookError(problems);
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // An alias to an anchor that is not there (yaml throws here, not in doc.errors).
    at([], (err as Error).message.split('\n')[0]!, 'fix the YAML: each *alias needs its &anchor above it');
    throw new PlaybookError(problems);
  }
  const parsed = safeParse(PlaybookSchema, raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportSchemaIssue(issue, raw, at);
    reportMissingBranches(raw as Record<string, unknown>, at);
    throw new PlaybookError(sortProblems(problems));
  }
  const pb = parsed.data;
  const steps = checkSemantics(pb, catalog, at);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new PlaybookError(sortProblems(problems));

  const start = pb.start ?? Object.keys(pb.steps)[0]!;
  return Object.assign(pb, {
    steps,
    ...(pb.server ? { server: { start: pb.server.start, keep: pb.server.keep ?? [] } } : {}),
    inputs: pb.inputs ?? {},
    start,
    maxSteps: pb.maxSteps ?? DEFAULT_MAX_STEPS,
    source: file,
    warnings: problems,
  });
}


function reportSchemaIssue(issue: $ZodIssue, raw: unknown, at: At): void {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const present = path.length === 0 || lookupRaw(raw, path) !== undefined;
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) {
      const known = knownKeysAt(path);
      at([...path, key], `unknown field '${key}'`, hintFor(key, known, 'fields'), { key: true });
    }
    return;
  }
  if (!present) {
    at(path.slice(0, -1), `missing required field '${String(path.at(-1))}'`, requiredHint(path));
    return;
  }
  if (issue.code === 'invalid_format' || (issue.code === 'invalid_key' as string)) {
    at(path, issue.message, 'step and input names are lower-case words joined by dashes (e.g. check-unit); diagnosis codes are UPPER_CASE', { key: true });
    return;
  }
  at(path, issue.message.replace(/^Invalid input: /, ''));
}

/** Branches are optional to the schema (their field depends on the version): say they are missing anyway. */
function reportMissingBranches(raw: Record<string, unknown>, at: At): void {
  const steps = raw.steps;
  if (steps === null || typeof steps !== 'object') return;
  const field = raw.version === 2 ? 'on' : 'outcomes';
  for (const [id, step] of Object.entries(steps as Record<string, unknown>)) {
    if (step !== null && typeof step === 'object' && !(field in step)) at(['steps', id], `missing required field '${field}'`, requiredHint(['steps', id, field]));
  }
}

function lookupRaw(raw: unknown, path: Path): unknown {
  let cur = raw;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

function requiredHint(path: Path): string | undefined {
  const field = String(path.at(-1));
  if (field === 'version') return "add 'version: 1' at the top";
  if (field === 'outcomes') return 'add outcomes: a list of branches like `- when: none` / `next: other-step`, ending with a catch-all';
  if (field === 'prompt') return 'add the question to put to the user';
  if (field === 'on') return 'add `on: { OUTCOME: next-step, OTHER: DIAGNOSIS }` naming every outcome of the check';
  return undefined;
}

function knownKeysAt(path: Path): string[] {
  const top = ['$schema', 'version', 'name', 'description', 'start', 'server', 'maxSteps', 'inputs', 'steps', 'diagnoses'];
  if (path.length === 0) return top;
  if (path[0] === 'server' && path.length === 1) return ['start', 'keep'];
  if (path[0] === 'steps' && path.length === 2) return ['vantage', 'check', 'ask', 'quiet', 'title', 'with', 'on', 'after', 'outcomes'];
  if (path[0] === 'steps' && path[2] === 'after' && path.length === 4) return ['with', 'on'];
  if (path[0] === 'steps' && path.length === 4) return ['when', 'next', 'diagnose'];
  if (path[0] === 'inputs' && path.length === 2) return ['description', 'prompt', 'flag', 'guesses', 'needs', 'choices', 'default', 'pattern'];
  if (path[0] === 'diagnoses' && path.length === 2) return ['code', 'title', 'explanation', 'evidence', 'fix', 'namespace', 'forward', 'setting'];
  if (path[0] === 'diagnoses' && path.length === 3) return ['summary', 'apply', 'commands'];
  return [];
}

const ASK_EVIDENCE = ['input', 'value', 'source', 'guesses'];
const CASE_KEY = /^([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*)$/;

/**
 * Validates everything beyond the schema and returns the steps in the one form the engine walks
 * (version 1 and 2 alike): ordered branches, first match wins, with the cases of `after:`.
 */
function checkSemantics(pb: PlaybookDoc, catalog: CheckCatalog, at: At): Record<string, Step> {
  const version = pb.version;
  const stepIds = Object.keys(pb.steps);
  const inputNames = Object.keys(pb.inputs ?? {});
  const diagnosisIds = Object.keys(pb.diagnoses);
  const start = pb.start ?? stepIds[0]!;
  let brokenLinks = false;
  if (pb.start !== undefined && !pb.steps[pb.start]) at(['start'], `unknown step '${pb.start}'`, hintFor(pb.start, stepIds, 'steps'));
  const serverStart = pb.server?.start;
  if (serverStart !== undefined && !pb.steps[serverStart]) at(['server', 'start'], `unknown step '${serverStart}'`, hintFor(serverStart, stepIds, 'steps'));
  pb.server?.keep?.forEach((code, i) => {
    if (!pb.diagnoses[code]) at(['server', 'keep', i], `unknown diagnosis '${code}'`, hintFor(code, diagnosisIds, 'diagnoses'));
  });

  for (const [id, d] of Object.entries(pb.diagnoses)) {
    if (d.code === undefined && !CODE_RE.test(id)) {
      at(['diagnoses', id], `'${id}' is not a diagnosis code`, "name it in UPPER_CASE, or add 'code:' with the code it reports", { key: true });
    } else if (version === 2 && !CODE_RE.test(id)) {
      at(['diagnoses', id], `'${id}': in version 2 a diagnosis is named in UPPER_CASE (that is how \`on:\` tells it from a step)`, "rename it, and give the code it reports with 'code:'", { key: true });
    }
  }
  const outcomesOfStep = (doc: StepDoc | undefined): readonly string[] | undefined =>
    doc === undefined ? undefined : doc.ask !== undefined ? ASK_OUTCOMES : doc.check !== undefined ? catalog[doc.check]?.outcomes : undefined;

  const steps: Record<string, Step> = {};
  for (const [id, doc] of Object.entries(pb.steps)) {
    const base: Path = ['steps', id];
    const outcomes = outcomesOfStep(doc);
    if ((doc.check === undefined) === (doc.ask === undefined)) {
      at(base, doc.check ? "a step has either 'check' or 'ask', not both" : "a step needs 'check' (what to run) or 'ask' (what to ask the user)", undefined, { key: true });
    } else if (doc.check !== undefined) {
      const info = catalog[doc.check];
      if (!info) {
        at([...base, 'check'], `unknown check '${doc.check}'`, hintFor(doc.check, Object.keys(catalog), 'checks'));
      } else {
        const checkParams = (w: StepParams | undefined, wp: Path) => {
          for (const p of Object.keys(w ?? {})) {
            if (!info.params.includes(p)) at([...wp, p], `check '${doc.check}' has no parameter '${p}'`, hintFor(p, info.params, 'parameters'), { key: true });
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
    }
    if (doc.quiet !== undefined && doc.ask === undefined) at([...base, 'quiet'], "'quiet' only applies to 'ask' steps", undefined, { key: true });

    // The branches, in the form of the file's version.
    const sets: BranchSet[] = [];
    if (version === 1) {
      for (const f of ['on', 'after'] as const) {
        if (doc[f] !== undefined) at([...base, f], `'${f}:' is version 2 of the playbook language`, "write 'version: 2' at the top (then the whole file is version 2), or use an `outcomes:` list", { key: true });
      }
      // With `on:` written, the version is the one problem to report, not the missing list.
      if (doc.outcomes === undefined && doc.on === undefined) at(base, "missing required field 'outcomes'", requiredHint([...base, 'outcomes']));
      else if (doc.outcomes !== undefined) sets.push({ branches: branchesOfList(doc.outcomes, [...base, 'outcomes']), path: [...base, 'outcomes'], partial: false, compact: false });
    } else {
      if (doc.outcomes !== undefined) at([...base, 'outcomes'], "'outcomes:' lists are version 1; version 2 says where each outcome leads in an `on:` map", 'write `on: { OUTCOME: step-or-DIAGNOSIS, …, else: … }`', { key: true });
      if (doc.on === undefined && doc.outcomes === undefined) at(base, "missing required field 'on'", requiredHint([...base, 'on']));
      else if (doc.on !== undefined) sets.push({ branches: branchesOfMap(doc.on, [...base, 'on'], at), path: [...base, 'on'], partial: false, compact: true });
    }
    const cases: StepCase[] = [];
    for (const [key, c] of Object.entries(doc.after ?? {})) {
      const cp: Path = [...base, 'after', key];
      const m = CASE_KEY.exec(key);
      if (!m) {
        at(cp, `'${key}' is not STEP.OUTCOME`, 'name an earlier step and one of its outcomes, e.g. `owner.other:`', { key: true });
        continue;
      }
      const [, other, outcome] = m as unknown as [string, string, string];
      if (!pb.steps[other]) at(cp, `unknown step '${other}'`, hintFor(other, stepIds, 'steps'), { key: true });
      else if (other === id) at(cp, `a step cannot depend on its own outcome`, 'name a step that runs before it', { key: true });
      else {
        const theirs = outcomesOfStep(pb.steps[other]);
        if (theirs && !theirs.includes(outcome)) at(cp, `'${outcome}' is not an outcome of step '${other}'`, didYouMean(outcome, theirs) ?? `its outcomes: ${theirs.join(', ')}`, { key: true });
      }
      const branches = branchesOfMap(c.on, [...cp, 'on'], at);
      sets.push({ branches, path: [...cp, 'on'], partial: true, compact: true });
      cases.push({ after: { step: other, outcome }, ...(c.with ? { with: c.with } : {}), outcomes: branches.map((b) => b.branch) });
    }

    for (const set of sets) {
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
          at(src.targetPath, set.compact ? `unknown step '${b.next}'` : `unknown step '${b.next}'`, set.compact ? hintFor(b.next, [...stepIds, ...diagnosisIds], 'steps and diagnoses') : hintFor(b.next, stepIds, 'steps'));
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
            at(wp, `'${w}' is not an outcome of ${doc.check ? `check '${doc.check}'` : 'an ask step'}`, didYouMean(w, outcomes) ?? `its outcomes: ${outcomes.join(', ')}`, place);
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
    }
    steps[id] = {
      ...(doc.vantage !== undefined ? { vantage: doc.vantage } : {}),
      ...(doc.check !== undefined ? { check: doc.check } : {}),
      ...(doc.ask !== undefined ? { ask: doc.ask } : {}),
      ...(doc.quiet !== undefined ? { quiet: doc.quiet } : {}),
      ...(doc.title !== undefined ? { title: doc.title } : {}),
      ...(doc.with !== undefined ? { with: doc.with } : {}),
      outcomes: sets[0]?.branches.map((b) => b.branch) ?? [],
      ...(cases.length ? { cases } : {}),
    };
  }

  if (!brokenLinks) checkCasesCanApply(steps, serverStart && steps[serverStart] ? serverStart : undefined, at);

  // Which steps lead to each diagnosis and step: `last.` there is one of them.
  const leadsTo = new Map<string, Set<string>>();
  for (const [id, step] of Object.entries(steps)) {
    for (const b of [...step.outcomes, ...(step.cases ?? []).flatMap((c) => c.outcomes)]) {
      if (b.diagnose) leadsTo.set(b.diagnose, (leadsTo.get(b.diagnose) ?? new Set()).add(id));
      // A step's own `last.` is the step before it (diagnoses and steps share no names).
      if (b.next) leadsTo.set(b.next, (leadsTo.get(b.next) ?? new Set()).add(id));
    }
  }
  const tc: TemplateContext = { pb, steps, catalog, evidence: new Map() };
  for (const [id, doc] of Object.entries(pb.steps)) {
    const base: Path = ['steps', id];
    const before = [...(leadsTo.get(id) ?? [])];
    if (doc.title) checkTemplate(doc.title, [...base, 'title'], tc, before, at);
    const withs: [StepParams | undefined, Path][] = [[doc.with, [...base, 'with']], ...Object.entries(doc.after ?? {}).map(([k, c]): [StepParams | undefined, Path] => [c.with, [...base, 'after', k, 'with']])];
    for (const [w, wp] of withs) {
      for (const [k, v] of Object.entries(w ?? {})) {
        const vals = Array.isArray(v) ? v : [v];
        vals.forEach((x, i) => typeof x === 'string' && checkTemplate(x, Array.isArray(v) ? [...wp, k, i] : [...wp, k], tc, before, at));
      }
    }
  }

  for (const [name, input] of Object.entries(pb.inputs ?? {})) {
    const askedBy = Object.keys(steps).filter((id) => steps[id]!.ask === name);
    checkTemplate(input.prompt, ['inputs', name, 'prompt'], tc, [...new Set(askedBy.flatMap((id) => [...(leadsTo.get(id) ?? [])]))], at);
    if (input.pattern !== undefined) {
      try {
        new RegExp(input.pattern);
      } catch (e) {
        at(['inputs', name, 'pattern'], `not a regular expression: ${(e as Error).message}`);
      }
    }
  }
  for (const [code, d] of Object.entries(pb.diagnoses)) {
    const base: Path = ['diagnoses', code];
    const before = [...(leadsTo.get(code) ?? [])];
    checkTemplate(d.title, [...base, 'title'], tc, before, at);
    checkTemplate(d.explanation, [...base, 'explanation'], tc, before, at);
    d.evidence?.forEach((e, i) => checkTemplate(e, [...base, 'evidence', i], tc, before, at));
    for (const f of ['namespace', 'forward', 'setting'] as const) if (d[f] !== undefined) checkTemplate(d[f], [...base, f], tc, before, at);
    if (d.fix) {
      checkTemplate(d.fix.summary, [...base, 'fix', 'summary'], tc, before, at);
      d.fix.commands.forEach((c, i) => {
        const parts = typeof c === 'string' ? [c] : c;
        parts.forEach((w, j) => checkTemplate(w, typeof c === 'string' ? [...base, 'fix', 'commands', i] : [...base, 'fix', 'commands', i, j], tc, before, at));
        const words = typeof c === 'string' ? splitWords(c) : c;
        const first = (words[0] ?? '').replace(/\{\{.*?\}\}/g, '');
        if (/[;&|<>`$(){}]/.test(first) || words.some((w) => SHELL_OPERATOR.test(w) || /`|\$\(/.test(w))) {
          at([...base, 'fix', 'commands', i], 'a fix command is run without a shell: pipes, redirections and ; do not work', 'write one command per list item');
        }
      });
    }
  }

  // Reachability: every step and diagnosis should be reachable from the start. Not when a branch
  // points at a name that does not exist: the typo is the one problem, and everything behind it
  // would be reported unreachable too.
  if (steps[start] && !brokenLinks) {
    // The server's side is a second way in (with --ssh).
    const entries = [start, ...(serverStart && steps[serverStart] ? [serverStart] : [])];
    const seen = new Set<string>(entries);
    const usedDiagnoses = new Set<string>();
    const queue = [...entries];
    while (queue.length) {
      const step = steps[queue.shift()!]!;
      for (const b of [...step.outcomes, ...(step.cases ?? []).flatMap((c) => c.outcomes)]) {
        if (b.next && steps[b.next] && !seen.has(b.next)) {
          seen.add(b.next);
          queue.push(b.next);
        }
        if (b.diagnose) usedDiagnoses.add(b.diagnose);
      }
    }
    for (const id of stepIds) {
      if (!seen.has(id)) at(['steps', id], `step '${id}' is unreachable: no branch leads to it from '${start}'`, version === 2 ? 'name it as the target of an outcome in some `on:`, or remove it' : 'point a branch at it with `next`, or remove it', { key: true });
    }
    for (const code of diagnosisIds) {
      if (!usedDiagnoses.has(code)) at(['diagnoses', code], `diagnosis '${code}' is never reached`, version === 2 ? 'name it as the target of an outcome in some `on:`, or remove it' : 'point a branch at it with `diagnose`, or remove it', { key: true, severity: 'warning' });
    }
  }
  return steps;
}

/**
 * An `after: STEP.OUTCOME` case applies only if STEP can have that outcome on a road to the step
 * the case belongs to. Reachability over every branch over-approximates the roads, so a case
 * found unreachable here is dead for sure.
 */
function checkCasesCanApply(steps: Record<string, Step>, serverStart: string | undefined, at: At): void {
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
        at(['steps', id, 'after', `${c.after.step}.${c.after.outcome}`], `this case never applies: no road from '${c.after.step}' with outcome '${c.after.outcome}' leads to '${id}'`, `name a step and outcome that come before '${id}', or remove the case`, { key: true });
      }
    }
  }
}

interface TemplateContext {
  pb: PlaybookDoc;
  steps: Record<string, Step>;
  catalog: CheckCatalog;
  /** JSON Schemas of the checks' evidence, made once per check. */
  evidence: Map<string, JsonSchema>;
}

/** The JSON Schema of the evidence of a step (an ask step's is fixed). */
function evidenceSchema(tc: TemplateContext, stepId: string): JsonSchema | undefined {
  const step = tc.steps[stepId];
  if (!step) return undefined;
  if (step.ask !== undefined) return { type: 'object', properties: Object.fromEntries(ASK_EVIDENCE.map((k) => [k, {}])), additionalProperties: false };
  const info = step.check !== undefined ? tc.catalog[step.check] : undefined;
  if (!info?.evidence) return undefined;
  let s = tc.evidence.get(step.check!);
  if (!s) {
    s = evidenceJsonSchema(info.evidence);
    tc.evidence.set(step.check!, s);
  }
  return s;
}

/**
 * Checks the placeholders of one text. `before` are the steps that may have run last when the
 * text is rendered: `last.evidence.X` must be evidence of each of them.
 */
function checkTemplate(text: string, path: Path, tc: TemplateContext, before: readonly string[], at: At): void {
  const { pb } = tc;
  let holders;
  try {
    holders = parsePlaceholders(text);
  } catch (e) {
    if (e instanceof TemplateSyntaxError) at(path, e.message, undefined, { offset: e.offset });
    return;
  }
  for (const h of holders) {
    const [root, second, third] = h.path;
    const bad = (message: string, hint?: string) => at(path, message, hint, { offset: h.offset });
    const checkEvidence = (stepId: string, rest: readonly string[], label: string): boolean => {
      const schema = evidenceSchema(tc, stepId);
      if (!schema) return true;
      const r = lookupEvidence(schema, rest);
      if (r.ok) return true;
      const field = rest[r.at]!;
      const parent = [label, ...rest.slice(0, r.at)].join('.');
      const step = tc.steps[stepId]!;
      const of = step.ask !== undefined ? 'an ask step' : `check '${step.check}'`;
      bad(
        `'${h.raw}': ${parent} (${of}) has no field '${field}'${r.known.length || r.what === 'an object' ? '' : `: it is ${r.what}`}`,
        r.known.length ? hintFor(field, r.known, 'fields') : r.what === 'an object' ? undefined : 'stop the path before it',
      );
      return false;
    };
    switch (root) {
      case 'target':
        if (!second || !TARGET_FIELDS.includes(second)) bad(`'${h.raw}': the target has no field '${second ?? ''}'`, hintFor(second ?? '', TARGET_FIELDS, 'fields'));
        break;
      case 'inputs':
        if (!second || !pb.inputs?.[second]) bad(`'${h.raw}': unknown input '${second ?? ''}'`, hintFor(second ?? '', Object.keys(pb.inputs ?? {}), 'inputs'));
        break;
      case 'steps':
        if (!second || !pb.steps[second]) bad(`'${h.raw}': unknown step '${second ?? ''}'`, hintFor(second ?? '', Object.keys(pb.steps), 'steps'));
        else if (!third || !STEP_FIELDS.includes(third)) bad(`'${h.raw}': a step has no field '${third ?? ''}'`, hintFor(third ?? '', STEP_FIELDS, 'fields'));
        else if (third === 'evidence') checkEvidence(second, h.path.slice(3), `steps.${second}.evidence`);
        break;
      case 'last':
        if (!second || !STEP_FIELDS.includes(second)) bad(`'${h.raw}': a step has no field '${second ?? ''}'`, hintFor(second ?? '', STEP_FIELDS, 'fields'));
        else if (second === 'evidence') for (const s of before) if (!checkEvidence(s, h.path.slice(2), `last.evidence (step '${s}')`)) break;
        break;
      default:
        bad(`'${h.raw}' starts with '${root}'`, "placeholders start with target., inputs., steps. or last.");
    }
  }
}
