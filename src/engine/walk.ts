import { runCheck, type AnyCheck, type CheckContext, type CheckFinding, type CheckResult } from '../checks/check.js';
import { UsageError } from '../errors.js';
import type { Guess, GuessProviders } from '../checks/guesses.js';
import type { Playbook, Step } from '../playbook/schema.js';
import { PLACED_FIELDS, type PlacedField } from '../playbook/placed.js';
import { renderCommand, renderTemplate, renderValue } from '../playbook/template.js';
import type { Diagnosis, Finding, ReportTarget, StepRecord } from '../report/model.js';
import { showCommand } from '../system/runner.js';
import { safeParse } from 'zod/mini';
import { SAFE_VALUE } from './safe.js';
import { MISSING_FEATURE } from '../knowledge/host-features.js';
import { activeCase, transition, type History } from './transition.js';
import { untilAborted } from '../host/abortable.js';
import { followStep } from './follow.js';
import type { WalkOptions, WalkResult } from './walk-options.js';

export type { Question, WalkUI, WalkOptions, WalkResult } from './walk-options.js';

export class InterruptedError extends Error {
  constructor() {
    super('interrupted');
    this.name = 'InterruptedError';
  }
}

/** Walks the playbook from its start to a diagnosis: run a check, take the branch, repeat. */
export async function walk(opts: WalkOptions): Promise<WalkResult> {
  const { playbook, ctx } = opts;
  const answers = { ...opts.answers };
  const steps: StepRecord[] = [...(opts.before?.steps ?? [])];
  const findings: Finding[] = [...(opts.before?.findings ?? [])];
  const followed: Record<string, WalkResult> = { ...opts.before?.followed };
  let target: ReportTarget;
  try {
    target = opts.before?.target ?? (await untilAborted(reportTarget(ctx), opts.signal, () => new InterruptedError()));
  } catch (err) {
    if (!(err instanceof InterruptedError)) throw err;
    // Interrupted while the name resolved: the target as typed, nothing found yet.
    target = { host: ctx.target.host, address: null, port: ctx.target.port, protocol: ctx.target.protocol, local: false, ...(ctx.target.portName ? { portName: ctx.target.portName } : {}), addresses: [] };
    return interrupted();
  }
  const scope = { target: { ...target, ...portCommands(target) }, inputs: answers as Record<string, string>, steps: {} as Record<string, StepRecord>, last: steps.at(-1) };

  const history: Record<string, string> = {};
  for (const s of steps) {
    scope.steps[s.id] = s;
    history[s.id] = s.outcome;
  }
  let stepId = opts.start ?? playbook.start;
  for (let n = 0; ; n++) {
    if (n >= playbook.maxSteps) {
      const trail = steps.slice(-6).map((s) => s.id).join(' → ');
      throw new UsageError(`playbook ${playbook.source} took ${playbook.maxSteps} steps without reaching a diagnosis (a loop: … ${trail})`, 'make a branch end in `diagnose`, or raise maxSteps');
    }
    if (opts.signal?.aborted) return interrupted();
    const step = playbook.steps[stepId]!;
    if (opts.stopAtServer && step.vantage === 'server') {
      return { target, steps, diagnosis: { code: 'INCONCLUSIVE', title: 'The server side follows', explanation: '', fix: null, applied: null }, fixArgv: [], findings, answers: known(answers, steps), interrupted: false, pending: stepId, followed };
    }
    const where = opts.vantages ? (step.vantage ?? opts.vantages.at) : undefined;
    const at = where && opts.vantages ? opts.vantages[where] : opts.ctx;
    const consent = opts.mayChange;
    const here = { ...opts, ctx: consent ? { ...at, mayChange: (command: string) => consent(command, where) } : at };
    let ran: { record: StepRecord; findings: readonly (CheckFinding & { step?: string })[]; interrupted?: boolean };
    if (step.follow !== undefined) {
      // Not raced against Ctrl-C: the nested walk ends itself, and its steps go in the partial report.
      const f = await (opts.followStep ?? followStep)(stepId, step, here, scope, walk);
      if (f.nested) followed[stepId] = f.nested;
      ran = f;
    } else {
      try {
        // Ctrl-C ends the step at once: its commands and probes are killed through the host (abortable.ts).
        ran = await untilAborted(
          step.ask !== undefined ? askStep(stepId, step, here, scope, answers).then((r) => ({ record: r, findings: [] })) : checkStep(stepId, step, here, scope, history),
          opts.signal,
          () => new InterruptedError(),
        );
      } catch (err) {
        if (err instanceof InterruptedError) return interrupted(stepId);
        throw err;
      }
    }
    const record: StepRecord = where ? { ...ran.record, where } : ran.record;
    // A nested walk's findings say which of its steps noticed them.
    const noticed = ran.findings.map((f) => ({ ...f, step: f.step ?? stepId }));
    if (ran.interrupted || opts.signal?.aborted) {
      steps.push(record);
      if (ran.interrupted) findings.push(...noticed);
      return interrupted();
    }
    steps.push(record);
    scope.steps[stepId] = record;
    scope.last = record;
    findings.push(...noticed);
    opts.ui.stepFinished(record);

    history[stepId] = record.outcome;
    const t = transition(playbook, stepId, record.outcome, history, (step.check !== undefined && opts.checks[step.check]?.refines as Readonly<Record<string, string>> | undefined) || {});
    if (t.kind === 'step') {
      stepId = t.step;
      continue;
    }
    const { diagnosis, fixArgv } = renderDiagnosis(playbook, t.diagnosis, scope, followed);
    return { target, steps, diagnosis, fixArgv, findings, answers: known(answers, steps), interrupted: false, diagnosisId: t.diagnosis, followed };
  }

  function interrupted(during?: string): WalkResult {
    return {
      target,
      steps,
      diagnosis: {
        code: 'INCONCLUSIVE',
        title: 'Interrupted before a diagnosis',
        explanation: `The walk was interrupted after ${steps.length} step${steps.length === 1 ? '' : 's'}${during ? `, while step ${during} ran` : ''}; what was found so far is below.`,
        fix: null,
        applied: null,
      },
      fixArgv: [],
      findings,
      answers: known(answers, steps),
      interrupted: true,
      followed,
    };
  }
}

