import { closest, distance } from 'fastest-levenshtein';

/** "did you mean 'listen'?" when a known name is close enough to the typo, else undefined. */
export function didYouMean(word: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(word, known as string[]);
  const limit = Math.max(2, Math.floor(word.length / 3));
  return distance(word, best) <= limit ? `did you mean '${best}'?` : undefined;
}

/** A hint naming the closest known name, or listing the known names when none is close. */
export function hintFor(word: string, known: readonly string[], what: string): string {
  return didYouMean(word, known) ?? (known.length ? `known ${what}: ${known.join(', ')}` : `no ${what} are declared`);
}
