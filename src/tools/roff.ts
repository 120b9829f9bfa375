// The few pieces of man(7) roff the man page needs. Everything that reaches the page as text goes
// through `roffText`, so a dash, a backslash, a quote or a non-ASCII character is always printed as
// itself; lines go through `roffLine`, so text never starts with a control character.

/** Characters with a named roff glyph; any other non-ASCII character becomes \[uXXXX]. */
const NAMED: Record<string, string> = {
  '—': '\\(em',
  '–': '\\(en',
  '‘': '\\(oq',
  '’': '\\(cq',
  '“': '\\(lq',
  '”': '\\(rq',
  '→': '\\(->',
  '←': '\\(<-',
  '≤': '\\(<=',
  '≥': '\\(>=',
  '×': '\\(mu',
};

/**
 * Text taken literally: `\` is \e, `-` is \- (a minus, so options can be searched and pasted), and
 * ' ` ~ ^ are the ASCII glyphs (groff would otherwise print curly quotes and spacing accents, and
 * a pasted command would break). Non-ASCII characters become escapes, since groff reads Latin-1.
 */
export function roffText(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/'/g, '\\(aq')
    .replace(/`/g, '\\(ga')
    .replace(/~/g, '\\(ti')
    .replace(/\^/g, '\\(ha')
    .replace(/[^\x00-\x7f]/gu, (c) => NAMED[c] ?? `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}

/** Literal text in bold: commands, options, codes, what is typed as shown. */
export function bold(text: string): string {
  return `\\fB${roffText(text)}\\fR`;
}

/** Literal text in italics: what the user replaces (HOST, a file name). */
export function italic(text: string): string {
  return `\\fI${roffText(text)}\\fR`;
}

/**
 * Filled text from roff that is already escaped, as source lines of at most `width` bytes where
 * the words allow (mandoc -Tlint asks for 80), broken at blanks only, so no escape is cut. A line
 * that would start with `.` or `'` is guarded with \&, so no text line is read as a request.
 */
export function roffLine(text: string, width = 80): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean).map(unhyphenated)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.map(guard).join('\n');
}

/** One source line that must stay one line (the tag of a .TP), guarded like `roffLine`'s. */
export function roffTag(text: string): string {
  return guard(text.split(/\s+/).filter(Boolean).map(unhyphenated).join(' '));
}

/**
 * With \% so groff never hyphenates it: a literal word (in a font of its own, or quoted), a path,
 * an option or a code (a word with / . _ = @ : or a dash inside), or whyport's name.
 */
function unhyphenated(word: string): string {
  const core = word.replace(/^\(+/, '').replace(/[.,;:!?)]+$/, '');
  return /[/._=@:"]|\\-|\\f|whyport/.test(core) && !word.startsWith('\\%') ? `\\%${word}` : word;
}

/**
 * A template whose literal text is escaped with `roffText` and whose values are inserted as they
 * are (roff already: `bold(…)`, `italic(…)`, escaped text).
 */
export function roff(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  return strings.reduce((out, s, i) => out + roffText(s) + (i < values.length ? String(values[i]) : ''), '');
}

function guard(line: string): string {
  return /^[.']/.test(line) ? `\\&${line}` : line;
}

/** A line of no-fill text (an example): its leading blanks kept, as `\ ` so roff keeps them. */
export function roffVerbatimLine(text: string): string {
  return guard(roffText(text).replace(/^ +/, (s) => '\\ '.repeat(s.length)));
}

/** A macro line: `.TH`, `.SH`, … with arguments quoted where they hold blanks. */
export function macro(name: string, ...args: string[]): string {
  return [`.${name}`, ...args.map((a) => (/[\s"]/.test(a) ? `"${a.replace(/"/g, '\\(dq')}"` : a))].join(' ');
}
