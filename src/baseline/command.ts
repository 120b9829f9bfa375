import type { Command } from 'commander';
import { commandProgram, parseCommandLine } from '../cli/command-line.js';
import { UsageError } from '../errors.js';
import type { CommandIO } from '../cli/io.js';
import type { Host } from '../host/host.js';
import { localHost } from '../host/local.js';
import { showCommand, type Runner } from '../system/runner.js';
import { wrap } from '../text/terminal.js';
import { diffListeners, filterChanges, parsePortRanges } from './diff.js';
import { readInventory } from './inventory.js';
import { BASELINE_VERSION, type Baseline } from './model.js';
import { NOTIFY_TIMEOUT_MS, runNotify } from './notify.js';
import { renderCheckJson, renderCheckText, type CheckReport } from './report.js';
import { defaultBaselineFile, loadBaseline, saveBaseline, type SaveHooks } from './store.js';

/** Where the baseline commands write: stdout for reports, stderr for notices and errors. */
export type BaselineIO = CommandIO;

/** What the baseline commands take from the outside world; tests replace some of it. */
export interface BaselineDeps {
  /** The machine whose listeners are recorded; its name goes into the baseline. */
  host: Host;
  /** Where the --notify command runs: here, next to the user's mailer. */
  runner: Runner;
  env: NodeJS.ProcessEnv;
  /** Who runs whyport here: undefined where there are no uids; 0 picks the system-wide default file. */
  uid: number | undefined;
  now: () => Date;
  ssTimeoutMs: number;
  notifyTimeoutMs: number;
  saveHooks: SaveHooks;
}

/** The exit statuses of the baseline commands. */
export const BASELINE_EXIT = { unchanged: 0, changed: 1, error: 2 } as const;
const EXIT = BASELINE_EXIT;

/** What each exit status of `baseline check` means, for its help and the man page. */
export const BASELINE_EXIT_MEANINGS = {
  unchanged: 'nothing changed',
  changed: 'something changed',
  error: 'error (no or bad baseline, ss failed, notify command failed)',
} as const satisfies Record<keyof typeof BASELINE_EXIT, string>;

/** How --notify runs its command, for the help of `baseline check` and the man page. */
export const NOTIFY_NOTE = `--notify must come last: every word after it is the command and its arguments,
run without a shell, with the report on its stdin (JSON with --json), only when
something changed. If it is missing, fails or takes over ${NOTIFY_TIMEOUT_MS / 1000} s, that is reported
on stderr and the exit status is ${EXIT.error} (and --update does not save).`;

/** The examples of `whyport baseline check --help` and of the man page. */
export const BASELINE_CHECK_EXAMPLES: readonly string[] = [
  'whyport baseline check --ignore-port 32768-60999 --ignore-program chronyd',
  'whyport baseline check --notify mail -s "ports changed on $(hostname)" admin@example.com',
  "whyport baseline check --json --notify curl -sf -H 'Content-Type: application/json' --data-binary @- https://hooks.example.com/ports",
];

const CHECK_HELP = `
${NOTIFY_NOTE}

${wrap(`Exit status: ${Object.entries(BASELINE_EXIT_MEANINGS).map(([k, v]) => `${EXIT[k as keyof typeof EXIT]} ${v}`).join(', ')}.`, 80).join('\n')}

Examples:
${BASELINE_CHECK_EXAMPLES.map((e) => `  ${e}`).join('\n')}`;

/** What the baseline subcommands do once their words are parsed. */
export interface BaselineActions {
  save(opts: { file?: string }): Promise<void>;
  check(opts: CheckOptions): Promise<void>;
}

/**
 * `whyport baseline save|check …` (argv starts at 'baseline'). Returns the exit status: 0
 * unchanged (or saved), 1 changed, 2 error. Bad usage and bad baselines throw UsageError, for
 * main to print as one line (exit 2); the baseline file is never touched on an error.
 */
