import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (dist/… and src/… both sit one level below it). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PLAYBOOK_DIR = join(PACKAGE_ROOT, 'playbooks');
export const SCHEMA_FILE = join(PACKAGE_ROOT, 'playbooks', 'playbook.schema.json');

/** A --playbook value: a built-in name (`default`) or a file path. */
export function locatePlaybook(nameOrPath: string): { file: string; display: string; builtIn: boolean } {
  const looksLikePath = /[\/\\]/.test(nameOrPath) || /\.ya?ml$/i.test(nameOrPath);
  if (!looksLikePath) {
    const file = join(PLAYBOOK_DIR, `${nameOrPath}.yaml`);
    if (existsSync(file)) return { file, display: `playbooks/${nameOrPath}.yaml`, builtIn: true };
  }
  return { file: resolve(nameOrPath), display: nameOrPath, builtIn: false };
}
