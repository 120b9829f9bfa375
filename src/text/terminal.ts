import { stripVTControlCharacters } from 'node:util';

// The terminal text kit of the reports: measuring what a string takes on screen, wrapping and
// cutting to a width, laying out commands so they still run when copied, and colour. Layout (what
// goes where) is report/text.ts; report/markdown.ts uses the cleaning and the durations.

/** Joins parts on one line while they fit, starting a new line between parts rather than inside one. */
export function joinFitting(parts: string[], sep: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const part of parts) {
    if (line && displayWidth(line + sep + part) <= width) line += sep + part;
    else {
      if (line) out.push(line);
      const wrapped = wrap(part, width);
      out.push(...wrapped.slice(0, -1));
      line = wrapped.at(-1) ?? '';
    }
  }
  if (line) out.push(line);
  return out;
}

/** "14 ms", "1.2 s", "2 min 05 s": precise where it is short, round where it is long. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

// ── colour ───────────────────────────────────────────────────────────────────────────────────────

/** The report's three tones: red for a problem, green for all right, yellow for inconclusive. */
export type Tone = 'red' | 'green' | 'yellow';
type Paint = (s: string) => string;
export interface Palette extends Record<Tone | 'bold' | 'dim' | 'cyan', Paint> {}

/** The colours and weights of the report, or no-ops without colour. */
export function palette(color: boolean): Palette {
  // Plain SGR codes rather than styleText: styleText may consult the stream and drop colour on its
  // own, and the caller has already decided (TTY, NO_COLOR, --color).
  const sgr = (on: number, off: number): Paint => (color ? (s) => (s ? `\x1b[${on}m${s}\x1b[${off}m` : s) : (s) => s);
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };
}

// ── text measuring and wrapping ──────────────────────────────────────────────────────────────────

// Made on first use: building a Segmenter loads ICU's break data (~7 ms), which a --json run and
// an ASCII-only report never need.
let segmenter: Intl.Segmenter | undefined;
const graphemes = (text: string) => (segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' })).segment(text);

// East Asian Wide and Fullwidth blocks: two columns in a terminal.
const WIDE: [number, number][] = [
  [0x1100, 0x115f], [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff],
  [0xa000, 0xa4cf], [0xa960, 0xa97f], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6], [0x1b000, 0x1b2ff], [0x20000, 0x3fffd],
];

function clusterWidth(g: string): number {
  const cp = g.codePointAt(0) ?? 0;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (/^\p{Default_Ignorable_Code_Point}+$/u.test(g)) return 0;
  if (/\p{Regional_Indicator}/u.test(g)) return 2;
  if (/\p{Emoji_Presentation}/u.test(g) || (g.includes('\uFE0F') && /\p{Extended_Pictographic}/u.test(g))) return 2;
  return WIDE.some(([lo, hi]) => cp >= lo && cp <= hi) ? 2 : 1;
}

/** Terminal columns a string takes: ANSI escapes count 0, wide CJK and emoji count 2. */
export function displayWidth(s: string): number {
  const plain = stripVTControlCharacters(s);
  // Printable ASCII is one column a character: most of what whyport prints.
  if (/^[\x20-\x7e]*$/.test(plain)) return plain.length;
  let w = 0;
  for (const { segment } of graphemes(plain)) w += clusterWidth(segment);
  return w;
}

/**
 * Report strings come from the host (journal lines, process names, command output): drop their
 * escape sequences and show other control characters as \xNN, so they can neither colour nor move
 * the cursor of the terminal reading the report, nor garble a ticket. Tabs become two spaces.
 */
