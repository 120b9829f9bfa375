/**
 * The evidence each check declares is the evidence it gives: every field of the real reports the
 * integration tests saved is declared by its check, with the declared type. (The validator trusts
 * the declaration, so an undeclared field would be refused in a playbook although it exists.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { safeParse } from 'zod/mini';
import { checks } from '../../src/checks/index.js';
import { evidenceJsonSchema, lookupEvidence } from '../../src/playbook/load.js';
import type { Report } from '../../src/report/model.js';

const DIR = join(import.meta.dirname, '../integration/__output__');

/** The dotted paths of an evidence object, two levels down (deeper values are not looked into). */
function pathsOf(value: unknown, prefix: string[] = [], depth = 0): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || depth > 1) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k], depth + 1));
}

describe("checks' evidence declarations", () => {
  const reports = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  it('there are saved reports to compare with', () => expect(reports.length).toBeGreaterThan(0));
  for (const file of reports) {
    it(`declare every field of ${file}`, () => {
      const report = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Report;
      for (const step of report.steps.filter((s) => s.check !== 'ask')) {
        const check = checks[step.check as keyof typeof checks];
        const parsed = safeParse(check.evidence, step.evidence);
        expect(parsed.success, `${step.id}: ${JSON.stringify(parsed.error?.issues[0])}`).toBe(true);
        const schema = evidenceJsonSchema(check.evidence);
        for (const p of pathsOf(step.evidence)) {
          if (p.length) expect(lookupEvidence(schema, p).ok, `${step.id} (${step.check}): evidence.${p.join('.')} is not declared`).toBe(true);
        }
      }
    });
  }
  it('every check declares an object of fields', () => {
    for (const [name, c] of Object.entries(checks)) {
      const s = evidenceJsonSchema(c.evidence);
      expect(s.type, name).toBe('object');
      expect(Object.keys(s.properties ?? {}).length, name).toBeGreaterThan(0);
    }
  });
});
