/** A small seeded generator (mulberry32): the same texts on every run, so a failure can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ' \t\n\r#"\'\\,;:=[]{}/*?.!@+-%_0123456789abcdefxyzALLEXCEPTlocalhost\0\u00e9\ufffd';

/**
 * Texts to feed a parser: the real text cut at random places, with random bytes spliced in, lines
 * shuffled and repeated, and plain random strings — `count` of them, the same on every run.
 */
export function fuzzTexts(real: string, count: number, seed = 21): string[] {
  const rnd = seeded(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const noise = (n: number) => Array.from({ length: n }, () => ALPHABET[int(ALPHABET.length)]).join('');
  const lines = real.split('\n');
  const out: string[] = ['', '\n', '\\', '"', '#', real + '\\', real.slice(0, real.length >> 1)];
  while (out.length < count) {
    switch (int(5)) {
      case 0:
        out.push(real.slice(0, int(real.length)));
        break;
      case 1: {
        const at = int(real.length);
        out.push(real.slice(0, at) + noise(int(40)) + real.slice(at + int(20)));
        break;
      }
      case 2:
        out.push(Array.from({ length: int(30) }, () => lines[int(lines.length)]!.slice(0, int(120))).join('\n'));
        break;
      case 3:
        out.push(noise(int(400)));
        break;
      default:
        out.push(Array.from({ length: int(20) }, () => lines[int(lines.length)] + noise(int(8))).join(int(2) ? '\n' : '\\\n'));
    }
  }
  return out;
}
