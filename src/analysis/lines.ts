/**
 * Lines of a command's output or of a file, bounded for a report: what a playbook's own checks
 * (`command`, `file`) show as evidence. Pure.
 */

/** The longest line shown as evidence; longer ones are cut with an ellipsis. */
export const SHOWN_LINE_MAX = 300;

/** A line cut to SHOWN_LINE_MAX characters. */
export function shownLine(line: string): string {
  return line.length > SHOWN_LINE_MAX ? `${line.slice(0, SHOWN_LINE_MAX - 1)}…` : line;
}

/** The lines of a text, without the empty last one a final newline makes, and without a trailing \r. */
export function linesOf(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * The last `lines` non-empty lines of a text, at most `bytes` bytes (UTF-8) in all: fewer lines
 * when they are long, and the first kept line cut from its start when even one is too long.
 */
export function lastLines(text: string, opts: { lines: number; bytes: number }): string[] {
  const all = linesOf(text).filter((l) => l.trim() !== '');
  const out: string[] = [];
  let size = 0;
  for (let i = all.length - 1; i >= 0 && out.length < opts.lines; i--) {
    const line = all[i]!;
    const n = Buffer.byteLength(line) + 1;
    if (size + n > opts.bytes) {
      if (out.length === 0) out.unshift(`…${Buffer.from(line).subarray(-(opts.bytes - 4)).toString('utf8').replace(/^\uFFFD+/, '')}`);
      break;
    }
    out.unshift(line);
    size += n;
  }
  return out;
}

/** The first line of the texts (in order) the expression matches, with its number in its text (1-based); undefined when none does. */
export function firstMatchingLine(texts: readonly string[], regex: RegExp): { line: string; number: number } | undefined {
  for (const text of texts) {
    const lines = linesOf(text);
    for (let i = 0; i < lines.length; i++) {
      regex.lastIndex = 0;
      if (regex.test(lines[i]!)) return { line: lines[i]!, number: i + 1 };
    }
  }
  return undefined;
}
