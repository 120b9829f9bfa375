import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The host seam: whyport learns about a machine only through a Host (src/host/host.ts). This scans
// the imports of every source file, static and dynamic, and allows the modules that read a
// machine directly only where the machine read is not the diagnosed host.

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** Modules that read or change a machine directly: files, the OS, the resolver, processes. */
const HOST_MODULES = /^(node:)?(fs|fs\/promises|os|dns|dns\/promises|child_process)$|^execa$/;

/** Each file allowed to import them, and why it is not a read of the diagnosed host. */
const ALLOWED: Record<string, string> = {
  'host/ssh/session.ts': "the ssh host's private control directory on this machine (mkdtemp, removed at the end), not a read of the server",
  'host/local.ts': 'the local Host implementation itself: the one place that reads this machine for a diagnosis',
  'host/runner.ts': "the runner's execa import: the local host's run() (Host.run is this contract)",
  'bin/early.ts': "the local host's first command started before the bundle loads: a runner of one argv, taken by host/local.ts's run()",
  'bin/main.ts': "whyport's own files: its package.json version under tests and the help text printed at build",
  'paths.ts': "whyport's own files: where its built-in playbooks are installed",
  'bin/bin.ts': "whyport's own files: the bundle dist/cli.js loads, and V8's code cache of it in whyport's cache directory",
  'playbook/source.ts': "whyport's built-in playbooks (the YAML and the JSON compiled at build) and a playbook file the user names, read where whyport runs",
  'host/user-file.ts': 'a file the user names on the command line (a playbook, a baseline), read where whyport runs: regular files of bounded size only; and the new playbook `playbook new` writes there, never over a file',
  'commands/record.ts': 'the recording file named with whyport record -o: written where whyport runs (mode 0600), not a read of the host; read back through host/user-file.ts',
  'baseline/store.ts': "the baseline file: written and read where whyport runs (the user's state directory), not a fact of the host",
  'tools/emit-schema.ts': 'a build tool: writes the JSON Schema and compiled playbooks into dist/',
  'tools/emit-man.ts': 'a build tool: writes the man page into dist/',
  'tools/sea.ts': 'a build tool: bundles whyport and its files into the single executable (node, postject)',
  'tools/man-page.ts': "a build tool: reads whyport's package.json and README for the man page",
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every module a file imports: `import … from 'x'`, `export … from 'x'`, `import('x')`. */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push((m[1] ?? m[2] ?? m[3])!);
  }
  return out;
}

describe('the host seam', () => {
  const files = sources(SRC).map((f) => ({ file: relative(SRC, f), imports: importsOf(readFileSync(f, 'utf8')) }));

  it('finds the imports it looks for (the scan itself works)', () => {
    expect(files.find((f) => f.file === 'host/local.ts')!.imports).toEqual(expect.arrayContaining(['node:fs', 'node:os', 'node:dns/promises']));
    expect(files.find((f) => f.file === 'host/runner.ts')!.imports).toContain('execa');
  });

  it('only the allowed files import fs, os, dns, child_process or execa; checks, readers, facts and knowledge never do', () => {
    const offenders = files.flatMap((f) => f.imports.filter((i) => HOST_MODULES.test(i)).map((i) => `${f.file} imports ${i}`)).filter((line) => !(line.split(' ')[0]! in ALLOWED));
    expect(offenders).toEqual([]);
  });

  it('every allowlist entry is still needed', () => {
    const importing = new Set(files.filter((f) => f.imports.some((i) => HOST_MODULES.test(i))).map((f) => f.file));
    expect(Object.keys(ALLOWED).filter((f) => !importing.has(f))).toEqual([]);
  });

  it('nothing outside the host asks the process who it runs as or reads its clock for the host', () => {
    const direct = files.filter((f) => f.file !== 'host/local.ts').filter((f) => /process\.getuid|process\.hrtime/.test(readFileSync(join(SRC, f.file), 'utf8')));
    expect(direct.map((f) => f.file)).toEqual([]);
  });
});
