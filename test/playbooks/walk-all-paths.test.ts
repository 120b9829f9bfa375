/**
 * Every shipped playbook, walked down every path (XState walks every path of a machine): each step
 * and each outcome of each step is reachable, each path ends in a diagnosis, and the diagnosis a
 * path ends in only speaks of steps that ran on that path. The engine itself is driven with
 * plain-object checks that replay the path's outcomes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { checkCatalog, checks } from '../../src/checks/index.js';
import type { AnyCheck, CheckContext } from '../../src/checks/check.js';
import { allPaths } from '../../src/engine/transition.js';
import { walk, type WalkResult, type WalkUI } from '../../src/engine/walk.js';
import type { FollowOutcome } from '../../src/engine/follow.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { ASK_OUTCOMES, type Playbook } from '../../src/playbook/schema.js';
import { parsePlaceholders } from '../../src/playbook/template.js';
import { Facts } from '../../src/system/facts.js';
import { localHost } from '../../src/host/local.js';
import { noGuesses } from '../helpers/guessers.js';

const DIR = join(import.meta.dirname, '../../playbooks');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

function outcomesOf(pb: Playbook, id: string): readonly string[] {
  const step = pb.steps[id]!;
  if (step.follow) return step.follow.possible;
  return step.ask !== undefined ? ASK_OUTCOMES : checks[step.check as keyof typeof checks].outcomes;
}

/**
 * The outcomes of a step that no walk can tell apart, by class: two outcomes are one class when
 * every branch list of the step (its own and each after: case) sends them to the same branch, no
 * after: case anywhere names either, and no text names the step's outcome. A path walked with one
 * stands for the paths with the others (so the count stays in the thousands, not the hundreds of
 * thousands, as steps with many outcomes join the chain); each class keeps its first outcome.
 */
function outcomeClasses(pb: Playbook, yamlText: string, id: string): Map<string, string[]> {
  const step = pb.steps[id]!;
  const all = outcomesOf(pb, id);
  const named = new Set(Object.values(pb.steps).flatMap((s) => (s.cases ?? []).filter((c) => c.after.step === id).map((c) => c.after.outcome)));
  const classes = new Map<string, string[]>();
  if (yamlText.includes(`steps.${id}.outcome`)) {
    for (const o of all) classes.set(o, [o]);
    return classes;
  }
  const lists = [step.outcomes, ...(step.cases ?? []).map((c) => c.outcomes)];
  const refines = (step.check ? (checks[step.check as keyof typeof checks]?.refines as Record<string, string> | undefined) : undefined) ?? {};
  const branchNames = (o: string) => lists.some((l) => l.some((b) => b.when !== undefined && (Array.isArray(b.when) ? b.when : [b.when]).includes(o)));
  const effective = (o: string) => {
    let x = o;
    for (let n = 0; !branchNames(x) && refines[x] !== undefined && n < 8; n++) x = refines[x]!;
    return x;
  };
  const signature = (o: string) =>
    lists.map((l) => l.findIndex((b) => b.when === undefined || (Array.isArray(b.when) ? b.when : [b.when]).includes(effective(o)))).join(',');
  const bySignature = new Map<string, string>();
  for (const o of all) {
    if (named.has(o)) {
      classes.set(o, [o]);
      continue;
    }
    const sig = signature(o);
    const first = bySignature.get(sig);
    if (first === undefined) {
      bySignature.set(sig, o);
      classes.set(o, [o]);
    } else classes.get(first)!.push(o);
  }
  return classes;
}

/** The step ids a diagnosis's text refers to. */
function stepsReferenced(pb: Playbook, diagnosis: string): string[] {
  const d = pb.diagnoses[diagnosis]!;
  const texts = [d.title, d.explanation ?? '', ...(d.evidence ?? []), d.fix?.summary ?? '', ...(d.fix?.commands ?? []).flat()];
  return texts.flatMap((t) => parsePlaceholders(t)).filter((h) => h.path[0] === 'steps').map((h) => h.path[1]!);
}

/** Inputs a diagnosis's text refers to. */
function inputsReferenced(pb: Playbook, diagnosis: string): string[] {
  const d = pb.diagnoses[diagnosis]!;
  const texts = [d.title, d.explanation ?? '', ...(d.evidence ?? []), d.fix?.summary ?? '', ...(d.fix?.commands ?? []).flat()];
  return texts.flatMap((t) => parsePlaceholders(t)).filter((h) => h.path[0] === 'inputs').map((h) => h.path[1]!);
}

