import type { Semantics } from './context.js';

/**
 * An input's `pattern:` is a regular expression. (What `needs:` may name is closed by the schema;
 * whether an ask step names an input that exists is a step's question: steps.ts.)
 */
export function checkInputPatterns({ pb, at }: Semantics): void {
  for (const [name, input] of Object.entries(pb.inputs ?? {})) {
    if (input.pattern === undefined) continue;
    try {
      new RegExp(input.pattern);
    } catch (e) {
      at(['inputs', name, 'pattern'], `not a regular expression: ${(e as Error).message}`);
    }
  }
}
