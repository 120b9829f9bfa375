import { commandProgram, parseCommandLine } from '../cli/command-line.js';
import { UsageError } from '../errors.js';
import type { CommandIO } from '../cli/io.js';
import { ASK_KINDS, COMPLETE_COMMAND, SHELLS, type AskKind, type Shell } from './spec.js';

const INSTALL = `
Install (a new shell then picks it up):
  bash  whyport completion bash > /etc/bash_completion.d/whyport
        or in ~/.bashrc: source <(whyport completion bash)
  zsh   whyport completion zsh > /usr/local/share/zsh/site-functions/_whyport
        (any folder of $fpath, before compinit), or after compinit: source <(whyport completion zsh)
  fish  whyport completion fish > ~/.config/fish/completions/whyport.fish`;

/**
 * `whyport completion bash|zsh|fish` prints the completion script for that shell; the hidden
 * `whyport __complete units|ports PREFIX`, which the scripts call at each Tab, prints one name a
 * line. Returns the exit status; a shell it has no script for is a UsageError (exit status 2).
 */
export async function runCompletion(argv: readonly string[], io: CommandIO, version: string): Promise<number> {
  if (argv[0] === COMPLETE_COMMAND) return complete(argv.slice(1), io);
  const { COMPLETION_DESCRIPTION } = await import('./whyport-spec.js');
  const program = commandProgram(io);
  program
    .command('completion')
    .description(COMPLETION_DESCRIPTION)
    .argument('[shell]', SHELLS.join(', '))
    .addHelpText('after', INSTALL)
    .action(async (shell: string | undefined) => {
      if (!(SHELLS as readonly string[]).includes(shell ?? '')) {
        // One line: the message says all there is (no "see --help" hint under it).
        throw new UsageError(shell === undefined ? `completion needs a shell: ${SHELLS.join(', ')}` : `no completion for shell '${shell}': whyport has it for ${SHELLS.join(', ')}`);
      }
      io.stdout(await completionScript(shell as Shell, version));
    });
  await parseCommandLine(program, argv, 'see whyport completion --help');
  return 0;
}

/** The completion script of `shell` for this whyport. */
export async function completionScript(shell: Shell, version: string): Promise<string> {
  const [{ whyportSpec }, render] = await Promise.all([import('./whyport-spec.js'), renderer(shell)]);
  return render(await whyportSpec(version));
}

async function renderer(shell: Shell) {
  if (shell === 'bash') return (await import('./bash.js')).bashScript;
  if (shell === 'zsh') return (await import('./zsh.js')).zshScript;
  return (await import('./fish.js')).fishScript;
}

/**
 * `__complete KIND PREFIX`, read by hand rather than by commander: PREFIX is whatever the user
 * typed, `-x` and `--help` included, and must stay data. Prints nothing for anything it does not
 * know, and never an error: the shell would show it in the middle of the command line.
 */
async function complete(args: readonly string[], io: CommandIO): Promise<number> {
  const [kind, prefix = ''] = args;
  if (!(ASK_KINDS as readonly string[]).includes(kind ?? '') || args.length > 2) return 0;
  const [{ candidates }, { localHost }] = await Promise.all([import('./candidates.js'), import('../host/local.js')]);
  const names = await candidates(kind as AskKind, prefix, localHost);
  if (names.length) io.stdout(`${names.join('\n')}\n`);
  return 0;
}
