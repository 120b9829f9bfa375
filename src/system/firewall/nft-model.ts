// The shapes of `nft -j list ruleset`, and the small JSON helpers that read them.
import type { Action, FirewallChain, FirewallRule, FirewallTable, Hook, Match, PortProtocol, PortRange, TableFamily } from './model.js';

/** A named set or map of an nft table, with its current elements. */
export interface NftSet {
  name: string;
  /** `inet_service`, `ipv4_addr`, … or a list for concatenations. */
  type: string | string[];
  /** For maps: what the elements map to (`verdict` for a verdict map). */
  map?: string;
  /** Elements as nft -j prints them (maps: `[key, value]` pairs). */
  elements: unknown[];
}

/** A rule of `nft -j list ruleset`, with its handle and raw statements. */
export interface NftRule extends FirewallRule {
  handle?: number;
  comment?: string;
  /** The raw statements, kept for anything the model does not capture. */
  expr: unknown[];
}

/** A chain of `nft -j list ruleset`. */
export interface NftChain extends FirewallChain {
  handle?: number;
  /** netdev (and inet ingress) chains are bound to devices. */
  devices?: string[];
  rules: NftRule[];
}

/** A table of `nft -j list ruleset`, with its named sets and maps. */
export interface NftTable extends FirewallTable {
  handle?: number;
  /** Table flags, e.g. `dormant` (its chains see no packets), `owner`. */
  flags?: string[];
  sets: NftSet[];
  chains: NftChain[];
}

/** Everything `nft -j list ruleset` printed, in its order. */
export interface NftRuleset {
  /** nft's version from the metainfo object, e.g. "1.0.6". */
  version?: string;
  tables: NftTable[];
}

/** Any JSON value, as nft -j prints it. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** A JSON object: an nft statement, expression or item. */
export type Obj = { [k: string]: Json };

/** A JSON object (not an array, not null). */
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The single key of an nft JSON statement such as `{ "accept": null }`. */
export const keyOf = (o: Obj): string => Object.keys(o)[0] ?? '';

/** Set elements with timeouts or counters come wrapped as `{ "elem": { "val": … } }`. */
export function unwrapElem(e: Json): Json {
  return isObj(e) && isObj(e.elem) ? (e.elem.val ?? null) : e;
}