/** The answers that came from the user, not from a guess taken with --yes. */
function known(answers: Record<string, string>, steps: StepRecord[]): Record<string, string> {
  const guessed = new Set(steps.filter((s) => s.check === 'ask' && s.evidence.source === 'guess').map((s) => String(s.evidence.input)));
  return Object.fromEntries(Object.entries(answers).filter(([k]) => !guessed.has(k)));
}

/**
 * Commands a playbook's fix names in words that fit either protocol: `{{ target.listeners }}` lists
 * what listens on the port (TCP) or is bound to it (UDP), `{{ target.sockets }}` every socket of the
 * port in any state; both with their owners, as argv (a placeholder standing alone is the command).
 */
export function portCommands(target: Pick<ReportTarget, 'port' | 'protocol'>): { listeners: string[]; sockets: string[] } {
  const p = target.protocol === 'udp' ? 'u' : 't';
  // One word, as the steps' own commands pass it (`ss -Htlnp 'sport = :80'`): shown quoted, the
  // way a shell takes it, and the same argv whether a person or --fix runs it.
  const filter = `sport = :${target.port}`;
  return { listeners: ['ss', `-H${p}lnp`, filter], sockets: ['ss', `-H${p}anp`, filter] };
}

async function reportTarget(ctx: CheckContext): Promise<ReportTarget> {
  const { target, facts } = ctx;
  const res = await facts.resolve(target.host);
  const addresses = res.ok ? res.addresses.map((a) => a.address) : [];
  const address = addresses[0] ?? null;
  return {
    host: target.host,
    address,
    port: target.port,
    protocol: target.protocol,
    local: address !== null && (await Promise.all(addresses.map((a) => facts.isLocalAddress(a)))).some(Boolean),
    ...(target.portName ? { portName: target.portName } : {}),
    addresses,
  };
}

/** A step's record for the report, and what its check noticed beside the outcome ("Also noticed"). */
interface StepResult {
  record: StepRecord;
  findings: readonly CheckFinding[];
}

