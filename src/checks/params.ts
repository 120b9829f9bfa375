import { coerce, int, literal, maximum, minimum, minLength, object, optional, string, union } from 'zod/mini';

/**
 * Building blocks of check parameters, on zod/mini: it tree-shakes to a few kilobytes, where
 * classic zod is most of a diagnosis's start-up. (The playbook schema keeps classic zod: it is
 * loaded only to validate a YAML file.) Values arrive as text after templating, so numbers coerce.
 */
// Named imports, not `import * as z`: a namespace object keeps every export of zod/mini (all its
// locales) in the bundle.
export const z = { coerce, int, literal, maximum, minimum, minLength, object, optional, string, union };

/** A TCP port, 1–65535. */
export const port = () => z.coerce.number().check(z.int(), z.minimum(1), z.maximum(65535));
/** Non-empty text. */
export const text = () => z.string().check(z.minLength(1));
/** A whole number ≥ 1 (a count, a threshold, milliseconds). */
export const positive = () => z.coerce.number().check(z.int(), z.minimum(1));
