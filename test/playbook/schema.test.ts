import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkDocs } from '../../src/playbook/check-docs.js';
import { main } from '../../src/bin/main.js';
import { checkCatalog, checks } from '../../src/checks/index.js';
import { playbookJsonSchema } from '../../src/playbook/schema.js';
import { SCHEMA_MODELINE, starterPlaybook } from '../../src/playbook/starter.js';
import { BUILT_IN } from '../../src/paths.js';

/** The published schema for a registry, as src/tools/emit-schema.ts makes it at build. */
function schemaFor(registry: typeof checks): Record<string, any> {
  const cat = checkCatalog(registry);
  return JSON.parse(JSON.stringify(playbookJsonSchema(Object.fromEntries(Object.entries(registry).map(([n, c]) => [n, { ...cat[n]!, description: c.description }])))));
}

async function run(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), environment: { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: process.env } });
  return { status, stdout, stderr };
}

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
  it('offers every registered check, each with its parameters (editors complete the checks a build has)', () => {
    const step = published.properties.steps.additionalProperties;
    // `check: endpoint` is the playbook language's spelling of a follow step (no registered check).
    expect(step.properties.check.enum).toEqual([...Object.keys(checks), 'endpoint']);
    for (const name of Object.keys(checks)) {
      const then = step.allOf.find((a: any) => a.if.properties.check.const === name)?.then;
      expect(Object.keys(then.properties.with.properties), name).toEqual(checkCatalog()[name]!.params);
    }
  });
  it('takes a check added to the registry into the schema, without more', () => {
    const registry = { ...checks, 'added-check': checks.process } as unknown as typeof checks;
    const schema = schemaFor(registry);
    const step = schema.properties.steps.additionalProperties;
    expect(step.properties.check.enum).toContain('added-check');
    expect(step.allOf.find((a: any) => a.if.properties.check.const === 'added-check').then.properties.with.properties).toEqual({ name: {} });
    expect(Object.keys(schema.definitions.evidence)).toContain('added-check');
  });
});

describe('the schema has one location, and every mention of it agrees', () => {
  const shipped = readFileSync(join(ROOT, BUILT_IN.schema), 'utf8');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  it('whyport playbook schema prints the shipped file, and --path names a file that is it', async () => {
    const printed = await run(['playbook', 'schema']);
    expect(printed.status).toBe(0);
    expect(printed.stdout).toBe(shipped);
    const where = await run(['playbook', 'schema', '--path']);
    expect(where.stdout).toBe(`${join(ROOT, BUILT_IN.schema)}\n`);
    expect(readFileSync(where.stdout.trim(), 'utf8')).toBe(shipped);
    // npm packs it (package.json "files"), under the path the README gives.
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).files).toContain(BUILT_IN.schema.split('/')[0]);
    expect(readme).toContain(`\`$(npm root -g)/whyport/${BUILT_IN.schema}\``);
  });
  it("the README names the schema's $id and tells editors to save what whyport prints", () => {
    const id = (JSON.parse(shipped) as { $id: string }).$id;
    expect(readme).toContain(`Its \`$id\`, \`${id}\`, names the schema`);
    expect(readme).toContain('whyport playbook schema > playbook.schema.json');
    expect(starterPlaybook('myapp')).toContain('#   whyport playbook schema > playbook.schema.json\n');
  });
  it('every playbook that points an editor at the schema points at the same place: playbook.schema.json beside it', () => {
    const texts: [string, string][] = [
      ['README.md', readme],
      ['playbooks/default.yaml', readFileSync(join(ROOT, 'playbooks/default.yaml'), 'utf8')],
      ['test/fixtures/playbooks/tutorial/myapp.yaml', readFileSync(join(ROOT, 'test/fixtures/playbooks/tutorial/myapp.yaml'), 'utf8')],
      ['whyport playbook new', starterPlaybook('myapp')],
    ];
    for (const [where, text] of texts) {
      const lines = text.split('\n').filter((l) => l.includes('$schema='));
      expect(lines.length, where).toBeGreaterThan(0);
      for (const l of lines) expect(l, where).toBe(SCHEMA_MODELINE);
    }
    expect(SCHEMA_MODELINE).toBe(`# yaml-language-server: $schema=./${BUILT_IN.schema.split('/').at(-1)}`);
  });
});

