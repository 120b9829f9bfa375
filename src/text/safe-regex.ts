/**
 * A regular expression from a configuration file, compiled only when it cannot backtrack for
 * ages: a quantified group that itself holds a quantifier (`(a+)+`, `(\w*)*`, `(x|y+){2,}`) or a
 * back-reference is refused (undefined), as is one that does not compile. PostgreSQL's pg_hba.conf
 * and nginx's server_name take such expressions; whyport must not hang on one.
 */
export function compileConfigRegex(source: string, flags = ''): RegExp | undefined {
  const v = vetRegex(source, flags);
  return 'regex' in v ? v.regex : undefined;
}

/** The longest expression whyport compiles from a file. */
const MAX_SOURCE = 1000;

/**
 * compileConfigRegex with the reason when refused, in words that fit after "the expression …":
 * for a playbook's own expressions (the generic checks' `match`, `contains`), whose author must
 * learn what to change.
 */
export function vetRegex(source: string, flags = ''): { regex: RegExp } | { problem: string } {
  if (source.length > MAX_SOURCE) return { problem: `is longer than ${MAX_SOURCE} characters` };
  if (/\\[1-9]/.test(source)) return { problem: 'has a back-reference (\\1…), which can take exponential time' };
  // A group whose body has a quantifier, followed by a repeating quantifier (`?` repeats it at
  // most once: `^/(.*\.php(/.*)?)$`, apache's own ProxyPassMatch example, is fine).
  const nested = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]/.exec(source);
  if (nested) return { problem: `repeats a group that itself repeats (${nested[0]}), which can backtrack for ages on some input` };
  try {
    return { regex: new RegExp(source, flags) };
  } catch (err) {
    return { problem: `does not compile: ${(err as Error).message.replace(/^Invalid regular expression: (?:\/.*\/[a-z]*: )?/, '')}` };
  }
}
