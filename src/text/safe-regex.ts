/**
 * A regular expression from a configuration file, compiled only when it cannot backtrack for
 * ages: a quantified group that itself holds a quantifier (`(a+)+`, `(\w*)*`, `(x|y+){2,}`) or a
 * back-reference is refused (undefined), as is one that does not compile. PostgreSQL's pg_hba.conf
 * and nginx's server_name take such expressions; whyport must not hang on one.
 */
export function compileConfigRegex(source: string, flags = ''): RegExp | undefined {
  if (source.length > 1000) return undefined;
  if (/\\[1-9]/.test(source)) return undefined;
  // A group whose body has a quantifier, followed by a repeating quantifier (`?` repeats it at
  // most once: `^/(.*\.php(/.*)?)$`, apache's own ProxyPassMatch example, is fine).
  if (/\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]/.test(source)) return undefined;
  try {
    return new RegExp(source, flags);
  } catch {
    return undefined;
  }
}
