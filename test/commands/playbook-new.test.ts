/** `whyport playbook new NAME`: a starting playbook that validates and runs, never over a file. */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../src/bin/main.js';
import { checkCatalog } from '../../src/checks/index.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { SCHEMA_MODELINE, starterPlaybook } from '../../src/playbook/starter.js';

async function run(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    environment: { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: { ...process.env, NO_COLOR: undefined } },
  });
  return { status, stdout, stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'whyport-new-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('whyport playbook new', () => {
  it('writes NAME.yaml, which validates with no warning: the seed chain with inputs, ask steps and diagnoses with fixes', async () => {
    const file = join(tmp, 'myapp.yaml');
    const r = await run(['playbook', 'new', 'myapp', '-o', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`wrote ${file}: the chain for myapp (sockets, listeners, process, unit), to adapt; run it with whyport 127.0.0.1 PORT --playbook ${file}\n`);
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(starterPlaybook('myapp'));
    expect(text.split('\n')[0]).toBe(SCHEMA_MODELINE);
    const pb = parsePlaybook(text, 'myapp.yaml', checkCatalog());
    expect(pb.warnings).toEqual([]);
    expect(Object.values(pb.steps).map((s) => s.check ?? `ask ${s.ask}`)).toEqual(['sockets', 'listeners', 'ask process', 'process', 'ask service', 'unit']);
    expect(pb.inputs.process?.default).toBe('myapp');
    expect(pb.diagnoses.MYAPP_FAILED?.fix?.commands).toEqual(['systemctl start {{ steps.unit.evidence.startUnit }}']);
    const v = await run(['playbook', 'validate', file]);
    expect(v.stdout).toBe(`${file}: ok — 6 steps, 8 diagnoses, 2 inputs\n`);
  });

  it('shows the generic checks as commented steps, each a valid step once uncommented', () => {
    const text = starterPlaybook('my_app-2');
    for (const check of ['command', 'file', 'endpoint', 'http']) expect(text).toContain(`  #   check: ${check}\n`);
    // Uncommented, the commented steps are YAML steps of the right shape (their checks are checked by the lead's merge).
    const block = text.slice(text.indexOf('  # config:'), text.indexOf('\ndiagnoses:'));
    const steps = parse(block.split('\n').filter((l) => /^ {2}# {1,3}\S/.test(l) && !/^ {2}# [A-Z]/.test(l)).map((l) => l.replace(/^ {2}# /, '  ')).join('\n')) as Record<string, { check: string; on: object }>;
    expect(Object.keys(steps)).toEqual(['config', 'pidfile', 'database', 'health']);
    // The name becomes the codes' prefix.
    expect(text).toContain('MY_APP_2_NOT_LISTENING:');
  });

  it('writes to stdout with -o -', async () => {
    const r = await run(['playbook', 'new', 'web', '-o', '-']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(starterPlaybook('web'));
  });

  it('never writes over a file: exit 2, one line, the file untouched', async () => {
    const file = join(tmp, 'taken.yaml');
    writeFileSync(file, 'mine\n');
    const r = await run(['playbook', 'new', 'taken', '-o', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`whyport: ${file} exists already: whyport playbook new never writes over a file (give another with -o FILE)\n`);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  });

  it('never writes through a link either, even one that points nowhere yet', async () => {
    const link = join(tmp, 'link.yaml');
    symlinkSync(join(tmp, 'elsewhere.yaml'), link);
    const r = await run(['playbook', 'new', 'linked', '-o', link]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/exists already/);
    expect(existsSync(join(tmp, 'elsewhere.yaml'))).toBe(false);
  });

  it.each(['my app', '../etc/x', '-x', '9lives', '', 'a.yaml'])('refuses the name %j', async (name) => {
    const r = await run(['playbook', 'new', '-o', join(tmp, 'never.yaml'), '--', name]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('is not a playbook name: a letter, then letters, digits, - and _');
  });
});

describe('the commented generic checks of the starting playbook', () => {
  it('validate once uncommented and led to (their parameters and diagnoses are the real checks’)', async () => {
    const out: string[] = [];
    let inBlock = false;
    for (const l of starterPlaybook('myapp').split('\n')) {
      if (/^ {2}# (config|pidfile|database|health|[A-Z0-9_]+_[A-Z_]+):\s*$/.test(l)) {
        inBlock = true;
        out.push(`  ${l.slice(4)}`);
      } else if (inBlock && l.startsWith('  #   ')) out.push(`  ${l.slice(4)}`);
      else {
        inBlock = false;
        out.push(l);
      }
    }
    // Lead each to the next, as the comment says, from config (the start) to health, whose ok goes on to the chain.
    const text = out
      .join('\n')
      .replace('      ok: MYAPP_NOT_LISTENING\n', '      ok: pidfile\n')
      .replace('      ok: unit\n', '      ok: database\n')
      .replace('      reachable: REACHABLE\n', '      reachable: health\n')
      .replace(/(\n {2}health:\n(?: {4}.*\n)*? {6})ok: REACHABLE\n/, '$1ok: sockets\n');
    const file = join(tmp, 'myapp-all.yaml');
    writeFileSync(file, text.replace(/^steps:\n/m, 'start: config\nsteps:\n'));
    // Validated as a file: `playbook: default` loads the built-in one beside it.
    const r = await run(['playbook', 'validate', file]);
    expect(r.stderr + r.stdout).not.toMatch(/error/);
    expect(r.status).toBe(0);
  });
});
