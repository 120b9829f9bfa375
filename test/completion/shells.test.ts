import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TmuxSession, tmuxSkipReason } from '../helpers/tmux.js';

/**
 * The completion scripts in the real shells, against the built CLI: `whyport` on PATH is a
 * two-line wrapper around `node dist/cli.js`, so the scripts call it as they would an installed
 * whyport (for `__complete` too). Each test asks what Tab offers at one place of a command line.
 */

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const SUBCOMMANDS = ['record', 'explain', 'baseline', 'playbook', 'checks', 'completion'];

let dir: string;
let bin: string;
/** Where the shells run: a folder with known files, for the file completion of --playbook. */
let work: string;
const script = (shell: string) => join(dir, `whyport.${shell}`);
const env = () => ({ ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: dir });

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'wpt-completion-'));
  bin = join(dir, 'bin');
  work = join(dir, 'work');
  mkdirSync(bin);
  mkdirSync(join(work, 'playbooks-of-mine'), { recursive: true });
  writeFileSync(join(work, 'myapp.yaml'), 'name: myapp\n');
  writeFileSync(join(bin, 'whyport'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
  chmodSync(join(bin, 'whyport'), 0o755);
  for (const shell of ['bash', 'zsh', 'fish']) writeFileSync(script(shell), execFileSync(join(bin, 'whyport'), ['completion', shell], { encoding: 'utf8' }));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('whyport completion', () => {
  it('prints a script for each shell', () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = spawnSync(process.execPath, [CLI, 'completion', shell], { encoding: 'utf8' });
      expect(r.status, shell).toBe(0);
      expect(r.stdout, shell).toMatch(/whyport completion/);
      expect(r.stderr, shell).toBe('');
    }
  });

  it('refuses a shell it has no script for: one line on stderr, exit status 2', () => {
    for (const [args, message] of [
      [['completion', 'tcsh'], "whyport: no completion for shell 'tcsh': whyport has it for bash, zsh, fish\n"],
      [['completion'], 'whyport: completion needs a shell: bash, zsh, fish\n'],
    ] as const) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(message);
    }
  });

  it('__complete ports: the service names PORT accepts, from /etc/services and the built-in table', () => {
    const names = execFileSync(process.execPath, [CLI, '__complete', 'ports', 'ht'], { encoding: 'utf8' }).trim().split('\n');
    expect(names).toEqual(expect.arrayContaining(['http', 'https']));
    expect(names.every((n) => n.startsWith('ht'))).toBe(true);
    // PORT is looked up in lower case, so a prefix in capitals finds the same names.
    expect(execFileSync(process.execPath, [CLI, '__complete', 'ports', 'HT'], { encoding: 'utf8' }).trim().split('\n')).toEqual(names);
  });

  it('__complete ports after a slash: the protocols PORT may name — both for a number, those /etc/services lists for a name', () => {
    const complete = (word: string) => execFileSync(process.execPath, [CLI, '__complete', 'ports', word], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    expect(complete('53/')).toEqual(['53/tcp', '53/udp']);
    expect(complete('53/u')).toEqual(['53/udp']);
    expect(complete('domain/')).toEqual(['domain/tcp', 'domain/udp']);
    // ntp is a UDP-only name (Debian's /etc/services, and the built-in table).
    expect(complete('ntp/')).toEqual(['ntp/udp']);
    expect(complete('nt')).toContain('ntp');
  });

  it('__complete prints nothing, and succeeds, for what it does not know (it runs under a Tab)', () => {
    for (const args of [['nonsense'], ['ports', 'zzzz-no-such'], ['units', '--help'], ['ports', 'a', 'b'], []]) {
      const r = spawnSync(process.execPath, [CLI, '__complete', ...args], { encoding: 'utf8' });
      expect([r.status, r.stdout, r.stderr], args.join(' ')).toEqual([0, '', '']);
    }
  });
});

/**
 * COMP_WORDS as bash builds them from a line: split at blanks, and at the COMP_WORDBREAKS
 * characters whyport's words contain (= : @), each run of those a word of its own.
 */
