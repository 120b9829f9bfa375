/**
 * The built-in playbooks change nothing by themselves: none of their steps runs a command marked
 * `changes: true` (in `with:` or in a case's `with:`); what changes the host is a diagnosis's fix,
 * which only --fix runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/playbook/load.js';
import { checkCatalog } from '../../src/checks/index.js';

const DIR = join(import.meta.dirname, '../../playbooks');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

describe.each(files)('%s', (file) => {
  it('has no step that changes the host', () => {
    const pb = parsePlaybook(readFileSync(join(DIR, file), 'utf8'), file, checkCatalog());
    for (const [id, step] of Object.entries(pb.steps)) {
      const withs = [step.with, ...(step.cases ?? []).map((c) => c.with)];
      for (const w of withs) expect(w?.changes, `steps.${id}`).not.toBe(true);
    }
  });
});

describe('the test itself', () => {
  it('sees a step that changes the host', () => {
    const yaml = 'version: 2\nname: t\nsteps:\n  restart:\n    check: command\n    with: { argv: [systemctl, restart, myapp], changes: true }\n    on: { else: DONE }\ndiagnoses:\n  DONE: { title: done, explanation: done. }\n';
    const pb = parsePlaybook(yaml, 't.yaml', checkCatalog());
    expect(pb.steps.restart?.with?.changes).toBe(true);
  });
});
