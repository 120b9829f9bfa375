import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import type { Report } from '../../src/report/model.js';
import { freePort, startListener, stopAllListeners } from '../helpers/servers.js';

/**
 * The command line as a user meets it: bad input through main() and through the built binary,
 * output formats, colours, and never waiting for input without a TTY.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const ANSI = /\x1b\[/;
const STACK_LINE = /^\s+at /m;

interface Run {
  status: number;
  stdout: string;
  stderr: string;
  ms: number;
}

interface MainEnv {
  stdinIsTTY?: boolean;
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
  env?: Record<string, string | undefined>;
}

/** whyport through main(); no TTY anywhere unless said otherwise. */
async function viaMain(args: string[], environment: MainEnv = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const started = performance.now();
  const status = await main(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    environment: { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: { ...process.env, NO_COLOR: undefined }, ...environment },
  });
  return { status, stdout, stderr, ms: performance.now() - started };
}

/** The built binary, stdin closed, no TTY. */
async function viaBinary(args: string[], opts: { env?: Record<string, string>; stdin?: 'ignore' | 'empty' } = {}): Promise<Run> {
  const started = performance.now();
  const r = await execa(process.execPath, [CLI, ...args], {
    reject: false,
    timeout: 20_000,
    cwd: ROOT,
    env: opts.env ?? {},
    ...(opts.stdin === 'empty' ? { input: '' } : { stdin: 'ignore' as const }),
  });
  if (r.timedOut) throw new Error(`whyport ${args.join(' ')} did not finish within 20 s`);
  return { status: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

function expectUsageError(r: Run, message: RegExp): void {
  const shown = `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  expect(r.status, shown).toBe(2);
  expect(r.stdout, shown).toBe('');
  expect(r.stderr, shown).toMatch(/^whyport: /);
  expect(r.stderr, shown).toMatch(message);
  expect(r.stderr, shown).not.toMatch(STACK_LINE);
  expect(r.stderr, shown).not.toMatch(/internal error/);
  // One line, plus at most a hint line.
  expect(r.stderr.trimEnd().split('\n').length, shown).toBeLessThanOrEqual(2);
}

let tmp: string;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
  tmp = mkdtempSync(join(tmpdir(), 'wpt-cli-'));
});

afterEach(async () => {
  await stopAllListeners();
});

afterAll(async () => {
  await stopAllListeners();
  rmSync(tmp, { recursive: true, force: true });
});

const BAD_INPUT: Array<[string, string[], RegExp]> = [
  ['port 0', ['127.0.0.1', '0'], /port 0 is out of range/],
  ['port 70000', ['127.0.0.1', '70000'], /port 70000 is out of range/],
  ['an unknown service name', ['127.0.0.1', 'nosuchservice'], /unknown service name 'nosuchservice'/],
  ['a malformed IPv4 address', ['10.0.0.300', '80'], /'10\.0\.0\.300' is not a valid IPv4 address/],
  ['a host with a space and a !', ['bad host!', '80'], /'bad host!' is not a host name or address/],
  ['a host with a shell command', ['$(id)', '80'], /'\$\(id\)' is not a host name or address/],
  ['a host with a ;', ['127.0.0.1;reboot', '80'], /not a host name or address/],
  ['--process with shell metacharacters', ['127.0.0.1', '80', '--process', 'a;rm -rf /'], /--process 'a;rm -rf \/' contains characters/],
  ['--service with a space', ['127.0.0.1', '80', '--service', 'x y'], /--service 'x y'/],
  ['--playbook with shell metacharacters', ['127.0.0.1', '80', '--playbook', 'a;b'], /--playbook 'a;b'/],
  ['an unknown flag', ['127.0.0.1', '80', '--bogus'], /unknown option '--bogus'/],
  ['a missing PORT', ['127.0.0.1'], /missing PORT/],
  ['no arguments at all', [], /missing required argument 'host'/],
  ['a third argument', ['127.0.0.1', '80', 'extra'], /too many arguments/],
  ['HOST:PORT with port 0', ['127.0.0.1:0'], /port 0 is out of range/],
  ['--timeout that is not a number', ['127.0.0.1', '80', '--timeout', 'abc'], /--timeout 'abc'/],
  ['--json with --markdown', ['127.0.0.1', '80', '--json', '--markdown'], /--json and --markdown cannot be used together/],
  ['--set without =', ['127.0.0.1', '80', '--set', 'bad'], /--set 'bad' is not NAME=VALUE/],
];

describe('bad input: a one-line message starting whyport:, exit 2, empty stdout, no stack trace', () => {
  describe.each([
    ['main()', (args: string[]) => viaMain(args)],
    ['dist/cli.js', (args: string[]) => viaBinary(args)],
  ])('through %s', (_how, run) => {
    it.each(BAD_INPUT)('%s', async (_label, args, message) => {
      expectUsageError(await run(args), message);
    });

    it('--process -x (an option-like value) is refused', async () => {
      expectUsageError(await run(['127.0.0.1', '80', '--process', '-x']), /--process '-x'/);
    });

    // What is refused is the leading dash, and the message says so (it once said '-x' "contains
    // characters whyport does not accept" while its hint listed '-' among the accepted ones).
    it('--process -x: the message says the value must not start with a dash', async () => {
      const r = await run(['127.0.0.1', '80', '--process', '-x']);
      expect(r.stderr).toMatch(/(start|begin)s? with (a )?(dash|'-'|-)/i);
    });

    it('a missing playbook file: the path, what to do', async () => {
      const missing = join(tmp, 'no-such-playbook.yaml');
      const r = await run(['127.0.0.1', '80', '--playbook', missing]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^whyport: /);
      expect(r.stderr).toContain(`${missing}:1:1`);
      expect(r.stderr).toMatch(/cannot read the playbook: no such file/);
      expect(r.stderr).not.toMatch(STACK_LINE);
    });

    it('a broken playbook (a step target with a typo): file:line:col, the field and "did you mean"', async () => {
      const file = join(tmp, 'typo.yaml');
      const text = readFileSync(join(ROOT, 'playbooks', 'default.yaml'), 'utf8');
      const lines = text.split('\n');
      const at = lines.findIndex((l) => /^\s+listening: listening$/.test(l));
      expect(at).toBeGreaterThan(0);
      lines[at] = lines[at]!.replace(/listening$/, 'lisening');
      writeFileSync(file, lines.join('\n'));
      const col = lines[at]!.indexOf('lisening') + 1;
      const r = await run(['127.0.0.1', '80', '--playbook', file]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^whyport: the playbook has \d+ problems?:/);
      expect(r.stderr).toContain(`${file}:${at + 1}:${col}: error: steps.sockets.on.listening: unknown step 'lisening' — did you mean 'listening'?`);
      expect(r.stderr).not.toMatch(STACK_LINE);
    });

    it('a playbook that is not valid YAML: file:line:col and a hint', async () => {
      const file = join(tmp, 'syntax.yaml');
      writeFileSync(file, 'version: 1\nname: x\nsteps: [\n');
      const r = await run(['127.0.0.1', '80', '--playbook', file]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`${file.replaceAll('.', '\\.')}:\\d+:\\d+: error: `));
      expect(r.stderr).not.toMatch(STACK_LINE);
    });
  });
});

describe('help, version and the HOST:PORT form', () => {
  it.each([
    ['main()', viaMain],
    ['dist/cli.js', (a: string[]) => viaBinary(a)],
  ])('--help and --version exit 0 (%s)', async (_how, run) => {
    const help = await run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: whyport HOST PORT \[options\]/);
    expect(help.stdout).toContain('--process <name>');
    expect(help.stdout).toMatch(/Exit status: 0 reachable, 1 a problem was diagnosed, 2 bad usage/);
    const version = await run(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
  });

  it('HOST:PORT as a single argument', async () => {
    const l = await startListener({ host: '127.0.0.1' });
    const r = await viaBinary([`127.0.0.1:${l.port}`, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.target).toMatchObject({ host: '127.0.0.1', port: l.port });
    expect(report.diagnosis.code).toBe('REACHABLE');
  });

  it('[IPv6]:PORT as a single argument', async () => {
    const port = await freePort();
    const r = await viaMain([`[::1]:${port}`, '--json']);
    expect(r.status, r.stderr).toBe(1);
    expect((JSON.parse(r.stdout) as Report).target).toMatchObject({ host: '::1', address: '::1', port });
  });
});

describe('without a TTY the binary never waits for input', () => {
  it.each([
    ['stdin ignored', 'ignore'],
    ['stdin empty', 'empty'],
  ] as const)('%s: a run that would ask two questions finishes at once', async (_label, stdin) => {
    const port = await freePort();
    const r = await viaBinary(['127.0.0.1', String(port)], { stdin });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain('NOT_LISTENING');
    expect(r.ms).toBeLessThan(8000);
  });

  it('stdin an open pipe that never sends anything: still no waiting', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, '127.0.0.1', String(port), '--json'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const started = performance.now();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const status = await new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    clearTimeout(timer);
    child.stdin.destroy();
    expect(status).toBe(1);
    expect(performance.now() - started).toBeLessThan(8000);
    expect((JSON.parse(stdout) as Report).diagnosis.code).toBe('NOT_LISTENING');
  });
});

describe('output formats', () => {
  it('--json prints exactly one JSON document on stdout and nothing else', async () => {
    const l = await startListener({ host: '127.0.0.1' });
    for (const r of [await viaBinary(['127.0.0.1', String(l.port), '--json']), await viaMain(['127.0.0.1', String(l.port), '--json'])]) {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.startsWith('{')).toBe(true);
      expect(r.stdout.trimEnd().endsWith('}')).toBe(true);
      const report = JSON.parse(r.stdout) as Report;
      expect(report).toMatchObject({ version: 1, target: { port: l.port, protocol: 'tcp', local: true }, playbook: { name: 'default', source: 'playbooks/default.yaml' } });
      expect(Object.keys(report)).toEqual(expect.arrayContaining(['version', 'target', 'playbook', 'steps', 'diagnosis', 'durationMs']));
      expect(r.stdout).not.toMatch(ANSI);
      expect(r.stderr).toBe('');
    }
  });

  it('--json, a diagnosed problem: still one document, exit 1', async () => {
    const port = await freePort();
    const r = await viaBinary(['127.0.0.1', String(port), '--json', '--process', 'nosuchprog-xyz']);
    expect(r.status).toBe(1);
    expect((JSON.parse(r.stdout) as Report).diagnosis.code).toBe('PROCESS_NOT_RUNNING');
    expect(r.stderr).toBe('');
  });

  it('--markdown starts with a heading', async () => {
    const port = await freePort();
    const r = await viaBinary(['127.0.0.1', String(port), '--markdown']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^#{1,6} \S/);
    expect(r.stdout).toContain('NOT_LISTENING');
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('text report on a (declared) TTY has colours; NO_COLOR=1 and --no-color take them away', async () => {
    const port = await freePort();
    const tty = { stdoutIsTTY: true, stderrIsTTY: true, stdinIsTTY: false };
    const coloured = await viaMain(['127.0.0.1', String(port)], { ...tty, env: { ...process.env, NO_COLOR: undefined } });
    expect(coloured.status).toBe(1);
    expect(coloured.stdout).toMatch(ANSI);

    const noColorEnv = await viaMain(['127.0.0.1', String(port)], { ...tty, env: { ...process.env, NO_COLOR: '1' } });
    expect(noColorEnv.status).toBe(1);
    expect(noColorEnv.stdout + noColorEnv.stderr).not.toMatch(ANSI);

    const noColorFlag = await viaMain(['127.0.0.1', String(port), '--no-color'], { ...tty, env: { ...process.env, NO_COLOR: undefined } });
    expect(noColorFlag.status).toBe(1);
    expect(noColorFlag.stdout + noColorFlag.stderr).not.toMatch(ANSI);
    expect(noColorFlag.stdout).toContain('NOT_LISTENING');
  });

  it('the binary with stdout a pipe: no colours, NO_COLOR=1 or not', async () => {
    const port = await freePort();
    for (const env of [{}, { NO_COLOR: '1' }] as Array<Record<string, string>>) {
      const r = await viaBinary(['127.0.0.1', String(port)], { env });
      expect(r.stdout + r.stderr).not.toMatch(ANSI);
    }
  });
});