export function clean(s: string): string {
  return stripVTControlCharacters(s)
    .replace(/\r\n?/g, '\n')
    .replace(/\t/g, '  ')
    .replace(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * How wide to lay a report out: stdout's terminal; when stdout is a pipe or a file, the terminal
 * the user still watches on stderr (`whyport … | tee report.txt`), else $COLUMNS, else 80.
 */
export function outputColumns(streams: { stdout?: number; stderr?: number; env?: string }): number {
  for (const n of [streams.stdout, streams.stderr, Number(streams.env)]) {
    if (n !== undefined && Number.isInteger(n) && n > 0) return n;
  }
  return 80;
}

/** Cuts a string to `width` columns, ending it with … when it had to be cut. */
export function truncate(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  let out = '';
  for (const { segment } of graphemes(s)) {
    if (displayWidth(out + segment) > width - 1) break;
    out += segment;
  }
  return `${out}…`;
}

/** Splits a word wider than `width` into pieces that fit, at grapheme boundaries. */
export function chop(word: string, width: number): string[] {
  const pieces: string[] = [];
  let cur = '';
  for (const { segment } of graphemes(word)) {
    if (cur && displayWidth(cur + segment) > width) {
      pieces.push(cur);
      cur = '';
    }
    cur += segment;
  }
  if (cur) pieces.push(cur);
  return pieces;
}

/**
 * Wraps text at spaces to `width` columns; keeps its line breaks, and its runs of spaces where no
 * break falls (ss and journal output line up columns with them); breaks words that cannot fit.
 */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of clean(text).trimEnd().split('\n')) {
    let line = '';
    let started = false;
    let gap = '';
    for (const token of para.split(/( +)/)) {
      if (token === '' || token.startsWith(' ')) {
        gap = token;
        continue;
      }
      for (const piece of displayWidth(token) > width ? chop(token, width) : [token]) {
        if (started && displayWidth(line + gap + piece) > width) {
          out.push(line.trimEnd());
          line = piece;
        } else {
          line += gap + piece;
        }
        started = true;
        gap = '';
      }
    }
    out.push(line.trimEnd());
  }
  return out;
}

/** Wraps with a hanging indent: `first` before the first line, `rest` before the others. */
export function hang(text: string, width: number, first: string, rest: string): string[] {
  const room = Math.max(1, width - Math.max(displayWidth(first), displayWidth(rest)));
  return wrap(text, room).map((line, i) => (i === 0 ? first : rest) + line);
}

/**
 * Splits a shell command into words, keeping quoted strings whole, so a long command can be broken
 * where the shell allows it.
 */
function shellWords(cmd: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (quote) {
      cur += c;
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < cmd.length) cur += cmd[++i];
    } else if (c === ' ' || c === '\n') {
      if (cur) words.push(cur);
      cur = '';
    } else {
      cur += c;
      if (c === "'" || c === '"') quote = c;
      else if (c === '\\' && i + 1 < cmd.length) cur += cmd[++i];
    }
  }
  if (cur) words.push(cur);
  return words;
}

/**
 * A command laid out to fit: broken between words with " \" so that what is copied still runs.
 * A single word too long for any line is cut, as nothing better keeps it on screen.
 */
export function commandLines(cmd: string, width: number, first: string, rest: string): string[] {
  const text = clean(cmd).replace(/\n+$/, '');
  // A script of several lines keeps its line breaks, and all its lines start in the same column so
  // that a heredoc or indented block keeps its shape; each line is then laid out on its own.
  if (text.includes('\n')) {
    const under = ' '.repeat(displayWidth(first));
    return text.split('\n').flatMap((l, i) => commandLines(l, width, i === 0 ? first : under, `${under}  `));
  }
  if (displayWidth(first + text) <= width) return [first + text];
  const room = Math.max(4, width - Math.max(displayWidth(first), displayWidth(rest)) - 2);
  const lines: string[] = [];
  let line = '';
  for (const word of shellWords(text)) {
    if (displayWidth(word) > room) {
      if (line) lines.push(`${line} \\`);
      const pieces = chop(word, room);
      lines.push(...pieces.slice(0, -1));
      line = pieces.at(-1) ?? '';
    } else if (line && displayWidth(`${line} ${word}`) > room) {
      lines.push(`${line} \\`);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  return lines.map((l, i) => (i === 0 ? first : rest) + l);
}
