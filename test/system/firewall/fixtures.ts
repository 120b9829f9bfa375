import { readFileSync, readdirSync } from 'node:fs';

const root = new URL('../../fixtures/', import.meta.url);

/** The text of a captured fixture, e.g. `fixture('nft', 'empty.json')`. */
export function fixture(tool: string, name: string): string {
  return readFileSync(new URL(`${tool}/${name}`, root), 'utf8');
}

/** Names of a tool's fixtures ending in `suffix`. */
export function fixtureNames(tool: string, suffix: string): string[] {
  return readdirSync(new URL(`${tool}/`, root)).filter((n) => n.endsWith(suffix)).sort();
}
