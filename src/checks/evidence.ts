import { array, boolean, nullable, number, object, optional, record, string, union, unknown } from 'zod/mini';

/**
 * Building blocks for the shape of a check's evidence, on zod/mini like its parameters. The shape
 * is what a playbook may name in `{{ steps.ID.evidence.PATH }}`: the validator walks it, the
 * published JSON Schema and `whyport checks` list it. Fields that only some outcomes carry are
 * optional; `any` marks a value whose inside a playbook does not look into.
 */
export const e = {
  object,
  optional,
  str: string,
  num: number,
  bool: boolean,
  list: array,
  map: record,
  either: union,
  nullable,
  any: unknown,
};

/** An object all of whose fields are optional: most evidence has fields only some outcomes set. */
export function fields<T extends Record<string, Parameters<typeof optional>[0]>>(shape: T) {
  return object(Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, optional(v)])) as { [K in keyof T]: ReturnType<typeof optional<T[K]>> });
}

/**
 * The evidence of a firewall rule that blocks (the firewall, client-firewall and forward-firewall
 * steps alike): where it is (tool, table, chain), the rule and its verdict in words, and the fix
 * that deletes or narrows it — the fields their FIREWALL_BLOCKS diagnoses name.
 */
export const blockingRuleFields = {
  tool: string(),
  table: string(),
  chain: string(),
  rule: string(),
  verdict: string(),
  action: string(),
  policy: boolean(),
  path: string(),
  detail: string(),
  where: string(),
  fix: array(string()),
  fixCommand: string(),
  fixNote: string(),
  fixSummary: string(),
  fixKind: string(),
  also: array(string()),
  caveats: array(string()),
};
