import { CODE_RE, everyBranch } from '../branches.js';
import { hintFor } from '../suggest.js';
import type { Step } from '../schema.js';
import { splitWords } from '../template.js';
import type { Path } from '../yaml-position.js';
import type { Semantics } from './context.js';

const SHELL_OPERATOR = /^(\|\|?|&&?|;|>>?|<<?|\d?>&\d|\d>)$/;

/** Each diagnosis key is a code, or says which code it reports; in version 2 it is UPPER_CASE (how `on:` tells it from a step). */
export function checkDiagnosisKeys({ pb, at }: Semantics): void {
  for (const [id, d] of Object.entries(pb.diagnoses)) {
    if (d.code === undefined && !CODE_RE.test(id)) {
      at(['diagnoses', id], `'${id}' is not a diagnosis code`, "name it in UPPER_CASE, or add 'code:' with the code it reports", { key: true });
    } else if (pb.version === 2 && !CODE_RE.test(id)) {
      at(['diagnoses', id], `'${id}': in version 2 a diagnosis is named in UPPER_CASE (that is how \`on:\` tells it from a step)`, "rename it, and give the code it reports with 'code:'", { key: true });
    }
  }
}

/** A fix command runs without a shell: one that needs one (a pipe, a redirection, `;`, `$(…)`) is refused here, not at --fix. */
export function checkFixCommands({ pb, at }: Semantics): void {
  for (const [code, d] of Object.entries(pb.diagnoses)) {
    const base: Path = ['diagnoses', code];
    d.fix?.commands.forEach((c, i) => {
      const words = typeof c === 'string' ? splitWords(c) : c;
      const first = (words[0] ?? '').replace(/\{\{.*?\}\}/g, '');
      if (/[;&|<>`$(){}]/.test(first) || words.some((w) => SHELL_OPERATOR.test(w) || /`|\$\(/.test(w))) {
        at([...base, 'fix', 'commands', i], 'a fix command is run without a shell: pipes, redirections and ; do not work', 'write one command per list item');
      }
    });
  }
}

/**
 * A diagnosis written without an explanation takes the one of the diagnosis its `from:` step's
 * walk ended in; without `from:` it needs its own.
 */
export function checkExplanations({ pb, at }: Semantics): void {
  for (const [code, d] of Object.entries(pb.diagnoses)) {
    if (d.explanation === undefined && d.from === undefined) at(['diagnoses', code], "missing required field 'explanation'", 'add what happened and what to do (only a diagnosis with `from:` may leave it to the nested one)');
  }
}

/**
 * `from: STEP` names a follow step, and every road to the diagnosis passes it: from the start, the
 * server's start (--ssh) and each follow step's start (a nested walk's way in), no road that
 * avoids the step ends in the diagnosis. Judged on the validated steps, when every link resolves.
 */
export function checkFromSteps({ pb, at, stepIds }: Semantics, steps: Record<string, Step>, entries: readonly string[]): void {
  const ways = [...entries, ...Object.values(steps).flatMap((s) => (s.follow && s.follow.playbook === undefined ? [s.follow.start] : []))].filter((e) => steps[e]);
  for (const [code, d] of Object.entries(pb.diagnoses)) {
    if (d.from === undefined) continue;
    const path: Path = ['diagnoses', code, 'from'];
    const step = steps[d.from];
    if (!step) {
      at(path, `unknown step '${d.from}'`, hintFor(d.from, stepIds.filter((id) => steps[id]?.follow), 'follow steps'));
      continue;
    }
    if (!step.follow) {
      at(path, `step '${d.from}' is not a follow step: there is no nested diagnosis to take`, "name a step with 'follow:' or 'check: endpoint', or remove 'from:'");
      continue;
    }
    const around = roadAvoiding(steps, ways, d.from, code);
    if (around) at(path, `not every road to ${code} passes step '${d.from}': ${around.join(' → ')} → ${code} does not`, `lead to ${code} only from '${d.from}' or the steps after it`);
  }
}

/** A road from one of `entries` to the diagnosis that never runs step `avoid` (the steps on it), or undefined. */
function roadAvoiding(steps: Record<string, Step>, entries: readonly string[], avoid: string, diagnosis: string): string[] | undefined {
  const came = new Map<string, string | null>();
  const queue: string[] = [];
  for (const e of entries) if (e !== avoid && !came.has(e)) (came.set(e, null), queue.push(e));
  while (queue.length) {
    const id = queue.shift()!;
    const step = steps[id]!;
    for (const b of everyBranch(step)) {
      if (b.diagnose === diagnosis) {
        const road = [id];
        for (let p = came.get(id); p; p = came.get(p)) road.unshift(p);
        return road;
      }
      if (b.next !== undefined && b.next !== avoid && steps[b.next] && !came.has(b.next)) (came.set(b.next, id), queue.push(b.next));
    }
  }
  return undefined;
}
