import { checkCatalog, checks } from '../checks/index.js';
import { ENDPOINT, endpointDoc } from './follow.js';
import type { CheckDoc } from './schema.js';

/**
 * The checks as the published JSON Schema describes them (completions, hovers, evidence), and
 * `check: endpoint` beside them: a follow step spelled as a check, completed like one.
 */
export function checkDocs(): Record<string, CheckDoc> {
  const cat = checkCatalog();
  return { ...Object.fromEntries(Object.entries(checks).map(([n, c]) => [n, { ...cat[n]!, description: c.description }])), [ENDPOINT]: endpointDoc() };
}
