import { main } from './main.js';

// No top-level await: the single executable is a CommonJS bundle of this file (src/tools/sea.ts).
void main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
  // Once main has returned the report is written and nothing else is owed; but a name lookup that a
  // silent DNS server never answers keeps node alive until glibc gives up (seconds later). Exit as
  // soon as stdout has flushed.
  process.stdout.write('', () => process.exit(status));
});
