// Golden files for the human reports: test/report/golden/<case>.txt (text, no colour, 80 columns)
// and <case>.md (Markdown), rendered from the hand-built reports in ./reports.ts.
//
// After an intended change to the layout, rewrite them and review the diff before committing:
//
//   UPDATE_GOLDEN=1 npx vitest run test/report
//
// Without UPDATE_GOLDEN the test compares and fails on any difference.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../../src/report/json.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderText } from '../../src/report/text.js';
import { displayWidth } from '../../src/text/terminal.js';
import type { Report } from '../../src/report/model.js';
import { reports, serviceFailed, ugly } from './reports.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const ESC = '\x1b';

function golden(file: string, actual: string): void {
  const path = join(GOLDEN, file);
  if (UPDATE) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`${path} is missing: run UPDATE_GOLDEN=1 npx vitest run test/report`);
  expect(actual, `${file} differs; if the change is intended: UPDATE_GOLDEN=1 npx vitest run test/report`).toBe(
    readFileSync(path, 'utf8'),
  );
}

const cases = Object.entries(reports) as [string, Report][];
const text80 = (r: Report, verbose = false) => renderText(r, { color: false, width: 80, verbose });

/**
 * Splits a GFM table row into cells as cmark-gfm does: at each | not immediately preceded by a
 * backslash (its cell scanner knows only the escape \|, so in \\| the pipe is still escaped).
 */
function cells(row: string): string[] {
  return row.slice(1, -1).split(/(?<!\\)\|/);
}

describe('golden files', () => {
  it.each(cases)('%s as text', (name, report) => golden(`${name}.txt`, text80(report)));
  it.each(cases)('%s as markdown', (name, report) => golden(`${name}.md`, renderMarkdown(report)));
  it('service-failed, verbose', () => golden('service-failed.verbose.txt', text80(serviceFailed, true)));
  it('service-failed at 60 columns', () => golden('service-failed.w60.txt', renderText(serviceFailed, { color: false, width: 60 })));
  it('the ugly case at 40 columns', () => golden('ugly.w40.txt', renderText(ugly, { color: false, width: 40 })));
  it('service-failed, --brief', () => golden('service-failed.brief.txt', renderText(serviceFailed, { color: false, width: 80, brief: true })));
  it('service-failed, --brief --markdown', () => golden('service-failed.brief.md', renderMarkdown(serviceFailed, { brief: true })));
  it('applied-verified, --brief', () => golden('applied-verified.brief.txt', renderText(reports['applied-verified'], { color: false, width: 80, brief: true })));
});

describe('--brief', () => {
  it('keeps the verdict, the evidence and the fix, and nothing else', () => {
    for (const [name, report] of cases) {
      const brief = renderText(report, { color: false, width: 80, brief: true });
      const whole = text80(report);
      // What --brief shows is the whole report's head, word for word.
      expect(whole.startsWith(brief.replace(/\n$/, '').split('\n\n')[0]!), name).toBe(true);
      for (const gone of ['How we got here', 'Also noticed', 'TCP states seen', `\n${'─'.repeat(80)}\n`]) expect(brief, `${name}: ${gone}`).not.toContain(gone);
      if (report.diagnosis.explanation.trim()) expect(brief, name).not.toContain(wrapFirst(report.diagnosis.explanation));
      if (report.diagnosis.evidence?.length) expect(brief, name).toContain('Evidence');
      if (report.diagnosis.fix) expect(brief, name).toContain('Fix');
      const md = renderMarkdown(report, { brief: true });
      for (const gone of ['### How we got here', '### Also noticed', '### TCP states seen', '**Target:**']) expect(md, `${name}: ${gone}`).not.toContain(gone);
      expect(md.split('\n')[0]).toBe(renderMarkdown(report).split('\n')[0]);
    }
  });
});

/** The first words of a text, as the text report wraps them on its first line. */
function wrapFirst(text: string): string {
  return text.trim().split(/\s+/).slice(0, 6).join(' ');
}

