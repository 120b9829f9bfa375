import { execa } from 'execa';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/bin/main.js';
import type { Report } from '../../src/report/model.js';
import { freePort, startListener, stopAllListeners } from '../helpers/servers.js';
import { createNamespace, netnsSkipReason } from '../helpers/netns.js';

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
  // Issue 19: each of these was ignored, or answered with a confusing message.
  ['HOST:PORT:EXTRA', ['10.0.0.5:7071:x'], /'10\.0\.0\.5:7071:x' is not HOST:PORT: HOST:PORT has one colon\n {2}hint: for IPv6 write \[addr\]:port/],
  ['[IPv6]:PORT:EXTRA', ['[::1]:7071:x'], /HOST:PORT has one colon/],
  ['an IPv6 address without a PORT', ['::1'], /missing PORT\n {2}hint: usage: whyport HOST PORT \(e\.g\. whyport ::1 7071, or whyport \[::1\]:7071\)/],
  ['--timeout 0', ['127.0.0.1', '80', '--timeout', '0'], /--timeout 0: must be at least 1 ms/],
  ['--timeout above ten minutes', ['127.0.0.1', '80', '--timeout', '600001'], /--timeout 600001: must be at most 600000 ms/],
  ['--set of an input the playbook does not have', ['127.0.0.1', '80', '--set', 'proces=myapp', '--yes'], /--set proces: the playbook default has no input 'proces'\n {2}hint: did you mean 'process'\? \(its inputs: process, protocol, tls, as-user, service, from\)/],
  ['--set of an input far from any', ['127.0.0.1', '80', '--set', 'zzzzzzzz=1', '--yes'], /no input 'zzzzzzzz'\n {2}hint: its inputs: process, protocol, tls, as-user, service, from/],
  ['--protocol of a name whyport does not know', ['127.0.0.1', '80', '--protocol', 'gopher2'], /--protocol 'gopher2' is not a protocol whyport knows\n {2}hint: use one of ssh, /],
  ['--as-user with shell syntax', ['127.0.0.1', '80', '--as-user', 'a;rm'], /--as-user 'a;rm' contains characters whyport does not accept/],
  // Issue 23: --from names the client whose connections the server's firewall is judged for.
  ['--from of a name, not an address', ['127.0.0.1', '80', '--from', 'client.example'], /--from 'client\.example' is not an IP address\n {2}hint: give the client's address as an IPv4 or IPv6 literal, e\.g\. --from 10\.0\.0\.7/],
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

describe('files that are not playbooks are refused, and never quoted (issue 19)', () => {
  const SECRET = 'FAKEsecretHASHx9';
  describe.each([
    ['main()', (args: string[]) => viaMain(args)],
    ['dist/cli.js', (args: string[]) => viaBinary(args)],
  ])('through %s', (_how, run) => {
    const refused = async (file: string, why: RegExp) => {
      const r = await run(['127.0.0.1', '80', '--playbook', file, '--yes']);
      expectUsageError(r, why);
      expect(r.stderr).toContain(`${file}:1:1: error: `);
      return r;
    };

    it('/dev/zero: not a regular file, at once (it once grew to 619 MB)', async () => {
      const r = await refused('/dev/zero', /cannot read the playbook: not a regular file \(a character device\)/);
      expect(r.ms).toBeLessThan(5_000);
    });

    it('a FIFO with no writer: refused at once, not a hang', async () => {
      const fifo = join(tmp, `fifo-${Math.random().toString(36).slice(2)}`);
      execFileSync('mkfifo', [fifo]);
      const r = await refused(fifo, /cannot read the playbook: not a regular file \(a FIFO\)/);
      expect(r.ms).toBeLessThan(5_000);
    });

    it('a regular file larger than 1 MB', async () => {
      const big = join(tmp, 'big.yaml');
      writeFileSync(big, `version: 1\n# ${'x'.repeat(1024 * 1024)}\n`);
      await refused(big, /cannot read the playbook: larger than 1024 KB/);
    });

    it('a /proc file (size 0 to stat) that is larger than 1 MB is cut at the limit, not read to its end', async () => {
      // /proc/self/pagemap has no end worth reading; it claims size 0.
      await refused('/proc/self/pagemap', /cannot read the playbook: (larger than 1024 KB|permission denied|not valid YAML)/);
    });

    it.each([
      ['shadow-like lines', `root:$6$${SECRET}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n`],
      ['a mapping that is not a playbook', `password: ${SECRET}\nroot:$6$${SECRET}: x\n`],
      ['broken YAML', `key: "${SECRET}\n  : [${SECRET}\n`],
      ['an alias to nothing', `a: *${SECRET}\n`],
    ])('%s: where it failed, never what it holds', async (_label, text) => {
      const file = join(tmp, `secret-${Math.random().toString(36).slice(2)}`);
      writeFileSync(file, text);
      const r = await run(['127.0.0.1', '80', '--playbook', file, '--yes']);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`${file}:\\d+:\\d+: error: `));
      expect(r.stderr).not.toContain(SECRET);
      expect(r.stderr).not.toContain('root');
      expect(r.stderr).not.toMatch(STACK_LINE);
    });

    it.skipIf(process.getuid?.() !== 0 || !existsSync('/etc/shadow'))('/etc/shadow itself (as root): not one line of it', async () => {
      const r = await refused('/etc/shadow', /not a playbook/);
      // Exactly the generic words: where, and what a playbook is.
      expect(r.stderr.trimEnd()).toBe(
        'whyport: the playbook has 1 problem:\n  /etc/shadow:1:1: error: not a playbook: a playbook is a YAML mapping with version:, steps: and diagnoses: — give a playbook file (start from: whyport playbook show default), or the name of a built-in one (whyport playbook list)',
      );
      for (const line of readFileSync('/etc/shadow', 'utf8').split('\n').filter(Boolean)) expect(r.stderr).not.toContain(line);
    });

    it('a baseline file that is a device or a FIFO is refused the same way', async () => {
      const r = await run(['baseline', 'check', '--file', '/dev/zero']);
      expectUsageError(r, /cannot read the baseline \/dev\/zero: not a regular file \(a character device\)/);
    });

    it('a baseline file that is not JSON: where, not what', async () => {
      const file = join(tmp, `baseline-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(file, `{"whyport": "baseline",\nroot:$6$${SECRET}:19000\n`);
      const r = await run(['baseline', 'check', '--file', file]);
      expectUsageError(r, /is not a whyport baseline: it is not valid JSON \(line 2, column 1\)/);
      expect(r.stderr).not.toContain(SECRET);
    });
  });
});

describe('help, version and the HOST:PORT form', () => {
  it.each([
    ['main()', viaMain],
    ['dist/cli.js', (a: string[]) => viaBinary(a)],
  ])('`whyport help` and `whyport version` are --help and --version (%s)', async (_how, run) => {
    const [help, flag] = [await run(['help']), await run(['--help'])];
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: whyport HOST PORT \[options\]/);
    expect(help.stdout).toBe(flag.stdout);
    const version = await run(['version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
    const explain = await run(['help', 'explain']);
    expect(explain.status).toBe(0);
    expect(explain.stdout).toBe((await run(['explain', '--help'])).stdout);
  });

  it('`--` ends the options: whyport --json -- 127.0.0.1 PORT', async () => {
    const l = await startListener({ host: '127.0.0.1' });
    const r = await viaBinary(['--json', '--', '127.0.0.1', String(l.port)]);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Report).target).toMatchObject({ host: '127.0.0.1', port: l.port });
  });

  it('an IPv6 address without brackets is a HOST', async () => {
    const port = await freePort();
    const r = await viaBinary(['::1', String(port), '--json']);
    expect(r.status, r.stderr).toBe(1);
    expect((JSON.parse(r.stdout) as Report).target).toMatchObject({ host: '::1', address: '::1', port });
  });

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

describe.skipIf(netnsSkipReason() !== undefined)('an internationalised host name (issue 19)', () => {
  it('例え.jp: shown as typed, resolved in punycode (xn--r8jz45g.jp) as the resolver needs', async () => {
    // A namespace whose hosts file knows only the punycode form, as DNS would.
    const ns = createNamespace({ etc: { hosts: '127.0.0.1 localhost\n127.0.0.1 xn--r8jz45g.jp\n', 'resolv.conf': 'nameserver 127.0.0.1\n' } });
    try {
      const l = await startListener({ host: '127.0.0.1', netns: ns.name });
      const r = await execa(ns.exec[0]!, [...ns.exec.slice(1), process.execPath, CLI, '例え.jp', String(l.port), '--json'], { reject: false, stdin: 'ignore', timeout: 20_000 });
      expect(r.exitCode, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.target).toMatchObject({ host: '例え.jp', address: '127.0.0.1', port: l.port });
      expect(report.diagnosis.code).toBe('REACHABLE');
      expect(report.steps[0]!.command).toBe('getent ahosts xn--r8jz45g.jp');
    } finally {
      ns.remove();
    }
  });

  it('a name that cannot be converted is bad input', async () => {
    expectUsageError(await viaMain(['例え..jp', '80']), /'例え\.\.jp' is not a host name or address/);
  });
});
