import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import type { CommandIO } from './io.js';

// Every whyport command parses its words here, so each has the same help and version flags, the
// same wording for bad usage, and the same exit status 2 for it (main() prints the UsageError).

/**
 * How a parse ended: the command ran (or is ready to); help or the version was printed; or a
 * command group was called without a subcommand, so its help went to stderr (the caller's status).
 */
export type ParseEnd = 'ran' | 'printed' | 'bare';

/**
 * A commander program set up the way every whyport command parses: help and version written
 * through `io`, errors thrown rather than printed, and process.exit never called.
 */
export function commandProgram(io: CommandIO, version?: string): Command {
  const program = new Command('whyport')
    .exitOverride()
    // commander's own error line is dropped: parseCommandLine turns it into a UsageError.
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })
    .helpOption('-h, --help', 'show this help')
    .showSuggestionAfterError(true);
  if (version !== undefined) program.version(version, '-V, --version');
  return program;
}

/**
 * Parses argv (without node and the script) and runs the action it selects. Returns 'printed' when
 * help or the version was asked for; throws UsageError for bad usage, with commander's first line
 * as the message and its "did you mean" (if any) before `seeHelp` in the hint.
 */
export async function parseCommandLine(program: Command, argv: readonly string[], seeHelp: string): Promise<ParseEnd> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 'ran';
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 'printed';
    if (err.code === 'commander.help') return 'bare';
    const [first, ...rest] = err.message.replace(/^error: /, '').split('\n');
    const suggestion = /^\((did you mean .*)\)$/i.exec(rest.join(' ').trim())?.[1];
    throw new UsageError(first!.trim(), suggestion ? `${suggestion[0]!.toLowerCase()}${suggestion.slice(1)} (${seeHelp})` : seeHelp);
  }
}