describe('TCP states explained', () => {
  const withStates = (states: Record<string, string>, diagnosis: Partial<Report['diagnosis']> = {}, findings?: Report['findings']): Report => ({
    ...serviceFailed,
    steps: [{ ...serviceFailed.steps[1]!, summary: `port 7071: ${Object.keys(states).map((s) => `1 ${s}`).join(', ')}`, evidence: { states } }],
    diagnosis: { ...serviceFailed.diagnosis, ...diagnosis },
    ...(findings ? { findings } : {}),
  });
  const sentences = { LISTEN: 'A server socket waiting.', ESTABLISHED: 'A live connection.', CLOSE_WAIT: 'The peer closed its side.' };

  it('not when only a step tallies them: no glossary for what an expert reads at a glance', () => {
    const r = withStates(sentences);
    expect(text80(r)).not.toContain('TCP states seen');
    expect(renderMarkdown(r)).not.toContain('TCP states seen');
  });

  it('those the verdict or a finding names, in either spelling, and only those', () => {
    const leak = withStates(sentences, { title: 'Connections pile up in CLOSE-WAIT on port 7071' });
    expect(text80(leak)).toMatch(/TCP states seen\n {2}CLOSE_WAIT {2}The peer closed its side\.\n\n/);
    expect(renderMarkdown(leak)).toContain('### TCP states seen\n\n- `CLOSE_WAIT`: The peer closed its side.\n\n');
    const noticed = withStates(sentences, {}, [{ code: 'MANY_ESTABLISHED', summary: '900 ESTABLISHED connections on port 7071' }]);
    expect(text80(noticed)).toMatch(/TCP states seen\n {2}ESTABLISHED {2}A live connection\.\n\n/);
    // A word that only contains a state's name is not the state.
    expect(text80(withStates(sentences, { explanation: 'It LISTENS nowhere; RE-ESTABLISHED links do not count.' }))).not.toContain('TCP states seen');
  });

  it('all of them with --verbose', () => {
    const out = renderText(withStates(sentences), { color: false, width: 80, verbose: true });
    for (const s of Object.keys(sentences)) expect(out).toMatch(new RegExp(`^ {2}${s} +`, 'm'));
  });
});

describe('text report', () => {
  it('prints the fix command verbatim on a line of its own, and the journal lines', () => {
    const out = text80(serviceFailed);
    expect(out.split('\n')).toContain('    systemctl start myapp');
    expect(out).toContain('myapp[44]: myapp: cannot open /etc/myapp/myapp.conf');
    expect(out).toContain("    $ ss -Htan '( sport = :7071 or dport = :7071 )'");
  });

  it('prints no $ line for a question put to the user', () => {
    const lines = text80(serviceFailed).split('\n');
    const asked = lines.findIndex((l) => l.includes('you named the process: myapp'));
    expect(lines[asked + 1]).toMatch(/^ {2}✖ myapp is not running/);
  });

  it('has no ANSI escape without colour, even when the host sent some', () => {
    for (const [, report] of cases) {
      for (const width of [40, 80]) expect(renderText(report, { color: false, width, verbose: true })).not.toContain(ESC);
    }
    expect(ugly.diagnosis.evidence?.[0]).toContain(ESC);
  });

  it('has ANSI escapes with colour, and the same text under them', () => {
    for (const [, report] of cases) {
      const coloured = renderText(report, { color: true, width: 80 });
      expect(coloured).toContain(`${ESC}[`);
      expect(coloured.replace(/\x1b\[\d+m/g, '')).toBe(text80(report));
    }
  });

  it('fits every line in the width, from 24 to 100 columns, with colour or not', () => {
    for (const [name, report] of cases) {
      for (const width of [24, 40, 60, 80, 100]) {
        for (const color of [false, true]) {
          const lines = renderText(report, { color, width, verbose: true }).split('\n');
          for (const line of lines) expect(displayWidth(line), `${name} @${width}: ${line}`).toBeLessThanOrEqual(width);
          // The box is closed: all its lines are exactly as wide as the report.
          const box = lines.slice(0, lines.findIndex((l) => l.includes('╰')) + 1);
          for (const line of box) expect(displayWidth(line), `${name} @${width} box: ${line}`).toBe(width);
        }
      }
    }
  });

  it('measures plain ASCII lines the way String#length does, and wide characters as two columns', () => {
    for (const line of text80(serviceFailed).split('\n').filter((l) => /^[\x20-\x7e]*$/.test(l))) {
      expect(displayWidth(line)).toBe(line.length);
    }
    expect(displayWidth('服务器')).toBe(6);
    expect(displayWidth('🚀')).toBe(2);
    expect(displayWidth('✔ ✖ •')).toBe(5);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth(`${ESC}[31mred${ESC}[39m`)).toBe(3);
  });

  it('breaks a long command between words with " \\" so that what is copied still runs', () => {
    const command = ugly.diagnosis.fix!.commands[0]!;
    const lines = renderText(ugly, { color: false, width: 40 }).split('\n');
    const start = lines.findIndex((l) => l.startsWith('    /opt/'));
    const block = [lines[start]!];
    while (block.at(-1)!.endsWith(' \\')) block.push(lines[start + block.length]!);
    expect(block.length).toBeGreaterThan(1);
    const joined = block.map((l) => l.trim()).join('\n').replace(/ \\\n/g, ' ');
    expect(joined).toBe(command);
  });

  it('keeps the line breaks of a fix command of several lines', () => {
    const script = "cat >/etc/myapp/myapp.conf <<'EOF'\nlisten = 0.0.0.0:7071\nEOF";
    const out = text80({ ...serviceFailed, diagnosis: { ...serviceFailed.diagnosis, fix: { summary: 'Write it', commands: [script] } } });
    expect(out).toContain("    cat >/etc/myapp/myapp.conf <<'EOF'\n    listen = 0.0.0.0:7071\n    EOF\n");
  });

  it('keeps the columns of a verbatim evidence line that fits', () => {
    const out = text80({ ...serviceFailed, diagnosis: { ...serviceFailed.diagnosis, evidence: ['LISTEN 0      128    0.0.0.0:22'] } });
    expect(out).toContain('│ LISTEN 0      128    0.0.0.0:22');
  });

  it('says a report is partial when the walk was interrupted', () => {
    const out = text80(reports.interrupted);
    expect(out).toContain('Interrupted: this report is partial');
    expect(out).toContain('interrupted after 1.4 s');
  });

  it('tells whether an applied fix was verified', () => {
    expect(text80(reports['applied-verified'])).toContain('✔ whyport ran it: exit 0');
    expect(text80(reports['applied-verified'])).toContain('✔ Verified: the checks ran again and 10.0.0.5:80 is reachable now');
    expect(text80(ugly)).toContain('✖ Not verified');
    expect(text80(ugly)).toContain('… 4 earlier lines (--verbose shows all)');
    expect(renderText(ugly, { color: false, width: 80, verbose: true })).toContain('line 1 of output');
  });

  it('copes with no steps, no fix, no explanation and an unresolved name', () => {
    const bare: Report = {
      version: 1,
      target: { host: 'nope.invalid', address: null, port: 22, protocol: 'tcp', local: false },
      playbook: { name: 'default', source: 'playbooks/default.yaml' },
      steps: [],
      diagnosis: { code: 'DNS_FAILURE', title: 'nope.invalid does not resolve', explanation: '', fix: null, applied: null },
      durationMs: 0,
    };
    const out = text80(bare);
    expect(out).not.toContain('How we got here');
    expect(out).not.toContain('Fix');
    expect(out).toContain('nope.invalid:22 (did not resolve)');
    expect(renderMarkdown(bare)).not.toContain('### ');
  });

  it('keeps to 24…100 columns whatever width is asked', () => {
    const widest = (w: number) => Math.max(...renderText(serviceFailed, { color: false, width: w }).split('\n').map(displayWidth));
    expect(widest(10)).toBe(24);
    expect(widest(300)).toBe(100);
  });
});

