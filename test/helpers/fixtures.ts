import { existsSync, readFileSync } from 'node:fs';

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
