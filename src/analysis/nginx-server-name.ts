import { compileConfigRegex } from '../text/safe-regex.js';

/**
 * How well an nginx `server_name` matches a host name, in nginx's order of choice: 4 exact, 3 a
 * leading wildcard (`*.example.com`, `.example.com`), 2 a trailing one (`www.example.*`), 1 a
 * regular expression (`~^www\d+\.`), 0 none. The server block with the best rank serves the name.
 */
export function nginxNameRank(pattern: string, name: string): number {
  if (pattern === name) return 4;
  if (pattern.startsWith('*.') && name.endsWith(pattern.slice(1))) return 3;
  if (pattern.startsWith('.') && (name === pattern.slice(1) || name.endsWith(pattern))) return 3;
  if (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))) return 2;
  if (pattern.startsWith('~')) return compileConfigRegex(pattern.slice(1), 'i')?.test(name) ? 1 : 0;
  return 0;
}
