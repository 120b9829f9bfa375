import { normalizeAddress } from '../net/address.js';
import { REFUSAL_LOGS, type RefusalLog } from '../knowledge/refusal-logs.js';

/** A pattern of knowledge/refusal-logs.ts as a test of one line: `*` any run, `{client}` the address. */
function patternTest(pattern: string, client: string): RegExp {
  const escaped = pattern
    .split('{client}')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*'))
    // An address is never followed by more of one: 10.0.0.7 is not 10.0.0.70.
    .join(`${client.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')}(?![0-9A-Za-z.:])`);
  return new RegExp(escaped);
}

/**
 * The log lines that record this refusal of this client (pure), the newest last, at most `max`:
 * the evidence a report quotes beside the setting. Lines of other clients are left out.
 */
export function refusalLogLines(refusal: RefusalLog['refusal'], lines: readonly string[], clientAddress: string, max = 3): string[] {
  const client = normalizeAddress(clientAddress);
  const tests = REFUSAL_LOGS.filter((r) => r.refusal === refusal).map((r) => patternTest(r.pattern, client));
  // sshd -e ends its lines with \r\n.
  return lines.map((l) => l.replace(/\r$/, '')).filter((l) => tests.some((t) => t.test(l))).slice(-max);
}
