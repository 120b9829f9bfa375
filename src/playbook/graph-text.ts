import { displayWidth, wrap } from '../text/terminal.js';
import { diagnosisLabel, playbookEdges, stepLabel, type Edge } from './graph.js';
import type { Playbook } from './schema.js';

/** Narrower than this, a subtree starts again at the left margin as a section of its own. */
const MIN_ROOM = 36;

interface Child {
  label: string;
  to: string;
  toDiagnosis: boolean;
  follows?: boolean;
  /** A walk of another playbook: `to` names it. */
  toPlaybook?: boolean;
}

/**
 * The chain as a tree for a terminal (an ssh session has no Mermaid): from the start step, each
 * step with its check, each group of outcomes → the next step (drawn beneath it) or a DIAGNOSIS.
 * A step reached by several roads is drawn once, beneath the road that reaches it soonest, and
 * named elsewhere ("→ see firewall above"). `after:` cases and the `--ssh` hand-over are groups of
 * their own under the step. No line is wider than `width`: labels wrap beneath themselves, and a
 * subtree that would be pushed too far right starts again at the margin, below.
 */
export function textGraph(
  pb: Pick<Playbook, 'steps' | 'diagnoses' | 'start' | 'server'>,
  outcomesOf: (id: string) => readonly string[] | undefined,
  refinesOf: (id: string) => Readonly<Record<string, string>>,
  width: number,
): string {
  const edges = playbookEdges(pb, outcomesOf, refinesOf);
  const from = new Map<string, Edge[]>();
  for (const e of edges) from.set(e.from, [...(from.get(e.from) ?? []), e]);

  // Each step is drawn under the road that reaches it soonest (breadth first from the start).
  const home = new Map<string, string>();
  const queue = [pb.start];
  const seen = new Set(queue);
  for (let i = 0; i < queue.length; i++) {
    for (const e of from.get(queue[i]!) ?? []) {
      if (e.toDiagnosis || e.toPlaybook || seen.has(e.to)) continue;
      seen.add(e.to);
      home.set(e.to, `${e.from}\0${e.after ?? ''}\0${e.label}`);
      queue.push(e.to);
    }
  }

  const out: string[] = [];
  const drawn = new Set<string>();
  const later: string[] = [];
  const push = (first: string, rest: string, text: string) => {
    const lines = wrap(text, Math.max(12, width - displayWidth(rest)));
    lines.forEach((l, i) => out.push(`${i === 0 ? first : rest}${l}`.trimEnd()));
  };
  // A step named after its check says it once: `client-firewall · client`, not `client-firewall (client-firewall · client)`.
  const stepName = (id: string) => {
    const label = stepLabel(pb, id);
    return label === id ? id : label.startsWith(`${id} · `) ? label : `${id} (${label})`;
  };

  const drawStep = (id: string, indent: string) => {
    drawn.add(id);
    const groups = childrenOf(from.get(id) ?? []);
    groups.forEach((g, gi) => {
      const lastGroup = gi === groups.length - 1;
      let pre = indent;
      const items = g.children;
      if (g.title) {
        push(`${indent}${lastGroup ? '└─ ' : '├─ '}`, `${indent}${lastGroup ? '   ' : '│  '}`, g.title);
        pre = `${indent}${lastGroup ? '   ' : '│  '}`;
      }
      items.forEach((c, ci) => {
        const last = ci === items.length - 1 && (g.title !== undefined || lastGroup);
        const branch = `${pre}${last ? '└─ ' : '├─ '}`;
        const under = `${pre}${last ? '   ' : '│  '}`;
        const key = `${id}\0${g.after ?? ''}\0${c.label}`;
        if (c.toDiagnosis) return push(branch, `${under}   `, `${c.label} → ${diagnosisLabel(pb, c.to)}`);
        if (c.toPlaybook) return push(branch, `${under}   `, `another HOST:PORT through playbook ${c.to} (${c.label})`);
        const mine = home.get(c.to) === key && !drawn.has(c.to) && !c.follows;
        if (mine && width - displayWidth(under) >= MIN_ROOM) {
          push(branch, `${under}   `, `${c.label} → ${stepName(c.to)}`);
          return drawStep(c.to, under);
        }
        if (mine) later.push(c.to);
        const where = drawn.has(c.to) ? 'above' : 'below';
        push(branch, `${under}   `, c.follows ? `${c.label} another HOST:PORT through this playbook → see ${c.to} ${where}` : `${c.label} → see ${c.to} ${where}`);
      });
    });
  };

  out.push(`${stepName(pb.start)}`);
  drawStep(pb.start, '');
  // Subtrees that had no room where they hang, and steps no branch reaches from the start.
  const rest = [...later, ...Object.keys(pb.steps).filter((id) => !seen.has(id))];
  for (let id = rest.shift(); id !== undefined; id = rest.shift()) {
    if (drawn.has(id)) continue;
    out.push('', stepName(id));
    const before = later.length;
    drawStep(id, '');
    rest.unshift(...later.slice(before));
  }
  return out.join('\n') + '\n';
}

interface Group {
  /** `after sockets.accept-queue-full:`, `with --ssh:`; none for the step's own branches. */
  title?: string;
  after?: string;
  children: Child[];
}

/** A step's arrows in groups: its own branches (and its follow walk), then each `after:` case, then `--ssh`. */
function childrenOf(edges: readonly Edge[]): Group[] {
  const groups: Group[] = [];
  const own = edges.filter((e) => !e.after);
  if (own.length) groups.push({ children: own.map(child) });
  const afters = [...new Set(edges.filter((e) => e.after).map((e) => e.after!))];
  for (const a of afters) groups.push({ title: a === '--ssh' ? 'with --ssh:' : `after ${a}:`, after: a, children: edges.filter((e) => e.after === a).map(child) });
  return groups;
}

function child(e: Edge): Child {
  return { label: e.label, to: e.to, toDiagnosis: e.toDiagnosis, ...(e.follows ? { follows: true } : {}), ...(e.toPlaybook ? { toPlaybook: true } : {}) };
}
