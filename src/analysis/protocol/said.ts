/** The longest `said` a finding carries (the server's words, not a dump). */
export const SAID_MAX = 200;

/**
 * Bytes or text as a report may quote them: control characters escaped (`\r`, `\n`, `\t`, `\xHH`),
 * bytes that are not UTF-8 as `\xHH`, trailing line ends dropped, at most SAID_MAX characters.
 */
export function printable(input: Uint8Array | string, max = SAID_MAX): string {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  let out = '';
  let seen = 0;
  for (const ch of text.replace(/[\r\n]+$/, '')) {
    if (seen++ === max) return `${out.slice(0, max)}…`;
    const c = ch.codePointAt(0)!;
    if (ch === '\r') out += '\\r';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f || (typeof input !== 'string' && c >= 0x80)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

/** The first line of some bytes (without its line end), as latin1 text. */
export function firstLine(bytes: Uint8Array): string {
  const b = Buffer.from(bytes);
  const nl = b.indexOf(0x0a);
  return b.subarray(0, nl < 0 ? b.length : nl).toString('latin1').replace(/\r$/, '');
}
