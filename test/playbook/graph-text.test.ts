/**
 * `whyport playbook graph --format text`: the chain as a tree for a terminal. The default playbook's
 * drawing is stored beside the tests (test/fixtures/playbooks/graph/); after an intended change of
 * the playbook or the drawing:
 *   UPDATE_GOLDEN=1 npx vitest run test/playbook/graph-text.test.ts
 * and read the diff.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCatalog } from '../../src/checks/index.js';
import { outcomesOfStep, refinesOfStep } from '../../src/commands/playbook.js';
import { displayWidth } from '../../src/text/terminal.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { textGraph } from '../../src/playbook/graph-text.js';
import type { Playbook } from '../../src/playbook/schema.js';
import { starterPlaybook } from '../../src/playbook/starter.js';

const ROOT = join(import.meta.dirname, '../..');
const GOLDEN = join(ROOT, 'test/fixtures/playbooks/graph');
const update = process.env.UPDATE_GOLDEN === '1';

const load = (file: string) => parsePlaybook(readFileSync(join(ROOT, file), 'utf8'), file, checkCatalog());
const draw = (pb: Playbook, width: number) => textGraph(pb, (id) => outcomesOfStep(pb, id), (id) => refinesOfStep(pb, id), width);

function golden(name: string, got: string): void {
  const file = join(GOLDEN, name);
  if (update || !existsSync(file)) writeFileSync(file, got);
  expect(got).toBe(readFileSync(file, 'utf8'));
}

describe('playbook graph --format text', () => {
  it('draws a small playbook as a tree: each outcome → its step (drawn beneath) or DIAGNOSIS, the catch-all by its outcomes', () => {
    const pb = load('test/fixtures/playbooks/tutorial/myapp.yaml');
    expect(draw(pb, 80)).toBe(
      [
        'listening (listeners)',
        '├─ covers → answers (connect)',
        '│  ├─ connected → REACHABLE',
        '│  └─ partial, refused, timeout, no-reply, unreachable, unresolved →',
        '│        MYAPP_HUNG',
        '├─ none → service (unit)',
        '│  ├─ failed, inactive → MYAPP_DOWN',
        '│  └─ active, activating, not-found, no-systemd, error → MYAPP_NOT_LISTENING',
        '│        (NOT_LISTENING)',
        '├─ loopback-only, other-address → MYAPP_WRONG_ADDRESS',
        '└─ error → INCONCLUSIVE',
        '',
      ].join('\n'),
    );
  });

  it("is what the README shows under 'Draw it'", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`$ whyport playbook graph myapp.yaml --format text\n${draw(load('test/fixtures/playbooks/tutorial/myapp.yaml'), 80)}\`\`\``);
  });

  it('draws a step reached by two roads once, under the nearer one, and names it on the other', () => {
    const out = draw(parsePlaybook(starterPlaybook('myapp'), 'myapp.yaml', checkCatalog()), 100);
    expect(out.match(/→ which-service \(ask service\)$/gm)).toHaveLength(1);
    expect(out).toContain('│  │  └─ not-running, init-script → see which-service below\n');
  });

  it('draws the default playbook (golden), after: cases and the --ssh hand-over as groups, the follow step', () => {
    const pb = load('playbooks/default.yaml');
    const out = draw(pb, 100);
    golden('default-100.txt', out);
    expect(out).toContain('├─ after sockets.accept-queue-full:\n');
    expect(out).toContain('└─ with --ssh:\n');
    expect(out).toMatch(/follows another HOST:PORT through this playbook → see where above/);
    // Every step is drawn once, and every diagnosis a branch leads to is named.
    const lines = unwrapped(out);
    for (const id of Object.keys(pb.steps)) {
      const label = stepOf(pb, id);
      const named = label.startsWith(`${id} · `) ? label : `${id} (${label})`;
      expect(lines.filter((l) => l === named || l.endsWith(`→ ${named}`)), id).toHaveLength(1);
    }
    const led = new Set(Object.values(pb.steps).flatMap((s) => [...s.outcomes, ...(s.cases ?? []).flatMap((c) => c.outcomes)]).flatMap((b) => (b.diagnose ? [b.diagnose] : [])));
    for (const d of led) expect(lines.some((l) => new RegExp(`→ ${d}( \\(|$)`).test(l)), d).toBe(true);
  });

  it.each([40, 50, 60, 80, 100, 132])('no line is wider than %i columns', (width) => {
    const out = draw(load('playbooks/default.yaml'), width);
    for (const line of out.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(width);
  });

  it('at 60 columns a subtree with no room where it hangs starts again at the margin, and is named there', () => {
    const out = draw(load('playbooks/default.yaml'), 60);
    golden('default-60.txt', out);
    const sections = out.split('\n\n').map((s) => s.split('\n')[0]!.split(' ')[0]!);
    expect(sections.length).toBeGreaterThan(1);
    const lines = unwrapped(out);
    for (const id of sections.slice(1)) expect(lines.some((l) => l.endsWith(`→ see ${id} below`)), id).toBe(true);
  });
});

function stepOf(pb: Playbook, id: string): string {
  const s = pb.steps[id]!;
  return `${s.check ?? (s.follow ? 'follow' : `ask ${s.ask}`)}${s.vantage ? ` · ${s.vantage}` : ''}`;
}

/** The drawing with each wrapped label joined back onto its line. */
function unwrapped(out: string): string[] {
  const lines: string[] = [];
  for (const l of out.split('\n')) {
    const continued = /^[│ ]+/.test(l) && !/^[│ ]*[├└]─ /.test(l);
    if (continued && lines.length) lines[lines.length - 1] += ` ${l.replace(/^[│ ]+/, '')}`;
    else lines.push(l);
  }
  return lines;
}
