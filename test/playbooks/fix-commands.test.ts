/**
 * A fix command is shown quoted as the steps show theirs and run with the same argv: a word a
 * shell would need quoted (an ss filter `sport = :80`) is one word of a list in the playbook, not
 * three words of a string that print unquoted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/playbook/load.js';
import { checkCatalog } from '../../src/checks/index.js';
import { renderDiagnosis, portCommands } from '../../src/engine/walk.js';
import { splitWords } from '../../src/playbook/template.js';

const DIR = join(import.meta.dirname, '../../playbooks');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

describe.each(files)('%s: fix commands', (file) => {
  const pb = parsePlaybook(readFileSync(join(DIR, file), 'utf8'), file, checkCatalog());
  it('no string command splits an ss filter into words', () => {
    for (const [id, d] of Object.entries(pb.diagnoses)) {
      for (const c of d.fix?.commands ?? []) {
        if (typeof c !== 'string') continue;
        expect(splitWords(c), `${id}: ${c}`).not.toContain('=');
      }
    }
  });
  it('the ss commands of the fixes print as the listening step prints its own', () => {
    const target = { host: '10.0.0.5', address: '10.0.0.5', port: 7071, protocol: 'tcp' as const, local: true, addresses: ['10.0.0.5'] };
    const scope = { target: { ...target, ...portCommands(target) }, inputs: { service: 'myapp' }, steps: {} };
    for (const id of ['PORT_TAKEN', 'ACCEPT_QUEUE_FULL', 'LISTENING_BUT_TIMEOUT']) {
      if (!pb.diagnoses[id]) continue;
      const { diagnosis } = renderDiagnosis(pb, id, scope);
      expect(diagnosis.fix?.commands[0], id).toMatch(/^ss -Htlnp? 'sport = :7071'$/);
    }
  });
});
