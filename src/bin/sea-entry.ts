import { run } from './bundle.js';

// whyport run directly from its bundle: the single executable (src/tools/sea.ts; no top-level
// await there, a SEA runs one CommonJS script), where no start-up entry begins reads early.
run(process.argv.slice(2));
