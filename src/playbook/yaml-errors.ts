import { isPair, isScalar, visit, type Document, type LineCounter, type YAMLError } from 'yaml';

/**
 * The YAML library's syntax errors in words a playbook author can act on. The library reports
 * where its parser gave up, often one line before or after the mistake and in two or three
 * messages for one slip ("Nested mappings are not allowed in compact mappings" and "Implicit keys
 * need to be on a single line" for a line indented too deep). Here each error is traced back to
 * the line that holds the mistake, said in one sentence with what to do, and only one problem is
 * kept per line; errors that only follow from a mistake already said (the lines after a line
 * indented wrong) are dropped.
 */

/** One syntax problem: the line of the mistake, the column where it starts, the sentence and what to do. */
export interface YamlProblem {
  line: number;
  col: number;
  message: string;
  hint: string;
}

interface Line {
  text: string;
  /** Leading spaces (a tab-indented line counts up to its first tab). */
  indent: number;
  /** Not blank and not only a comment. */
  content: boolean;
  tab: boolean;
}

/** Problems ranked when two land on one line: the cause beats its consequences. */
const RANK = { quote: 0, flow: 1, tab: 2, indent: 3, other: 4 } as const;
type Kind = keyof typeof RANK;

/** The syntax errors of a parsed playbook, explained, in line order. */
export function explainYamlErrors(text: string, errors: readonly YAMLError[], lc: LineCounter, doc: Document): YamlProblem[] {
  const lines = text.split(/\r?\n/).map(toLine);
  const scan = scanQuotesAndBrackets(text);
  const found = new Map<number, YamlProblem & { kind: Kind }>();
  const said = new Set<number>();
  const add = (kind: Kind, line: number, message: string, hint: string, col?: number) => {
    const prev = found.get(line);
    if (prev && RANK[prev.kind] <= RANK[kind]) return;
    found.set(line, { kind, line, col: col ?? (lines[line - 1]?.indent ?? 0) + 1, message, hint });
    said.add(line);
  };

  // The causes first (an unclosed quote swallows the rest of the file), then in file order, so
  // that a line already said is not taken as the indentation the next lines should follow.
  const ordered = [...errors].sort((a, b) => rankOf(a) - rankOf(b) || a.pos[0] - b.pos[0]);
  const seen = new Set<number>();
  for (const e of ordered) {
    // Two or three messages for one slip stand at one place: the first says it.
    if (seen.has(e.pos[0])) continue;
    seen.add(e.pos[0]);
    const at = lc.linePos(e.pos[0]);
    const first = e.message.split('\n')[0]!;
    if (e.code === 'MISSING_CHAR' && /^Missing closing ["']quote/.test(first)) {
      const open = scan.unclosedQuoteBefore(e.pos[0]);
      const line = open ? lc.linePos(open.pos).line : at.line;
      const q = open?.char ?? first.charAt('Missing closing '.length);
      add('quote', line, `line ${line} opens a quoted text (${q}) that is never closed`, `end the text with ${q} on the same line`, open ? lc.linePos(open.pos).col : undefined);
    } else if (e.code === 'BAD_INDENT' && /^Flow (map|sequence)/.test(first)) {
      const open = scan.openBracketAt(e.pos[0]);
      const char = /^Flow map/.test(first) ? '{' : '[';
      const close = char === '{' ? '}' : ']';
      const line = open ? lc.linePos(open).line : at.line;
      add('flow', line, `the '${char}' on line ${line} is never closed`, `end it with '${close}' on the same line`, open ? lc.linePos(open).col : undefined);
    } else if (e.code === 'TAB_AS_INDENT') {
      const above = keyAbove(lines, at.line, said);
      add('tab', at.line, `line ${at.line} is indented with a tab`, `YAML indents with spaces only: replace the tab with spaces${above ? ` (${above.name} on line ${above.line} is indented ${spaces(above.indent)})` : ''}`, 1);
    } else if (e.code === 'DUPLICATE_KEY') {
      const dup = duplicateOf(doc, e.pos[0]);
      const firstLine = dup ? lc.linePos(dup.first).line : undefined;
      const key = dup ? `'${dup.key}'` : 'a key';
      add('other', at.line, `line ${at.line} repeats ${key}${firstLine ? `, already on line ${firstLine}` : ''}`, 'a key appears once in a mapping: merge the two, or rename one', at.col);
    } else if (e.code === 'BAD_SCALAR_START') {
      const value = lines[at.line - 1]!.text.slice(at.col - 1).replace(/\s+#.*$/, '').trimEnd();
      add('other', at.line, `line ${at.line} has a value starting with '${value.charAt(0)}', which YAML keeps for itself`, `put the value in quotes: ${JSON.stringify(value)}`, at.col);
    } else if (e.code === 'MULTIPLE_DOCS') {
      add('other', at.line, `line ${at.line} starts a second YAML document`, "a playbook is one document: remove the '---' line", 1);
    } else if (e.code === 'BAD_DQ_ESCAPE') {
      add('other', at.line, `line ${at.line} has a backslash that is not an escape YAML knows, in double quotes`, "write \\\\ for a backslash, or use single quotes ('…'), where a backslash is itself", at.col);
    } else if (e.code === 'UNEXPECTED_TOKEN' && /^Unexpected scalar at node end/.test(first)) {
      add('other', at.line, `line ${at.line} goes on after its quoted text`, 'put all of the value inside the quotes', at.col);
    } else if (['BAD_INDENT', 'BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY', 'MISSING_CHAR'].includes(e.code)) {
      const p = indentationProblem(lines, at.line, said, e.code === 'BAD_INDENT' ? 'line' : /block sequence/.test(first) ? 'item' : 'key');
      if (p === 'consequence') continue;
      if (p) add('indent', p.line, p.message, p.hint);
      else add('other', at.line, `line ${at.line}: ${lowerFirst(first)}`, 'fix the YAML syntax', at.col);
    } else {
      add('other', at.line, `line ${at.line}: ${lowerFirst(first)}`, 'fix the YAML syntax', at.col);
    }
  }
  if (found.size === 0 && errors.length) {
    // Every error looked like a consequence, yet the file is broken: say what the library says.
    const e = errors[0]!;
    const at = lc.linePos(e.pos[0]);
    return [{ line: at.line, col: at.col, message: `line ${at.line}: ${lowerFirst(e.message.split('\n')[0]!)}`, hint: 'fix the YAML syntax' }];
  }
  return [...found.values()].sort((a, b) => a.line - b.line).map(({ line, col, message, hint }) => ({ line, col, message, hint }));
}

function rankOf(e: YAMLError): number {
  if (e.code === 'MISSING_CHAR' && /^Missing closing/.test(e.message)) return RANK.quote;
  if (e.code === 'BAD_INDENT' && /^Flow/.test(e.message)) return RANK.flow;
  if (e.code === 'TAB_AS_INDENT') return RANK.tab;
  return RANK.indent;
}

/**
 * What is wrong around `line`, where the parser choked on an implicit key or an indentation:
 * the next line deeper than a key that has its value already, a key without its colon, a value
 * with a second `: `, or the line itself indented to no level open above it. 'consequence' when
 * the line is indented like one open above it (an earlier problem threw the parser off).
 */
function indentationProblem(lines: readonly Line[], line: number, said: ReadonlySet<number>, what: 'line' | 'key' | 'item'): { line: number; message: string; hint: string } | 'consequence' | undefined {
  const here = lines[line - 1];
  if (!here) return undefined;
  const pair = keyValue(here.text);
  const next = nextContent(lines, line);
  // An implicit key the parser could not read: it points at the key's line (or its value).
  if (what === 'key' && pair?.value && next && !lines[next - 1]!.tab && lines[next - 1]!.indent > here.indent && !said.has(next)) {
    return {
      line: next,
      message: `line ${next} is indented deeper than the key above it ('${pair.key}:' on line ${line}, which already has its value)`,
      hint: `indent it ${spaces(here.indent)}, as '${pair.key}:' is`,
    };
  }
  if (what === 'key' && pair?.value && /:\s/.test(pair.value) && !/^["'[{]/.test(pair.value)) {
    return { line, message: `line ${line} has a second ': ' in the value of '${pair.key}'`, hint: `put the value in quotes: ${pair.key}: ${JSON.stringify(pair.value.replace(/\s+#.*$/, ''))}` };
  }
  const trimmed = here.text.trim();
  if (what === 'key' && !pair && here.content && !here.tab && !/^-(\s|$)/.test(trimmed)) {
    const noSpace = /^([\w.$-]+):(\S.*)$/.exec(trimmed);
    if (noSpace) return { line, message: `line ${line} has no space after the ':' of '${noSpace[1]}'`, hint: `write '${noSpace[1]}: ${noSpace[2]}'` };
    const word = /^([\w.$-]+)(?:\s+(.*))?$/.exec(trimmed);
    if (word) return { line, message: `line ${line} has no ':' after its key '${word[1]}'`, hint: `write '${word[1]}:${word[2] ? ` ${word[2]}` : ''}'` };
  }
  if (here.tab || !here.content || said.has(line)) return undefined;
  const open = openLevels(lines, line, said);
  if (open.some((o) => o.indent === here.indent)) {
    if (what === 'item' && /^-(\s|$)/.test(trimmed)) return { line, message: `line ${line} is a list item ('- ') among the keys of a mapping`, hint: 'put the list under a key of its own, indented deeper than that key' };
    return 'consequence';
  }
  const above = open[0];
  if (!above) return undefined;
  if (here.indent > above.indent) {
    // Deeper than a key with nothing after its colon is where its value goes.
    if (above.what === 'key' && !keyValue(lines[above.line - 1]!.text)?.value) return 'consequence';
    return { line, message: `line ${line} is indented deeper than the ${above.what} above it (${above.name} on line ${above.line}${above.what === 'key' ? ', which already has its value' : ''})`, hint: `indent it ${spaces(above.indent)}, as ${above.name} is` };
  }
  // Between two open levels: the nearest deeper one (the one it was likely meant to line up with) and the nearest shallower.
  const inner = open.filter((o) => o.indent > here.indent).at(-1)!;
  const outer = open.find((o) => o.indent < here.indent);
  return {
    line,
    message: `line ${line} is indented less than the ${inner.what} above it (${inner.name} on line ${inner.line}, ${spaces(inner.indent)})${outer ? ` and more than ${outer.name} on line ${outer.line} (${spaces(outer.indent)})` : ''}`,
    hint: `indent it ${spaces(inner.indent)}, as ${inner.name} is${outer ? `, or ${spaces(outer.indent)}, as ${outer.name} is` : ''}`,
  };
}

interface Level {
  line: number;
  indent: number;
  /** `'check:'`, or `the item '- a'` */
  name: string;
  what: 'key' | 'item' | 'line';
}

/** The lines whose indentation is open above `line`: the line above it, then each less indented one before it. */
function openLevels(lines: readonly Line[], line: number, said: ReadonlySet<number>): Level[] {
  const out: Level[] = [];
  let min = Infinity;
  for (let n = line - 1; n >= 1 && min > 0; n--) {
    const l = lines[n - 1]!;
    if (!l.content || l.tab || said.has(n) || l.indent >= min) continue;
    min = l.indent;
    out.push(level(l, n));
  }
  return out;
}

function level(l: Line, n: number): Level {
  const trimmed = l.text.trim();
  const pair = keyValue(l.text);
  if (/^-(\s|$)/.test(trimmed)) return { line: n, indent: l.indent, name: `the item '${trimmed.length > 20 ? `${trimmed.slice(0, 19)}…` : trimmed}'`, what: 'item' };
  if (pair) return { line: n, indent: l.indent, name: `'${pair.key}:'`, what: 'key' };
  return { line: n, indent: l.indent, name: `line ${n}`, what: 'line' };
}

/** The key line nearest above `line` (for how far a tab-indented line should go). */
function keyAbove(lines: readonly Line[], line: number, said: ReadonlySet<number>): Level | undefined {
  return openLevels(lines, line, said)[0];
}

function nextContent(lines: readonly Line[], line: number): number | undefined {
  for (let n = line + 1; n <= lines.length; n++) if (lines[n - 1]!.content) return n;
  return undefined;
}

/** `key: value` (or `- key: value`) with its key and what follows the colon, comments kept. */
function keyValue(text: string): { key: string; value: string } | undefined {
  const m = /^\s*(?:-\s+)?("[^"]*"|'[^']*'|[^\s#'"{[\-?:][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:\s+(.*?))?\s*$/.exec(text);
  if (!m) return undefined;
  const value = (m[2] ?? '').startsWith('#') ? '' : m[2] ?? '';
  return { key: m[1]!, value };
}

function toLine(text: string): Line {
  const lead = /^[ \t]*/.exec(text)![0];
  const tab = lead.includes('\t');
  return { text, indent: tab ? lead.indexOf('\t') : lead.length, content: !/^\s*(#.*)?$/.test(text), tab };
}

function spaces(n: number): string {
  return `${n} space${n === 1 ? '' : 's'}`;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** The key a DUPLICATE_KEY error points at, and where the same key stands first in its mapping. */
function duplicateOf(doc: Document, pos: number): { key: string; first: number } | undefined {
  let out: { key: string; first: number } | undefined;
  visit(doc, {
    Map(_, map) {
      const dup = map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.range?.[0] === pos);
      if (!dup || !isScalar(dup.key)) return;
      const key = String(dup.key.value);
      const first = map.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
      if (first && isScalar(first.key) && first.key.range) out = { key, first: first.key.range[0] };
      return visit.BREAK;
    },
  });
  return out;
}

/**
 * A small pass over the text for the two mistakes the parser reports away from where they are: a
 * quote never closed (reported where the quoted text had to end) and a `{` or `[` never closed
 * (reported at the next key). Quotes open only where a value can start, so an apostrophe in plain
 * text is text; a quoted text is taken to end on its line (a playbook's do, and one that goes on
 * is the mistake looked for).
 */
function scanQuotesAndBrackets(text: string): { unclosedQuoteBefore(pos: number): { pos: number; char: string } | undefined; openBracketAt(pos: number): number | undefined } {
  const opens: { pos: number; end: number }[] = [];
  const unclosed: { pos: number; char: string }[] = [];
  const stack: number[] = [];
  let quote: { pos: number; char: string } | undefined;
  let valueStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      if (quote) unclosed.push(quote);
      quote = undefined;
      valueStart = true;
      continue;
    }
    if (quote) {
      if (quote.char === '"' && c === '\\') i++;
      else if (c === quote.char && quote.char === "'" && text[i + 1] === "'") i++;
      else if (c === quote.char) {
        quote = undefined;
        valueStart = false;
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') continue;
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    }
    if ((c === '"' || c === "'") && valueStart) {
      quote = { pos: i, char: c };
      continue;
    }
    if (c === '{' || c === '[') stack.push(i);
    else if ((c === '}' || c === ']') && stack.length) opens.push({ pos: stack.pop()!, end: i });
    valueStart = c === ':' || c === '-' || c === ',' || c === '{' || c === '[' || c === '?';
  }
  if (quote) unclosed.push(quote);
  for (const pos of stack) opens.push({ pos, end: Infinity });
  return {
    unclosedQuoteBefore: (pos) => unclosed.filter((q) => q.pos <= pos).at(-1),
    // The innermost bracket open at `pos` (unclosed at the end, or closed after it).
    openBracketAt: (pos) => opens.filter((o) => o.pos < pos && o.end > pos).sort((a, b) => b.pos - a.pos)[0]?.pos,
  };
}
