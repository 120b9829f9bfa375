import { describe, expect, it } from 'vitest';
import { parseDiagnoseArgs } from '../../src/cli/diagnose-args.js';
import { serviceTable } from '../../src/cli/port-argument.js';
import type { Report } from '../../src/report/model.js';
import { diagnoseQuietHost, quietHost } from '../helpers/quiet-host.js';

// A TCP report says what an expert needs and no more: no UDP aside, and --brief for the verdict,
// the evidence and the fix alone — from a real diagnosis (NOT_LISTENING) of a replayed host.

describe('a TCP report', () => {
  it('has no sentence about UDP', async () => {
    const text = await diagnoseQuietHost([]);
    expect(text).toContain('NOT_LISTENING');
    expect(text).toContain('No TCP socket listens on port 7071, so the kernel refuses what is sent to it.');
    expect(text).not.toMatch(/UDP/i);
    expect(await diagnoseQuietHost(['--markdown'])).not.toMatch(/UDP/i);
  });
});

describe('--brief', () => {
  it('text: the verdict, the evidence and the fix; no explanation, steps or footer', async () => {
    const whole = await diagnoseQuietHost([]);
    const brief = await diagnoseQuietHost(['--brief']);
    // Headings stand at the margin; all else is indented or inside the box.
    expect(brief.split('\n').filter((l) => /^[^\s│╭╰]/.test(l))).toEqual(['Evidence', 'Fix']);
    expect(brief.startsWith('╭─ whyport · 10.213.9.2:7071')).toBe(true);
    expect(whole.startsWith(brief.slice(0, brief.indexOf('\n\n')))).toBe(true);
    expect(whole).toContain('How we got here');
    expect(brief).not.toContain('How we got here');
    expect(brief).not.toContain('No TCP socket listens');
  });

  it('Markdown: the heading, the evidence and the fix', async () => {
    const brief = await diagnoseQuietHost(['--markdown', '--brief']);
    expect(brief.split('\n').filter((l) => l.startsWith('#'))).toEqual(['## ✖ `NOT_LISTENING`: Nothing listens on port 7071', '### Evidence', '### Fix']);
    expect(brief).not.toContain('**Target:**');
  });

  it('--json: the same whole document', async () => {
    const strip = (json: string) => ({ ...(JSON.parse(json) as Report), durationMs: 0, steps: [] });
    const clock = { startedAt: 0, now: () => 1 };
    expect(strip(await diagnoseQuietHost(['--json', '--brief'], { clock }))).toEqual(strip(await diagnoseQuietHost(['--json'], { clock })));
    const full = JSON.parse(await diagnoseQuietHost(['--json', '--brief'], { clock })) as Report;
    expect(full.steps.length).toBeGreaterThan(1);
  });

  it('is an option of whyport HOST PORT, off by default', async () => {
    const env = { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {}, version: '0.1.0' };
    const services = serviceTable(quietHost.files!['/etc/services']!, '/etc/services');
    const on = await parseDiagnoseArgs(['h', '1', '--brief'], env, () => {}, services);
    const off = await parseDiagnoseArgs(['h', '1'], env, () => {}, services);
    expect(on !== 'exit' && on.brief).toBe(true);
    expect(off !== 'exit' && off.brief).toBe(false);
  });
});
