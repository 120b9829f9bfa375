/** `whyport playbook graph|validate` and `whyport checks`, through main(). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/bin/main.js';

async function run(args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    environment: { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: { ...process.env, NO_COLOR: undefined, ...env } },
  });
  return { status, stdout, stderr };
}

const TUTORIAL = join(import.meta.dirname, '../fixtures/playbooks/tutorial/myapp.yaml');

describe('whyport playbook graph', () => {
  it('draws the default playbook in Mermaid: every step a node, dashed arrows for after: cases', async () => {
    const r = await run(['playbook', 'graph']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('flowchart TD');
    expect(r.stdout).toContain('s_unit -.->|"after sockets.accept-queue-full: active"| d_ACCEPT_QUEUE_FULL_RESTART');
    expect(r.stdout).toContain('s_where -->|"remote"| s_probe_remote');
  });
  it('draws a playbook file as Graphviz dot', async () => {
    const r = await run(['playbook', 'graph', TUTORIAL, '--format', 'dot']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^digraph playbook \{/);
    expect(r.stdout).toContain('"listening" -> "answers" [label="covers"];');
    expect(r.stdout).toContain('"service" -> "MYAPP_DOWN" [label="failed, inactive"];');
    // The catch-all is drawn with the outcomes it stands for.
    expect(r.stdout).toContain('"answers" -> "MYAPP_HUNG" [label="partial, refused, timeout, no-reply, unreachable, unresolved"];');
  });
  it('draws a text tree no wider than the terminal ($COLUMNS here), and never wider than 100 columns', async () => {
    for (const [columns, max] of [['200', 100], ['50', 50]] as const) {
      const r = await run(['playbook', 'graph', '--format', 'text'], { COLUMNS: columns });
      expect(r.status).toBe(0);
      expect(r.stdout.split('\n')[0]).toBe('where (target)');
      expect(Math.max(...r.stdout.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(max);
    }
  });
  it('refuses an unknown format (exit 2)', async () => {
    const r = await run(['playbook', 'graph', '--format', 'svg']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/svg/);
  });
  it('a broken file: its problems, exit 2', async () => {
    const r = await run(['playbook', 'graph', join(import.meta.dirname, '../fixtures/playbooks/broken/unknown-evidence.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("did you mean 'owner'?");
  });
});

describe('whyport checks', () => {
  it("lists each check's evidence fields", async () => {
    const r = await run(['checks']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^sockets\n[^]*?evidence: .*acceptQueue\.owner/m);
    expect(r.stdout).toMatch(/^firewall\n[^]*?evidence: .*fix\[\]/m);
  });
});

describe('whyport playbook validate', () => {
  it('reads a version 1 file as before', async () => {
    const text = readFileSync(join(import.meta.dirname, '../fixtures/playbooks/broken/unknown-step.yaml'), 'utf8').replace('next: lisen', 'next: listen');
    const { parsePlaybook } = await import('../../src/playbook/load.js');
    const { checkCatalog } = await import('../../src/checks/index.js');
    const pb = parsePlaybook(text, 'v1.yaml', checkCatalog());
    expect(pb.version).toBe(1);
    expect(pb.steps.where!.outcomes).toEqual([{ when: 'local', next: 'listen' }, { next: 'listen' }]);
  });
  it('the tutorial validates', async () => {
    const r = await run(['playbook', 'validate', TUTORIAL]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ok — 3 steps, 6 diagnoses, 0 inputs/);
  });
});
