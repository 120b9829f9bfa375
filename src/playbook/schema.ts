import { z } from 'zod';
import type { LintError } from '../errors.js';

/**
 * The one source of truth for playbooks: the TypeScript types, the validator and the published JSON
 * Schema (schema/playbook.schema.json, emitted at build) all come from here.
 */

const ID = /^[a-z][a-z0-9-]*$/;
const CODE = /^[A-Z][A-Z0-9_]*$/;

const Template = z.string().describe('Text with {{ placeholders }}: target.host|address|port|portName, inputs.NAME, steps.ID.outcome|summary|evidence.PATH, last.summary');

export const GUESS_SOURCES = [
  'programs-for-port',
  'units-for-port',
  'unit-for-process',
  'running-programs',
] as const;

export const BranchSchema = z
  .object({
    when: z
      .union([z.string(), z.array(z.string()).min(1)])
      .optional()
      .describe('The outcome(s) this branch takes; omit it for the catch-all, which must come last'),
    next: z.string().optional().describe('The step to go to'),
    diagnose: z.string().optional().describe('The diagnosis to end with (a key of `diagnoses`)'),
  })
  .strict();

export const StepSchema = z
  .object({
    check: z.string().optional().describe('The check this step runs (see `whyport checks`)'),
    ask: z.string().optional().describe('The input this step asks the user for (a key of `inputs`); outcomes: given | unknown'),
    quiet: z.boolean().optional().describe('With `ask`: never prompt, only tell whether the input is known from a flag'),
    title: Template.optional().describe('What the spinner says while the step runs'),
    with: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]))
      .optional()
      .describe('Parameters of the check; strings may be templates'),
    outcomes: z.array(BranchSchema).min(1).describe('Ordered branches: the first whose `when` matches wins; end with a catch-all (no `when`)'),
  })
  .strict();

export const InputSchema = z
  .object({
    description: z.string().optional(),
    prompt: Template.describe('The question put to the user'),
    flag: z.string().optional().describe('The command-line flag that answers it (documentation only; --set NAME=VALUE always does)'),
    guesses: z.array(z.enum(GUESS_SOURCES)).optional().describe('Where to find likely answers to offer'),
    choices: z.array(z.string()).optional().describe('Fixed answers to offer'),
    default: z.string().optional().describe('Used without a TTY or with --yes when nothing better is known'),
    pattern: z.string().optional().describe('A regular expression answers must match (shell metacharacters are always refused)'),
  })
  .strict();

export const FixSchema = z
  .object({
    summary: Template,
    apply: z.boolean().optional().describe('false: the commands are for a person to run (a next step, not a fix); --fix does not run them'),
    commands: z
      .array(z.union([Template, z.array(Template).min(1)]))
      .min(1)
      .describe('Commands run by --fix, as argv lists or as words split on spaces before templating (never a shell)'),
  })
  .strict();

export const DiagnosisSchema = z
  .object({
    code: z.string().regex(CODE).optional().describe('The diagnosis code reported; defaults to the key'),
    title: Template,
    explanation: Template,
    evidence: z.array(Template).optional().describe('Lines of evidence; a placeholder that is a list gives one line per item'),
    fix: FixSchema.optional(),
  })
  .strict();

export const PlaybookSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1).describe('The playbook format version'),
    name: z.string().min(1),
    description: z.string().optional(),
    start: z.string().optional().describe('The first step; defaults to the first step listed'),
    maxSteps: z.number().int().positive().max(1000).optional().describe('A walk longer than this stops with an error (a loop)'),
    inputs: z.record(z.string().regex(ID), InputSchema).optional(),
    steps: z.record(z.string().regex(ID), StepSchema).refine((s) => Object.keys(s).length > 0, 'a playbook needs at least one step'),
    diagnoses: z.record(z.string(), DiagnosisSchema),
  })
  .strict();

export type Branch = z.infer<typeof BranchSchema>;
export type Step = z.infer<typeof StepSchema>;
export type InputSpec = z.infer<typeof InputSchema>;
export type DiagnosisSpec = z.infer<typeof DiagnosisSchema>;
export type PlaybookDoc = z.infer<typeof PlaybookSchema>;
export type GuessSource = (typeof GUESS_SOURCES)[number];

/** A validated playbook with where it came from. */
export interface Playbook extends PlaybookDoc {
  inputs: Record<string, InputSpec>;
  start: string;
  maxSteps: number;
  source: string;
  /** Problems that do not stop the playbook from running (e.g. a diagnosis never reached). */
  warnings: LintError[];
}

/** The outcomes of an `ask` step. */
export const ASK_OUTCOMES = ['given', 'unknown'] as const;

/** The JSON Schema editors use (yaml-language-server). */
export function playbookJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PlaybookSchema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  return {
    $id: 'https://whyport.dev/schema/playbook.schema.json',
    title: 'whyport playbook',
    ...schema,
  };
}
