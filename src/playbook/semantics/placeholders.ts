import { hintFor } from '../suggest.js';
import type { Step, StepParams } from '../schema.js';
import { PLACED_FIELDS } from '../placed.js';
import { parsePlaceholders, TemplateSyntaxError } from '../template.js';
import { evidenceJsonSchema, lookupEvidence, type JsonSchema } from '../evidence-schema.js';
import type { Path } from '../yaml-position.js';
import type { Semantics } from './context.js';
import { ENDPOINT, FOLLOW, followEvidence, followOf } from '../follow.js';
import { everyBranch } from '../branches.js';

const TARGET_FIELDS = ['host', 'address', 'addresses', 'port', 'portName', 'protocol', 'local', 'listeners', 'sockets'];
const STEP_FIELDS = ['outcome', 'summary', 'command', 'evidence', 'durationMs'];
const ASK_EVIDENCE = ['input', 'value', 'source', 'guesses'];

interface TemplateContext extends Semantics {
  steps: Record<string, Step>;
  /** JSON Schemas of the checks' evidence, made once per check. */
  evidence: Map<string, JsonSchema>;
}

/**
 * Every text with placeholders — step titles and parameters, input prompts, the diagnoses' prose,
 * evidence, fix and the fields that name an object — names things that exist: a target field, an
 * input, a step and a field of its evidence (from its check's schema). `last.evidence.X` must be
 * evidence of every step that may have run just before the text is rendered.
 */
export function checkPlaceholders(s: Semantics, steps: Record<string, Step>): void {
  const { pb } = s;
  const leadsTo = stepsBefore(steps);
  const tc: TemplateContext = { ...s, steps, evidence: new Map() };
  const check = (text: string, path: Path, before: readonly string[]) => checkTemplate(text, path, tc, before);

  for (const [id, doc] of Object.entries(pb.steps)) {
    const base: Path = ['steps', id];
    const before = [...(leadsTo.get(id) ?? [])];
    if (doc.title) check(doc.title, [...base, 'title'], before);
    const written = followOf(doc);
    if (written) {
      const { follow: f, field } = written;
      check(f.host, [...base, field, 'host'], before);
      if (typeof f.port === 'string') check(f.port, [...base, field, 'port'], before);
      for (const [name, v] of Object.entries(f.inputs ?? {})) if (typeof v === 'string') check(v, [...base, field, 'inputs', name], before);
    }
    // An endpoint step's `with:` is its follow, checked above.
    const withs: [StepParams | undefined, Path][] = [...(doc.check === ENDPOINT ? [] : [[doc.with, [...base, 'with']] as [StepParams | undefined, Path]]), ...Object.entries(doc.after ?? {}).map(([k, c]): [StepParams | undefined, Path] => [c.with, [...base, 'after', k, 'with']])];
    for (const [w, wp] of withs) {
      for (const [k, v] of Object.entries(w ?? {})) {
        const vals = Array.isArray(v) ? v : [v];
        vals.forEach((x, i) => typeof x === 'string' && check(x, Array.isArray(v) ? [...wp, k, i] : [...wp, k], before));
      }
    }
  }

  for (const [name, input] of Object.entries(pb.inputs ?? {})) {
    const askedBy = Object.keys(steps).filter((id) => steps[id]!.ask === name);
    check(input.prompt, ['inputs', name, 'prompt'], [...new Set(askedBy.flatMap((id) => [...(leadsTo.get(id) ?? [])]))]);
  }

  for (const [code, d] of Object.entries(pb.diagnoses)) {
    const base: Path = ['diagnoses', code];
    const before = [...(leadsTo.get(code) ?? [])];
    check(d.title, [...base, 'title'], before);
    if (typeof d.explanation === 'string') check(d.explanation, [...base, 'explanation'], before);
    else d.explanation?.forEach((sentence, i) => check(sentence, [...base, 'explanation', i], before));
    d.evidence?.forEach((e, i) => check(e, [...base, 'evidence', i], before));
    for (const f of PLACED_FIELDS) if (d[f] !== undefined) check(d[f], [...base, f], before);
    if (d.fix) {
      check(d.fix.summary, [...base, 'fix', 'summary'], before);
      d.fix.commands.forEach((c, i) => {
        if (typeof c === 'string') check(c, [...base, 'fix', 'commands', i], before);
        else c.forEach((w, j) => check(w, [...base, 'fix', 'commands', i, j], before));
      });
    }
  }
}

/** Which steps lead to each diagnosis and step: `last.` there is one of them. */
function stepsBefore(steps: Record<string, Step>): Map<string, Set<string>> {
  const leadsTo = new Map<string, Set<string>>();
  for (const [id, step] of Object.entries(steps)) {
    for (const b of everyBranch(step)) {
      if (b.diagnose) leadsTo.set(b.diagnose, (leadsTo.get(b.diagnose) ?? new Set()).add(id));
      // A step's own `last.` is the step before it (diagnoses and steps share no names).
      if (b.next) leadsTo.set(b.next, (leadsTo.get(b.next) ?? new Set()).add(id));
    }
  }
  return leadsTo;
}

/** The JSON Schema of the evidence of a step (an ask step's is fixed). */
function evidenceSchema(tc: TemplateContext, stepId: string): JsonSchema | undefined {
  const step = tc.steps[stepId];
  if (!step) return undefined;
  if (step.ask !== undefined) return { type: 'object', properties: Object.fromEntries(ASK_EVIDENCE.map((k) => [k, {}])), additionalProperties: false };
  if (step.follow !== undefined) {
    let schema = tc.evidence.get(` ${FOLLOW}`);
    if (!schema) tc.evidence.set(` ${FOLLOW}`, (schema = { ...evidenceJsonSchema(followEvidence), additionalProperties: false }));
    return schema;
  }
  const info = step.check !== undefined ? tc.catalog[step.check] : undefined;
  if (!info?.evidence) return undefined;
  let schema = tc.evidence.get(step.check!);
  if (!schema) {
    schema = evidenceJsonSchema(info.evidence);
    tc.evidence.set(step.check!, schema);
  }
  return schema;
}

/**
 * Checks the placeholders of one text. `before` are the steps that may have run last when the
 * text is rendered: `last.evidence.X` must be evidence of each of them.
 */
function checkTemplate(text: string, path: Path, tc: TemplateContext, before: readonly string[]): void {
  const { pb, at } = tc;
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
      const of = step.ask !== undefined ? 'an ask step' : step.follow !== undefined ? (step.check === ENDPOINT ? 'an endpoint step' : 'a follow step') : `check '${step.check}'`;
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
