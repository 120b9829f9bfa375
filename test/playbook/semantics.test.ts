/**
 * What the playbook language offers for saying a thing once: an explanation written as sentences
 * (which YAML anchors share between diagnoses), and one `after:` case for several earlier outcomes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlias, isScalar, parseDocument, type YAMLSeq } from 'yaml';
import { describe, expect, it } from 'vitest';
import { checkCatalog } from '../../src/checks/index.js';
import { PlaybookError, formatLintError } from '../../src/errors.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { transition } from '../../src/engine/transition.js';

const LANGUAGE = join(import.meta.dirname, '../fixtures/playbooks/language');

function problems(text: string): string[] {
  try {
    parsePlaybook(text, 'p.yaml', checkCatalog());
  } catch (err) {
    if (err instanceof PlaybookError) return err.problems.map(formatLintError);
    throw err;
  }
  return [];
}

const TWO_DIAGNOSES = readFileSync(join(LANGUAGE, 'shared-sentences.yaml'), 'utf8');

describe('an explanation written as sentences', () => {
  it('is one text, the sentences joined with spaces, a sentence shared by anchor in both', () => {
    const pb = parsePlaybook(TWO_DIAGNOSES, 'p.yaml', checkCatalog());
    expect(pb.diagnoses.FULL!.explanation).toBe('{{ steps.sockets.evidence.acceptQueue.owner }} has a full queue. The kernel parks new connections until the program calls accept().');
    expect(pb.diagnoses.FULL_TOO!.explanation).toBe('It is full. The kernel parks new connections until the program calls accept().');
  });

  it('has each sentence checked where it is written, and where a diagnosis repeats it', () => {
    const out = problems(TWO_DIAGNOSES.replace('until the program', 'until {{ steps.sockets.evidence.nope }}'));
    const FIELDS = /known fields: (.*)$/.exec(out[0] ?? '')?.[1];
    expect(FIELDS).toContain('acceptQueue');
    expect(out).toEqual([
      "p.yaml:15:14: error: diagnoses.FULL.explanation[1]: '{{ steps.sockets.evidence.nope }}': steps.sockets.evidence (check 'sockets') has no field 'nope' — known fields: " + FIELDS,
      "p.yaml:23:9: error: diagnoses.FULL_TOO.explanation[1]: '{{ steps.sockets.evidence.nope }}': steps.sockets.evidence (check 'sockets') has no field 'nope' — known fields: " + FIELDS,
    ]);
  });

  it('is at least one sentence', () => {
    expect(problems(TWO_DIAGNOSES.replace(/explanation:\n      - >\n        It is full.\n      - \*why\n/, 'explanation: []\n'))).toEqual([
      expect.stringMatching(/^p\.yaml:\d+:\d+: error: diagnoses\.FULL_TOO\.explanation: /),
    ]);
  });
});

const CASES = readFileSync(join(LANGUAGE, 'after-several.yaml'), 'utf8');

describe('one after: case for several earlier outcomes', () => {
  it('is a case for each, in the order written, sharing the branches', () => {
    const pb = parsePlaybook(CASES, 'p.yaml', checkCatalog());
    expect(pb.steps.sockets!.cases!.map((c) => `${c.after.step}.${c.after.outcome}`)).toEqual(['probe.filtered', 'probe.prohibited', 'probe.closed']);
    for (const outcome of ['filtered', 'prohibited']) expect(transition(pb, 'sockets', 'listening', { probe: outcome })).toEqual(transition(pb, 'sockets', 'listening', { probe: 'filtered' }));
    expect(transition(pb, 'sockets', 'listening', { probe: 'prohibited' })).not.toEqual(transition(pb, 'sockets', 'listening', { probe: 'closed' }));
    expect(transition(pb, 'sockets', 'listening', { probe: 'prohibited' })).not.toEqual(transition(pb, 'sockets', 'listening', {}));
  });

  it('places a problem at the STEP.OUTCOME of the key that has it', () => {
    expect(problems(CASES.replace('probe.filtered, probe.prohibited:', 'probe.filtered, probe.prohibitted:'))).toEqual([
      "p.yaml:20:23: error: steps.sockets.after.probe.filtered, probe.prohibitted: 'prohibitted' is not an outcome of step 'probe' — did you mean 'prohibited'?",
      "p.yaml:20:23: error: steps.sockets.after.probe.filtered, probe.prohibitted: this case never applies: no road from 'probe' with outcome 'prohibitted' leads to 'sockets' — name a step and outcome that come before 'sockets', or remove the case",
    ]);
    expect(problems(CASES.replace('probe.filtered, probe.prohibited:', 'probe.filtered, probe:'))).toEqual([
      "p.yaml:20:23: error: steps.sockets.after.probe.filtered, probe: 'probe' is not STEP.OUTCOME — name an earlier step and one of its outcomes, e.g. `owner.other:`",
    ]);
    expect(problems(CASES.replace('probe.closed:', 'probe.closed, probe.filtered:'))).toEqual([
      "p.yaml:22:21: error: steps.sockets.after.probe.closed, probe.filtered: 'probe.filtered' has a case above: only the first is ever taken — name each STEP.OUTCOME once",
    ]);
  });

  it('says which of its outcomes can never apply', () => {
    const out = problems(CASES.replace('probe.filtered, probe.prohibited:', 'probe.filtered, probe.open:'));
    expect(out).toEqual([
      "p.yaml:20:23: error: steps.sockets.after.probe.filtered, probe.open: this case never applies: no road from 'probe' with outcome 'open' leads to 'sockets' — name a step and outcome that come before 'sockets', or remove the case",
    ]);
  });
});

describe('the default playbook', () => {
  const text = readFileSync(join(import.meta.dirname, '../../playbooks/default.yaml'), 'utf8');
  const pb = parsePlaybook(text, 'default.yaml', checkCatalog());
  it('tells the _RESTART variants with the sentences of the diagnosis they restart', () => {
    const doc = parseDocument(text);
    const sentences = (code: string) => (doc.getIn(['diagnoses', code, 'explanation']) as YAMLSeq).items;
    const anchored = (code: string) => sentences(code).flatMap((n) => (isScalar(n) && n.anchor ? [n.anchor] : []));
    const repeated = (code: string) => sentences(code).flatMap((n) => (isAlias(n) ? [n.source] : []));
    for (const [base, restart] of [['ACCEPT_QUEUE_FULL', 'ACCEPT_QUEUE_FULL_RESTART'], ['CLOSE_WAIT_LEAK', 'CLOSE_WAIT_LEAK_RESTART']] as const) {
      const shared = repeated(restart);
      expect(shared.length, restart).toBeGreaterThan(1);
      expect(anchored(base), base).toEqual(expect.arrayContaining(shared));
      expect(pb.diagnoses[restart]!.code).toBe(base);
    }
  });
});
