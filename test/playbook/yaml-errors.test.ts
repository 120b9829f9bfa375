import { describe, expect, it } from 'vitest';
import { checkCatalog } from '../../src/checks/index.js';
import { PlaybookError, formatLintError } from '../../src/errors.js';
import { parsePlaybook } from '../../src/playbook/load.js';

/** A small playbook with `line` as its sixth line, in the `listening` step. */
function withLine(line: string): string {
  return `version: 2\nname: x\nsteps:\n  listening:\n    check: listeners\n${line}\n    on:\n      else: DONE\ndiagnoses:\n  DONE: { title: done }\n`;
}

function problems(text: string): string[] {
  try {
    parsePlaybook(text, 'p.yaml', checkCatalog());
  } catch (err) {
    if (err instanceof PlaybookError) return err.problems.map(formatLintError);
    throw err;
  }
  return [];
}

describe('YAML syntax errors in words (the yaml library codes not covered by test/fixtures/playbooks/broken)', () => {
  it.each([
    ['BAD_SCALAR_START', '    title: @listeners', `p.yaml:6:12: error: line 6 has a value starting with '@', which YAML keeps for itself — put the value in quotes: "@listeners"`],
    ['an unclosed {', '    with: { port: 1', "p.yaml:6:11: error: the '{' on line 6 is never closed — end it with '}' on the same line"],
    ['an unclosed [', '    with: [1, 2', "p.yaml:6:11: error: the '[' on line 6 is never closed — end it with ']' on the same line"],
    ['an unclosed single quote', "    title: 'done", "p.yaml:6:12: error: line 6 opens a quoted text (') that is never closed — end the text with ' on the same line"],
    ['UNEXPECTED_TOKEN after a quote', '    title: "done" now', 'p.yaml:6:19: error: line 6 goes on after its quoted text — put all of the value inside the quotes'],
    ['no space after the colon', '    title:done', "p.yaml:6:5: error: line 6 has no space after the ':' of 'title' — write 'title: done'"],
    ['a list item among keys', '    - done', "p.yaml:6:5: error: line 6 is a list item ('- ') among the keys of a mapping — put the list under a key of its own, indented deeper than that key"],
    ['MULTIPLE_DOCS', '---', "p.yaml:6:1: error: line 6 starts a second YAML document — a playbook is one document: remove the '---' line"],
  ])('%s', (_, line, message) => {
    expect(problems(withLine(line))).toEqual([message]);
  });

  it('a line deeper than a key with a value, then the lines after it at their right place: one problem', () => {
    expect(problems(withLine('      with: { port: "1" }'))).toEqual(["p.yaml:6:7: error: line 6 is indented deeper than the key above it ('check:' on line 5, which already has its value) — indent it 4 spaces, as 'check:' is"]);
  });

  it('a file that has not shown itself a playbook still says nothing of its content', () => {
    expect(problems('root:x:0:0:\n  nested: "secret\n')).toEqual(['p.yaml:3:1: error: not valid YAML (MISSING_CHAR) — give a playbook file (start from: whyport playbook show default), or the name of a built-in one (whyport playbook list)']);
  });
});