export async function runBaseline(argv: readonly string[], io: BaselineIO, deps: Partial<BaselineDeps> = {}): Promise<number> {
  const d: BaselineDeps = {
    host: localHost,
    runner: localHost,
    env: process.env,
    uid: 'uid' in deps ? deps.uid : (await localHost.identity()).uid,
    now: () => new Date(),
    ssTimeoutMs: 10_000,
    notifyTimeoutMs: NOTIFY_TIMEOUT_MS,
    saveHooks: {},
    ...deps,
  };
  const defaultFile = defaultBaselineFile({ uid: d.uid, env: d.env });
  const { words, notify } = splitNotify(argv);
  let status: number = EXIT.unchanged;

  const program = baselineProgram(io, defaultFile, {
    save: async (opts) => {
      if (notify) throw new UsageError('--notify belongs to baseline check', 'whyport baseline check --notify CMD ARGS…');
      status = await save(opts.file ?? defaultFile, io, d);
    },
    check: async (opts) => {
      status = await check({ ...opts, ignorePort: opts.ignorePort ?? [], ignoreProgram: opts.ignoreProgram ?? [], file: opts.file ?? defaultFile, notify }, defaultFile, io, d);
    },
  });

  const end = await parseCommandLine(program, words, 'see whyport baseline --help');
  if (end === 'printed') return EXIT.unchanged;
  // `whyport baseline` alone: its help went to stderr; a subcommand is required.
  if (end === 'bare') return EXIT.error;
  return status;
}

/**
 * The command line of `whyport baseline save|check`; `defaultFile` is the file its help names as
 * the default. The man page is generated from it too.
 */
export function baselineProgram(io: CommandIO, defaultFile: string, actions: BaselineActions): Command {
  const program = commandProgram(io);
  const baseline = program
    .command('baseline')
    .description('record the listening TCP/UDP sockets, and report when they change');
  baseline
    .command('save')
    .description('record what listens now (protocol, address, port, program, systemd unit)')
    .option('--file <path>', `the baseline file (default: ${defaultFile})`)
    .action(actions.save);
  baseline
    .command('check')
    .description('compare what listens now with the baseline: appeared, disappeared, changed (exposure first)')
    .option('--file <path>', `the baseline file (default: ${defaultFile})`)
    .option('--json', 'a JSON document instead of the table')
    .option('--ignore-port <ports...>', 'leave out these ports: 22, 8000-8100, or a comma list', collect)
    .option('--ignore-program <names...>', 'leave out changes that only concern these programs (process names)', collect)
    .option('--update', 'after reporting, save the current state as the new baseline')
    .option('--notify <command...>', 'when something changed, run COMMAND ARGS… with the report on its stdin (must come last)')
    .addHelpText('after', CHECK_HELP)
    .action(actions.check);
  return program;
}

export interface CheckOptions {
  file?: string;
  json?: boolean;
  ignorePort?: string[];
  ignoreProgram?: string[];
  update?: boolean;
}

/**
 * Repeated and variadic option values accumulate: `--ignore-port 22 53 --ignore-port 80`. (No
 * commander default: it would print "(default: [])" in the help.)
 */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Everything after `--notify` is the notify command's argv, left alone: its words may look like
 * whyport's options (`mail -s …`), so they must not reach commander.
 */
function splitNotify(argv: readonly string[]): { words: readonly string[]; notify?: string[] } {
  const at = argv.indexOf('--notify');
  if (at < 0) return { words: argv };
  const notify = argv.slice(at + 1);
  if (notify.length === 0) throw new UsageError('--notify needs a command', 'e.g. --notify mail -s "ports changed" admin@example.com (it must come last)');
  return { words: argv.slice(0, at), notify };
}

