import * as z from 'zod/mini';
import { GUESS_SOURCES, type GuessSource } from '../checks/check.js';
import { HOST_FEATURES } from '../knowledge/host-features.js';
import type { $ZodType } from 'zod/v4/core';
import type { LintError } from '../errors.js';

/**
 * The one source of truth for playbooks: the TypeScript types, the validator and the published JSON
 * Schema (schema/playbook.schema.json, emitted at build) all come from here.
 */

const ID = /^[a-z][a-z0-9-]*$/;
const CODE = /^[A-Z][A-Z0-9_]*$/;

/** A field with its description, which editors show on hover. */
function described<T extends z.ZodMiniType>(schema: T, text: string): T {
  return schema.check(z.describe(text)) as T;
}
const opt = <T extends z.ZodMiniType>(schema: T, text?: string) => z.optional(text ? described(schema, text) : schema);

const Template = described(z.string(), 'Text with {{ placeholders }}: target.host|address|port|portName, inputs.NAME, steps.ID.outcome|summary|evidence.PATH (the fields of its check: whyport checks), last.summary');

export { GUESS_SOURCES };

export const BranchSchema = z.strictObject({
  when: opt(z.union([z.string(), z.array(z.string()).check(z.minLength(1))]), 'The outcome(s) this branch takes; omit it for the catch-all, which must come last'),
  next: opt(z.string(), 'The step to go to'),
  diagnose: opt(z.string(), 'The diagnosis to end with (a key of `diagnoses`)'),
});

// A mapping of texts is for the answers an `endpoint` step passes on (`inputs:`); a check's own parameters are flat.
const Params = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()])), z.record(z.string(), z.string())]));

/** `on:` of version 2: outcome (or `a, b`, or `else`) → a step id or a DIAGNOSIS code. */
const OnMap = described(
  z.record(z.string(), z.string()),
  'Where each outcome leads: `outcome: step-id` or `outcome: DIAGNOSIS`; several outcomes share a line as `a, b: target`; `else` is the catch-all (only for "anything else")',
);

export const CaseSchema = z.strictObject({
  with: opt(Params, 'Parameters that differ in this case (the others are the step\'s own)'),
  on: OnMap,
});

export const VANTAGES = ['client', 'server'] as const;
export type Vantage = (typeof VANTAGES)[number];

export const FollowSchema = z.strictObject({
  host: described(z.string(), 'The host to diagnose (a template, e.g. "{{ steps.ID.evidence.upstream.host }}"); the protocol is the walk\'s'),
  port: described(z.union([z.string(), z.number()]), 'Its port (a number or a template)'),
  playbook: opt(z.string(), 'The playbook its walk follows: a built-in name (default) or a file, relative to this one\'s directory; defaults to this same playbook. Validated with this one, before anything runs'),
  start: opt(z.string(), 'The step its walk starts at; defaults to the start of the playbook it walks'),
  inputs: opt(z.record(z.string(), Template), 'The answers its walk starts with (inputs of the playbook it walks; empty values are dropped). The walk\'s own answers are never passed on: they name this target\'s program, not that one\'s'),
});

export const StepSchema = z.strictObject({
  vantage: opt(z.enum(VANTAGES), 'Where the step must run: `client` (the machine whyport runs on, looking at the network) or `server` (the machine that should serve the port: here, or over ssh with --ssh); omit it for steps that run wherever the walk is'),
  check: opt(z.string(), 'The check this step runs (see `whyport checks`)'),
  ask: opt(z.string(), 'The input this step asks the user for (a key of `inputs`); outcomes: given | unknown'),
  follow: opt(
    FollowSchema,
    'Diagnoses another HOST:PORT with this same playbook (or the one named by `playbook:`), as if the user had asked for it, where this step runs (a nested walk: a reverse proxy\'s upstream, a dependency; `check: endpoint` with the same fields under `with:` is the same step). Its outcome is the code of the diagnosis that walk ends in, in lower-kebab case (REACHABLE → reachable, SERVICE_FAILED → service-failed), or inconclusive; a diagnosis may take that one with `from:`',
  ),
  quiet: opt(z.boolean(), 'With `ask`: never prompt, only tell whether the input is known from a flag'),
  title: opt(Template, 'What the spinner says while the step runs'),
  with: opt(Params, 'Parameters of the check; strings may be templates'),
  outcomes: opt(z.array(BranchSchema).check(z.minLength(1)), 'Version 1: ordered branches, the first whose `when` matches wins; end with a catch-all (no `when`)'),
  on: z.optional(OnMap),
  after: opt(
    z.record(z.string(), CaseSchema),
    'Version 2: `STEP.OUTCOME: { on: …, with: … }` — when an earlier step had that outcome, these branches (and parameters) take precedence over the step\'s own; the first case that applies wins. Several that mean the same share a key: `a.x, b.y:`',
  ),
});

