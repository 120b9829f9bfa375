import { array, boolean, coerce, enum as oneOf, int, literal, maximum, minimum, minLength, number, object, optional, string, superRefine, union } from 'zod/mini';
import { vetRegex } from '../text/safe-regex.js';

/**
 * Building blocks of check parameters, on zod/mini: it tree-shakes to a few kilobytes, where
 * classic zod is most of a diagnosis's start-up. (The playbook schema keeps classic zod: it is
 * loaded only to validate a YAML file.) Values arrive as text after templating, so numbers coerce.
 */
// Named imports, not `import * as z`: a namespace object keeps every export of zod/mini (all its
// locales) in the bundle.
export const z = { array, boolean, coerce, enum: oneOf, int, literal, maximum, minimum, minLength, number, object, optional, string, superRefine, union };

/** A TCP port, 1–65535. */
export const port = () => z.coerce.number().check(z.int(), z.minimum(1), z.maximum(65535));
/** Non-empty text. */
export const text = () => z.string().check(z.minLength(1));
/** A whole number ≥ 1 (a count, a threshold, milliseconds). */
export const positive = () => z.coerce.number().check(z.int(), z.minimum(1));

/** Text that must pass `test`, else `problem(value)` is the message (the validator places it at the value). */
export function textThat(test: (value: string) => string | undefined) {
  return z.string().check(
    z.superRefine((value, ctx) => {
      const problem = test(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
    }),
  );
}

/**
 * A regular expression a playbook gives (matched line by line against output or a file), refused
 * when it does not compile or could backtrack for ages (text/safe-regex.ts).
 */
export const pattern = () => textThat((v) => {
  const vetted = vetRegex(v);
  return 'problem' in vetted ? `the regular expression /${v}/ ${vetted.problem}` : undefined;
});

/** Whole milliseconds from 1 to `max` (optional: the check knows its default). */
export const millis = (max: number) =>
  z.coerce.number().check(
    z.superRefine((v, ctx) => {
      if (!Number.isInteger(v) || v < 1 || v > max) ctx.addIssue({ code: 'custom', message: `${v} ms is not a timeout whyport takes: a whole number of milliseconds from 1 to ${max}`, input: v });
    }),
  );
