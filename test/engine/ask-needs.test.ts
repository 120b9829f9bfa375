import { describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.js';
import { checkCatalog, checks } from '../../src/checks/index.js';
import { PlaybookError, formatLintError } from '../../src/errors.js';
import { walk, type Question, type WalkUI } from '../../src/engine/walk.js';
import { parsePlaybook } from '../../src/playbook/load.js';

// An input may say what the host needs for its answer to be of use (`needs: [systemd]`): where the
// host lacks it, the ask step is not put to the user and takes `unknown`.

const PLAYBOOK = `
version: 2
name: needs
inputs:
  service:
    prompt: "Which systemd service runs it?"
    needs: [systemd]
steps:
  service:
    ask: service
    on: { given: GIVEN, unknown: UNKNOWN }
diagnoses:
  GIVEN: { title: "given {{ inputs.service }}", explanation: "." }
  UNKNOWN: { title: "not known", explanation: "." }
`;

async function run(systemd: boolean, answers: Record<string, string> = {}) {
  const pb = parsePlaybook(PLAYBOOK, 'needs.yaml', checkCatalog());
  const asked: Question[] = [];
  const ui: WalkUI = { stepStarted: () => {}, stepFinished: () => {}, ask: async (q) => (asked.push(q), 'web') };
  const facts = { has: async (f: string) => f === 'systemd' && systemd, resolve: async () => ({ ok: true, addresses: [{ address: '127.0.0.1', family: 4 }], literal: true, durationMs: 0 }), isLocalAddress: async () => true };
  const ctx = { target: { host: '127.0.0.1', port: 7071, protocol: 'tcp' }, facts, timeoutMs: 100 } as unknown as CheckContext;
  const guessers = new Proxy({}, { get: () => async () => [] }) as never;
  const result = await walk({ playbook: pb, ctx, checks, guessers, answers, interactive: true, ui });
  return { result, asked };
}

describe('inputs.NAME.needs', () => {
  it('without systemd the service is not asked for, and the step says why', async () => {
    const { result, asked } = await run(false);
    expect(asked).toEqual([]);
    expect(result.steps[0]).toMatchObject({ id: 'service', outcome: 'unknown' });
    expect(result.steps[0]!.summary).toMatch(/^service: not asked — systemd does not run on this host/);
    expect(result.diagnosis.code).toBe('UNKNOWN');
  });

  it('with systemd it is asked as before', async () => {
    const { result, asked } = await run(true);
    expect(asked.map((q) => q.input)).toEqual(['service']);
    expect(result.diagnosis.title).toBe('given web');
  });

  it('an answer given on the command line still counts (the unit step then says there is no systemd)', async () => {
    const { result, asked } = await run(false, { service: 'ssh' });
    expect(asked).toEqual([]);
    expect(result.steps[0]).toMatchObject({ outcome: 'given' });
  });

  it('the validator knows the features', () => {
    try {
      parsePlaybook(PLAYBOOK.replace('needs: [systemd]', 'needs: [systemdd]'), 'needs.yaml', checkCatalog());
      expect.unreachable('a feature that does not exist must not validate');
    } catch (err) {
      expect(err).toBeInstanceOf(PlaybookError);
      expect((err as PlaybookError).problems.map(formatLintError).join('\n')).toMatch(/needs\.yaml:\d+:\d+: error: inputs\.service\.needs/);
    }
  });
});
