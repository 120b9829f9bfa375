import { isMap, LineCounter, parseDocument } from 'yaml';
import type { $ZodIssue } from 'zod/v4/core';
import { config, safeParse } from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { PlaybookError, type LintError } from '../errors.js';
import { PlaybookSchema, type DiagnosisDoc, type DiagnosisSpec, type Playbook } from './schema.js';
import { PLACED_FIELDS } from './placed.js';
import { hintFor } from './suggest.js';
import { fieldName, positionOf, sortProblems, type Path } from './yaml-position.js';
import { explainYamlErrors } from './yaml-errors.js';
import type { At } from './branches.js';
import { checkSemantics, requiredHint } from './semantics/index.js';
import { followOf, loadedPlaybooks, type OtherPlaybooks } from './follow.js';

export { evidenceFields, evidenceJsonSchema, lookupEvidence, type JsonSchema } from './evidence-schema.js';

import type { CheckCatalog, CheckInfo } from '../checks/check.js';
export type { CheckCatalog, CheckInfo };

// zod/mini carries no messages of its own: the English ones, as classic zod would say them.
config(en());

const DEFAULT_MAX_STEPS = 50;
const NOT_A_PLAYBOOK_HINT = 'give a playbook file (start from: whyport playbook show default), or the name of a built-in one (whyport playbook list)';


/**
 * Parses and validates playbook text. Everything is checked before anything runs: YAML syntax,
 * the schema, check names and parameters, step targets, unhandled and unknown outcomes,
 * unreachable steps and branches, and placeholders. Every problem carries file:line:col. The
 * other playbooks its steps walk (`playbook:`, see playbookRefs) come loaded in `others`.
 */
export function parsePlaybook(text: string, file: string, catalog: CheckCatalog, others: OtherPlaybooks = {}): Playbook {
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
  if (shown) {
    for (const p of explainYamlErrors(text, doc.errors, lineCounter, doc)) problems.push({ file, ...p, field: '', severity: 'error' });
  } else if (doc.errors[0]) {
    const pos = lineCounter.linePos(doc.errors[0].pos[0]);
    problems.push({ file, line: pos.line, col: pos.col, field: '', message: `not valid YAML (${doc.errors[0].code})`, hint: NOT_A_PLAYBOOK_HINT, severity: 'error' });
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
  const steps = checkSemantics(pb, catalog, at, others);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new PlaybookError(sortProblems(problems));

  const start = pb.start ?? Object.keys(pb.steps)[0]!;
  const used = new Set(Object.values(steps).flatMap((s) => (s.follow?.playbook !== undefined ? [s.follow.playbook] : [])));
  const playbooks = Object.fromEntries(Object.entries(loadedPlaybooks(others)).filter(([ref]) => used.has(ref)));
  return Object.assign(pb, {
    steps,
    diagnoses: Object.fromEntries(Object.entries(pb.diagnoses).map(([code, d]) => [code, diagnosisSpec(d)])),
    ...(pb.server ? { server: { start: pb.server.start, keep: pb.server.keep ?? [] } } : {}),
    inputs: pb.inputs ?? {},
    start,
    maxSteps: pb.maxSteps ?? DEFAULT_MAX_STEPS,
    source: file,
    warnings: problems,
    ...(Object.keys(playbooks).length ? { playbooks } : {}),
  });
}

/**
 * The other playbooks a playbook's steps name (`follow: { playbook }`, `check: endpoint` with
 * `playbook:`), as written, read leniently before it is validated: whoever opens it loads these
 * first and hands them to parsePlaybook. Text that is not a playbook names none (parsePlaybook
 * says what is wrong with it).
 */
export function playbookRefs(text: string): string[] {
  let raw: unknown;
  try {
    const doc = parseDocument(text, { uniqueKeys: false });
    if (doc.errors.length || !isMap(doc.contents) || !doc.contents.has('steps')) return [];
    raw = doc.toJS();
  } catch {
    return [];
  }
  const steps = (raw as { steps?: unknown }).steps;
  if (steps === null || typeof steps !== 'object') return [];
  const refs = new Set<string>();
  for (const step of Object.values(steps as Record<string, unknown>)) {
    if (step === null || typeof step !== 'object') continue;
    const w = followOf(step as Parameters<typeof followOf>[0]);
    if (typeof w?.follow.playbook === 'string' && w.follow.playbook !== '') refs.add(w.follow.playbook);
  }
  return [...refs];
}

/** A diagnosis as the engine renders it: an explanation written as sentences becomes one text. */
function diagnosisSpec(d: DiagnosisDoc): DiagnosisSpec {
  const { explanation, ...rest } = d;
  if (explanation === undefined) return rest;
  return { ...rest, explanation: Array.isArray(explanation) ? explanation.map((s) => s.trim()).join(' ') : explanation };
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

function knownKeysAt(path: Path): string[] {
  const top = ['$schema', 'version', 'name', 'description', 'start', 'server', 'maxSteps', 'inputs', 'steps', 'diagnoses'];
  if (path.length === 0) return top;
  if (path[0] === 'server' && path.length === 1) return ['start', 'keep'];
  if (path[0] === 'steps' && path.length === 2) return ['vantage', 'check', 'ask', 'follow', 'quiet', 'title', 'with', 'on', 'after', 'outcomes'];
  if (path[0] === 'steps' && path[2] === 'follow' && path.length === 3) return ['host', 'port', 'playbook', 'start', 'inputs'];
  if (path[0] === 'steps' && path[2] === 'after' && path.length === 4) return ['with', 'on'];
  if (path[0] === 'steps' && path.length === 4) return ['when', 'next', 'diagnose'];
  if (path[0] === 'inputs' && path.length === 2) return ['description', 'prompt', 'flag', 'guesses', 'needs', 'choices', 'default', 'pattern'];
  if (path[0] === 'diagnoses' && path.length === 2) return ['code', 'from', 'title', 'explanation', 'evidence', 'fix', ...PLACED_FIELDS];
  if (path[0] === 'diagnoses' && path.length === 3) return ['summary', 'apply', 'commands'];
  return [];
}
