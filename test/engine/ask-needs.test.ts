import { describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.js';
import { checkCatalog, checks } from '../../src/checks/index.js';
import { PlaybookError, formatLintError } from '../../src/errors.js';
import { walk, type Question, type WalkUI } from '../../src/engine/walk.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { localHost } from '../../src/host/local.js';
import type { HostFeature } from '../../src/knowledge/host-features.js';
import { Facts, type Resolution } from '../../src/system/facts.js';
import { noGuesses } from '../helpers/guessers.js';

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
  // The real Facts with what the walk asks of them here given: the host has systemd or not, and the target is this host.
  const facts = Object.assign(new Facts(localHost), {
    has: async (f: HostFeature) => f === 'systemd' && systemd,
    resolve: async (): Promise<Resolution> => ({ ok: true, addresses: [{ address: '127.0.0.1', family: 4 }], literal: true, durationMs: 0 }),
    isLocalAddress: async () => true,
  });
  const ctx: CheckContext = { target: { host: '127.0.0.1', port: 7071, protocol: 'tcp' }, host: localHost, facts, timeoutMs: 100 };
  const guessers = noGuesses;
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
