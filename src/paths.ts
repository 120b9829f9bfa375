import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root: the nearest folder above this module with a package.json. Searched rather than
 * fixed, because the module sits in src/ under vitest and in a bundle chunk of dist/ when built.
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'playbooks'))) return dir;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}

export const PACKAGE_ROOT = packageRoot();
export const PLAYBOOK_DIR = join(PACKAGE_ROOT, 'playbooks');
export const SCHEMA_FILE = join(PACKAGE_ROOT, 'playbooks', 'playbook.schema.json');
/** Built-in playbooks validated at build time, so a diagnosis need not parse YAML (src/playbook/source.ts). */
export const COMPILED_PLAYBOOK_DIR = join(PACKAGE_ROOT, 'dist', 'playbooks');
