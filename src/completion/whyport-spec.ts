import { diagnoseProgram } from '../cli/diagnose-args.js';
import { runBaseline } from '../baseline/command.js';
import { commandProgram } from '../cli/command-line.js';
import type { CommandIO } from '../cli/io.js';
import { parseTcpStateName, TCP_STATES } from '../knowledge/tcp-states.js';
import { builtInPlaybooks } from '../playbook/source.js';
import { runSubcommand } from '../commands/playbook.js';
import { parseHelpText, type HelpText } from './help-text.js';
import { commandFromHelp, diagnoseOptionValues, programOptions, SHELLS, type CommandSpec, type CompletionSpec, type Values } from './spec.js';

/** What `whyport completion` is, in its help and in the shells' lists of subcommands. */
export const COMPLETION_DESCRIPTION = 'print a completion script for bash, zsh or fish';

/** The first words that name a subcommand (main() dispatches each), in the order they are offered. */
export const SUBCOMMAND_NAMES = ['record', 'explain', 'baseline', 'playbook', 'checks', 'completion'] as const;

/**
 * Everything whyport accepts, for completion: the options of `whyport HOST PORT` from the very
 * commander program that parses them (diagnoseProgram), the subcommands and their options from the
 * help they print, the built-in playbooks from playbooks/, explain's TCP states from the knowledge.
 */
export async function whyportSpec(version: string): Promise<CompletionSpec> {
  const playbookNames = builtInPlaybooks().map((p) => p.name);
  const playbooks: Values = { label: 'playbook', words: playbookNames, files: true };
  const states = TCP_STATES.filter((s) => parseTcpStateName(s) === s);
  // As the README and ss write them (close-wait), then as netstat and the kernel do (CLOSE_WAIT):
  // explain takes either, and Tab completes the spelling being typed.
  const stateWords = [...states.map(readmeSpelling), ...states];
  // Every command's -h/--help, as commandProgram sets it up for all of them.
  const helpOnly = programOptions(commandProgram(silent));

  const playbookHelp = await helpOf(['playbook']);
  const playbookArgs: Record<string, { positionals: Values[]; repeatLast?: boolean }> = {
    validate: { positionals: [playbooks], repeatLast: true },
    test: { positionals: [{ label: 'recording', files: true }], repeatLast: true },
    show: { positionals: [{ label: 'playbook', words: playbookNames }] },
    graph: { positionals: [playbooks] },
  };
  const playbookCommands = await Promise.all(
    visibleCommands(playbookHelp).map(async (name) => {
      const args = playbookArgs[name];
      return commandFromHelp(`playbook ${name}`, await helpOf(['playbook', name]), args?.positionals, args?.repeatLast);
    }),
  );
  const baselineHelp = await helpOf(['baseline']);
  const baselineCommands = await Promise.all(visibleCommands(baselineHelp).map(async (name) => commandFromHelp(`baseline ${name}`, await helpOf(['baseline', name]))));

  const program = diagnoseProgram(version);
  const rootOptions = programOptions(program, diagnoseOptionValues(playbookNames));
  const hostPort: Values[] = [{ label: 'host', hostPort: true }, { label: 'port', ask: 'ports' }];
  const commands: CommandSpec[] = [
    // whyport record HOST PORT -o FILE: a diagnosis, recorded; it takes the diagnosis's options.
    { path: 'record', name: 'record', description: 'diagnose HOST PORT and write what was read to a file that can be replayed (-o FILE)', options: rootOptions, positionals: hostPort, repeatLast: false, commands: [] },
    {
      path: 'explain',
      name: 'explain',
      description: 'what a TCP state, a port or a service name means',
      options: helpOnly,
      // A state, or a port's service name from this machine's /etc/services (explain https).
      positionals: [{ label: 'TCP state or service', words: stateWords, ask: 'ports' }],
      repeatLast: false,
      commands: [],
    },
    commandFromHelp('baseline', baselineHelp, [], false, baselineCommands),
    commandFromHelp('playbook', playbookHelp, [], false, playbookCommands),
    commandFromHelp('checks', await helpOf(['checks'])),
    { path: 'completion', name: 'completion', description: COMPLETION_DESCRIPTION, options: helpOnly, positionals: [{ label: 'shell', words: SHELLS }], repeatLast: false, commands: [] },
  ];
  return {
    version,
    root: {
      path: '',
      name: 'whyport',
      description: program.description(),
      options: rootOptions,
      positionals: hostPort,
      repeatLast: false,
      commands,
    },
  };
}

/** close-wait for CLOSE_WAIT: how the README writes a state (explain takes any spelling). */
export function readmeSpelling(state: string): string {
  return state.toLowerCase().replace(/_/g, '-');
}

const silent: CommandIO = { stdout: () => {}, stderr: () => {} };

/** The subcommands a help text lists, but for commander's own `help [command]`. */
function visibleCommands(help: HelpText): string[] {
  return help.commands.map((c) => c.name).filter((n) => n !== 'help');
}

/** What `whyport WORDS… --help` prints, read (baseline and the playbook tools build their programs as they run). */
async function helpOf(words: readonly string[]): Promise<HelpText> {
  let text = '';
  const io: CommandIO = { stdout: (t) => void (text += t), stderr: (t) => void (text += t) };
  const argv = [...words, '--help'];
  // uid 0: no need to ask who runs whyport; it only changes the default file the help names.
  if (words[0] === 'baseline') await runBaseline(argv, io, { uid: 0 });
  else await runSubcommand(argv, io, { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {}, version: '' });
  return parseHelpText(text);
}