async function checkStep(id: string, step: Step, opts: WalkOptions, scope: object, history: History): Promise<StepResult> {
  const check = step.check === undefined ? undefined : opts.checks[step.check];
  // The playbook was validated against the same checks: a step names one that exists.
  if (!check) throw new Error(`steps.${id}: no check ${step.check}`);
  const rendered: Record<string, unknown> = {};
  // A case chosen by an earlier outcome may give some parameters of its own.
  const withs = { ...step.with, ...activeCase(step, history)?.with };
  for (const [k, v] of Object.entries(withs)) rendered[k] = renderValue(v, scope);
  const params = safeParse(check.params, rendered);
  if (!params.success) {
    const issue = params.error.issues[0]!;
    throw new UsageError(
      `${opts.playbook.source}: steps.${id}.with.${issue.path.join('.')}: ${issue.message} (got ${JSON.stringify(rendered[String(issue.path[0])])})`,
      'check the placeholders this parameter is built from',
    );
  }
  const text = step.title ? renderTemplate(step.title, scope) : check.describe(params.data as never, opts.ctx);
  opts.ui.stepStarted(id, text);
  const started = performance.now();
  const result = (await runCheck(check as AnyCheck, params.data, opts.ctx)) as CheckResult;
  const record: StepRecord = {
    id,
    check: step.check!,
    outcome: result.outcome,
    summary: result.summary,
    command: result.command,
    durationMs: Math.round(performance.now() - started),
    evidence: result.evidence,
    status: result.status,
  };
  return { record, findings: result.findings ?? [] };
}

async function askStep(id: string, step: Step, opts: WalkOptions, scope: object, answers: Record<string, string>): Promise<StepRecord> {
  const name = step.ask!;
  const spec = opts.playbook.inputs[name]!;
  const started = performance.now();
  const record = (outcome: 'given' | 'unknown', summary: string, evidence: Record<string, unknown>): StepRecord => ({
    id,
    check: 'ask',
    outcome,
    summary,
    command: '',
    durationMs: Math.round(performance.now() - started),
    evidence: { input: name, ...evidence },
    status: 'info',
  });

  const known = answers[name];
  if (known) return record('given', `${name}: ${known} (given on the command line)`, { value: known, source: 'flag' });
  if (step.quiet) return record('unknown', `${name} not given: the checks that need it are skipped`, { source: 'none' });
  // An answer the host cannot use is not asked for (which systemd unit, where systemd does not run).
  for (const feature of spec.needs ?? []) {
    if (!(await opts.ctx.facts.has(feature))) return record('unknown', `${name}: not asked — ${MISSING_FEATURE[feature]}`, { source: 'none' });
  }

  const message = renderTemplate(spec.prompt, scope);
  opts.ui.stepStarted(id, message);
  const guesses = await gatherGuesses(spec.guesses ?? [], opts, answers);
  const pattern = spec.pattern ? new RegExp(spec.pattern) : undefined;
  const validate = (answer: string): true | string => {
    if (answer === '') return true;
    if (!SAFE_VALUE.test(answer)) return 'letters, digits and . _ - @ : + / only (the answer is passed to commands as one word)';
    if (pattern && !pattern.test(answer)) return `the answer must match ${spec.pattern}`;
    return true;
  };

  if (opts.interactive) {
    const answer = (await opts.ui.ask({ input: name, message, guesses, choices: spec.choices ?? [], ...(spec.default ? { default: spec.default } : {}), validate })).trim();
    if (answer === '') return record('unknown', `${name}: you did not know`, { source: 'answer', guesses });
    answers[name] = answer;
    return record('given', `${name}: ${answer} (your answer)`, { value: answer, source: 'answer', guesses });
  }
  const likely = guesses.find((g) => g.likely && validate(g.value) === true);
  if (likely) {
    answers[name] = likely.value;
    // Say what else was considered, so a wrong pick is easy to correct with a flag.
    const others = guesses.filter((g) => g !== likely).slice(0, 4);
    const also = others.length ? `; also considered: ${others.map((g) => `${g.value} (${g.reason})`).join(', ')}` : '';
    return record('given', `${name}: guessed ${likely.value} (${likely.reason})${also}`, { value: likely.value, source: 'guess', guesses });
  }
  if (spec.default) {
    answers[name] = spec.default;
    return record('given', `${name}: ${spec.default} (the playbook's default)`, { value: spec.default, source: 'default', guesses });
  }
  const hint = guesses.length ? `; candidates: ${guesses.map((g) => g.value).join(', ')}` : '';
  return record('unknown', `${name} is not known (not given, nothing likely found${hint})`, { source: 'none', guesses });
}

