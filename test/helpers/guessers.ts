import type { GuessProviders } from '../../src/checks/guesses.js';

/** Guess providers that offer nothing: a walk's prompts then show no suggestions. */
export const noGuesses: GuessProviders = {
  'programs-for-port': async () => [],
  'units-for-port': async () => [],
  'unit-for-process': async () => [],
  'running-programs': async () => [],
};
