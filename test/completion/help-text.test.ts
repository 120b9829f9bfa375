import { describe, expect, it } from 'vitest';
import { parseHelpText } from '../../src/completion/help-text.js';

// As commander 14 prints `whyport playbook graph --help` and `whyport baseline --help` at 80
// columns: wrapped descriptions, choices, a default, sections after the options.
const GRAPH = `Usage: whyport playbook graph [options] [playbook]

draw the steps of a playbook and their branches to diagnoses (Mermaid renders in
GitHub and GitLab Markdown)

Arguments:
  playbook           a built-in name or a file (default: "default")

Options:
  --format <format>  the diagram language (choices: "mermaid", "dot", default:
                     "mermaid")
  -h, --help         show this help
`;

const CHECK = `Usage: whyport baseline check [options]

compare what listens now with the baseline

Options:
  --file <path>                the baseline file (default:
                               /var/lib/whyport/baseline.json)
  --ignore-port <ports...>     leave out these ports: 22, 8000-8100, or a comma
                               list
  --ssh [server]               optional value
  -x                           a short flag alone
  -h, --help                   show this help

--notify must come last: every word after it is the command and its arguments,
  --not-an-option <x>          text after the sections is not read

Commands:
  save [options]   record what listens now
  help [command]   display help for command
`;

describe('parseHelpText', () => {
  it('reads the description and the options, wrapped lines joined, choices found', () => {
    const help = parseHelpText(GRAPH);
    expect(help.description).toBe('draw the steps of a playbook and their branches to diagnoses (Mermaid renders in GitHub and GitLab Markdown)');
    expect(help.options).toEqual([
      { long: '--format', value: 'format', optional: false, variadic: false, description: 'the diagram language (choices: "mermaid", "dot", default: "mermaid")', choices: ['mermaid', 'dot'] },
      { short: '-h', long: '--help', optional: false, variadic: false, description: 'show this help' },
    ]);
    expect(help.commands).toEqual([]);
  });

  it('tells values, optional values and variadic ones apart, and stops at free text', () => {
    const help = parseHelpText(CHECK);
    expect(help.options.map((o) => [o.short ?? o.long, o.value, o.optional, o.variadic])).toEqual([
      ['--file', 'path', false, false],
      ['--ignore-port', 'ports', false, true],
      ['--ssh', 'server', true, false],
      ['-x', undefined, false, false],
      ['-h', undefined, false, false],
    ]);
    expect(help.options[0]!.description).toBe('the baseline file (default: /var/lib/whyport/baseline.json)');
    expect(help.commands.map((c) => c.name)).toEqual(['save', 'help']);
  });
});
