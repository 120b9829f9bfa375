import type { Hook, TableFamily } from './model.js';
import { interpretRule } from './nft-meaning.js';
import { isObj, keyOf, type NftChain, type NftRule, type NftRuleset, type NftSet, type NftTable, type Obj } from './nft-model.js';
import { renderNftRule } from './nft-render.js';

export type { NftChain, NftRule, NftRuleset, NftSet, NftTable } from './nft-model.js';

/**
 * Parses `nft -j list ruleset`. Throws when the text is not nft JSON; everything else the JSON
 * holds is kept, and statements whyport does not model become `other` matches.
 */
export function parseNftJson(text: string): NftRuleset {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`nft -j output is not JSON: ${(err as Error).message}`);
  }
  if (!isObj(doc) || !Array.isArray(doc.nftables)) throw new Error('nft -j output has no "nftables" array');
  const ruleset: NftRuleset = { tables: [] };
  const tables = new Map<string, NftTable>();
  const tableOf = (o: Obj): NftTable | undefined => tables.get(`${String(o.family)} ${String(o.table)}`);
  const pendingRules: Obj[] = [];

  // Rules refer to sets and chains by name, and nft may list them in any order: collect first.
  for (const item of doc.nftables) {
    if (!isObj(item)) continue;
    const kind = keyOf(item);
    const body = item[kind];
    if (!isObj(body)) continue;
    if (kind === 'metainfo') {
      if (typeof body.version === 'string') ruleset.version = body.version;
    } else if (kind === 'table') {
      const table: NftTable = { family: String(body.family) as TableFamily, name: String(body.name), chains: [], sets: [] };
      if (typeof body.handle === 'number') table.handle = body.handle;
      if (Array.isArray(body.flags)) table.flags = body.flags.map(String);
      else if (typeof body.flags === 'string') table.flags = [body.flags];
      tables.set(`${table.family} ${table.name}`, table);
      ruleset.tables.push(table);
    } else if (kind === 'set' || kind === 'map') {
      const set: NftSet = {
        name: String(body.name),
        type: Array.isArray(body.type) ? body.type.map(String) : String(body.type),
        elements: Array.isArray(body.elem) ? body.elem : [],
      };
      if (kind === 'map' && body.map !== undefined) set.map = String(body.map);
      tableOf(body)?.sets.push(set);
    } else if (kind === 'chain') {
      const chain: NftChain = { name: String(body.name), rules: [] };
      if (typeof body.handle === 'number') chain.handle = body.handle;
      if (typeof body.hook === 'string') chain.hook = body.hook as Hook;
      if (typeof body.prio === 'number') chain.priority = body.prio;
      if (typeof body.type === 'string') chain.type = body.type;
      if (body.policy === 'accept' || body.policy === 'drop') chain.policy = body.policy;
      if (typeof body.dev === 'string') chain.devices = [body.dev];
      else if (Array.isArray(body.dev)) chain.devices = body.dev.map(String);
      tableOf(body)?.chains.push(chain);
    } else if (kind === 'rule') {
      pendingRules.push(body);
    }
  }

  for (const body of pendingRules) {
    const table = tableOf(body);
    const chain = table?.chains.find((c) => c.name === String(body.chain));
    if (!table || !chain) continue;
    const expr = Array.isArray(body.expr) ? body.expr : [];
    const comment = typeof body.comment === 'string' ? body.comment : undefined;
    const { matches, action } = interpretRule(expr, table);
    const rule: NftRule = { text: renderNftRule(expr, { family: table.family, comment }), matches, action, expr };
    if (typeof body.handle === 'number') rule.handle = body.handle;
    if (comment !== undefined) rule.comment = comment;
    chain.rules.push(rule);
  }
  return ruleset;
}
