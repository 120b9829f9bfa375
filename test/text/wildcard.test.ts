import { describe, expect, it } from 'vitest';
import { GLOB, SQL_LIKE, wildcardMatches } from '../../src/text/wildcard.js';
import { seeded } from '../helpers/fuzz.js';

describe('wildcard patterns', () => {
  it('globs and SQL LIKE, escapes and case', () => {
    expect(wildcardMatches('*.conf', 'a.conf', GLOB)).toBe(true);
    expect(wildcardMatches('*.conf', 'a.conf.bak', GLOB)).toBe(false);
    expect(wildcardMatches('10.0.0.?', '10.0.0.7', GLOB)).toBe(true);
    expect(wildcardMatches('*', '', GLOB)).toBe(true);
    expect(wildcardMatches('', '', GLOB)).toBe(true);
    expect(wildcardMatches('a*b*c', 'axxbyyc', GLOB)).toBe(true);
    expect(wildcardMatches('a*b*c', 'axxbyy', GLOB)).toBe(false);
    expect(wildcardMatches('10.0.0.%', '10.0.0.7', SQL_LIKE)).toBe(true);
    expect(wildcardMatches('%.Example.COM', 'app.example.com', SQL_LIKE)).toBe(true);
    expect(wildcardMatches('db\\_host', 'db_host', SQL_LIKE)).toBe(true);
    expect(wildcardMatches('db\\_host', 'dbxhost', SQL_LIKE)).toBe(false);
    expect(wildcardMatches('db_host', 'dbxhost', SQL_LIKE)).toBe(true);
  });

  it('agrees with a regular expression on random patterns, and a pattern of many wildcards costs no time', () => {
    const rnd = seeded(7);
    const pick = (s: string) => s[Math.floor(rnd() * s.length)]!;
    for (let n = 0; n < 2000; n++) {
      const pattern = Array.from({ length: Math.floor(rnd() * 8) }, () => pick('ab*?')).join('');
      const text = Array.from({ length: Math.floor(rnd() * 8) }, () => pick('ab')).join('');
      const re = new RegExp(`^${pattern.replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
      expect(wildcardMatches(pattern, text, GLOB), `${pattern} ${text}`).toBe(re.test(text));
    }
    const started = performance.now();
    expect(wildcardMatches('%a'.repeat(60) + 'b', 'a'.repeat(255), SQL_LIKE)).toBe(false);
    expect(wildcardMatches('*a'.repeat(60) + 'b', 'a'.repeat(255), GLOB)).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });
});
