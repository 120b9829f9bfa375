#!/usr/bin/env node
import { main } from './main.js';

const status = await main(process.argv.slice(2));
process.exitCode = status;
// Once main has returned the report is written and nothing else is owed; but a name lookup that a
// silent DNS server never answers keeps node alive until glibc gives up (seconds later). Exit as
// soon as stdout has flushed.
process.stdout.write('', () => process.exit(status));