async function save(file: string, io: BaselineIO, d: BaselineDeps): Promise<number> {
  const inventory = await readInventory(d.host, { timeoutMs: d.ssTimeoutMs });
  const baseline: Baseline = {
    whyport: 'baseline',
    version: BASELINE_VERSION,
    host: (await d.host.identity()).hostname,
    savedAt: d.now().toISOString(),
    listeners: inventory.listeners,
  };
  await saveBaseline(file, baseline, d.saveHooks);
  // Only worth saying when running as root would help; root's own blind spots (other PID
  // namespaces) show as '?' owners in the reports.
  if (inventory.ownersHidden && d.uid !== 0) {
    io.stderr("whyport: not root: the programs holding other users' sockets are hidden and were not recorded\n  hint: save as root for a complete baseline\n");
  }
  const tcp = inventory.listeners.filter((l) => l.protocol === 'tcp').length;
  io.stdout(`whyport: saved ${inventory.listeners.length} listeners (${tcp} TCP, ${inventory.listeners.length - tcp} UDP) to ${file}\n`);
  return EXIT.unchanged;
}

async function check(opts: Required<Pick<CheckOptions, 'ignorePort' | 'ignoreProgram'>> & CheckOptions & { file: string; notify?: string[] }, defaultFile: string, io: BaselineIO, d: BaselineDeps): Promise<number> {
  const ports = parsePortRanges(opts.ignorePort);
  if ('error' in ports) throw new UsageError(`--ignore-port: '${ports.error}' is not a port or a range of ports`, 'e.g. --ignore-port 22 8000-8100');

  const baseline = await loadBaseline(opts.file, defaultFile);
  const inventory = await readInventory(d.host, { timeoutMs: d.ssTimeoutMs });
  const all = diffListeners(baseline.listeners, inventory.listeners);
  const changes = filterChanges(all, { ports, programs: opts.ignoreProgram });
  // Not for root: cron mails whatever a job writes to stderr, and root could do nothing about it.
  if (inventory.ownersHidden && d.uid !== 0) {
    io.stderr("whyport: not root: the programs holding other users' sockets are hidden, so their owners are not compared\n");
  }
  const report: CheckReport = {
    file: opts.file,
    baseline: { host: baseline.host, savedAt: baseline.savedAt, listeners: baseline.listeners.length },
    host: (await d.host.identity()).hostname,
    checkedAt: d.now().toISOString(),
    listeners: inventory.listeners.length,
    ignored: { ports: opts.ignorePort.flatMap((p) => p.split(',')), programs: opts.ignoreProgram },
    changes,
  };
  const text = opts.json ? renderCheckJson(report) : renderCheckText(report);
  io.stdout(text);

  let status: number = changes.length > 0 ? EXIT.changed : EXIT.unchanged;
  if (changes.length > 0 && opts.notify) {
    const outcome = await runNotify(d.runner, opts.notify, text, { timeoutMs: d.notifyTimeoutMs, env: d.env });
    if (!outcome.ok) {
      io.stderr(`whyport: ${outcome.message}\n  hint: the changes above were not delivered; try it by hand: echo test | ${showCommand(opts.notify)}\n`);
      status = EXIT.error;
    }
  }
  if (opts.update) {
    if (status === EXIT.error) {
      // Accepting the changes now would mean nobody ever hears of them.
      io.stderr('whyport: baseline not updated, so the next check reports these changes again\n');
    } else if (all.length > 0) {
      // Ignored changes are accepted too: --update takes the whole current state. With nothing
      // changed at all the file is left alone, so savedAt keeps saying since when all is as is.
      const updated: Baseline = { whyport: 'baseline', version: BASELINE_VERSION, host: (await d.host.identity()).hostname, savedAt: report.checkedAt, listeners: inventory.listeners };
      await saveBaseline(opts.file, updated, d.saveHooks);
      // Said only when something was reported: cron mails every line a job writes.
      if (changes.length > 0) io.stderr(`whyport: baseline updated: ${opts.file} (${inventory.listeners.length} listeners)\n`);
    }
  }
  return status;
}
