import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from '../cli/diagnose-args.js';
import { PlaybookError, UsageError, formatLintError } from '../errors.js';
import type { CommandIO } from '../cli/io.js';
import { EXIT } from '../report/model.js';
import { BUILT_IN, PACKAGE_ROOT, builtInText } from '../paths.js';
import type { EarlyReads } from '../host/early-reads.js';
import { flagsForWords } from '../cli/argv-words.js';

/** main()'s I/O: a command's two streams, and the environment tests may replace. */
export interface MainIO extends CommandIO {
  environment?: Partial<Environment>;
}

const SUBCOMMANDS = new Set(['playbook', 'checks']);

declare const WHYPORT_VERSION: string | undefined;

function version(): string {
  // Inlined by the bundler at build (no file read at start-up); read from package.json under tests.
  if (typeof WHYPORT_VERSION === 'string') return WHYPORT_VERSION;
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/**
 * The whole command line: parses argv (without node and the script), runs, and returns the exit
 * status. `startedEarly` are the reads the start-up entry began (src/bin/bin.ts), for the local host. Nothing else reads process.argv; heavy modules load only once they are needed, so
 * `--help` costs little more than starting node.
 */
export async function main(words: readonly string[], io: MainIO = defaultIO(), startedEarly?: EarlyReads): Promise<number> {
  const argv = flagsForWords(words);
  const env: Environment = {
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    version: version(),
    ...io.environment,
  };
  const controller = new AbortController();
  let interrupts = 0;
  // The first Ctrl-C stops every command and probe in flight (the diagnosis's host is abortable)
  // and the partial report is printed; a second one leaves at once.
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    io.stderr('\nwhyport: stopping… (Ctrl-C again to quit at once)\n');
    controller.abort();
    startedEarly?.stop();
  };
  process.on('SIGINT', onSigint);
  try {
    if (argv[0] === 'baseline') {
      const { runBaseline } = await import('../baseline/command.js');
      return await runBaseline(argv, io);
    }
    if (argv[0] === 'explain') {
      const { runExplain } = await import('../commands/explain.js');
      return await runExplain(argv.slice(1), io);
    }
    if (argv[0] === 'completion' || argv[0] === '__complete') {
      const { runCompletion } = await import('../completion/command.js');
      return await runCompletion(argv, io, env.version);
    }
    if (argv[0] !== undefined && SUBCOMMANDS.has(argv[0])) {
      const { runSubcommand } = await import('../commands/playbook.js');
      return await runSubcommand(argv, io, env);
    }
    if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) {
      // Printed by commander at build time (dist/help.txt), so `--help` costs one file read rather
      // than loading the argument parser. Undefined under tests (no build).
      const help = builtInText(BUILT_IN.help);
      if (help) {
        io.stdout(help);
        return EXIT.ok;
      }
    }
    // A port name is looked up in the diagnosed host's /etc/services, read while the parser loads.
    const services = Promise.all([import('../cli/port-argument.js'), import('../host/local.js')]).then(([{ readServiceTable }, { localHost }]) => readServiceTable(localHost));
    const { parseDiagnoseArgs } = await import('../cli/diagnose-args.js');
    // whyport record HOST PORT -o FILE …: a diagnosis like any other, recorded.
    const record = argv[0] === 'record';
    const opts = await parseDiagnoseArgs(record ? argv.slice(1) : argv, env, io.stdout, await services, { record });
    if (opts === 'exit') return EXIT.ok;
    // Start the first host scans before the diagnosis modules load, so they overlap.
    const early = await (await import('../commands/context.js')).beginDiagnosis(opts, controller.signal, startedEarly);
    const { diagnose } = await import('../commands/diagnose.js');
    return await diagnose(opts, { stdout: io.stdout, stderr: io.stderr, signal: controller.signal, version: env.version, ...(early ? { early } : {}) });
  } catch (err) {
    return reportError(err, io);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** One clear message on stderr, never a stack trace (unless WHYPORT_DEBUG is set). */
export function reportError(err: unknown, io: Pick<MainIO, 'stderr'>): number {
  if (err instanceof UsageError) {
    io.stderr(`whyport: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}\n`);
    return EXIT.usage;
  }
  if (err instanceof PlaybookError) {
    const errors = err.problems.filter((p) => p.severity === 'error');
    io.stderr(`whyport: the playbook has ${errors.length} problem${errors.length === 1 ? '' : 's'}:\n${err.problems.map((p) => `  ${formatLintError(p)}`).join('\n')}\n`);
    return EXIT.usage;
  }
  const e = err as Error;
  io.stderr(`whyport: internal error: ${e?.message ?? String(err)}\n  hint: please report it; WHYPORT_DEBUG=1 shows where it happened\n`);
  if (process.env.WHYPORT_DEBUG) io.stderr(`${e?.stack ?? ''}\n`);
  return EXIT.inconclusive;
}

function defaultIO(): MainIO {
  // `whyport … | head` closes the pipe early: that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  return { stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t) };
}
