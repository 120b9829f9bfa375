import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layout is only worth something while it holds, so it is checked here rather than trusted:
// no import cycles between files or between folders, and the decision code imports no I/O.

const SRC = resolve(import.meta.dirname, '../src');

interface Edge {
  to: string;
  /** `import type` / `export type`: erased at build, but still a dependency of the design. */
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every module a file imports or re-exports, statically or with import(); relative ones resolved to files under src/. */
function importsOf(file: string): Edge[] {
  // Comments could hold example imports; strings in code rarely look like `from '…'` statements.
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const edges: Edge[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    edges.push({ to: spec.startsWith('.') ? resolve(dirname(file), spec.replace(/\.js$/, '.ts')) : spec, typeOnly });
  };
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) add(m[2]!, Boolean(m[1]));
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) add(m[1]!, false);
  return edges;
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const name = (f: string) => relative(SRC, f);

/** Strongly connected components of more than one node, or with a self-edge: the cycles. */
function cycles(nodes: readonly string[], next: (n: string) => readonly string[]): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || next(v).includes(v)) found.push(scc.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return found;
}

describe('the import graph of src/', () => {
  it('sees the imports it should (the parser of this test works)', () => {
    const main = graph.get(join(SRC, 'bin/main.ts'))!.map((e) => name(e.to));
    expect(main).toContain('errors.ts');
    expect(main).toContain('commands/playbook.ts'); // a dynamic import()
    expect(graph.get(join(SRC, 'analysis/firewall/verdict.ts'))!.some((e) => e.typeOnly)).toBe(true);
  });

  it('has no cycle between files, type imports and dynamic imports included', () => {
    const local = (f: string) => graph.get(f)!.map((e) => e.to).filter((t) => graph.has(t));
    expect(cycles(files, local).map((c) => c.map(name))).toEqual([]);
  });

  it('has no cycle between folders (each file directly in src/ is a node of its own)', () => {
    const unit = (f: string) => (dirname(f) === SRC ? name(f) : `${relative(SRC, dirname(f))}/`);
    const edges = new Map<string, Set<string>>();
    for (const [f, list] of graph) {
      for (const e of list) {
        if (!graph.has(e.to) || unit(e.to) === unit(f)) continue;
        // A folder may use its subfolders and they it (system/ and system/firewall/): one noun.
        const [a, b] = [unit(f), unit(e.to)];
        if (a.startsWith(b) || b.startsWith(a)) continue;
        if (!edges.has(a)) edges.set(a, new Set());
        edges.get(a)!.add(b);
      }
    }
    const units = [...new Set(files.map(unit))];
    expect(cycles(units, (u) => [...(edges.get(u) ?? [])])).toEqual([]);
  });

  it('keeps the decision code pure: src/analysis/ runs nothing, reads nothing, imports no reader', () => {
    const pure = ['analysis/', 'knowledge/', 'net/', 'text/'];
    const allowedPackages = new Set(['node:net']);
    const offending: string[] = [];
    for (const [f, list] of graph) {
      if (!name(f).startsWith('analysis/')) continue;
      for (const e of list) {
        if (e.typeOnly) continue; // the readers' data shapes are fine: they are erased at build
        const ok = graph.has(e.to) ? pure.some((p) => name(e.to).startsWith(p)) : allowedPackages.has(e.to);
        if (!ok) offending.push(`${name(f)} → ${graph.has(e.to) ? name(e.to) : e.to}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('keeps the pure leaves pure: knowledge/, net/ and text/ import only each other', () => {
    const offending: string[] = [];
    for (const [f, list] of graph) {
      if (!/^(knowledge|net|text)\//.test(name(f))) continue;
      for (const e of list) {
        const ok = graph.has(e.to) ? /^(knowledge|net|text)\//.test(name(e.to)) : e.to.startsWith('node:') && e.to !== 'node:fs' && e.to !== 'node:child_process';
        if (!ok) offending.push(`${name(f)} → ${graph.has(e.to) ? name(e.to) : e.to}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
