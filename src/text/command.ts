const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Renders argv as a person would type it in a POSIX shell (for display only; never executed). */
export function showCommand(argv: readonly string[]): string {
  return argv.map((a) => (a !== '' && SAFE_WORD.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}
