import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * One captured run of a command under test/fixtures/TOOL/: CASE.txt (stdout), CASE.stderr.txt
 * (stderr, empty when absent) and CASE.exitcode, as the capture scripts save them.
 */
export function captured(tool: string, name: string): { stdout: string; stderr: string; exitCode: number } {
  const file = (suffix: string) => new URL(`../fixtures/${tool}/${name}${suffix}`, import.meta.url);
  const read = (suffix: string) => (existsSync(file(suffix)) ? readFileSync(file(suffix), 'utf8') : '');
  if (!existsSync(file('.exitcode'))) throw new Error(`no capture test/fixtures/${tool}/${name}.exitcode`);
  return { stdout: read('.txt'), stderr: read('.stderr.txt'), exitCode: Number(read('.exitcode').trim()) };
}

/**
 * A configuration tree captured under test/fixtures/ (`nginx/proxy-etc`), as the files and links
 * of a replay host mounted at `at` (`/etc/nginx`): symbolic links are kept as links (Debian's
 * sites-enabled/*, with relative targets made absolute), `.keep` files that hold empty folders in git are left out.
 */
export function fixtureTree(dir: string, at: string): { files: Record<string, string>; links: Record<string, string> } {
  const base = fileURLToPath(new URL(`../fixtures/${dir}/`, import.meta.url));
  const files: Record<string, string> = {};
  const links: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of readdirSync(join(base, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      // Relative targets made absolute: the replay host follows links without resolving `..`.
      if (e.isSymbolicLink()) links[`${at}/${r}`] = posix.resolve(posix.dirname(`${at}/${r}`), readlinkSync(join(base, r)));
      else if (e.isDirectory()) walk(r);
      else if (e.name !== '.keep') files[`${at}/${r}`] = readFileSync(join(base, r), 'utf8');
    }
  };
  walk('');
  return { files, links };
}
