/** The diagnosis fields that name an object of the evidence, reported as they are (diagnosis.namespace, …). */
export const PLACED_FIELDS = ['namespace', 'forward', 'setting', 'drop', 'ban', 'service', 'tls', 'proxy', 'path'] as const;
export type PlacedField = (typeof PLACED_FIELDS)[number];
