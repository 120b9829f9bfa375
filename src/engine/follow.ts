import type { CheckContext } from '../checks/check.js';
import { endpointText } from '../net/endpoint.js';
import { FOLLOW, FOLLOW_UNDECIDED, MAX_FOLLOW_DEPTH, outcomeOfCode } from '../playbook/follow.js';
import { renderTemplate, renderValue } from '../playbook/template.js';
import { EXIT, exitStatusFor, type Diagnosis, type ReportTarget, type StepRecord } from '../report/model.js';
import { showCommand } from '../system/runner.js';
import { SAFE_VALUE } from './safe.js';
import { serviceTable } from '../knowledge/services.js';
import { servicesFileOf } from '../system/services.js';
import type { FollowOutcome, FollowStepRunner, Outer, WalkResult, WalkUI } from './walk-options.js';

export type { FollowOutcome } from './walk-options.js';

/** The names a target goes by up the chain: as written, and its address once resolved. */
export function targetKeys(t: Pick<ReportTarget, 'host' | 'address' | 'port'>): string[] {
  const norm = (h: string) => h.replace(/^\[|\]$/g, '').toLowerCase();
  return [...new Set([norm(t.host), ...(t.address ? [norm(t.address)] : [])])].map((h) => `${h}:${t.port}`);
}

/**
 * Runs a `follow:` step (or `check: endpoint`): renders the target and the answers, and walks the
 * same playbook for it — or the other one it names (`playbook:`, loaded and validated with this
 * one, Playbook.playbooks) — from `follow.start` in the context where the step runs — the same host and the same memoised
 * Facts (readers are keyed by what they read), without the client end of --ssh (a nested walk is
 * one context) and without the parent's answers (its --process names this target's program, not
 * that one's). The walk's steps show on the same UI, prefixed with the step's id. A target already
 * walked up the chain, or a walk nested deeper than MAX_FOLLOW_DEPTH, is not walked: inconclusive.
 */
