import { CODE_RE } from '../branches.js';
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
