import { Option, type Command } from 'commander';
import type { Environment } from '../cli/diagnose-args.js';
import { checkCatalog, checks } from '../checks/index.js';
import { commandProgram, parseCommandLine } from '../cli/command-line.js';
import { PlaybookError, UsageError, formatLintError } from '../errors.js';
import type { CommandIO } from '../cli/io.js';
import { evidenceFields, evidenceJsonSchema } from '../playbook/load.js';
import { GRAPH_FORMATS, playbookGraph, type GraphFormat } from '../playbook/graph.js';
import { textGraph } from '../playbook/graph-text.js';
import { ASK_OUTCOMES, type Playbook } from '../playbook/schema.js';
import { ENDPOINT, ENDPOINT_REQUIRED, endpointDoc } from '../playbook/follow.js';
import { builtInPlaybookText, builtInPlaybooks, openPlaybook } from '../playbook/source.js';
import { BUILT_IN, builtInPath, builtInText } from '../paths.js';
import { EXIT } from '../report/model.js';
import { PLAYBOOK_NAME, starterPlaybook } from '../playbook/starter.js';
import { UserFileError, writeNewUserFile } from '../host/user-file.js';
import { resolve } from 'node:path';
import { outputColumns } from '../text/terminal.js';

/** A text drawing is no wider than this, however wide the terminal: a tree wider than that is hard to follow. */
const MAX_GRAPH_WIDTH = 100;

/** `whyport playbook …` and `whyport checks`: the tools for people who write playbooks. */
export async function runSubcommand(argv: readonly string[], io: CommandIO, env: Environment): Promise<number> {
  let status: number = EXIT.ok;
  // The width of a text drawing: the terminal's (stdout's, or stderr's when stdout is a pipe), else $COLUMNS.
  const columns = () => outputColumns({ stdout: env.stdoutIsTTY ? process.stdout.columns : undefined, stderr: env.stderrIsTTY ? process.stderr.columns : undefined, env: env.env.COLUMNS });
  const program = playbookToolsProgram(io, env.version, (s) => (status = s), columns);
  // `whyport playbook` alone prints its help (on stderr) and succeeds, as it always has.
  if ((await parseCommandLine(program, argv, 'see whyport playbook --help')) !== 'ran') return EXIT.ok;
  return status;
}

/**
 * The command line of `whyport playbook …` and `whyport checks`, its actions writing to `io` and
 * reporting a failing exit status through `fail`. The man page is generated from it too.
 */