export const followStep: FollowStepRunner = async (id, step, opts, scope, walkOf) => {
  const f = step.follow!;
  const playbook = f.playbook === undefined ? opts.playbook : opts.playbook.playbooks?.[f.playbook];
  // The validator loaded it with the playbook: a step names one that is there.
  if (!playbook) throw new Error(`steps.${id}: the playbook '${f.playbook}' was not loaded`);
  const started = performance.now();
  const host = renderTemplate(f.host, scope).trim();
  const portText = String(renderValue(f.port, scope)).trim();
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  const protocol = opts.ctx.target.protocol;
  const shown = host && port ? endpointText(host.replace(/^\[|\]$/g, ''), port) : `${host || '?'}:${portText || '?'}`;
  const inputs: Record<string, string> = {};
  for (const [name, t] of Object.entries(f.inputs ?? {})) {
    const v = renderTemplate(t, scope).trim();
    // An answer goes to commands as one argv word: a value that could not be given on the command line is not given here either.
    if (v !== '' && SAFE_VALUE.test(v)) inputs[name] = v;
  }
  const text = step.title ? renderTemplate(step.title, scope) : `following ${shown}: the same checks, as if you had asked for it`;
  opts.ui.stepStarted(id, text);

  const outer: Outer = opts.outer ?? { targets: [], depth: 0 };
  const chain = [...outer.targets, ...targetKeys(scope.target)];
  const planned: ReportTarget = { host: host || '?', address: null, port: Number.isFinite(port) ? port : 0, protocol, local: false };
  const skip = (why: string): FollowOutcome => {
    const diagnosis: Diagnosis = { code: 'INCONCLUSIVE', title: `${shown} was not followed`, explanation: `${shown} was not diagnosed: ${why}.`, fix: null, applied: null };
    const nested: WalkResult = { target: planned, steps: [], diagnosis, fixArgv: [], findings: [], answers: inputs, interrupted: false };
    return { record: recordOf(id, step.check ?? FOLLOW, planned, nested, started, `${shown}: not followed — ${why}`, command()), findings: [], nested, interrupted: false };
  };
  function command(): string {
    const words = ['whyport', host.replace(/^\[|\]$/g, '') || '?', String(Number.isFinite(port) ? port : portText || '?')];
    if (protocol === 'udp') words.push('--udp');
    if (playbook!.name !== 'default') words.push('--playbook', playbook!.source);
    for (const [k, v] of Object.entries(inputs)) words.push('--set', `${k}=${v}`);
    return showCommand(words);
  }

  if (!host || !(port >= 1 && port <= 65535)) return skip(`the address to follow is not known (host '${host}', port '${portText}')`);
  if (targetKeys({ host, address: null, port }).some((k) => chain.includes(k))) return skip(`${shown} is already being diagnosed further up (a loop)`);
  if (outer.depth >= MAX_FOLLOW_DEPTH) return skip(`it would be walk ${outer.depth + 2} inside one another, and at most ${MAX_FOLLOW_DEPTH} are followed`);

  // The same host and Facts; the target is the new one, and a nested walk has no client end. Its
  // port is named as the command line would name it (/etc/services of the host the step runs on):
  // the protocol step expects PostgreSQL on 5432 as it would for \`whyport db 5432\`.
  const { client: _client, ...rest } = opts.ctx;
  const table = serviceTable(await opts.ctx.facts.read(servicesFileOf, undefined));
  const portName = (protocol === 'udp' ? table.udp : table).byPort.get(port);
  const ctx: CheckContext = { ...rest, target: { host, port, protocol, ...(portName ? { portName } : {}) } };
  const nested = await walkOf({
    playbook,
    ctx,
    checks: opts.checks,
    guessers: opts.guessers,
    answers: inputs,
    interactive: opts.interactive,
    ui: prefixedUI(opts.ui, id),
    ...(opts.signal ? { signal: opts.signal } : {}),
    start: f.start,
    outer: { targets: chain, depth: outer.depth + 1 },
    ...(opts.followStep ? { followStep: opts.followStep } : {}),
    // --fix's consent holds for the nested walk's steps too (each still asks, as the outer's do).
    ...(opts.mayChange ? { mayChange: opts.mayChange } : {}),
  });
  // Its steps stopped this step's spinner: start it again, for the walk to end it with the verdict.
  if (nested.steps.length) opts.ui.stepStarted(id, text);
  const d = nested.diagnosis;
  const summary = nested.interrupted ? `${shown}: interrupted while it was being diagnosed` : `${shown}: ${d.code} — ${d.title}`;
  const findings = nested.findings.map((x) => ({ code: x.code, summary: `${shown}: ${x.summary}`, ...(x.step ? { step: `${id} › ${x.step}` } : { step: id }) }));
  return { record: recordOf(id, step.check ?? FOLLOW, nested.target, nested, started, summary, command()), findings, nested, interrupted: nested.interrupted };
};

function recordOf(id: string, check: string, target: ReportTarget, nested: WalkResult, started: number, summary: string, command: string): StepRecord {
  const d = nested.diagnosis;
  const undecided = nested.interrupted || exitStatusFor(d.code) === EXIT.inconclusive;
  return {
    id,
    check,
    outcome: nested.interrupted ? FOLLOW_UNDECIDED : outcomeOfCode(d.code),
    summary,
    command,
    durationMs: Math.round(performance.now() - started),
    evidence: { code: d.code, title: d.title, explanation: d.explanation, host: target.host, port: target.port, address: target.address, diagnosis: d },
    status: d.code === 'REACHABLE' && !nested.interrupted ? 'pass' : undecided ? 'info' : 'fail',
    follow: {
      target,
      steps: nested.steps,
      diagnosis: d,
      ...(nested.diagnosisId ? { diagnosisId: nested.diagnosisId } : {}),
      ...(nested.interrupted ? { interrupted: true } : {}),
    },
  };
}

/** The parent's UI for a nested walk: its steps and questions shown under the follow step's id. */
function prefixedUI(ui: WalkUI, id: string): WalkUI {
  const mark = (s: string) => `${id} › ${s}`;
  return {
    stepStarted: (stepId, text) => ui.stepStarted(mark(stepId), mark(text)),
    stepFinished: (record) => ui.stepFinished({ ...record, id: mark(record.id), summary: mark(record.summary) }),
    ask: (q) => ui.ask({ ...q, message: mark(q.message) }),
  };
}
