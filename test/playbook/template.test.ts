import { describe, expect, it } from 'vitest';
import { parsePlaceholders, renderCommand, renderTemplate, renderValue, splitWords, TemplateSyntaxError } from '../../src/playbook/template.js';

const scope = {
  target: { host: 'db.internal', port: 7071 },
  inputs: { process: 'myapp', service: 'my app' },
  steps: { unit: { evidence: { journal: ['line one', 'line two'], mainPid: 44, empty: [] } } },
};

describe('templates', () => {
  it('renders paths and filters', () => {
    expect(renderTemplate('{{ inputs.process }} on {{target.port}}', scope)).toBe('myapp on 7071');
    expect(renderTemplate('{{ steps.unit.evidence.journal | join(" / ") }}', scope)).toBe('line one / line two');
    expect(renderTemplate('{{ steps.unit.evidence.journal | first | upper }}', scope)).toBe('LINE ONE');
    expect(renderTemplate('{{ steps.unit.evidence.journal | count }}', scope)).toBe('2');
    expect(renderTemplate('{{ inputs.nope | default("the program") }}', scope)).toBe('the program');
    expect(renderTemplate('{{ steps.unit.evidence.empty | default("none") }}', scope)).toBe('none');
    expect(renderTemplate('{{ steps.missing.summary }}!', scope)).toBe('!');
  });
  it('keeps the type of a lone placeholder for check parameters', () => {
    expect(renderValue('{{ steps.unit.evidence.mainPid }}', scope)).toBe(44);
    expect(renderValue('{{ steps.unit.evidence.journal }}', scope)).toEqual(['line one', 'line two']);
    expect(renderValue('pid {{ steps.unit.evidence.mainPid }}', scope)).toBe('pid 44');
  });
  it('splits commands into words before templating, so a value stays one word', () => {
    expect(splitWords('ss -Htln sport = :{{ target.port }}')).toEqual(['ss', '-Htln', 'sport', '=', ':{{ target.port }}']);
    expect(renderCommand('systemctl start {{ inputs.service }}', scope)).toEqual(['systemctl', 'start', 'my app']);
    expect(renderCommand(['echo', '{{ inputs.process }}; rm -rf /'], scope)).toEqual(['echo', 'myapp; rm -rf /']);
    expect(renderCommand('journalctl -u {{ inputs.nope }} -n 5', scope)).toEqual(['journalctl', '-u', '-n', '5']);
  });
  it('a word that is one placeholder holding a list becomes one argv word per item', () => {
    const fix = { steps: { fw: { evidence: { fix: ['nft', 'insert', 'rule', 'inet', 'filter', 'input', 'tcp dport 7071 accept'], reset: [] } } } };
    expect(renderCommand('{{ steps.fw.evidence.fix }}', fix)).toEqual(['nft', 'insert', 'rule', 'inet', 'filter', 'input', 'tcp dport 7071 accept']);
    expect(renderCommand(['sudo', '{{ steps.fw.evidence.fix }}'], fix)).toEqual(['sudo', 'nft', 'insert', 'rule', 'inet', 'filter', 'input', 'tcp dport 7071 accept']);
    // An empty list is no command at all; inside a longer word a list is text, never more words.
    expect(renderCommand('{{ steps.fw.evidence.reset }}', fix)).toEqual([]);
    expect(renderCommand('x={{ steps.fw.evidence.fix }}', fix)).toHaveLength(1);
  });
  it('rejects malformed placeholders with their offset', () => {
    expect(() => parsePlaceholders('x {{ 1+1 }}')).toThrow(TemplateSyntaxError);
    expect(() => parsePlaceholders('x {{ a.b | nope }}')).toThrow(/unknown filter 'nope'/);
    try {
      parsePlaceholders('abc {{ target.port');
    } catch (e) {
      expect((e as TemplateSyntaxError).offset).toBe(4);
    }
  });
  it('cannot run code: only paths are looked up', () => {
    expect(renderTemplate('{{ constructor.constructor }}', scope)).not.toContain('function');
  });
});
