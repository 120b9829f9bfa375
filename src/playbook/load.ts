import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { $ZodIssue } from 'zod/v4/core';
import { config, safeParse } from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { PlaybookError, type LintError } from '../errors.js';
import { ASK_OUTCOMES, PlaybookSchema, type Playbook, type PlaybookDoc } from './schema.js';
import { didYouMean, hintFor } from './suggest.js';
import { parsePlaceholders, splitWords, TemplateSyntaxError } from './template.js';

/** What the validator needs to know of each check: its outcomes and parameters. */
export interface CheckInfo {
  outcomes: readonly string[];
  params: readonly string[];
  required: readonly string[];
}
export type CheckCatalog = Readonly<Record<string, CheckInfo>>;

// zod/mini carries no messages of its own: the English ones, as classic zod would say them.
config(en());

const DEFAULT_MAX_STEPS = 50;
const SHELL_OPERATOR = /^(\|\|?|&&?|;|>>?|<<?|\d?>&\d|\d>)$/;
const TARGET_FIELDS = ['host', 'address', 'addresses', 'port', 'portName', 'protocol', 'local'];
const STEP_FIELDS = ['outcome', 'summary', 'command', 'evidence', 'durationMs'];

type Path = (string | number)[];

/** Reads and validates a playbook file; throws PlaybookError with every problem found. */
export async function loadPlaybookFile(file: string, catalog: CheckCatalog, displayName = file): Promise<Playbook> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(err);
    throw new PlaybookError([{ file: displayName, line: 1, col: 1, field: '', message: `cannot read the playbook: ${why}`, severity: 'error', hint: 'give a path to a .yaml file, or the name of a built-in playbook (whyport playbook list)' }]);
  }
  return parsePlaybook(text, displayName, catalog);
}

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

  for (const e of doc.errors) {
    const pos = lineCounter.linePos(e.pos[0]);
    problems.push({ file, line: pos.line, col: pos.col, field: '', message: e.message.split('\n')[0]!, hint: 'fix the YAML syntax', severity: 'error' });
  }
  if (problems.length) throw new PlaybookError(problems);

  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    at([], 'a playbook is a YAML mapping with version, name, steps and diagnoses', 'start from playbooks/default.yaml');
    throw new PlaybookError(problems);
  }
  const parsed = safeParse(PlaybookSchema, raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportSchemaIssue(issue, raw, at);
    throw new PlaybookError(sortProblems(problems));
  }
  const pb = parsed.data;
  checkSemantics(pb, catalog, at);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new PlaybookError(sortProblems(problems));

  const start = pb.start ?? Object.keys(pb.steps)[0]!;
  return Object.assign(pb, {
    inputs: pb.inputs ?? {},
    start,
    maxSteps: pb.maxSteps ?? DEFAULT_MAX_STEPS,
    source: file,
    warnings: problems,
  });
}

type At = (path: Path, message: string, hint?: string, opts?: { key?: boolean; offset?: number; severity?: 'error' | 'warning' }) => void;

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
  return undefined;
}

function knownKeysAt(path: Path): string[] {
  const top = ['$schema', 'version', 'name', 'description', 'start', 'maxSteps', 'inputs', 'steps', 'diagnoses'];
  if (path.length === 0) return top;
  if (path[0] === 'steps' && path.length === 2) return ['check', 'ask', 'quiet', 'title', 'with', 'outcomes'];
  if (path[0] === 'steps' && path.length === 4) return ['when', 'next', 'diagnose'];
  if (path[0] === 'inputs' && path.length === 2) return ['description', 'prompt', 'flag', 'guesses', 'choices', 'default', 'pattern'];
  if (path[0] === 'diagnoses' && path.length === 2) return ['code', 'title', 'explanation', 'evidence', 'fix'];
  if (path[0] === 'diagnoses' && path.length === 3) return ['summary', 'apply', 'commands'];
  return [];
}