export const InputSchema = z.strictObject({
  description: opt(z.string()),
  prompt: described(z.string(), 'The question put to the user'),
  flag: opt(z.string(), 'The command-line flag that answers it (documentation only; --set NAME=VALUE always does)'),
  guesses: opt(z.array(z.enum(GUESS_SOURCES)), 'Where to find likely answers to offer'),
  needs: opt(z.array(z.enum(HOST_FEATURES)), 'What the host must have for the answer to be of use (`systemd`: systemd runs as init); on a host without it the input is not asked for, and its ask step takes `unknown`'),
  choices: opt(z.array(z.string()), 'Fixed answers to offer'),
  default: opt(z.string(), 'Used without a TTY or with --yes when nothing better is known'),
  pattern: opt(z.string(), 'A regular expression answers must match (shell metacharacters are always refused)'),
});

export const FixSchema = z.strictObject({
  summary: Template,
  apply: opt(z.boolean(), 'false: the commands are for a person to run (a next step, not a fix); --fix does not run them'),
  commands: described(
    z.array(z.union([Template, z.array(Template).check(z.minLength(1))])).check(z.minLength(1)),
    'Commands run by --fix, as argv lists or as words split on spaces before templating (never a shell)',
  ),
});

export const DiagnosisSchema = z.strictObject({
  code: opt(z.string().check(z.regex(CODE)), 'The diagnosis code reported; defaults to the key (with `from:`, to the nested diagnosis\'s code)'),
  from: opt(
    z.string(),
    'A `follow:` (or `check: endpoint`) step that runs before this diagnosis on every road to it: the diagnosis is the one its walk ended in (code, explanation, evidence, fix, and the fields that name an object), except what this one gives itself: its title, its explanation if given, its evidence lines (first), its own fields and code',
  ),
  title: Template,
  explanation: opt(
    z.union([Template, z.array(Template).check(z.minLength(1))]),
    'What happened and what to do: one text, or a list of sentences joined with spaces, so that another diagnosis can share them by YAML anchor (`- &name …` where first written, `- *name` where repeated). Required unless `from:` gives it',
  ),
  evidence: opt(z.array(Template), 'Lines of evidence; a placeholder that is a list gives one line per item'),
  fix: z.optional(FixSchema),
  namespace: opt(Template, 'The network namespace the diagnosis was found in: one placeholder naming an object { kind, name, pid } (e.g. "{{ steps.ID.evidence.namespace }}"), reported as diagnosis.namespace'),
  forward: opt(Template, 'The forward the diagnosis follows: one placeholder naming an object { via, to, rule }, reported as diagnosis.forward'),
  setting: opt(Template, 'The configuration line that decides: one placeholder naming an object { file, line, text }, reported as diagnosis.setting'),
  drop: opt(Template, "Why the server's kernel drops the packets: one placeholder naming an object { reason, counter, grew }, reported as diagnosis.drop"),
  ban: opt(Template, 'The ban list that blocks the client: one placeholder naming an object { by, jail, address, since }, reported as diagnosis.ban'),
  service: opt(Template, 'What answered after the TCP handshake: one placeholder naming an object { protocol, product, said }, reported as diagnosis.service'),
  tls: opt(Template, 'What a TLS client found wrong: one placeholder naming an object { problems, subject, names, issuer, notBefore, notAfter }, reported as diagnosis.tls'),
  proxy: opt(Template, 'The reverse proxy the diagnosis follows: one placeholder naming an object { program, config, upstream, status }, reported as diagnosis.proxy'),
  path: opt(Template, 'Where on the way the packets die, from a trace: one placeholder naming an object { hops, lastHop }, reported as diagnosis.path'),
});

export const PlaybookSchema = z.strictObject({
  $schema: opt(z.string()),
  version: described(z.union([z.literal(1), z.literal(2)]), 'The playbook format version: 2 (compact `on:` maps and `after:` cases) or 1 (`outcomes:` lists)'),
  name: z.string().check(z.minLength(1)),
  description: opt(z.string()),
  start: opt(z.string(), 'The first step; defaults to the first step listed'),
  server: opt(
    z.strictObject({
      start: described(z.string(), 'The step the server\'s side starts at'),
      keep: opt(z.array(z.string()), 'Diagnoses of the client that stand whatever the server says (the port answers; the name does not resolve)'),
    }),
    'With --ssh: after the client\'s verdict the walk goes on on the server, from `start`, and the server decides (its steps may read the client\'s with `after: STEP.OUTCOME`)',
  ),
  maxSteps: opt(z.number().check(z.int(), z.positive(), z.maximum(1000)), 'A walk longer than this stops with an error (a loop)'),
  inputs: opt(z.record(z.string().check(z.regex(ID)), InputSchema)),
  steps: z.record(z.string().check(z.regex(ID)), StepSchema).check(z.refine((s) => Object.keys(s).length > 0, 'a playbook needs at least one step')),
  diagnoses: z.record(z.string(), DiagnosisSchema),
});

