/** `1 datagram`, `3 datagrams`: a count with its noun (nouns whose plural adds an s). */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
