import { normalizeAddress } from '../net/address.js';
import { REFUSAL_LOGS, type RefusalLog } from '../knowledge/refusal-logs.js';

/** An address is never followed by more of one: 10.0.0.7 is not 10.0.0.70. */
const MORE_ADDRESS = /[0-9A-Za-z.:]/;

/**
 * Whether a line holds a pattern of knowledge/refusal-logs.ts: its literal parts in order, `*`
 * any run between them, `{client}` the address itself. Found part after part with indexOf (the
 * leftmost place of each is the right one for an unanchored pattern), so a long line of a log a
 * client can write into costs linear time, never a regular expression's backtracking.
 */
function holds(line: string, pattern: string, client: string): boolean {
  const parts = pattern.split('*').flatMap((chunk) => chunk.split(/(\{client\})/)).filter((p) => p !== '');
  let at = 0;
  for (const part of parts) {
    if (part !== '{client}') {
      const i = line.indexOf(part, at);
      if (i < 0) return false;
      at = i + part.length;
      continue;
    }
    let i = line.indexOf(client, at);
    while (i >= 0 && MORE_ADDRESS.test(line[i + client.length] ?? '')) i = line.indexOf(client, i + 1);
    if (i < 0) return false;
    at = i + client.length;
  }
  return true;
}

/**
 * The log lines that record this refusal of this client (pure), the newest last, at most `max`:
 * the evidence a report quotes beside the setting. Lines of other clients are left out.
 */
export function refusalLogLines(refusal: RefusalLog['refusal'], lines: readonly string[], clientAddress: string, max = 3): string[] {
  const client = normalizeAddress(clientAddress);
  const patterns = REFUSAL_LOGS.filter((r) => r.refusal === refusal).map((r) => r.pattern);
  // sshd -e ends its lines with \r\n.
  return lines.map((l) => l.replace(/\r$/, '')).filter((l) => patterns.some((p) => holds(l, p, client))).slice(-max);
}
