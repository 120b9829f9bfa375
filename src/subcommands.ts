import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Environment } from './args.js';
import { checkCatalog, checks } from './checks/index.js';
import { commandProgram, parseCommandLine } from './command-line.js';
import { PlaybookError, UsageError, formatLintError } from './errors.js';
import type { CommandIO } from './io.js';
import { loadPlaybookFile } from './playbook/load.js';
import { PLAYBOOK_DIR, SCHEMA_FILE, locatePlaybook } from './paths.js';
import { EXIT } from './report/model.js';

/** `whyport playbook …` and `whyport checks`: the tools for people who write playbooks. */
export async function runSubcommand(argv: readonly string[], io: CommandIO, env: Environment): Promise<number> {
  let status: number = EXIT.ok;
  const program = commandProgram(io, env.version);

  const playbook = program.command('playbook').description('check, list and locate playbooks');
  playbook
    .command('validate')
    .description('check playbooks and report every problem (file:line:col, field, hint)')
    .argument('<files...>', 'playbook files or built-in names')
    .action(async (files: string[]) => {
      for (const f of files) {
        const where = locatePlaybook(f);
        try {
          const pb = await loadPlaybookFile(where.file, checkCatalog(), where.display);
          for (const w of pb.warnings) io.stderr(`${formatLintError(w)}\n`);
          io.stdout(`${where.display}: ok — ${Object.keys(pb.steps).length} steps, ${Object.keys(pb.diagnoses).length} diagnoses, ${Object.keys(pb.inputs).length} inputs\n`);
        } catch (err) {
          if (!(err instanceof PlaybookError)) throw err;
          io.stderr(err.problems.map(formatLintError).join('\n') + '\n');
          const n = err.problems.filter((p) => p.severity === 'error').length;
          io.stderr(`${where.display}: ${n} problem${n === 1 ? '' : 's'}\n`);
          status = EXIT.usage;
        }
      }
    });
  playbook
    .command('list')
    .description('the built-in playbooks')
    .action(async () => {
      for (const f of (await readdir(PLAYBOOK_DIR)).filter((f) => f.endsWith('.yaml')).sort()) {
        const text = await readFile(join(PLAYBOOK_DIR, f), 'utf8');
        const desc = /^description:\s*(.+)$/m.exec(text)?.[1]?.replace(/^["'>|-]\s*/, '') ?? '';
        io.stdout(`${f.replace(/\.yaml$/, '').padEnd(12)} ${desc}\n`);
      }
    });
  playbook
    .command('show')
    .description('print a built-in playbook, to copy and adapt')
    .argument('<name>')
    .action(async (name: string) => {
      const where = locatePlaybook(name);
      if (!where.builtIn) throw new UsageError(`no built-in playbook '${name}'`, 'see whyport playbook list');
      io.stdout(await readFile(where.file, 'utf8'));
    });
  playbook
    .command('schema')
    .description('the path of the JSON Schema of playbooks (for yaml-language-server)')
    .option('--print', 'print the schema itself')
    .action(async (o: { print?: boolean }) => {
      io.stdout(o.print ? await readFile(SCHEMA_FILE, 'utf8') : `${SCHEMA_FILE}\n`);
    });
  program
    .command('checks')
    .description('the checks a playbook can use, with their parameters and outcomes')
    .action(() => {
      const cat = checkCatalog();
      for (const [name, c] of Object.entries(checks)) {
        const info = cat[name]!;
        io.stdout(`${name}\n  ${c.description}\n  with:     ${info.params.map((p) => (info.required.includes(p) ? p : `${p}?`)).join(', ')}\n  outcomes: ${c.outcomes.join(' | ')}\n\n`);
      }
      io.stdout(`ask (a step with 'ask: INPUT' instead of 'check')\n  Puts an input's question to the user, offering guesses\n  outcomes: given | unknown\n`);
    });

  // `whyport playbook` alone prints its help (on stderr) and succeeds, as it always has.
  if ((await parseCommandLine(program, argv, 'see whyport playbook --help')) !== 'ran') return EXIT.ok;
  return status;
}