async function gatherGuesses(sources: readonly string[], opts: WalkOptions, answers: Record<string, string>): Promise<Guess[]> {
  const lists = await Promise.all(sources.map((s) => opts.guessers[s as keyof GuessProviders](opts.ctx, answers).catch(() => [] as Guess[])));
  const seen = new Set<string>();
  const out: Guess[] = [];
  for (const g of lists.flat()) {
    if (seen.has(g.value)) continue;
    seen.add(g.value);
    out.push(g);
  }
  // Stable: among equally likely guesses, higher ranks first, then the order of the sources.
  return out.sort((a, b) => Number(b.likely) - Number(a.likely) || (b.rank ?? 0) - (a.rank ?? 0));
}

/**
 * Renders the diagnosis `id` of the playbook against what the walk found. A diagnosis with `from:`
 * is the one its follow step's walk ended in (`followed`), with what the spec gives itself on top:
 * its title, its explanation if written, its evidence lines first, its own placed fields, its
 * code and fix if written. When that walk did not run, the spec alone, as INCONCLUSIVE unless it
 * names a code.
 */
export function renderDiagnosis(playbook: Pick<Playbook, 'diagnoses'>, id: string, scope: object, followed: Readonly<Record<string, Pick<WalkResult, 'diagnosis' | 'fixArgv'>>> = {}): { diagnosis: Diagnosis; fixArgv: string[][] } {
  const spec = playbook.diagnoses[id]!;
  const evidence: string[] = [];
  for (const line of spec.evidence ?? []) {
    const v = renderValue(line, scope);
    const lines = Array.isArray(v) ? v.map(String) : String(v).split('\n');
    evidence.push(...lines.filter((l) => l.trim() !== ''));
  }
  const commands = (spec.fix?.commands ?? []).map((c) => renderCommand(c, scope)).filter((argv) => argv.length > 0);
  const ownPlaced: Partial<Diagnosis> = Object.assign({}, ...PLACED_FIELDS.map((f) => placed(f, spec[f], scope)));
  const title = renderTemplate(spec.title, scope).trim();
  const explanation = spec.explanation === undefined ? undefined : renderTemplate(spec.explanation, scope).trim();
  const fix = spec.fix ? { summary: renderTemplate(spec.fix.summary, scope).trim(), commands: commands.map(showCommand), ...(spec.fix.apply === false ? { manual: true } : {}) } : null;
  const fixArgv = spec.fix?.apply === false ? [] : commands;
  const inner = spec.from === undefined ? undefined : followed[spec.from];
  if (!inner) {
    const code = spec.code ?? (spec.from === undefined ? id : 'INCONCLUSIVE');
    return { diagnosis: { code, title, explanation: explanation ?? '', fix, applied: null, ...(evidence.length ? { evidence } : {}), ...ownPlaced }, fixArgv };
  }
  const d = inner.diagnosis;
  const innerPlaced: Partial<Diagnosis> = Object.fromEntries(PLACED_FIELDS.filter((f) => d[f] !== undefined).map((f) => [f, d[f]]));
  const allEvidence = [...evidence, ...(d.evidence ?? [])];
  return {
    diagnosis: {
      code: spec.code ?? d.code,
      title,
      explanation: explanation ?? d.explanation,
      fix: spec.fix ? fix : d.fix,
      applied: null,
      ...(allEvidence.length ? { evidence: allEvidence } : {}),
      ...innerPlaced,
      ...ownPlaced,
    },
    fixArgv: spec.fix ? fixArgv : inner.fixArgv,
  };
}

/** A diagnosis field that names an object of the evidence (namespace, forward): there when the walk found it. */
function placed(key: PlacedField, template: string | undefined, scope: object): Record<string, unknown> {
  if (template === undefined) return {};
  const v = renderValue(template, scope);
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? { [key]: v } : {};
}
