import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkDocs } from '../../src/playbook/check-docs.js';
import { playbookJsonSchema } from '../../src/playbook/schema.js';

const ROOT = join(import.meta.dirname, '../..');

describe('the published JSON Schema', () => {
  const published = JSON.parse(readFileSync(join(ROOT, 'playbooks/playbook.schema.json'), 'utf8')) as Record<string, any>;
  it('is the one generated from the zod schema (run npm run build after changing it)', () => {
    expect(published).toEqual(JSON.parse(JSON.stringify(playbookJsonSchema(checkDocs()))));
  });
  it("lists each check's evidence fields, and a step's parameters by its check", () => {
    expect(Object.keys(published.definitions.evidence.sockets.properties)).toContain('acceptQueue');
    expect(Object.keys(published.definitions.evidence.sockets.properties.acceptQueue.properties)).toContain('owner');
    expect(published.properties.steps.additionalProperties.properties.check.enum).toContain('unit');
    // check: endpoint is completed like a check: its parameters, and the evidence of a follow step.
    const step = published.properties.steps.additionalProperties;
    expect(step.properties.check.enum).toContain('endpoint');
    const endpoint = step.allOf.find((c: any) => c.if.properties.check.const === 'endpoint');
    expect(Object.keys(endpoint.then.properties.with.properties)).toEqual(['host', 'port', 'playbook', 'start', 'inputs']);
    expect(Object.keys(published.definitions.evidence.endpoint.properties)).toEqual(['code', 'title', 'explanation', 'host', 'port', 'address', 'diagnosis']);
  });
  it('describes the fields editors complete', () => {
    expect(Object.keys(published.properties).sort()).toEqual(['$schema', 'description', 'diagnoses', 'inputs', 'maxSteps', 'name', 'server', 'start', 'steps', 'version'].sort());
    expect(published.required).toEqual(expect.arrayContaining(['version', 'name', 'steps', 'diagnoses']));
    expect(published.additionalProperties).toBe(false);
  });
  it('the default playbook points editors at it', () => {
    const text = readFileSync(join(ROOT, 'playbooks/default.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./playbook.schema.json');
    expect(parse(text).version).toBe(2);
  });
});