function bashWords(line: string): string[] {
  const words = line.split(/\s+/).flatMap((w) => w.split(/([=:@]+)/).filter((p) => p !== ''));
  if (/\s$/.test(line) || line === '') words.push('');
  return words;
}

/** What bash's completion function puts in COMPREPLY for the cursor at the end of `line`. */
function bashTab(line: string): string[] {
  const run = spawnSync(
    'bash',
    [
      '--norc',
      '--noprofile',
      '-c',
      'source "$1"; COMP_LINE=$2; COMP_POINT=${#COMP_LINE}; shift 2; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _whyport; printf "%s\\n" "${COMPREPLY[@]}"',
      'bash',
      script('bash'),
      line,
      ...bashWords(line),
    ],
    { encoding: 'utf8', cwd: work, env: env() },
  );
  if (run.status !== 0 || run.stderr) throw new Error(`bash failed (${run.status}): ${run.stderr}`);
  return run.stdout.split('\n').filter(Boolean);
}

describe('bash: what Tab offers', () => {
  it('after whyport: the subcommands; with a dash: every option', () => {
    expect(bashTab('whyport ')).toEqual(SUBCOMMANDS);
    expect(bashTab('whyport ex')).toEqual(['explain']);
    const options = bashTab('whyport -');
    for (const o of ['-p', '--process', '-s', '--service', '--playbook', '--json', '--brief', '--ssh', '--ssh-option', '--sudo', '--watch', '--help', '--version']) expect(options).toContain(o);
    expect(bashTab('whyport --ss')).toEqual(['--ssh', '--ssh-option']);
    expect(bashTab('whyport 10.0.0.5 80 --su')).toEqual(['--sudo']);
  });

  it('for --playbook: the built-in playbooks and the files here', () => {
    expect(bashTab('whyport 10.0.0.5 80 --playbook ')).toEqual(['default', 'myapp.yaml', 'playbooks-of-mine']);
    expect(bashTab('whyport 10.0.0.5 80 --playbook de')).toEqual(['default']);
    expect(bashTab('whyport 10.0.0.5 80 --playbook my')).toEqual(['myapp.yaml']);
    // bash splits --playbook=de into three words and replaces only the last: the reply is the value.
    expect(bashTab('whyport --playbook=de')).toEqual(['default']);
    expect(bashTab('whyport --playbook=')).toEqual(['default', 'myapp.yaml', 'playbooks-of-mine']);
  });

  it('for PORT (the second word): service names from /etc/services', () => {
    const offered = bashTab('whyport 10.0.0.5 ht');
    expect(offered).toEqual(expect.arrayContaining(['http', 'https']));
    expect(offered.every((n) => n.startsWith('ht'))).toBe(true);
    // Options and their values are not positionals: -p's value is not HOST, --ssh's is not either.
    expect(bashTab('whyport -p myapp 10.0.0.5 ht')).toEqual(offered);
    expect(bashTab('whyport --ssh admin@10.0.0.5 10.0.0.5 ht')).toEqual(offered);
    expect(bashTab('whyport 10.0.0.5 --ssh --sudo ht')).toEqual(offered);
    // HOST:PORT in one word: the port after the colon (bash replaces only what follows it).
    expect(bashTab('whyport 10.0.0.5:ht')).toEqual(offered);
    expect(bashTab('whyport 10.0.0.5 80 ')).toEqual([]);
    // After a slash, the protocols.
    expect(bashTab('whyport 10.0.0.5 53/')).toEqual(['53/tcp', '53/udp']);
    expect(bashTab('whyport 10.0.0.5 ntp/')).toEqual(['ntp/udp']);
  });

  it("for explain: the TCP states; for the other subcommands, theirs", () => {
    expect(bashTab('whyport explain CLOSE')).toEqual(['CLOSE', 'CLOSE_WAIT']);
    expect(bashTab('whyport explain TIME')).toEqual(['TIME_WAIT']);
    // As the README writes them, and the service names explain takes (from /etc/services).
    expect(bashTab('whyport explain close')).toEqual(['close', 'close-wait']);
    expect(bashTab('whyport explain time-')).toEqual(['time-wait']);
    const services = bashTab('whyport explain ht');
    expect(services).toEqual(expect.arrayContaining(['http', 'https']));
    expect(services.every((n) => n.startsWith('ht'))).toBe(true);
    expect(bashTab('whyport playbook ')).toEqual(['new', 'validate', 'list', 'show', 'graph', 'schema', 'test']);
    expect(bashTab('whyport playbook show ')).toEqual(['default']);
    expect(bashTab('whyport playbook validate default my')).toEqual(['myapp.yaml']);
    expect(bashTab('whyport playbook graph --format ')).toEqual(['mermaid', 'dot', 'text']);
    expect(bashTab('whyport playbook new myapp -')).toEqual(['-o', '--output', '-h', '--help']);
    expect(bashTab('whyport playbook new myapp -o my')).toEqual(['myapp.yaml']);
    expect(bashTab('whyport playbook schema -')).toEqual(['--path', '-h', '--help']);
    expect(bashTab('whyport baseline ')).toEqual(['save', 'check']);
    expect(bashTab('whyport baseline check --ignore-p')).toEqual(['--ignore-port', '--ignore-program']);
    expect(bashTab('whyport completion ')).toEqual(['bash', 'zsh', 'fish']);
  });

  it('for --service: nothing, at once, on a machine without systemd (see integration/completion-systemd)', () => {
    const started = performance.now();
    expect(bashTab('whyport 10.0.0.5 80 --service my')).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

/** What fish offers for `line` (complete -C: fish's own completion engine, no terminal). */
function fishTab(line: string): string[] {
  const run = spawnSync('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', script('fish'), line], { encoding: 'utf8', cwd: work, env: env() });
  if (run.status !== 0 || run.stderr) throw new Error(`fish failed (${run.status}): ${run.stderr}`);
  return run.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t')[0]!);
}

const noFish = spawnSync('fish', ['--version']).error ? 'fish is not installed (apt-get install -y fish; .ci/run installs it)' : undefined;
if (noFish) console.warn(`skipping the fish completion tests: ${noFish}`);

describe.skipIf(noFish !== undefined)('fish: what Tab offers', () => {
  it('after whyport: the subcommands; with a dash: the options', () => {
    expect(fishTab('whyport ').sort()).toEqual([...SUBCOMMANDS].sort());
    expect(fishTab('whyport --ss').sort()).toEqual(['--ssh', '--ssh-option']);
    expect(fishTab('whyport 10.0.0.5 80 --su')).toEqual(['--sudo']);
  });

  it('for --playbook: the built-in playbooks and files', () => {
    expect(fishTab('whyport 10.0.0.5 80 --playbook ')).toEqual(expect.arrayContaining(['default', 'myapp.yaml', 'playbooks-of-mine/']));
    expect(fishTab('whyport --playbook=de')).toEqual(['--playbook=default']);
  });

  it('for PORT: service names, also after HOST: and after options with values', () => {
    const offered = fishTab('whyport 10.0.0.5 ht');
    expect(offered).toEqual(expect.arrayContaining(['http', 'https']));
    expect(offered.every((n) => n.startsWith('ht'))).toBe(true);
    expect(fishTab('whyport -p myapp 10.0.0.5 ht').sort()).toEqual([...offered].sort());
    expect(fishTab('whyport --ssh admin@10.0.0.5 10.0.0.5 ht').sort()).toEqual([...offered].sort());
    expect(fishTab('whyport 10.0.0.5:ht')).toEqual(expect.arrayContaining(['10.0.0.5:http', '10.0.0.5:https']));
    expect(fishTab('whyport 10.0.0.5 80 ')).toEqual([]);
    expect(fishTab('whyport 10.0.0.5 53/').sort()).toEqual(['53/tcp', '53/udp']);
  });

  it('for the subcommands: TCP states, their commands, options and values', () => {
    expect(fishTab('whyport explain CLOSE').sort()).toEqual(['CLOSE', 'CLOSE_WAIT']);
    expect(fishTab('whyport explain close-').sort()).toEqual(['close-wait']);
    expect(fishTab('whyport explain ht')).toEqual(expect.arrayContaining(['http', 'https']));
    expect(fishTab('whyport playbook ').sort()).toEqual(['graph', 'list', 'new', 'schema', 'show', 'test', 'validate']);
    expect(fishTab('whyport playbook graph --format ').sort()).toEqual(['dot', 'mermaid', 'text']);
    expect(fishTab('whyport playbook schema --').sort()).toEqual(['--help', '--path']);
    expect(fishTab('whyport baseline check --ignore-p').sort()).toEqual(['--ignore-port', '--ignore-program']);
    expect(fishTab('whyport completion ').sort()).toEqual(['bash', 'fish', 'zsh']);
  });
});

const noZsh = spawnSync('zsh', ['--version']).error ? 'zsh is not installed (apt-get install -y zsh; .ci/run installs it)' : tmuxSkipReason();
if (noZsh) console.warn(`skipping the zsh completion tests: ${noZsh}`);

/**
 * zsh completes only inside its line editor, so these tests type into a real interactive zsh in
 * tmux (compinit, the script in $fpath) and read the list Ctrl-D (list-choices) shows.
 */
describe.skipIf(noZsh !== undefined)('zsh: what Tab offers', () => {
  let zsh: TmuxSession;
  const PROMPT = 'READY> ';

  beforeAll(async () => {
    const fpathDir = join(dir, 'zfunc');
    mkdirSync(fpathDir, { recursive: true });
    execFileSync('cp', [script('zsh'), join(fpathDir, '_whyport')]);
    zsh = TmuxSession.start(['zsh', '-f', '-i'], { cwd: work, width: 200, height: 60, env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir } });
    zsh.type(`PS1='${PROMPT}'; fpath=(${fpathDir} $fpath); autoload -Uz compinit && compinit -u -D; echo compinit-done`);
    zsh.sendKeys('Enter');
    await zsh.waitFor(/^compinit-done$/m);
  });

  afterAll(() => zsh?.close());

  /** The words zsh lists for `line` (Ctrl-D at its end), the first word of each entry. */
  async function zshTab(line: string, expected: readonly string[]): Promise<string[]> {
    zsh.sendKeys('C-u');
    zsh.type(line);
    zsh.sendKeys('C-d');
    const listed = (screen: string) => {
      const at = screen.lastIndexOf(`${PROMPT}${line}`);
      if (at < 0) return [];
      const below = screen.slice(at + PROMPT.length + line.length).split('\n').slice(1);
      // Entries with a description are one a line ("graph  -- draw …"); others in columns.
      return below.flatMap((l) => (l.includes(' -- ') ? [l.split(/\s+/)[0]!] : l.split(/\s+/))).filter(Boolean);
    };
    const screen = await zsh.waitFor((s) => expected.every((w) => listed(s).includes(w)), 10_000, `zsh to list ${expected.join(' ')} for '${line}'`);
    return listed(screen);
  }

  it('after whyport: the subcommands, with descriptions; with a dash: the options', async () => {
    expect((await zshTab('whyport ', SUBCOMMANDS)).sort()).toEqual([...SUBCOMMANDS].sort());
    expect((await zshTab('whyport --ss', ['--ssh', '--ssh-option'])).sort()).toEqual(['--ssh', '--ssh-option']);
  });

  it('for --playbook: the built-in playbooks and files', async () => {
    expect(await zshTab('whyport 10.0.0.5 80 --playbook ', ['default', 'myapp.yaml'])).toEqual(expect.arrayContaining(['default', 'myapp.yaml', 'playbooks-of-mine/']));
  });

  it('for PORT: service names, also after HOST: and after options with values', async () => {
    const offered = await zshTab('whyport 10.0.0.5 ht', ['http', 'https']);
    expect(offered.every((n) => n.startsWith('ht'))).toBe(true);
    expect((await zshTab('whyport -p myapp 10.0.0.5 ht', ['http', 'https'])).sort()).toEqual([...offered].sort());
    expect((await zshTab('whyport --ssh admin@10.0.0.5 10.0.0.5 ht', ['http', 'https'])).sort()).toEqual([...offered].sort());
    expect((await zshTab('whyport 10.0.0.5:ht', ['http', 'https'])).sort()).toEqual([...offered].sort());
  });

  it('for the subcommands: TCP states, their commands and values', async () => {
    expect((await zshTab('whyport explain CLOSE', ['CLOSE', 'CLOSE_WAIT'])).sort()).toEqual(['CLOSE', 'CLOSE_WAIT']);
    expect((await zshTab('whyport explain close', ['close-wait'])).sort()).toEqual(['close', 'close-wait']);
    expect(await zshTab('whyport explain ht', ['http', 'https'])).toEqual(expect.arrayContaining(['http', 'https']));
    expect((await zshTab('whyport playbook ', ['graph', 'validate'])).sort()).toEqual(['graph', 'list', 'new', 'schema', 'show', 'test', 'validate']);
    expect((await zshTab('whyport playbook graph --format ', ['dot', 'mermaid', 'text'])).sort()).toEqual(['dot', 'mermaid', 'text']);
    expect((await zshTab('whyport completion ', ['bash', 'fish', 'zsh'])).sort()).toEqual(['bash', 'fish', 'zsh']);
  });
});

const noTmux = tmuxSkipReason();
if (noTmux) console.warn(`skipping the bash line-editor completion test: ${noTmux}`);

/** The same script in bash's real line editor, where readline, not the test, splits the words. */
describe.skipIf(noTmux !== undefined)('bash: Tab in its line editor (readline splits the words)', () => {
  let bash: TmuxSession;

  beforeAll(async () => {
    bash = TmuxSession.start(['bash', '--norc', '--noprofile', '-i'], { cwd: work, width: 160, height: 40, env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir } });
    bash.type(`PS1='READY> '; source ${script('bash')}; echo sourced`);
    bash.sendKeys('Enter');
    await bash.waitFor(/^sourced$/m);
  });

  afterAll(() => bash?.close());

  async function lineAfterTab(typed: string, expected: string): Promise<void> {
    bash.sendKeys('C-u');
    bash.type(typed);
    bash.sendKeys('Tab');
    await bash.waitFor((s) => s.trimEnd().split('\n').at(-1) === `READY> ${expected}`, 10_000, `'${typed}' + Tab to become '${expected}'`);
  }

  /** Tab twice: bash lists the candidates under the line, then shows the line again. */
  async function listAfterTabTab(typed: string, expected: readonly string[]): Promise<void> {
    bash.sendKeys('C-u');
    bash.type(typed);
    bash.sendKeys('Tab', 'Tab');
    await bash.waitFor(
      (s) => {
        const lines = s.split('\n').map((l) => l.trimEnd());
        const at = lines.flatMap((l, i) => (l === `READY> ${typed}` ? [i] : []));
        if (at.length < 2) return false;
        const listed = lines.slice(at.at(-2)! + 1, at.at(-1)).flatMap((l) => l.split(/\s+/));
        return expected.every((w) => listed.includes(w));
      },
      10_000,
      `'${typed}' + Tab Tab to list ${expected.join(' ')}`,
    );
  }

  it('completes values glued to = and :, and after user@host', async () => {
    await lineAfterTab('whyport play', 'whyport playbook');
    await lineAfterTab('whyport --playbook=de', 'whyport --playbook=default');
    await lineAfterTab('whyport explain CLOSE_', 'whyport explain CLOSE_WAIT');
    await lineAfterTab('whyport explain close-', 'whyport explain close-wait');
    await lineAfterTab('whyport 10.0.0.5 http-al', 'whyport 10.0.0.5 http-alt');
    await lineAfterTab('whyport 10.0.0.5:http-al', 'whyport 10.0.0.5:http-alt');
    await lineAfterTab('whyport --ssh admin@10.0.0.5 10.0.0.5 http-al', 'whyport --ssh admin@10.0.0.5 10.0.0.5 http-alt');
    await listAfterTabTab('whyport 10.0.0.5:http', ['http', 'https', 'http-alt']);
    await listAfterTabTab('whyport --ssh', ['--ssh', '--ssh-option']);
  });
});
