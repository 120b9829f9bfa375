import { describe, expect, it } from 'vitest';
import { renderJson } from '../../src/report/json.js';
import { renderText } from '../../src/report/text.js';
import { followed } from './reports.js';

// A follow step's walk in the reports: the JSON carries it under the step (a reader ignores what it
// does not know), the text shows its steps indented under the step; goldens: followed.txt / .md.

describe('a followed walk in the reports', () => {
  it('JSON: the nested steps and diagnosis under the step, every contract field of the step as it was', () => {
    const json = JSON.parse(renderJson(followed));
    const step = json.steps[2];
    expect(Object.keys(step).slice(0, 7)).toEqual(['id', 'check', 'outcome', 'summary', 'command', 'durationMs', 'evidence']);
    expect(step.follow.target).toMatchObject({ host: '127.0.0.1', port: 7071 });
    expect(step.follow.steps.map((s: { id: string }) => s.id)).toEqual(['listening', 'which-process', 'unit']);
    expect(step.follow.diagnosis.code).toBe('SERVICE_FAILED');
    expect(json.diagnosis.proxy).toEqual({ program: 'nginx', config: '/etc/nginx/sites-enabled/default:4', upstream: '127.0.0.1:7071', status: 502 });
  });

  it('text with --verbose: the nested steps with their commands and details, within the width', () => {
    for (const width of [40, 80]) {
      const out = renderText(followed, { color: false, width, verbose: true });
      for (const line of out.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(width);
      if (width < 80) continue;
      expect(out).toContain("      $ ss -Htlnp 'sport = :7071'");
      expect(out).toMatch(/step unit · check unit → failed/);
    }
  });
});
