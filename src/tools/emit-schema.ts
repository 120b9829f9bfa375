import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { diagnoseProgram } from '../cli/diagnose-args.js';
import { precompileBuiltIns } from '../playbook/source.js';
import { playbookJsonSchema } from '../playbook/schema.js';
import { checkDocs } from '../playbook/check-docs.js';
import { COMPILED_PLAYBOOK_DIR, SCHEMA_FILE } from '../paths.js';

// Run at build. The published JSON Schema is generated from the zod schema, never edited by hand;
// the built-in playbooks are validated here once and stored as JSON, so a diagnosis loads them
// without the YAML parser and the validator (a third of whyport's start-up otherwise).
mkdirSync(dirname(SCHEMA_FILE), { recursive: true });
writeFileSync(SCHEMA_FILE, JSON.stringify(playbookJsonSchema(checkDocs()), null, 2) + '\n');

mkdirSync(COMPILED_PLAYBOOK_DIR, { recursive: true });

// `whyport --help` as commander prints it (80 columns), served from a file at run time.
let help = '';
const program = diagnoseProgram(JSON.parse(readFileSync(join(COMPILED_PLAYBOOK_DIR, '../../package.json'), 'utf8')).version);
program.configureOutput({ writeOut: (s) => (help += s), getOutHelpWidth: () => 80 });
program.outputHelp();
writeFileSync(join(COMPILED_PLAYBOOK_DIR, '..', 'help.txt'), help);
await precompileBuiltIns();
