/**
 * Words a hostile user, host name or file could carry, each of which would run `touch MARKER` if a
 * shell ever took it as syntax: a test hands them over and asserts that each arrived as itself and
 * that MARKER does not exist.
 */
export function hostileWords(marker: string): string[] {
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
