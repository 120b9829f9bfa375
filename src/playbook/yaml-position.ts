import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node as YamlNode } from 'yaml';
import type { LintError } from '../errors.js';

/** A path into the playbook document: keys and list indexes. */
export type Path = (string | number)[];

/** `steps.where.outcomes[0]`: a path as a person writes it. */
export function fieldName(path: Path): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** The line and column of the node at `path` (or of its key), falling back to the nearest parent. */
export function positionOf(doc: Document, lc: LineCounter, path: Path, key: boolean, offset: number): { line: number; col: number } {
  let node: unknown = doc.contents;
  let found: YamlNode | null = (doc.contents as YamlNode | null) ?? null;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      if (last && key) {
        found = pair.key as YamlNode;
        break;
      }
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else break;
    if (node && typeof node === 'object' && 'range' in node) found = node as YamlNode;
    else break;
  }
  const start = found?.range?.[0] ?? 0;
  const quoted = isScalar(found) && (found.type === 'QUOTE_DOUBLE' || found.type === 'QUOTE_SINGLE') ? 1 : 0;
  const blockScalar = isScalar(found) && (found.type === 'BLOCK_LITERAL' || found.type === 'BLOCK_FOLDED');
  // An offset into a text repeated by alias (`*name`) is an offset into the anchored text: point at the alias.
  return lc.linePos(blockScalar || isAlias(found) ? start : start + (offset ? offset + quoted : 0));
}

/** Problems in the order they stand in the file. */
export function sortProblems(p: LintError[]): LintError[] {
  return [...p].sort((a, b) => a.line - b.line || a.col - b.col);
}
