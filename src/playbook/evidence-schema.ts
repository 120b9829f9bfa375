import type { $ZodType } from 'zod/v4/core';
import { toJSONSchema } from 'zod/mini';

/** The part of JSON Schema that evidence shapes use: what placeholders are checked against. */
export type JsonSchema = { type?: string | string[]; properties?: Record<string, JsonSchema>; additionalProperties?: boolean | JsonSchema; items?: JsonSchema; anyOf?: JsonSchema[]; oneOf?: JsonSchema[] };

/** The JSON Schema of a check's evidence (also published, and listed by `whyport checks`). */
export function evidenceJsonSchema(schema: $ZodType): JsonSchema {
  return toJSONSchema(schema, { target: 'draft-7', unrepresentable: 'any' }) as JsonSchema;
}

/** The dotted paths evidence of this shape offers, for `whyport checks`: `acceptQueue.owner`, `fix[]`. */
export function evidenceFields(schema: JsonSchema, prefix = '', depth = 0): string[] {
  const props = schema.properties ?? {};
  return Object.entries(props).flatMap(([k, v]) => {
    const name = prefix + k;
    const inner = v.anyOf?.find((a) => a.type !== 'null') ?? v;
    if (inner.properties && depth < 2) return evidenceFields(inner, `${name}.`, depth + 1);
    return [inner.type === 'array' ? `${name}[]` : name];
  });
}

/**
 * Whether `path` names something inside evidence of this shape. A miss says at which part, and
 * which names were possible there (for did-you-mean).
 */
export function lookupEvidence(schema: JsonSchema, path: readonly string[]): { ok: true } | { ok: false; at: number; known: string[]; what: string } {
  const go = (s: JsonSchema, i: number): { ok: true } | { ok: false; at: number; known: string[]; what: string } => {
    if (i >= path.length) return { ok: true };
    const alts = s.anyOf ?? s.oneOf;
    if (alts) {
      const tries = alts.filter((a) => a.type !== 'null').map((a) => go(a, i));
      return tries.find((t) => t.ok) ?? tries.sort((a, b) => (b.ok ? 0 : b.at) - (a.ok ? 0 : a.at))[0] ?? { ok: true };
    }
    const seg = path[i]!;
    const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
    if (type === undefined && !s.properties) return { ok: true }; // any value: the playbook looks inside at its own risk
    if (type === 'array') return /^\d+$/.test(seg) ? go(s.items ?? {}, i + 1) : { ok: false, at: i, known: [], what: 'a list (take an item by its number, or the whole list)' };
    if (type === 'object' || s.properties) {
      if (s.properties && seg in s.properties) return go(s.properties[seg]!, i + 1);
      if (s.additionalProperties && typeof s.additionalProperties === 'object') return go(s.additionalProperties, i + 1);
      if (s.additionalProperties === true || (s.additionalProperties === undefined && !s.properties)) return { ok: true };
      return { ok: false, at: i, known: Object.keys(s.properties ?? {}), what: 'an object' };
    }
    return { ok: false, at: i, known: [], what: `a ${type}` };
  };
  return go(schema, 0);
}
