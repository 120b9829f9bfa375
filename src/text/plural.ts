/** `1 datagram`, `3 datagrams`: a count with its noun (nouns whose plural adds an s). */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `1 try`, `3 tries`: how many datagrams a probe sent. */
export function tries(n: number): string {
  return n === 1 ? '1 try' : `${n} tries`;
}
