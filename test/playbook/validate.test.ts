/**
 * Every broken playbook in test/fixtures/playbooks/broken is rejected with the messages stored
 * beside it (<name>.expected.txt). To regenerate them after an intended change of wording:
 *   UPDATE_GOLDEN=1 npx vitest run test/playbook/validate.test.ts
 * and read the diff.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCatalog } from '../../src/checks/index.js';
import { PlaybookError, formatLintError } from '../../src/errors.js';
import { parsePlaybook } from '../../src/playbook/load.js';

const DIR = join(import.meta.dirname, '../fixtures/playbooks/broken');
const update = process.env.UPDATE_GOLDEN === '1';

function problemsOf(file: string): string {
  const text = readFileSync(join(DIR, file), 'utf8');
  try {
    parsePlaybook(text, file, checkCatalog());
  } catch (err) {
    if (err instanceof PlaybookError) return err.problems.map(formatLintError).join('\n') + '\n';
    throw err;
  }
  return '';
}

describe('broken playbooks are rejected with placed, helpful messages', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml'))) {
    it(file, () => {
      const got = problemsOf(file);
      expect(got, 'a broken playbook must not validate').not.toBe('');
      const golden = join(DIR, file.replace(/\.yaml$/, '.expected.txt'));
      if (update || !existsSync(golden)) writeFileSync(golden, got);
      expect(got).toBe(readFileSync(golden, 'utf8'));
      // Every line names file:line:col.
      for (const line of got.trim().split('\n')) expect(line).toMatch(new RegExp(`^${file.replace('.', '\\.')}:\\d+:\\d+: (error|warning): `));
    });
  }
});

describe('specific messages', () => {
  it('names the step with a did-you-mean hint and its exact position', () => {
    const out = problemsOf('unknown-step.yaml');
    expect(out).toContain("unknown-step.yaml:10:15: error: steps.where.outcomes[1].next: unknown step 'lisen' — did you mean 'listen'?");
  });
  it('suggests the check name', () => {
    expect(problemsOf('unknown-check.yaml')).toContain("unknown check 'listner' — did you mean 'listeners'?");
  });
  it('lists outcomes a step does not handle', () => {
    expect(problemsOf('unhandled-outcomes.yaml')).toMatch(/outcomes not handled: partial, timeout, unreachable, unresolved — add branches/);
  });
  it("a playbook written before UDP's outcomes still validates: each refines one it names", () => {
    const text = `version: 2
name: tcp-era
steps:
  where:
    check: target
    with: { host: "{{ target.host }}" }
    on: { local: sockets, remote: probe, unresolved: DOWN }
  probe:
    check: probe
    with: { host: "{{ target.host }}", port: "{{ target.port }}" }
    on:
      open: UP
      filtered: DROPPED
      partial, closed, prohibited, unreachable, unresolved: DOWN
  sockets:
    check: sockets
    with: { port: "{{ target.port }}" }
    on:
      listening: answers
      accept-queue-full, close-wait-leak, recent, none, error: DOWN
  answers:
    check: connect
    with: { host: "{{ target.host }}", port: "{{ target.port }}" }
    on:
      connected: UP
      timeout: DROPPED
      partial, refused, unreachable, unresolved: DOWN
diagnoses:
  UP: { title: up, explanation: up }
  DOWN: { title: down, explanation: down }
  DROPPED: { title: dropped, explanation: dropped }
`;
    const pb = parsePlaybook(text, 'tcp-era.yaml', checkCatalog());
    expect(Object.keys(pb.steps)).toEqual(['where', 'probe', 'sockets', 'answers']);
    // Without what they refine, the new outcomes are not asked for either: the older one is.
    expect(() => parsePlaybook(text.replace('      timeout: DROPPED\n', ''), 'tcp-era.yaml', checkCatalog())).toThrow(/steps\.answers\.on: outcomes not handled: timeout — name them/);
  });
  it('finds unreachable steps, and warns of diagnoses never reached', () => {
    const out = problemsOf('unreachable-step.yaml');
    expect(out).toMatch(/error: steps.orphan: step 'orphan' is unreachable/);
    expect(out).toMatch(/warning: diagnoses.NEVER: diagnosis 'NEVER' is never reached/);
  });
  it('places placeholder errors at the placeholder', () => {
    const out = problemsOf('bad-template.yaml');
    expect(out).toMatch(/bad-template\.yaml:14:\d+: error: steps\.running\.with\.name: '\{\{ input\.process \}\}' starts with 'input'/);
    expect(out).toContain("unknown input 'proces' — did you mean 'process'?");
    expect(out).toContain("unknown filter 'shout'");
  });
  it('says a YAML syntax error in words, at the line of the mistake, once per line', () => {
    // The yaml library's own words for these are two or three messages each, placed where its
    // parser gave up ("Nested mappings are not allowed in compact mappings" on line 7 for line 8).
    expect(problemsOf('indent-deeper.yaml')).toBe("indent-deeper.yaml:8:7: error: line 8 is indented deeper than the key above it ('check:' on line 7, which already has its value) — indent it 4 spaces, as 'check:' is\n");
    expect(problemsOf('indent-shallower.yaml')).toBe("indent-shallower.yaml:24:4: error: line 24 is indented less than the key above it ('check:' on line 23, 4 spaces) and more than 'service:' on line 22 (2 spaces) — indent it 4 spaces, as 'check:' is, or 2 spaces, as 'service:' is\n");
    expect(problemsOf('tab-indent.yaml')).toBe("tab-indent.yaml:24:1: error: line 24 is indented with a tab — YAML indents with spaces only: replace the tab with spaces ('check:' on line 23 is indented 4 spaces)\n");
    expect(problemsOf('missing-colon.yaml')).toBe("missing-colon.yaml:16:5: error: line 16 has no ':' after its key 'check' — write 'check: connect'\n");
    expect(problemsOf('unclosed-quote.yaml')).toBe('unclosed-quote.yaml:47:18: error: line 47 opens a quoted text (") that is never closed — end the text with " on the same line\n');
    expect(problemsOf('duplicate-key.yaml')).toBe("duplicate-key.yaml:9:3: error: line 9 repeats 'first', already on line 4 — a key appears once in a mapping: merge the two, or rename one\n");
    expect(problemsOf('value-with-colon.yaml')).toBe('value-with-colon.yaml:46:5: error: line 46 has a second \': \' in the value of \'title\' — put the value in quotes: title: "myapp hung: it listens but does not answer"\n');
  });
  it("checks evidence placeholders against the check's declared evidence, with a did-you-mean", () => {
    const out = problemsOf('unknown-evidence.yaml');
    expect(out).toContain("unknown-evidence.yaml:12:12: error: diagnoses.STUCK.title: '{{ steps.sockets.evidence.acceptQueue.ownr }}': steps.sockets.evidence.acceptQueue (check 'sockets') has no field 'ownr' — did you mean 'owner'?");
    expect(out).toContain("has no field 'acceptQeue' — did you mean 'acceptQueue'?");
    // A map (counts by state) takes any key; a number has no fields.
    expect(out).not.toContain('counts');
    expect(out).toMatch(/has no field 'x': it is a number/);
  });
  it('says in one line what to change when a file mixes the versions', () => {
    expect(problemsOf('v1-with-on.yaml')).toContain("'on:' is version 2 of the playbook language — write 'version: 2' at the top");
    expect(problemsOf('v2-branches.yaml')).toContain("'outcomes:' lists are version 1");
    expect(problemsOf('v2-branches.yaml')).toContain("'else' is never taken: every outcome is named");
    expect(problemsOf('v2-branches.yaml')).toContain("'lokal' is not an outcome of step 'where' — did you mean 'local'?");
  });
  it('refuses shell syntax in fix commands', () => {
    expect(problemsOf('bad-params.yaml')).toContain('a fix command is run without a shell');
  });
});

describe('valid playbooks', () => {
  it('the shipped playbooks validate without errors or warnings', () => {
    const dir = join(import.meta.dirname, '../../playbooks');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files).toContain('default.yaml');
    for (const f of files) {
      const pb = parsePlaybook(readFileSync(join(dir, f), 'utf8'), f, checkCatalog());
      expect(pb.warnings.map(formatLintError)).toEqual([]);
      expect(pb.start).toBe(Object.keys(pb.steps)[0]);
    }
  });
});
