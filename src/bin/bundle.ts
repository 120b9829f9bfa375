import type { EarlyReads } from '../host/early-reads.js';
import { main } from './main.js';

/**
 * Runs whyport with these words and exits with its status: the bundle's entry (dist/whyport.cjs),
 * called by the start-up entry (src/bin/bin.ts) with the reads it began, and by src/bin/sea-entry.ts.
 */
export function run(words: readonly string[], early?: EarlyReads): void {
  void main(words, undefined, early).then((status) => {
    process.exitCode = status;
    // Once main has returned the report is written and nothing else is owed; but a name lookup that a
    // silent DNS server never answers keeps node alive until glibc gives up (seconds later). Exit as
    // soon as stdout has flushed.
    process.stdout.write('', () => process.exit(status));
  });
}
