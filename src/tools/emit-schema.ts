import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { playbookJsonSchema } from '../playbook/schema.js';
import { SCHEMA_FILE } from '../paths.js';

// Run at build: the published JSON Schema is generated from the zod schema, never edited by hand.
mkdirSync(dirname(SCHEMA_FILE), { recursive: true });
writeFileSync(SCHEMA_FILE, JSON.stringify(playbookJsonSchema(), null, 2) + '\n');
