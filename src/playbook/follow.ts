import * as z from 'zod/mini';
import { CODE_RE, everyBranch } from './branches.js';
import { PLACED_FIELDS } from './placed.js';
import type { CheckDoc, Playbook, PlaybookDoc, StepDoc } from './schema.js';

/**
 * `follow:` steps: a step that diagnoses another HOST:PORT with the same playbook (a nested walk),
 * and whose outcome is the code of the diagnosis that walk ends in. What the validator, the graph
 * and the engine share of it lives here; the walk itself is src/engine/follow.ts.
 */

/** The check name a follow step's record carries (StepRecord.check), as an ask step's carries 'ask'. */
export const FOLLOW = 'follow';

/**
 * `check: endpoint` is a follow step spelled as a check: `with: { host, port, playbook?, start?,
 * inputs? }` are the fields of `follow:`. One mechanism, two spellings: the loader reads either
 * into the same validated Follow, and the walk, `from:`, the report and the graph know only that.
 */
export const ENDPOINT = 'endpoint';

/** The parameters of `check: endpoint`: the fields of `follow:`. */
export const ENDPOINT_PARAMS = ['host', 'port', 'playbook', 'start', 'inputs'] as const;
export const ENDPOINT_REQUIRED = ['host', 'port'] as const;

/** What `whyport checks` and the published schema say of `check: endpoint`. */
export const ENDPOINT_DESCRIPTION =
  'Diagnoses another HOST:PORT (a dependency: myapp needs db:5432) from where this step runs, with the chain of `playbook:` (default: this same playbook; `default` for the built-in one), and branches on its verdict';
export const ENDPOINT_OUTCOMES_TEXT = 'the codes of the diagnoses its walk may end in, in lower-kebab case (reachable, service-refuses-client, port-closed, …), and inconclusive';

/** `check: endpoint` as `whyport checks` and the published schema describe it (completions in editors). */
export function endpointDoc(): CheckDoc {
  return { description: ENDPOINT_DESCRIPTION, outcomes: [], outcomesText: ENDPOINT_OUTCOMES_TEXT, params: ENDPOINT_PARAMS, evidence: followEvidence };
}

/** A follow step as written: the `follow:` mapping, or the `with:` of `check: endpoint` read as one. */
export interface WrittenFollow {
  follow: NonNullable<StepDoc['follow']>;
  /** Where its fields are written, below the step: `follow` or `with`. */
  field: 'follow' | 'with';
}

/** The follow a step writes, either spelling; undefined for a step that follows nothing. */
export function followOf(doc: Pick<StepDoc, 'follow' | 'check' | 'with'>): WrittenFollow | undefined {
  if (doc.follow !== undefined) return { follow: doc.follow, field: 'follow' };
  if (doc.check !== ENDPOINT) return undefined;
  const w = doc.with ?? {};
  const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
  const host = text(w.host) ?? '';
  const port = typeof w.port === 'number' ? w.port : text(w.port) ?? '';
  const playbook = text(w.playbook);
  const start = text(w.start);
  const inputs = w.inputs !== null && typeof w.inputs === 'object' && !Array.isArray(w.inputs) ? (w.inputs as Record<string, string>) : undefined;
  return { follow: { host, port, ...(playbook !== undefined ? { playbook } : {}), ...(start !== undefined ? { start } : {}), ...(inputs ? { inputs } : {}) }, field: 'with' };
}

/** The playbooks a playbook's steps name in `playbook:`, by reference as written: validated, or why not. */
export type OtherPlaybooks = Readonly<Record<string, Playbook | { error: string; hint?: string }>>;

/** The ones that loaded. */
export function loadedPlaybooks(others: OtherPlaybooks): Record<string, Playbook> {
  return Object.fromEntries(Object.entries(others).filter((e): e is [string, Playbook] => !('error' in e[1])));
}

/** How deep walks may nest: the walk the user asked for, then at most this many inside it. */
export const MAX_FOLLOW_DEPTH = 3;

/** A follow step's outcome when its walk did not run or did not decide: a loop, too deep, no address, interrupted. */
export const FOLLOW_UNDECIDED = 'inconclusive';

/** A diagnosis code as a follow step's outcome: `SERVICE_FAILED` → `service-failed`. */
export function outcomeOfCode(code: string): string {
  return code.toLowerCase().replace(/_/g, '-');
}

/** The evidence of a follow step: the nested diagnosis and the target it was about. */
export const followEvidence = z.object({
  code: z.string().check(z.describe('The nested diagnosis\'s code, e.g. SERVICE_FAILED')),
  title: z.string(),
  explanation: z.string(),
  host: z.string().check(z.describe('The host followed, as the step rendered it')),
  port: z.number(),
  address: z.nullable(z.string()).check(z.describe('The address it resolved to (null: it did not)')),
  diagnosis: z.object({
    code: z.string(),
    title: z.string(),
    explanation: z.string(),
    fix: z.optional(z.unknown()),
    evidence: z.optional(z.array(z.string())),
    ...Object.fromEntries(PLACED_FIELDS.map((f) => [f, z.optional(z.unknown())])),
  }),
});

