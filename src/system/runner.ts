/** The command seam lives with the host (src/host/runner.ts); readers keep importing it from here. */
export * from '../host/runner.js';