for (const file of files) {
  describe(`playbooks/${file}`, () => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const pb = parsePlaybook(text, `playbooks/${file}`, checkCatalog());
    const classes = Object.fromEntries(Object.keys(pb.steps).map((id) => [id, outcomeClasses(pb, text, id)]));
    const paths = allPaths(pb, (id) => [...classes[id]!.keys()], (id) => (checks[pb.steps[id]!.check as keyof typeof checks]?.refines as Record<string, string> | undefined) ?? {});

    it('every step, every outcome and every diagnosis is on some path', () => {
      const seenSteps = new Set(paths.flatMap((p) => p.steps));
      expect([...seenSteps].sort()).toEqual(Object.keys(pb.steps).sort());
      for (const id of Object.keys(pb.steps)) {
        // Every outcome is in a class, and the class's first outcome is walked.
        expect([...classes[id]!.values()].flat().sort(), id).toEqual([...outcomesOf(pb, id)].sort());
        for (const o of classes[id]!.keys()) {
          expect(paths.some((p) => p.steps.some((s, i) => s === id && p.outcomes[i] === o)), `${id} → ${o}`).toBe(true);
        }
      }
      expect([...new Set(paths.map((p) => p.diagnosis))].sort()).toEqual(Object.keys(pb.diagnoses).sort());
    });

    it('every after: case of a step applies on some path (none is dead)', () => {
      for (const [id, step] of Object.entries(pb.steps)) {
        for (const c of step.cases ?? []) {
          const applies = paths.some((p) =>
            p.steps.some((s, i) => {
              if (s !== id) return false;
              const history = Object.fromEntries(p.steps.slice(0, i).map((x, k) => [x, p.outcomes[k]!]));
              return step.cases!.find((x) => history[x.after.step] === x.after.outcome) === c;
            }),
          );
          expect(applies, `${id} after ${c.after.step}.${c.after.outcome}`).toBe(true);
        }
      }
    });

    it('a diagnosis only refers to steps that ran and inputs that were given on its path', () => {
      for (const p of paths) {
        for (const s of stepsReferenced(pb, p.diagnosis)) {
          expect(p.steps, `${p.steps.join(' → ')} ⇒ ${p.diagnosis} refers to steps.${s}`).toContain(s);
        }
        for (const input of inputsReferenced(pb, p.diagnosis)) {
          const asked = p.steps.some((s, i) => pb.steps[s]!.ask === input && p.outcomes[i] === 'given');
          expect(asked, `${p.steps.join(' → ')} ⇒ ${p.diagnosis} refers to inputs.${input}, never given on this path`).toBe(true);
        }
      }
    });

    it(`the engine walks each of the ${paths.length} paths to its diagnosis`, async () => {
      for (const p of paths) {
        let i = 0;
        // Each check as the path has it: it reads nothing and decides the path's outcome for its step.
        const replay: Record<string, AnyCheck> = Object.fromEntries(
          Object.entries(checks).map(([name, c]): [string, AnyCheck] => [
            name,
            {
              ...c,
              params: z.record(z.string(), z.unknown()),
              describe: () => name,
              read: async () => undefined,
              decide: () => ({ outcome: p.outcomes[i]!, summary: `replayed ${p.outcomes[i]}`, command: name, evidence: {}, status: 'info' as const }),
            },
          ]),
        );
        const asked: string[] = [];
        const ui: WalkUI = {
          stepStarted: () => {},
          stepFinished: () => void i++,
          ask: async (q) => {
            asked.push(q.input);
            return p.outcomes[i] === 'given' ? 'myapp' : '';
          },
        };
        // The host has what every input needs (systemd): each ask step is put to the replayed user.
        const facts = Object.assign(new Facts(localHost), { has: async () => true });
        const ctx: CheckContext = { target: { host: '127.0.0.1', port: 7071, protocol: 'tcp' }, host: localHost, facts, timeoutMs: 100 };
        const guessers = noGuesses;
        // A quiet ask never prompts: it is 'given' only when a flag answered it before the walk.
        const answers: Record<string, string> = {};
        p.steps.forEach((s, k) => {
          const step = pb.steps[s]!;
          if (step.ask && step.quiet && p.outcomes[k] === 'given') answers[step.ask] = 'myapp';
        });
        // A follow step, replayed: its walk ended in the diagnosis whose code is the path's outcome.
        const followStep = async (id: string): Promise<FollowOutcome> => {
          const code = p.outcomes[i]!.toUpperCase().replace(/-/g, '_');
          const target = { host: '127.0.0.1', address: '127.0.0.1', port: 7072, protocol: 'tcp' as const, local: true };
          const diagnosis = { code, title: `replayed ${code}`, explanation: '', fix: null, applied: null };
          const evidence = { code, title: diagnosis.title, explanation: '', host: target.host, port: target.port, address: target.address, diagnosis };
          const nested: WalkResult = { target, steps: [], diagnosis, fixArgv: [], findings: [], answers: {}, interrupted: false };
          return { record: { id, check: 'follow', outcome: p.outcomes[i]!, summary: `replayed ${code}`, command: 'whyport 127.0.0.1 7072', durationMs: 0, evidence, follow: { target, steps: [], diagnosis } }, findings: [], nested, interrupted: false };
        };
        const base = { playbook: pb, ctx, checks: replay, guessers, answers, interactive: true, ui, followStep };
        // A path that goes on on the server after the client's verdict (--ssh): the client's walk,
        // then the server's from server.start with the client's records as its past.
        const client = await walk(base);
        const twoEnded = pb.server !== undefined && p.steps.length > client.steps.length;
        const result = twoEnded ? await walk({ ...base, start: pb.server!.start, before: client }) : client;
        expect(result.steps.map((s) => s.id)).toEqual(p.steps);
        // A diagnosis that takes a follow step's (`from:`) reports the code that step's walk ended in.
        const d = pb.diagnoses[p.diagnosis]!;
        const taken = d.from !== undefined && d.code === undefined ? p.outcomes[p.steps.lastIndexOf(d.from)]!.toUpperCase().replace(/-/g, '_') : undefined;
        const expected = d.code ?? taken ?? p.diagnosis;
        expect(result.diagnosis.code).toBe(expected);
        expect(result.diagnosis.title).not.toMatch(/\{\{|\}\}/);
        expect(result.diagnosis.title.trim()).not.toBe('');
      }
      // Tens of thousands of walks: about 10 s on an idle machine, more beside the integration tests.
    }, 300_000);
  });
}