/** Where a step's branches lead, as written (either version), for walking the graph before it is validated. */
function targetsOf(doc: StepDoc): { next: string[]; diagnose: string[] } {
  const next: string[] = [];
  const diagnose: string[] = [];
  const maps = [doc.on, ...Object.values(doc.after ?? {}).map((c) => c.on)];
  for (const on of maps) for (const t of Object.values(on ?? {})) (CODE_RE.test(t) ? diagnose : next).push(t);
  for (const b of doc.outcomes ?? []) {
    if (b.next !== undefined) next.push(b.next);
    if (b.diagnose !== undefined) diagnose.push(b.diagnose);
  }
  return { next, diagnose };
}

/** The diagnoses a walk from `start` can end in, along every branch (no server side: a nested walk has none). */
export function diagnosesFrom(pb: Pick<PlaybookDoc, 'steps'>, start: string): Set<string> {
  const seen = new Set<string>();
  const out = new Set<string>();
  const queue = [start];
  while (queue.length) {
    const id = queue.shift()!;
    const doc = pb.steps[id];
    if (!doc || seen.has(id)) continue;
    seen.add(id);
    const t = targetsOf(doc);
    queue.push(...t.next);
    for (const d of t.diagnose) out.add(d);
  }
  return out;
}

/**
 * The codes, in lower-kebab case, a walk of another (validated) playbook from `start` may end in,
 * and `inconclusive`: what a follow step that walks it can have as outcomes.
 */
export function codesOfPlaybook(pb: Pick<Playbook, 'steps' | 'diagnoses'>, start: string): string[] {
  const seen = new Set<string>();
  const codes = new Set<string>([FOLLOW_UNDECIDED]);
  const queue = [start];
  while (queue.length) {
    const id = queue.shift()!;
    const step = pb.steps[id];
    if (!step || seen.has(id)) continue;
    seen.add(id);
    for (const b of everyBranch(step)) {
      if (b.next !== undefined) queue.push(b.next);
      const d = b.diagnose === undefined ? undefined : pb.diagnoses[b.diagnose];
      if (!d) continue;
      // A diagnosis that takes its follow step's nested one reports that one's code.
      const from = d.from !== undefined && d.code === undefined ? pb.steps[d.from]?.follow?.possible : undefined;
      for (const c of from ?? [outcomeOfCode(d.code ?? b.diagnose!)]) codes.add(c);
    }
  }
  return [...codes].sort();
}

/**
 * The outcomes each follow step can have: the code, in lower-kebab case, of every diagnosis its
 * walk can end in, and `inconclusive`. A diagnosis that takes a nested one (`from:`) without a
 * code of its own reports that one's code, so this is a fixpoint over the follow steps. A step
 * that walks another playbook (`playbook:`) has that one's codes (`others`, validated already);
 * one whose playbook is not there has none but `inconclusive` (its problem is reported apart).
 */
export function followOutcomes(pb: Pick<PlaybookDoc, 'steps' | 'diagnoses' | 'start'>, others: Readonly<Record<string, Playbook>> = {}): Map<string, string[]> {
  const start = pb.start ?? Object.keys(pb.steps)[0];
  const all = Object.entries(pb.steps).flatMap(([id, d]) => {
    const w = followOf(d);
    return w ? [[id, w.follow] as const] : [];
  });
  const codes = new Map<string, Set<string>>(all.map(([id]) => [id, new Set([FOLLOW_UNDECIDED])]));
  for (const [id, f] of all) {
    if (f.playbook === undefined) continue;
    const other = others[f.playbook];
    if (other) for (const c of codesOfPlaybook(other, f.start ?? other.start)) codes.get(id)!.add(c);
  }
  const follows = all.filter(([, f]) => f.playbook === undefined);
  const ends = new Map(follows.map(([id, f]) => [id, diagnosesFrom(pb, f.start ?? start ?? '')]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [id] of follows) {
      const mine = codes.get(id)!;
      for (const key of ends.get(id)!) {
        const d = pb.diagnoses[key];
        if (!d) continue;
        const from = d.from !== undefined && d.code === undefined ? codes.get(d.from) : undefined;
        const add = from ? [...from] : [outcomeOfCode(d.code ?? key)];
        for (const o of add) if (!mine.has(o)) (mine.add(o), (changed = true));
      }
    }
  }
  return new Map([...codes].map(([id, set]) => [id, [...set].sort()]));
}
