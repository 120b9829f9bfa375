import { describe, expect, it } from 'vitest';
import { allPaths, transition } from '../../src/engine/transition.js';

const playbook = {
  start: 'a',
  steps: {
    a: { check: 'x', outcomes: [{ when: 'up', next: 'b' }, { when: ['down', 'gone'], diagnose: 'DOWN' }, { diagnose: 'ODD' }] },
    b: { check: 'y', outcomes: [{ when: 'ok', diagnose: 'FINE' }, { next: 'a' }] },
  },
};

describe('transition (pure)', () => {
  it('takes the first branch whose when names the outcome', () => {
    expect(transition(playbook, 'a', 'up')).toEqual({ kind: 'step', step: 'b' });
    expect(transition(playbook, 'a', 'gone')).toEqual({ kind: 'diagnose', diagnosis: 'DOWN' });
  });
  it('falls through to the catch-all', () => {
    expect(transition(playbook, 'a', 'weird')).toEqual({ kind: 'diagnose', diagnosis: 'ODD' });
    expect(transition(playbook, 'b', 'bad')).toEqual({ kind: 'step', step: 'a' });
  });
  it('first match wins even when a later branch also names the outcome', () => {
    const pb = { steps: { s: { outcomes: [{ when: 'o', diagnose: 'FIRST' }, { when: 'o', diagnose: 'SECOND' }, { diagnose: 'C' }] } } };
    expect(transition(pb, 's', 'o')).toEqual({ kind: 'diagnose', diagnosis: 'FIRST' });
  });
  it("an earlier step's outcome selects a case, whose branches come first; the step's own fill in", () => {
    const pb = {
      start: 'a',
      steps: {
        a: { check: 'x', outcomes: [{ when: 'up', next: 'u' }, { next: 'u' }] },
        u: { check: 'unit', outcomes: [{ when: 'failed', diagnose: 'FAILED' }, { diagnose: 'OTHER' }], cases: [{ after: { step: 'a', outcome: 'up' }, outcomes: [{ when: 'active', diagnose: 'RESTART' }] }] },
      },
    };
    expect(transition(pb, 'u', 'active', { a: 'up' })).toEqual({ kind: 'diagnose', diagnosis: 'RESTART' });
    expect(transition(pb, 'u', 'failed', { a: 'up' })).toEqual({ kind: 'diagnose', diagnosis: 'FAILED' });
    expect(transition(pb, 'u', 'active', { a: 'down' })).toEqual({ kind: 'diagnose', diagnosis: 'OTHER' });
    expect(allPaths(pb, (s) => (s === 'a' ? ['up', 'down'] : ['active', 'failed'])).map((p) => p.diagnosis)).toEqual(['RESTART', 'FAILED', 'OTHER', 'FAILED']);
  });
  it('an outcome no branch names takes the branch of the older outcome it refines; named, it is its own', () => {
    // A playbook written before UDP: connect's `timeout` is named, its refinement `no-reply` is not.
    const before = { steps: { c: { check: 'connect', outcomes: [{ when: 'connected', diagnose: 'OK' }, { when: 'timeout', diagnose: 'HUNG' }, { diagnose: 'OTHER' }] } } };
    const refines = { 'no-reply': 'timeout' };
    expect(transition(before, 'c', 'no-reply', {}, refines)).toEqual({ kind: 'diagnose', diagnosis: 'HUNG' });
    expect(transition(before, 'c', 'no-reply')).toEqual({ kind: 'diagnose', diagnosis: 'OTHER' });
    const after = { steps: { c: { check: 'connect', outcomes: [{ when: 'timeout', diagnose: 'HUNG' }, { when: 'no-reply', diagnose: 'SILENT' }, { diagnose: 'OTHER' }] } } };
    expect(transition(after, 'c', 'no-reply', {}, refines)).toEqual({ kind: 'diagnose', diagnosis: 'SILENT' });
    // Neither named: the catch-all, as for any outcome.
    const neither = { steps: { c: { check: 'connect', outcomes: [{ when: 'connected', diagnose: 'OK' }, { diagnose: 'OTHER' }] } } };
    expect(transition(neither, 'c', 'no-reply', {}, refines)).toEqual({ kind: 'diagnose', diagnosis: 'OTHER' });
  });
  it('throws on an unknown step (a bug, not user input)', () => {
    expect(() => transition(playbook, 'nope', 'up')).toThrow(/no step 'nope'/);
  });
  it('allPaths enumerates every path and stops at cycles', () => {
    const outcomes: Record<string, string[]> = { a: ['up', 'down', 'weird'], b: ['ok', 'bad'] };
    const paths = allPaths(playbook, (s) => outcomes[s]!);
    expect(paths).toEqual([
      { steps: ['a', 'b'], outcomes: ['up', 'ok'], diagnosis: 'FINE' },
      { steps: ['a'], outcomes: ['down'], diagnosis: 'DOWN' },
      { steps: ['a'], outcomes: ['weird'], diagnosis: 'ODD' },
    ]);
  });
});
