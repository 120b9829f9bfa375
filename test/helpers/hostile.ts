import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The file a hostile word creates if a shell ever runs it: it must never exist. */
export const HOSTILE_MARKER = join(tmpdir(), `whyport-pwned-${process.pid}`);

/**
 * Words a hostile user, host name or file could carry, each of which would create HOSTILE_MARKER
 * if a shell ever took it as syntax: a test hands them over and asserts that each arrived as itself
 * and that the marker does not exist.
 */
export function hostileWords(marker = HOSTILE_MARKER): string[] {
  return [
    `'; touch ${marker}; '`,
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `"; touch ${marker}; "`,
    `a\nb; touch ${marker}`,
    '*',
    '~root',
    '$HOME',
    '-n',
    '',
    ' leading and trailing ',
    `back\\slash\\'`,
    '%C %h %%',
    '!!',
    '# not a comment',
  ];
}
