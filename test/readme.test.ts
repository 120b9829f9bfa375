import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCatalog } from '../src/checks/index.js';
import { parsePlaybook } from '../src/playbook/load.js';
import { substance } from './helpers/cli-in-bed.js';

const ROOT = join(import.meta.dirname, '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('the README', () => {
  it('starts with the two commands a newcomer needs, and CI runs the same test command', () => {
    const first = readme.split('\n').slice(0, 6).join('\n');
    expect(first).toMatch(/npm ci && npm run build && npm install -g \. && whyport 127\.0\.0\.1 \d+/);
    expect(first).toMatch(/^npm test\b/m);
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toMatch(/^npm test\b/m);
  });

  it("the tutorial's playbook is the tested file, and it validates", () => {
    const file = readFileSync(join(ROOT, 'test/fixtures/playbooks/tutorial/myapp.yaml'), 'utf8');
    const section = readme.slice(readme.indexOf('## Writing a playbook'));
    const block = /```yaml\n([^]*?)```/.exec(section)?.[1];
    expect(block).toBe(file);
    const pb = parsePlaybook(block!, 'myapp.yaml', checkCatalog());
    expect(Object.keys(pb.diagnoses)).toContain('MYAPP_HUNG');
  });

  it("the example of the generic checks validates", () => {
    const section = readme.slice(readme.indexOf("**Your own app's commands and files.**"));
    const block = /```yaml\n([^]*?)```/.exec(section)?.[1];
    const pb = parsePlaybook(block!, 'myapp-own.yaml', checkCatalog());
    expect(Object.values(pb.steps).map((s) => s.check)).toEqual(['command', 'file']);
  });

  it("the dependency example is the tested file (check: endpoint with the default playbook, check: http)", () => {
    const file = readFileSync(join(ROOT, 'test/fixtures/playbooks/dependency/myapp.yaml'), 'utf8');
    const at = readme.indexOf("**Your app's endpoints: `http` and `endpoint`.**");
    expect(at).toBeGreaterThan(0);
    const block = /```yaml\n([^]*?)```/.exec(readme.slice(at))?.[1];
    expect(block).toBe(file);
  });

  it('lists every diagnosis code of the contract', () => {
    for (const code of ['REACHABLE', 'DNS_FAILURE', 'HOST_UNREACHABLE', 'PORT_FILTERED', 'PORT_CLOSED', 'NOT_LISTENING', 'PROCESS_NOT_RUNNING', 'SERVICE_FAILED', 'SERVICE_INACTIVE', 'SERVICE_NOT_FOUND', 'LISTENING_ON_OTHER_PORT', 'PORT_TAKEN', 'BOUND_TO_LOOPBACK', 'BOUND_TO_OTHER_ADDRESS', 'FIREWALL_BLOCKS', 'ACCEPT_QUEUE_FULL', 'CLOSE_WAIT_LEAK', 'INCONCLUSIVE']) {
      expect(readme, code).toContain(`\`${code}\``);
    }
  });

  it('quotes the real reports the integration tests saved, as they are but for times, pids and durations', () => {
    for (const [file, first] of [
      ['readme-first-line.txt', '╭─ whyport · 127.0.0.1:22 '],
      ['seed-service-failed.txt', '╭─ whyport · 10.0.0.5:7071'],
      ['real-port-taken.txt', '╭─ whyport · 10.0.0.5:80'],
      ['ssh-service-failed.txt', '╭─ whyport · 10.213.'],
      // Found by its verdict line: the quote starts at the box's top line above it.
      ['proxy-nginx-upstream-failed.txt', '│   Port 80 answers (nginx), but its upstream 127.0.0.1:7071 does not:'],
    ] as const) {
      const saved = readFileSync(join(ROOT, 'test/integration/__output__', file), 'utf8');
      const at = readme.lastIndexOf('╭', readme.indexOf(first));
      expect(at, `README quotes ${file}`).toBeGreaterThan(0);
      const quoted = readme.slice(at, readme.indexOf('\n```', at));
      // The README may quote the report up to a section boundary ("How we got here").
      expect(substance(saved, 'HOST').startsWith(substance(quoted, 'HOST')), `README's copy of ${file} is out of date`).toBe(true);
    }
  });
});

describe("the README's drawing of the default playbook", () => {
  it('is what `whyport playbook graph default` draws now (regenerate it after changing the playbook)', async () => {
    const { openPlaybook } = await import('../src/playbook/source.js');
    const { playbookGraph } = await import('../src/playbook/graph.js');
    const { outcomesOfStep } = await import('../src/commands/playbook.js');
    const pb = await openPlaybook('default', { fresh: true });
    const block = /```mermaid\n([^]*?)```/.exec(readme)?.[1];
    expect(block).toBe(playbookGraph(pb, 'mermaid', (id) => outcomesOfStep(pb, id)));
  });
});
