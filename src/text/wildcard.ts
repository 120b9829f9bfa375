/** The characters of a wildcard dialect: `many` matches any run, `one` any one character, `escape` makes the next one literal. */
export interface WildcardDialect {
  many: string;
  one: string;
  escape?: string;
  caseless?: boolean;
}

/** Shell globs (`*`, `?`), as libwrap's and sshd's patterns. */
export const GLOB: WildcardDialect = { many: '*', one: '?' };
/** SQL LIKE (`%`, `_`, `\` escapes), as MySQL's account hosts, compared without case. */
export const SQL_LIKE: WildcardDialect = { many: '%', one: '_', escape: '\\', caseless: true };

/**
 * Whether a wildcard pattern matches the whole text. Linear in their sizes times the number of
 * runs (the two-pointer algorithm, no regular expression): a pattern of many `%` cannot make it
 * backtrack for long, whatever a server's table holds.
 */
export function wildcardMatches(pattern: string, text: string, d: WildcardDialect): boolean {
  // Tokens: a literal character (escaped or not), ONE or MANY.
  const tokens: { kind: 'lit' | 'one' | 'many'; c?: string }[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (d.escape !== undefined && c === d.escape && i + 1 < pattern.length) tokens.push({ kind: 'lit', c: pattern[++i]! });
    else if (c === d.many) tokens.push({ kind: 'many' });
    else if (c === d.one) tokens.push({ kind: 'one' });
    else tokens.push({ kind: 'lit', c });
  }
  const fold = (s: string) => (d.caseless ? s.toLowerCase() : s);
  const t = fold(text);
  let p = 0;
  let s = 0;
  let star = -1;
  let mark = 0;
  while (s < t.length) {
    const tok = tokens[p];
    if (tok && (tok.kind === 'one' || (tok.kind === 'lit' && fold(tok.c!) === t[s]))) {
      p++;
      s++;
    } else if (tok && tok.kind === 'many') {
      star = p++;
      mark = s;
    } else if (star >= 0) {
      p = star + 1;
      s = ++mark;
    } else return false;
  }
  while (tokens[p]?.kind === 'many') p++;
  return p === tokens.length;
}