export function playbookToolsProgram(io: CommandIO, version: string, fail: (status: number) => void, columns: () => number = () => 80): Command {
  const program = commandProgram(io, version);

  const playbook = program.command('playbook').description('write, check, list and draw playbooks, and print their schema');
  playbook
    .command('new')
    .description('write a commented starting playbook for your application (NAME.yaml, here)')
    .argument('<name>', 'the application: letters, digits, - and _ (it names the file, the default program and unit, and its diagnosis codes)')
    .option('-o, --output <file>', 'the file to write (- for stdout); never one that exists')
    .action(async (name: string, o: { output?: string }) => {
      if (!PLAYBOOK_NAME.test(name)) throw new UsageError(`'${name}' is not a playbook name: a letter, then letters, digits, - and _`, 'name it after your application: whyport playbook new myapp');
      const text = starterPlaybook(name);
      if (o.output === '-') return void io.stdout(text);
      const file = o.output ?? `${name}.yaml`;
      try {
        await writeNewUserFile(resolve(file), text);
      } catch (err) {
        if (!(err instanceof UserFileError)) throw err;
        throw new UsageError(err.code === 'EEXIST' ? `${file} exists already: whyport playbook new never writes over a file (give another with -o FILE)` : `cannot write ${file}: ${err.reason}`);
      }
      io.stderr(`wrote ${file}: the chain for ${name} (sockets, listeners, process, unit), to adapt; run it with whyport 127.0.0.1 PORT --playbook ${file}\n`);
    });
  playbook
    .command('validate')
    .description('check playbooks and report every problem (file:line:col, field, hint)')
    .argument('<files...>', 'playbook files or built-in names')
    .action(async (files: string[]) => {
      for (const f of files) {
        try {
          const pb = await openPlaybook(f, { fresh: true });
          for (const w of pb.warnings) io.stderr(`${formatLintError(w)}\n`);
          io.stdout(`${pb.source}: ok — ${Object.keys(pb.steps).length} steps, ${Object.keys(pb.diagnoses).length} diagnoses, ${Object.keys(pb.inputs).length} inputs\n`);
        } catch (err) {
          if (!(err instanceof PlaybookError)) throw err;
          io.stderr(err.problems.map(formatLintError).join('\n') + '\n');
          const n = err.problems.filter((p) => p.severity === 'error').length;
          io.stderr(`${err.problems[0]?.file ?? f}: ${n} problem${n === 1 ? '' : 's'}\n`);
          fail(EXIT.usage);
        }
      }
    });
  playbook
    .command('list')
    .description('the built-in playbooks')
    .action(() => {
      for (const p of builtInPlaybooks()) io.stdout(`${p.name.padEnd(12)} ${p.description}\n`);
    });
  playbook
    .command('show')
    .description('print a built-in playbook, to copy and adapt')
    .argument('<name>')
    .action((name: string) => {
      const text = builtInPlaybookText(name);
      if (text === undefined) throw new UsageError(`no built-in playbook '${name}'`, 'see whyport playbook list');
      io.stdout(text);
    });
  playbook
    .command('graph')
    .description('draw the steps of a playbook and their branches to diagnoses (Mermaid renders in GitHub and GitLab Markdown; text in a terminal)')
    .argument('[playbook]', 'a built-in name or a file', 'default')
    .addOption(new Option('--format <format>', 'the diagram language (text: a tree in the terminal, for ssh sessions)').choices(GRAPH_FORMATS).default('mermaid'))
    .action(async (ref: string, o: { format: GraphFormat }) => {
      const pb = await openPlaybook(ref);
      const outcomes = (id: string) => outcomesOfStep(pb, id);
      const refines = (id: string) => refinesOfStep(pb, id);
      io.stdout(o.format === 'text' ? textGraph(pb, outcomes, refines, Math.min(MAX_GRAPH_WIDTH, columns())) : playbookGraph(pb, o.format, outcomes, refines));
    });
  playbook
    .command('schema')
    .description('print the JSON Schema of playbooks, for editors: whyport playbook schema > playbook.schema.json')
    .option('--path', 'print the path of a file that holds it instead')
    .action((o: { path?: boolean }) => {
      if (!o.path) return void io.stdout(builtInText(BUILT_IN.schema) ?? '');
      const file = builtInPath(BUILT_IN.schema, version);
      if (!file) throw new UsageError('this single executable carries the schema inside it, and has no private cache directory to write it to', 'set XDG_CACHE_HOME to a directory of yours, or save it with whyport playbook schema > playbook.schema.json');
      io.stdout(`${file}\n`);
    });
  playbook
    .command('test')
    .description('walk a playbook on recordings (whyport record … -o FILE) and compare each diagnosis with the one recorded')
    .argument('<recordings...>', 'recording files')
    .option('--playbook <file|name>', 'the playbook to walk (default: the one each recording was made with)')
    .action(async (files: string[], o: { playbook?: string }) => {
      const { testRecordings } = await import('./playbook-test.js');
      fail(await testRecordings(files, o.playbook, io));
    });
  program
    .command('checks')
    .description('the checks a playbook can use, with their parameters and outcomes')
    .action(() => {
      const cat = checkCatalog();
      for (const [name, c] of Object.entries(checks)) {
        const info = cat[name]!;
        io.stdout(`${name}\n  ${c.description}\n  with:     ${info.params.map((p) => (info.required.includes(p) ? p : `${p}?`)).join(', ')}\n  outcomes: ${c.outcomes.join(' | ')}${refinedText(info.refines)}\n  evidence: ${evidenceFields(evidenceJsonSchema(c.evidence)).join(', ')}\n\n`);
      }
      io.stdout(`ask (a step with 'ask: INPUT' instead of 'check')\n  Puts an input's question to the user, offering guesses\n  outcomes: given | unknown\n  evidence: input, value, source, guesses\n`);
      const e = endpointDoc();
      io.stdout(`\n${ENDPOINT} (a follow step spelled as a check: 'check: endpoint' with 'with: { host, port, playbook?, start?, inputs? }')\n  ${e.description}\n  with:     ${e.params.map((p) => ((ENDPOINT_REQUIRED as readonly string[]).includes(p) ? p : `${p}?`)).join(', ')}\n  outcomes: ${e.outcomesText}\n  evidence: ${evidenceFields(evidenceJsonSchema(e.evidence!)).join(', ')}\n`);
      io.stdout(`\nfollow (a step with 'follow: { host, port, playbook?, start?, inputs? }' instead of 'check': the same as check: endpoint)\n  Diagnoses another HOST:PORT with this same playbook or the one named, as if it had been asked for (a nested walk)\n  outcomes: the codes of the diagnoses its walk may end in, in lower-kebab case (reachable, service-failed, …), and inconclusive\n  evidence: code, title, explanation, host, port, address, diagnosis\n`);
    });

  return program;
}

/** `(no-reply refines timeout)`: what a playbook that does not name an outcome gets instead. */
function refinedText(refines: Readonly<Record<string, string>> | undefined): string {
  const pairs = Object.entries(refines ?? {});
  return pairs.length ? `  (${pairs.map(([o, r]) => `${o} refines ${r}: unnamed, it goes where ${r} goes`).join('; ')})` : '';
}

/** The outcomes of a step's check that refine older ones (Check.refines); none for an ask step. */
export function refinesOfStep(pb: Pick<Playbook, 'steps'>, id: string): Readonly<Record<string, string>> {
  const step = pb.steps[id];
  return (step?.check !== undefined ? (checks[step.check as keyof typeof checks]?.refines as Record<string, string> | undefined) : undefined) ?? {};
}

/** The outcomes a step can have: its check's, an ask step's, or the codes a follow step's walk may end in. */
export function outcomesOfStep(pb: Pick<Playbook, 'steps'>, id: string): readonly string[] | undefined {
  const step = pb.steps[id];
  if (!step) return undefined;
  if (step.follow) return step.follow.possible;
  return step.ask !== undefined ? ASK_OUTCOMES : checks[step.check as keyof typeof checks]?.outcomes;
}
