import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { manPage, manSources } from '../../src/tools/man-page.js';

// dist/whyport.1 as the build wrote it (npm test builds first), checked against --help, the
// built-in playbook and the exit statuses, and rendered by groff (and mandoc where installed).

const ROOT = resolve(import.meta.dirname, '../..');
const MAN = join(ROOT, 'dist', 'whyport.1');
const page = existsSync(MAN) ? readFileSync(MAN, 'utf8') : '';
/** The page without the escapes that print nothing (\\% no hyphenation, \\& a guard), to search it. */
const plain = page.replace(/\\[%&]/g, '');

/** The roff of one section, from its .SH to the next. */
function section(name: string): string {
  const start = plain.indexOf(`.SH ${name}\n`);
  if (start < 0) return '';
  const end = plain.indexOf('\n.SH ', start + 1);
  return plain.slice(start, end < 0 ? undefined : end);
}

/** Whether `tool` runs here; the reason to skip when it does not. */
function missing(tool: string, pkg: string): string | undefined {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return r.error ? `${tool} is not installed (apt-get install ${pkg})` : undefined;
}

describe('dist/whyport.1', () => {
  it('was written by the build', () => {
    expect(existsSync(MAN), 'dist/whyport.1 is missing: run npm run build').toBe(true);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).man).toEqual(['./dist/whyport.1']);
  });

  it('is what the sources make now (rebuild after changing an option, a playbook or the README)', async () => {
    const date = /^\.TH WHYPORT 1 (\S+)/m.exec(page)?.[1];
    expect(date).toBeDefined();
    expect(page).toBe(manPage(await manSources(date)));
  });

  it('has the sections of a man page, in order', () => {
    const sections = [...page.matchAll(/^\.SH (.+)$/gm)].map((m) => m[1]);
    expect(sections).toEqual(['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'SUBCOMMANDS', 'EXIT STATUS', 'DIAGNOSES', 'JSON REPORT', 'FILES', 'ENVIRONMENT', 'EXAMPLES', 'SEE ALSO']);
  });

  it('documents every long option of `whyport --help` under OPTIONS', () => {
    const help = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    const options = help.stdout.slice(help.stdout.indexOf('\nOptions:'), help.stdout.indexOf('\nExamples:'));
    const longs = [...new Set([...options.matchAll(/^ {2}(?:-\w, )?--([\w-]+)/gm)].map((m) => m[1]!))];
    expect(longs).toEqual(expect.arrayContaining(['ssh', 'ssh-option', 'sudo', 'json', 'watch', 'version', 'help']));
    for (const long of longs) expect(section('OPTIONS'), `--${long}`).toContain(`\\fB\\-\\-${long.replace(/-/g, '\\-')}\\fR`);
  });

  it('lists every subcommand', () => {
    for (const words of ['explain', 'baseline save', 'baseline check', 'playbook validate', 'playbook list', 'playbook show', 'playbook graph', 'playbook schema', 'checks']) {
      expect(section('SYNOPSIS'), words).toContain(`.SY "whyport ${words}"`);
      expect(section('SUBCOMMANDS'), words).toContain(`whyport ${words}`);
    }
  });

  it('lists every diagnosis code of the built-in playbooks, with its exit status', () => {
    const files = readdirSync(join(ROOT, 'playbooks')).filter((f) => f.endsWith('.yaml'));
    expect(files).toContain('default.yaml');
    for (const f of files) {
      const diagnoses = (parse(readFileSync(join(ROOT, 'playbooks', f), 'utf8')) as { diagnoses: Record<string, { code?: string; from?: string }> }).diagnoses;
      for (const [id, d] of Object.entries(diagnoses)) {
        // One that takes a followed walk's diagnosis (`from:`) reports that one's code, listed where written.
        if (d.from !== undefined && d.code === undefined) continue;
        expect(section('DIAGNOSES'), `${f}: ${id}`).toMatch(new RegExp(`^\\\\fB${d.code ?? id}\\\\fR \\(exit status \\d+\\)$`, 'm'));
      }
    }
    expect(section('DIAGNOSES')).toContain('\\fBREACHABLE\\fR (exit status 0)');
    expect(section('DIAGNOSES')).toContain('\\fBINCONCLUSIVE\\fR (exit status 3)');
  });

  it('gives every exit status', () => {
    const statuses = [...section('EXIT STATUS').matchAll(/^\.TP\n\\fB(\d+)\\fR$/gm)].map((m) => Number(m[1]));
    expect(statuses.slice(0, 5)).toEqual([0, 1, 2, 3, 130]);
  });

  it('documents every environment variable whyport reads', () => {
    const read = new Set<string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        // The build tools are not the command the page describes (the bench lives outside src/).
        if (e.isDirectory() && e.name !== 'tools') walk(path);
        else if (e.name.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/\benv\??\.([A-Z][A-Z0-9_]+)/g)) read.add(m[1]!);
      }
    };
    walk(join(ROOT, 'src'));
    expect([...read]).toEqual(expect.arrayContaining(['NO_COLOR', 'WHYPORT_DEBUG']));
    for (const name of read) expect(section('ENVIRONMENT'), name).toContain(`.TP\n\\fB${name.replace(/-/g, '\\-')}\\fR\n`);
  });

  it('names its files and the pages to see', () => {
    for (const path of ['playbooks/default.yaml', '/etc/services', '/var/lib/whyport/baseline.json', '.local/state/whyport/baseline.json']) {
      expect(section('FILES'), path).toContain(path.replace(/-/g, '\\-'));
    }
    for (const ref of ['ss (8)', 'nmap (1)', 'systemctl (1)', 'ssh (1)']) expect(section('SEE ALSO')).toContain(`.BR ${ref}`);
  });

  it('says what --json prints and where its contract ships, and --help points there', () => {
    const json = section('JSON REPORT');
    expect(json).toContain('docs/json\\-contract.md');
    for (const field of ['version', 'target', 'steps', 'diagnosis', 'durationMs', 'whyport']) expect(json, field).toContain(`.TP\n\\fB${field}\\fR`);
    expect(section('FILES')).toContain('docs/json\\-contract.md');
    // The file the page names is in the package (package.json "files") and documents the same fields.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('docs/json-contract.md');
    const doc = readFileSync(join(ROOT, 'docs', 'json-contract.md'), 'utf8');
    for (const field of ['"version": 1', '"target"', '"steps"', '"diagnosis"', '"durationMs"', '"whyport"', '`whyport.startedAt`', '`whyport.host`', '`whyport.version`']) expect(doc, field).toContain(field);
    const help = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), '--help'], { encoding: 'utf8' });
    expect(help.stdout).toContain('man whyport` (section JSON REPORT)');
    expect(help.stdout).toContain('docs/json-contract.md');
    expect(help.stdout).not.toContain('CONTRACT)');
  });

  it('is plain ASCII roff with every dash escaped', () => {
    expect(page).not.toMatch(/[^\x00-\x7f]/);
    const text = page
      .split('\n')
      .filter((l) => !l.startsWith('.TH ') && !l.startsWith('.\\"'))
      .join('\n');
    // \(-> is an arrow; every other - is \- (a minus, searchable and pasteable).
    expect(text.replace(/\\-|\\\(->/g, '')).not.toContain('-');
  });

  it('renders with groff -ww without a warning', (ctx) => {
    const skip = missing('groff', 'groff-base');
    if (skip) ctx.skip(skip);
    const r = spawnSync('groff', ['-ww', '-man', '-Tutf8', MAN], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    // What a reader sees: options with plain dashes, the codes, the examples.
    expect(r.stdout.replace(/.\x08/g, '')).toMatch(/--ssh-option key=value/);
    expect(r.stdout.replace(/.\x08/g, '')).toContain('whyport 10.0.0.5 7071 --ssh admin@10.0.0.5 --sudo');
  });

  it('passes mandoc -Tlint without a message', (ctx) => {
    const skip = missing('mandoc', 'mandoc');
    if (skip) ctx.skip(skip);
    const r = spawnSync('mandoc', ['-Tlint', MAN], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('the page generator', () => {
  it('refuses to build a page when the README has no meaning for a diagnosis code', async () => {
    const sources = await manSources('2020-01-01');
    const readme = sources.readme.replace(/^\| `PORT_TAKEN` \|.*\n/m, '');
    expect(readme).not.toBe(sources.readme);
    expect(() => manPage({ ...sources, readme })).toThrow(/"Diagnoses" table has no row for PORT_TAKEN \(reported by playbooks\/default\.yaml\)/);
  });

  it('refuses an exit status the README documents but whyport never returns', async () => {
    const sources = await manSources('2020-01-01');
    const readme = sources.readme.replace('| 130 |', '| 4 | made up |\n| 130 |');
    expect(() => manPage({ ...sources, readme })).toThrow(/lists 4, which whyport never returns/);
  });
});