function checkSemantics(pb: PlaybookDoc, catalog: CheckCatalog, at: At): void {
  const stepIds = Object.keys(pb.steps);
  const inputNames = Object.keys(pb.inputs ?? {});
  const diagnosisIds = Object.keys(pb.diagnoses);
  const start = pb.start ?? stepIds[0]!;
  let brokenLinks = false;
  if (pb.start !== undefined && !pb.steps[pb.start]) at(['start'], `unknown step '${pb.start}'`, hintFor(pb.start, stepIds, 'steps'));

  for (const [id, d] of Object.entries(pb.diagnoses)) {
    if (d.code === undefined && !/^[A-Z][A-Z0-9_]*$/.test(id)) {
      at(['diagnoses', id], `'${id}' is not a diagnosis code`, "name it in UPPER_CASE, or add 'code:' with the code it reports", { key: true });
    }
  }

  for (const [id, step] of Object.entries(pb.steps)) {
    const base: Path = ['steps', id];
    let outcomes: readonly string[] | undefined;
    if ((step.check === undefined) === (step.ask === undefined)) {
      at(base, step.check ? "a step has either 'check' or 'ask', not both" : "a step needs 'check' (what to run) or 'ask' (what to ask the user)", undefined, { key: true });
    } else if (step.check !== undefined) {
      const info = catalog[step.check];
      if (!info) {
        at([...base, 'check'], `unknown check '${step.check}'`, hintFor(step.check, Object.keys(catalog), 'checks'));
      } else {
        outcomes = info.outcomes;
        for (const p of Object.keys(step.with ?? {})) {
          if (!info.params.includes(p)) at([...base, 'with', p], `check '${step.check}' has no parameter '${p}'`, hintFor(p, info.params, 'parameters'), { key: true });
        }
        for (const p of info.required) {
          if (!(p in (step.with ?? {}))) at([...base, 'check'], `check '${step.check}' needs the parameter '${p}'`, `add 'with: { ${p}: … }'`);
        }
      }
    } else if (step.ask !== undefined) {
      outcomes = ASK_OUTCOMES;
      if (!pb.inputs?.[step.ask]) at([...base, 'ask'], `unknown input '${step.ask}'`, hintFor(step.ask, inputNames, 'inputs'));
    }
    if (step.quiet !== undefined && step.ask === undefined) at([...base, 'quiet'], "'quiet' only applies to 'ask' steps", undefined, { key: true });

    const handled = new Set<string>();
    let catchAll = -1;
    step.outcomes.forEach((b, i) => {
      const bp: Path = [...base, 'outcomes', i];
      if (catchAll >= 0) at(bp, `this branch can never be taken: the catch-all at outcomes[${catchAll}] comes before it`, 'move the catch-all (the branch without `when`) to the end');
      if ((b.next === undefined) === (b.diagnose === undefined)) {
        at(bp, "a branch needs exactly one of 'next' (a step) or 'diagnose' (a diagnosis)");
      }
      if (b.next !== undefined && !pb.steps[b.next]) {
        brokenLinks = true;
        at([...bp, 'next'], `unknown step '${b.next}'`, hintFor(b.next, stepIds, 'steps'));
      }
      if (b.next === id) at([...bp, 'next'], `step '${id}' leads to itself`, 'a step that repeats itself never ends; point it elsewhere');
      if (b.diagnose !== undefined && !pb.diagnoses[b.diagnose]) brokenLinks = true;
      if (b.diagnose !== undefined && !pb.diagnoses[b.diagnose]) at([...bp, 'diagnose'], `unknown diagnosis '${b.diagnose}'`, hintFor(b.diagnose, diagnosisIds, 'diagnoses'));
      if (b.when === undefined) {
        if (catchAll < 0) catchAll = i;
        return;
      }
      const whens = Array.isArray(b.when) ? b.when : [b.when];
      whens.forEach((w, j) => {
        const wp: Path = Array.isArray(b.when) ? [...bp, 'when', j] : [...bp, 'when'];
        if (outcomes && !outcomes.includes(w)) {
          at(wp, `'${w}' is not an outcome of ${step.check ? `check '${step.check}'` : 'an ask step'}`, didYouMean(w, outcomes) ?? `its outcomes: ${outcomes.join(', ')}`);
        } else if (handled.has(w)) {
          at(wp, `outcome '${w}' is already handled by an earlier branch`, 'the first matching branch wins, so this one is never taken');
        }
        handled.add(w);
      });
    });
    if (outcomes && catchAll < 0) {
      const missing = outcomes.filter((o) => !handled.has(o));
      if (missing.length) {
        at([...base, 'outcomes'], `outcomes not handled: ${missing.join(', ')}`, 'add branches for them, or a catch-all branch without `when` at the end');
      }
    }
    if (step.title) checkTemplate(step.title, [...base, 'title'], pb, at);
    for (const [k, v] of Object.entries(step.with ?? {})) {
      const vals = Array.isArray(v) ? v : [v];
      vals.forEach((x, i) => typeof x === 'string' && checkTemplate(x, Array.isArray(v) ? [...base, 'with', k, i] : [...base, 'with', k], pb, at));
    }
  }

  for (const [name, input] of Object.entries(pb.inputs ?? {})) {
    checkTemplate(input.prompt, ['inputs', name, 'prompt'], pb, at);
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
    checkTemplate(d.title, [...base, 'title'], pb, at);
    checkTemplate(d.explanation, [...base, 'explanation'], pb, at);
    d.evidence?.forEach((e, i) => checkTemplate(e, [...base, 'evidence', i], pb, at));
    if (d.fix) {
      checkTemplate(d.fix.summary, [...base, 'fix', 'summary'], pb, at);
      d.fix.commands.forEach((c, i) => {
        const parts = typeof c === 'string' ? [c] : c;
        parts.forEach((w, j) => checkTemplate(w, typeof c === 'string' ? [...base, 'fix', 'commands', i] : [...base, 'fix', 'commands', i, j], pb, at));
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
  if (pb.steps[start] && !brokenLinks) {
    const seen = new Set<string>([start]);
    const usedDiagnoses = new Set<string>();
    const queue = [start];
    while (queue.length) {
      const step = pb.steps[queue.shift()!]!;
      for (const b of step.outcomes) {
        if (b.next && pb.steps[b.next] && !seen.has(b.next)) {
          seen.add(b.next);
          queue.push(b.next);
        }
        if (b.diagnose) usedDiagnoses.add(b.diagnose);
      }
    }
    for (const id of stepIds) {
      if (!seen.has(id)) at(['steps', id], `step '${id}' is unreachable: no branch leads to it from '${start}'`, 'point a branch at it with `next`, or remove it', { key: true });
    }
    for (const code of diagnosisIds) {
      if (!usedDiagnoses.has(code)) at(['diagnoses', code], `diagnosis '${code}' is never reached`, 'point a branch at it with `diagnose`, or remove it', { key: true, severity: 'warning' });
    }
  }
}

function checkTemplate(text: string, path: Path, pb: PlaybookDoc, at: At): void {
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
        break;
      case 'last':
        if (!second || !STEP_FIELDS.includes(second)) bad(`'${h.raw}': a step has no field '${second ?? ''}'`, hintFor(second ?? '', STEP_FIELDS, 'fields'));
        break;
      default:
        bad(`'${h.raw}' starts with '${root}'`, "placeholders start with target., inputs., steps. or last.");
    }
  }
}

function fieldName(path: Path): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** The line and column of the node at `path` (or of its key), falling back to the nearest parent. */
function positionOf(doc: Document, lc: LineCounter, path: Path, key: boolean, offset: number): { line: number; col: number } {
  let node: unknown = doc.contents;
  let found: YamlNode | null = (doc.contents as YamlNode | null) ?? null;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      if (last && key) {
        found = pair.key as YamlNode;
        break;
      }
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else break;
    if (node && typeof node === 'object' && 'range' in node) found = node as YamlNode;
    else break;
  }
  const start = found?.range?.[0] ?? 0;
  const quoted = isScalar(found) && (found.type === 'QUOTE_DOUBLE' || found.type === 'QUOTE_SINGLE') ? 1 : 0;
  const blockScalar = isScalar(found) && (found.type === 'BLOCK_LITERAL' || found.type === 'BLOCK_FOLDED');
  return lc.linePos(blockScalar ? start : start + (offset ? offset + quoted : 0));
}

function sortProblems(p: LintError[]): LintError[] {
  return [...p].sort((a, b) => a.line - b.line || a.col - b.col);
}