describe('markdown report', () => {
  it('puts the fix commands verbatim in a sh block and the evidence in a text block', () => {
    const md = renderMarkdown(serviceFailed);
    expect(md).toContain('## ✖ `SERVICE_FAILED`: myapp.service has failed\n');
    expect(md).toContain('```sh\nsystemctl start myapp\n```');
    expect(md).toContain('```text\nMain process exited, code=exited, status=1/FAILURE\nmyapp[44]: myapp: cannot open /etc/myapp/myapp.conf\n```');
    expect(md).toContain("`ss -Htan '( sport = :7071 or dport = :7071 )'`");
  });

  it('escapes | and backticks so every table row keeps its five cells', () => {
    const md = renderMarkdown(ugly);
    const rows = md.split('\n').filter((l) => l.startsWith('| '));
    expect(rows.length).toBe(ugly.steps.length + 1);
    for (const row of rows) expect(cells(row), row).toHaveLength(5);
    // The summary a|b`c` and the command holding | and backticks, escaped for a table cell.
    expect(md).toContain('| a\\\\|b\\`c\\` |');
    expect(md).toContain("grep -E 'users:\\(\\(\"(服务器\\|java\\|node)\"'");
  });

  it('fences text that itself holds backticks', () => {
    const tricky: Report = {
      ...serviceFailed,
      steps: [{ ...serviceFailed.steps[1]!, command: 'echo `date` ``x``' }],
      diagnosis: { ...serviceFailed.diagnosis, evidence: ['```', 'inside'], fix: { summary: 'Run', commands: ['echo `hostname`'] } },
    };
    const md = renderMarkdown(tricky);
    expect(md).toContain('| ``` echo `date` ``x`` ``` |');
    expect(md).toContain('````text\n```\ninside\n````');
    expect(md).toContain('```sh\necho `hostname`\n```');
  });

  it('keeps host text from turning into markup or escape sequences', () => {
    const md = renderMarkdown(ugly);
    expect(md).not.toContain(ESC);
    expect(md).toContain('FATAL  bind: address already in use');
  });

  it('marks an interrupted report as partial', () => {
    expect(renderMarkdown(reports.interrupted)).toContain('> **Partial report:**');
  });
});

describe('json report', () => {
  it('is the report itself, two-space indented, with a final newline', () => {
    for (const [, report] of cases) {
      const json = renderJson(report);
      expect(JSON.parse(json)).toEqual(report);
      expect(json.endsWith('}\n')).toBe(true);
      expect(json.split('\n')[1]).toBe('  "version": 1,');
    }
  });
});