export type BranchDoc = z.infer<typeof BranchSchema>;
export type StepDoc = z.infer<typeof StepSchema>;
export type StepParams = z.infer<typeof Params>;

/** One branch of a validated step: outcomes (none: the catch-all) and where they lead. */
export interface Branch {
  when?: string | string[];
  next?: string;
  diagnose?: string;
}

/** Branches (and parameters) that apply instead of a step's own when an earlier step had an outcome. */
export interface StepCase {
  after: { step: string; outcome: string };
  with?: StepParams;
  outcomes: Branch[];
}

/** A validated `follow:` step's target and walk (an `endpoint` step is one too). */
export interface Follow {
  host: string;
  port: string | number;
  /** The other playbook the walk follows, as written (a key of Playbook.playbooks); none: this same one. */
  playbook?: string;
  /** The step the nested walk starts at (the start of the playbook it walks unless given). */
  start: string;
  inputs?: Record<string, string>;
  /** The outcomes the step can have: the codes its walk may end in (lower-kebab case), and inconclusive. */
  possible: string[];
}

/** A validated step, the same for both versions: ordered branches, first match wins. */
export interface Step {
  vantage?: Vantage;
  check?: string;
  ask?: string;
  follow?: Follow;
  quiet?: boolean;
  title?: string;
  with?: StepParams;
  outcomes: Branch[];
  cases?: StepCase[];
}
export type InputSpec = z.infer<typeof InputSchema>;
/** A diagnosis as written: its explanation may be a list of sentences. */
export type DiagnosisDoc = z.infer<typeof DiagnosisSchema>;
/** A validated diagnosis: its explanation is one text (none only with `from:`, which then gives it). */
export type DiagnosisSpec = Omit<DiagnosisDoc, 'explanation'> & { explanation?: string };
export type PlaybookDoc = z.infer<typeof PlaybookSchema>;
export type { GuessSource };

/** A validated playbook with where it came from. */
export interface Playbook extends Omit<PlaybookDoc, 'steps' | 'diagnoses'> {
  diagnoses: Record<string, DiagnosisSpec>;
  server?: { start: string; keep: string[] };
  steps: Record<string, Step>;
  inputs: Record<string, InputSpec>;
  start: string;
  maxSteps: number;
  source: string;
  /** Problems that do not stop the playbook from running (e.g. a diagnosis never reached). */
  warnings: LintError[];
  /** The other playbooks its follow and endpoint steps walk, validated, by reference as written (`default`, `./db.yaml`). */
  playbooks?: Record<string, Playbook>;
}

/** The outcomes of an `ask` step. */
export const ASK_OUTCOMES = ['given', 'unknown'] as const;

/** What the published schema says of each check: its parameters, outcomes and evidence. */
export interface CheckDoc {
  description: string;
  outcomes: readonly string[];
  /** Outcomes in words, for a check whose outcomes depend on the playbook (`endpoint`: the codes its walk may end in). */
  outcomesText?: string;
  params: readonly string[];
  evidence?: z.ZodMiniType | $ZodType;
}

/**
 * The JSON Schema editors use (yaml-language-server). With the checks, a step that names one is
 * completed with its parameters, and `definitions.evidence` holds the shape of each check's
 * evidence — the fields `{{ steps.ID.evidence.… }}` may name.
 */
export function playbookJsonSchema(checks?: Readonly<Record<string, CheckDoc>>): Record<string, unknown> {
  const schema = z.toJSONSchema(PlaybookSchema, { target: 'draft-7', io: 'input' }) as Record<string, any>;
  if (checks) {
    const names = Object.keys(checks);
    const step = schema.properties.steps.additionalProperties;
    step.properties.check = {
      ...step.properties.check,
      enum: names,
      markdownEnumDescriptions: names.map((n) => `${checks[n]!.description}. Outcomes: ${outcomesText(checks[n]!)}`),
    };
    step.allOf = names.map((n) => ({
      if: { properties: { check: { const: n } }, required: ['check'] },
      then: {
        properties: {
          with: { type: 'object', properties: Object.fromEntries(checks[n]!.params.map((p) => [p, {}])), additionalProperties: false },
          on: { type: 'object', propertyNames: { description: `outcomes of ${n}: ${outcomesText(checks[n]!)} (or \`else\`)` } },
        },
      },
    }));
    schema.definitions = {
      ...schema.definitions,
      evidence: Object.fromEntries(
        names.filter((n) => checks[n]!.evidence).map((n) => [n, { description: `The evidence of check '${n}': {{ steps.ID.evidence.FIELD }}`, ...(z.toJSONSchema(checks[n]!.evidence as z.ZodMiniType, { target: 'draft-7', unrepresentable: 'any' }) as object) }]),
      ),
    };
  }
  return {
    $id: 'https://whyport.dev/schema/playbook.schema.json',
    title: 'whyport playbook',
    ...schema,
  };
}

function outcomesText(c: CheckDoc): string {
  return c.outcomesText ?? c.outcomes.join(', ');
}
