// `whyport help` and `whyport version` are the words people try first: they mean --help and
// --version, as git's and npm's do. Read by the start-up entry (src/bin/bin.ts, which prints the
// help and the version without loading the bundle) and by main(), so both agree; no parser here.

const SUBCOMMAND_HELP = new Set(['record', 'explain', 'baseline', 'playbook', 'checks', 'completion']);

/**
 * argv with the words `help` and `version` spelled as their flags: `help` → `--help`, `help
 * explain` → `explain --help`, `version` → `--version`. Anything else (`whyport help 80`: a host
 * named help) is left as it is.
 */
export function flagsForWords(argv: readonly string[]): readonly string[] {
  if (argv.length === 1 && argv[0] === 'help') return ['--help'];
  if (argv.length === 1 && argv[0] === 'version') return ['--version'];
  if (argv.length === 2 && argv[0] === 'help' && SUBCOMMAND_HELP.has(argv[1]!)) return [argv[1]!, '--help'];
  return argv;
}
