import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnoseProgram } from '../../src/cli/diagnose-args.js';
import { diagnoseOptionValues, type CommandSpec } from '../../src/completion/spec.js';
import { SUBCOMMAND_NAMES, whyportSpec } from '../../src/completion/whyport-spec.js';
import { parseTcpStateName } from '../../src/knowledge/tcp-states.js';
import { main } from '../../src/bin/main.js';
import { PLAYBOOK_DIR } from '../../src/paths.js';

const spec = await whyportSpec('9.9.9');
const find = (path: string): CommandSpec => {
  const found = [spec.root, ...spec.root.commands, ...spec.root.commands.flatMap((c) => c.commands)].find((c) => c.path === path);
  if (!found) throw new Error(`no command '${path}' in the spec`);
  return found;
};

describe('what completion knows of whyport HOST PORT', () => {
  it('has every option of the program that parses them (diagnoseProgram), with its arity', () => {
    const program = diagnoseProgram('9.9.9');
    const options = program.createHelp().visibleOptions(program);
    expect(spec.root.options.map((o) => o.long)).toEqual(options.map((o) => o.long));
    expect(spec.root.options.map((o) => o.short)).toEqual(options.map((o) => o.short));
    const byLong = Object.fromEntries(spec.root.options.map((o) => [o.long, o]));
    expect(byLong['--ssh']).toMatchObject({ arity: 'optional', repeatable: false });
    expect(byLong['--ssh-option']).toMatchObject({ arity: 'value', repeatable: true });
    expect(byLong['--sudo']).toMatchObject({ arity: 'flag' });
    expect(byLong['--set']).toMatchObject({ arity: 'value', variadic: true, repeatable: true });
    expect(byLong['--help']).toMatchObject({ short: '-h', alone: true });
    expect(byLong['--version']).toMatchObject({ short: '-V', alone: true });
  });

  it('completes values only for options that exist', () => {
    const longs = diagnoseProgram('9.9.9').options.map((o) => o.long);
    for (const name of Object.keys(diagnoseOptionValues([]))) expect(longs).toContain(name);
  });

  it('offers the built-in playbooks of playbooks/ and files for --playbook, units for --service', () => {
    const builtIns = readdirSync(PLAYBOOK_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')).sort();
    expect(builtIns).toContain('default');
    const byLong = Object.fromEntries(spec.root.options.map((o) => [o.long, o]));
    expect(byLong['--playbook']!.values).toEqual({ label: 'file|name', words: builtIns, files: true });
    expect(byLong['--service']!.values).toEqual({ label: 'unit', ask: 'units' });
    expect(spec.root.positionals).toEqual([{ label: 'host', hostPort: true }, { label: 'port', ask: 'ports' }]);
  });
});

describe('what completion knows of the subcommands', () => {
  it('names the subcommands main() runs, and each answers --help', async () => {
    expect(spec.root.commands.map((c) => c.name)).toEqual([...SUBCOMMAND_NAMES]);
    for (const name of SUBCOMMAND_NAMES) {
      let out = '';
      const status = await main([name, '--help'], { stdout: (t) => void (out += t), stderr: (t) => void (out += t) });
      expect(status, name).toBe(0);
      expect(out, name).toMatch(new RegExp(`usage: whyport ${name}`, 'i'));
    }
  });

  it('reads the commands and options of baseline and playbook from their own help', () => {
    expect(find('baseline').commands.map((c) => c.name)).toEqual(['save', 'check']);
    expect(find('playbook').commands.map((c) => c.name)).toEqual(['new', 'validate', 'list', 'show', 'graph', 'schema', 'test']);
    const check = Object.fromEntries(find('baseline check').options.map((o) => [o.long, o]));
    expect(check['--file']).toMatchObject({ arity: 'value', values: { label: 'path', files: true } });
    expect(check['--ignore-port']).toMatchObject({ arity: 'value', variadic: true });
    expect(check['--notify']).toMatchObject({ variadic: true });
    expect(find('playbook graph').options.find((o) => o.long === '--format')!.values.words).toEqual(['mermaid', 'dot', 'text']);
    expect(find('playbook schema').options.map((o) => o.long)).toEqual(['--path', '--help']);
    expect(find('playbook new').options.find((o) => o.long === '--output')).toMatchObject({ short: '-o', arity: 'value', values: { label: 'file', files: true } });
  });

  it("offers explain's TCP states (whyport's UNKNOWN placeholder left out) in both spellings and service names, playbooks and shells", () => {
    const upper = ['LISTEN', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSING', 'NEW_SYN_RECV'];
    const explain = find('explain').positionals[0]!;
    // As the README writes them first (close-wait), then as netstat does; every one is a word explain takes.
    expect(explain.words).toEqual([...upper.map((s) => s.toLowerCase().replace(/_/g, '-')), ...upper]);
    for (const word of explain.words!) expect(parseTcpStateName(word), word).toBe(word.toUpperCase().replace(/-/g, '_'));
    expect(explain.ask).toBe('ports');
    expect(find('playbook show').positionals[0]!.words).toContain('default');
    expect(find('playbook validate')).toMatchObject({ repeatLast: true, positionals: [{ files: true }] });
    expect(find('completion').positionals[0]!.words).toEqual(['bash', 'zsh', 'fish']);
  });
});
