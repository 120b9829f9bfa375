import type { Branch, BranchDoc, Step } from './schema.js';
import type { Path } from './yaml-position.js';

/** A diagnosis key: upper case (a step id is lower case). */
export const CODE_RE = /^[A-Z][A-Z0-9_]*$/;

/** Every branch of a step: its outcomes, then those of each of its cases (`after:`). */
export function everyBranch(step: Pick<Step, 'outcomes' | 'cases'>): Branch[] {
  return [...step.outcomes, ...(step.cases ?? []).flatMap((c) => c.outcomes)];
}

/** Reports a problem at a place of the playbook. */
export type At = (path: Path, message: string, hint?: string, opts?: { key?: boolean; offset?: number; severity?: 'error' | 'warning' }) => void;

/** A branch as written, with where it was written (for errors). */
export interface BranchSource {
  branch: Branch;
  /** The branch itself (v1: the list item; v2: the key of the `on:` line). */
  path: Path;
  key: boolean;
  /** Where each outcome of `when` is written. */
  whenPaths: Path[];
  /** Where each outcome starts inside a key that names several (`a, b:`). */
  whenOffsets?: number[];
  targetPath: Path;
  targetKey: boolean;
}

/** The branches of a step or of one of its cases, as written. */
export interface BranchSet {
  branches: BranchSource[];
  path: Path;
  /** A case: outcomes it leaves out fall back to the step's own branches. */
  partial: boolean;
  /** Version 2: the catch-all is spelled `else`, and map order means nothing. */
  compact: boolean;
}

/** Turns an `on:` map into ordered branches: named outcomes first, the `else` catch-all last. */
export function branchesOfMap(on: Record<string, string>, base: Path, at: At): BranchSource[] {
  const named: BranchSource[] = [];
  let catchAll: BranchSource | undefined;
  for (const [key, target] of Object.entries(on)) {
    const whens = key.split(',').map((w) => w.trim());
    const path = [...base, key];
    const to = CODE_RE.test(target) ? { diagnose: target } : { next: target };
    let from = 0;
    const whenOffsets = whens.map((w) => (from = key.indexOf(w, from)));
    const src: BranchSource = { branch: { ...to }, path, key: true, whenPaths: whens.map(() => path), whenOffsets, targetPath: path, targetKey: false };
    if (whens.includes('else')) {
      if (whens.length > 1) at(path, "'else' stands alone: it is every outcome not named on another line", `write '${whens.filter((w) => w !== 'else').join(', ')}' on a line of its own`, { key: true });
      catchAll = src;
      continue;
    }
    if (whens.some((w) => w === '')) at(path, `'${key}' names an empty outcome`, 'separate outcomes with a comma: `a, b: target`', { key: true });
    src.branch.when = whens;
    named.push(src);
  }
  return catchAll ? [...named, catchAll] : named;
}

/** Turns a version 1 `outcomes:` list into branches. */
export function branchesOfList(list: readonly BranchDoc[], base: Path): BranchSource[] {
  return list.map((b, i) => {
    const path = [...base, i];
    const whenPaths = b.when === undefined ? [] : Array.isArray(b.when) ? b.when.map((_, j) => [...path, 'when', j]) : [[...path, 'when']];
    const branch: Branch = { ...(b.when !== undefined ? { when: b.when } : {}), ...(b.next !== undefined ? { next: b.next } : {}), ...(b.diagnose !== undefined ? { diagnose: b.diagnose } : {}) };
    return { branch, path, key: false, whenPaths, targetPath: b.next !== undefined ? [...path, 'next'] : [...path, 'diagnose'], targetKey: false };
  });
}
