/**
 * The one place a command line for a remote POSIX shell is built (ssh hands the server one string,
 * and its login shell splits it again). Every argv word is quoted once, as Ansible's shlex.quote
 * does: words of plain characters stay bare so the command reads as a person would type it, every
 * other word goes in single quotes, with each ' written as '\''. Nothing is ever interpolated.
 */
const PLAIN = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** One word, quoted for a POSIX shell. */
export function quoteWord(word: string): string {
  if (word !== '' && PLAIN.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** argv as one POSIX shell command line: the words are exactly argv again after the shell splits it. */
export function shellCommandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('empty command');
  return argv.map(quoteWord).join(' ');
}
