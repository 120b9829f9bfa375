import type { Branch, Playbook } from './schema.js';
import { everyBranch } from './branches.js';

/** The diagrams `whyport playbook graph` draws: for Markdown, for Graphviz, for a terminal. */
export const GRAPH_FORMATS = ['mermaid', 'dot', 'text'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export interface Edge {
  from: string;
  to: string;
  toDiagnosis: boolean;
  label: string;
  /** Taken only after an earlier step's outcome (an `after:` case). */
  after?: string;
  /** Not a branch: a follow step's nested walk entering the playbook at its start (dotted). */
  follows?: boolean;
  /** A follow step's walk of another playbook (`playbook:`): `to` names that playbook, drawn as a node of its own. */
  toPlaybook?: boolean;
}

/** Outcomes grouped by where they lead: one arrow per target, labelled with its outcomes. */
function grouped(from: string, branches: readonly Branch[], outcomes: readonly string[] | undefined, after?: string, skip?: (o: string, to: string) => boolean, refines: Readonly<Record<string, string>> = {}): Edge[] {
  const byTarget = new Map<string, { diagnosis: boolean; labels: string[] }>();
  const taken = new Set<string>();
  const whensOf = (b: Branch) => (b.when === undefined ? undefined : Array.isArray(b.when) ? b.when : [b.when]);
  // An outcome no branch names that refines a named one goes where that one goes (Check.refines).
  const named = new Set(branches.flatMap((b) => whensOf(b) ?? []));
  const resolve = (o: string) => {
    let x = o;
    for (let n = 0; !named.has(x) && refines[x] !== undefined && n < 8; n++) x = refines[x]!;
    return named.has(x) ? x : o;
  };
  for (const b of branches) {
    const to = b.next ?? b.diagnose!;
    const whens = whensOf(b);
    const refining = whens ? (outcomes ?? []).filter((o) => !named.has(o) && whens.includes(resolve(o))) : [];
    // The catch-all stands for the outcomes no earlier branch took.
    const names = whens ? [...whens, ...refining] : outcomes ? outcomes.filter((o) => !taken.has(o)) : ['else'];
    const kept = names.filter((o) => !taken.has(o) && !(skip?.(o, to) ?? false));
    names.forEach((o) => taken.add(o));
    if (kept.length === 0) continue;
    const e = byTarget.get(to) ?? { diagnosis: b.diagnose !== undefined, labels: [] };
    e.labels.push(...kept);
    byTarget.set(to, e);
  }
  return [...byTarget].map(([to, e]) => ({ from, to, toDiagnosis: e.diagnosis, label: e.labels.join(', '), ...(after ? { after } : {}) }));
}

/** Every arrow of the playbook: each step's own branches, then those of its `after:` cases where they differ. */
function edges(pb: Pick<Playbook, 'steps'>, outcomesOf: (id: string) => readonly string[] | undefined, refinesOf: (id: string) => Readonly<Record<string, string>>): Edge[] {
  const out: Edge[] = [];
  for (const [id, step] of Object.entries(pb.steps)) {
    const outcomes = outcomesOf(id);
    out.push(...grouped(id, step.outcomes, outcomes, undefined, undefined, refinesOf(id)));
    const own = (o: string) => {
      for (const b of step.outcomes) {
        const w = b.when === undefined ? undefined : Array.isArray(b.when) ? b.when : [b.when];
        if (w === undefined || w.includes(o)) return b.next ?? b.diagnose;
      }
      return undefined;
    };
    for (const c of step.cases ?? []) {
      const named = outcomes?.filter((o) => c.outcomes.some((b) => b.when === undefined || (Array.isArray(b.when) ? b.when : [b.when]).includes(o)));
      out.push(...grouped(id, c.outcomes, named ?? outcomes, `${c.after.step}.${c.after.outcome}`, (o, to) => own(o) === to));
    }
  }
  return out;
}

const nodeId = (id: string, diagnosis: boolean) => (diagnosis ? `d_${id}` : `s_${id.replace(/-/g, '_')}`);

/** A playbook's node: its reference as written (`default`, `./db.yaml`), made a Mermaid id. */
const playbookNode = (ref: string) => `p_${ref.replace(/[^A-Za-z0-9]/g, '_')}`;

/** The arrows every drawing shows: the branches, `--ssh` leading a client verdict on to the server, a follow step's walk. */
export function playbookEdges(
  pb: Pick<Playbook, 'steps' | 'server'>,
  outcomesOf: (id: string) => readonly string[] | undefined,
  refinesOf: (id: string) => Readonly<Record<string, string>> = () => ({}),
): Edge[] {
  const all = edges(pb, outcomesOf, refinesOf);
  // With --ssh a client step's verdict leads on to the server's side.
  if (pb.server) {
    for (const [id, step] of Object.entries(pb.steps)) {
      if (step.vantage === 'client' && everyBranch(step).some((b) => b.diagnose)) {
        all.push({ from: id, to: pb.server.start, toDiagnosis: false, label: 'its verdict', after: '--ssh' });
      }
    }
  }
  // A follow step walks another target through the playbook again, from its start.
  for (const [id, step] of Object.entries(pb.steps)) {
    // One that walks another playbook enters that one: a node for it, named as written.
    if (!step.follow) continue;
    if (step.follow.playbook === undefined) all.push({ from: id, to: step.follow.start, toDiagnosis: false, label: 'follows', follows: true });
    else all.push({ from: id, to: step.follow.playbook, toDiagnosis: false, label: `walks, from ${step.follow.start}`, follows: true, toPlaybook: true });
  }
  return all;
}

/** What a step runs, as the drawings label it: `listeners · server`, `ask process`, `follow`. */
export function stepLabel(pb: Pick<Playbook, 'steps'>, id: string): string {
  const s = pb.steps[id]!;
  return `${s.check ?? (s.follow ? 'follow' : `ask ${s.ask}`)}${s.vantage ? ` · ${s.vantage}` : ''}`;
}

/** A diagnosis as the drawings label it: its key, and the code it reports when that differs. */
export function diagnosisLabel(pb: Pick<Playbook, 'diagnoses'>, d: string): string {
  const code = pb.diagnoses[d]?.code;
  return code && code !== d ? `${d} (${code})` : d;
}

/**
 * Draws the steps of a playbook and their branches to diagnoses, as Mermaid (renders in GitHub and
 * GitLab Markdown) or Graphviz dot (the text tree for a terminal is graph-text.ts).
 * Steps are boxes (id and check), diagnoses rounded (key, and the code it reports when that
 * differs); an arrow taken only after an earlier outcome is dashed, and a follow step's walk of
 * another target enters at its start by a dotted arrow (`follows`).
 */
export function playbookGraph(
  pb: Pick<Playbook, 'steps' | 'diagnoses' | 'start' | 'server'>,
  format: Exclude<GraphFormat, 'text'>,
  outcomesOf: (id: string) => readonly string[] | undefined,
  refinesOf: (id: string) => Readonly<Record<string, string>> = () => ({}),
): string {
  const all = playbookEdges(pb, outcomesOf, refinesOf);
  const playbooks = [...new Set(all.filter((e) => e.toPlaybook).map((e) => e.to))];
  const used = new Set(all.filter((e) => e.toDiagnosis).map((e) => e.to));
  const diagnoses = Object.keys(pb.diagnoses).filter((d) => used.has(d));
  const what = (id: string) => stepLabel(pb, id);
  const dlabel = (d: string) => diagnosisLabel(pb, d);
  const elabel = (e: Edge) => (e.after === '--ssh' ? `with --ssh: ${e.label}` : e.after ? `after ${e.after}: ${e.label}` : e.label);
  const arrow = (e: Edge) => (e.follows || e.after ? '-.->' : '-->');
  const lines: string[] = [];
  if (format === 'mermaid') {
    lines.push('flowchart TD');
    for (const id of Object.keys(pb.steps)) lines.push(`  ${nodeId(id, false)}["${id}<br/><i>${what(id)}</i>"]`);
    for (const d of diagnoses) lines.push(`  ${nodeId(d, true)}(["${dlabel(d)}"])`);
    for (const p of playbooks) lines.push(`  ${playbookNode(p)}[["playbook ${p.replace(/"/g, '#quot;')}"]]`);
    for (const e of all) lines.push(`  ${nodeId(e.from, false)} ${arrow(e)}|"${elabel(e)}"| ${e.toPlaybook ? playbookNode(e.to) : nodeId(e.to, e.toDiagnosis)}`);
    lines.push('  classDef diagnosis fill:#fff4e5,stroke:#b36b00');
    if (diagnoses.length) lines.push(`  class ${diagnoses.map((d) => nodeId(d, true)).join(',')} diagnosis`);
  } else {
    const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
    lines.push('digraph playbook {', '  rankdir=TB;', '  node [shape=box, fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];');
    for (const id of Object.keys(pb.steps)) lines.push(`  ${q(id)} [label=${q(`${id}\n${what(id)}`)}${id === pb.start ? ', penwidth=2' : ''}];`);
    for (const d of diagnoses) lines.push(`  ${q(d)} [label=${q(dlabel(d))}, shape=box, style="rounded,filled", fillcolor="#fff4e5"];`);
    for (const p of playbooks) lines.push(`  ${q(`playbook ${p}`)} [shape=component];`);
    for (const e of all) lines.push(`  ${q(e.from)} -> ${q(e.toPlaybook ? `playbook ${e.to}` : e.to)} [label=${q(elabel(e))}${e.follows ? ', style=dotted' : e.after ? ', style=dashed' : ''}];`);
    lines.push('}');
  }
  return lines.join('\n') + '\n';
}
