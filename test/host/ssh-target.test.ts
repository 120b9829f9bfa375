import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSshOption, parseSshTarget } from '../../src/host/ssh-target.js';
import { quoteWord, shellCommandLine } from '../../src/host/shell-quote.js';
import { REPO_ROOT } from '../helpers/nspawn.js';
import { makeSshKey, sshdAvailable, startLoopbackSshd, type LoopbackSshd } from '../helpers/ssh.js';

const sshdUnavailable = await sshdAvailable();

describe('--ssh [USER@]SERVER[:SSHPORT]', () => {
  it.each([
    ['10.0.0.5', { server: '10.0.0.5', destination: '10.0.0.5' }],
    ['admin@10.0.0.5', { user: 'admin', server: '10.0.0.5', destination: 'admin@10.0.0.5' }],
    ['db1:2222', { server: 'db1', port: 2222, destination: 'db1' }],
    ['ops.admin@db1.internal:22', { user: 'ops.admin', server: 'db1.internal', port: 22, destination: 'ops.admin@db1.internal' }],
    ['2001:db8::5', { server: '2001:db8::5', destination: '2001:db8::5' }],
    ['root@[2001:db8::5]:2200', { user: 'root', server: '2001:db8::5', port: 2200, destination: 'root@2001:db8::5' }],
    ['prod-web', { server: 'prod-web', destination: 'prod-web' }],
  ])('%s', (value, expected) => {
    expect(parseSshTarget(value)).toEqual(expected);
  });

  it.each([
    ['-oProxyCommand=touch /tmp/x', /starts with '-'/],
    ['-p22', /starts with '-'/],
    ['host;touch x', /shell syntax/],
    ['$(id)@host', /shell syntax/],
    ['host name', /shell syntax or spaces/],
    ['`id`', /shell syntax/],
    ['user@-host', /server name '-host'/],
    ['-@host', /starts with '-'/],
    ['host:port', /port that is not a number/],
    ['host:0', /not 1–65535/],
    ['host:70000', /not 1–65535/],
    ['%h', /shell syntax/],
    ['', /is empty/],
  ])('refuses %j', (value, why) => {
    expect(() => parseSshTarget(value)).toThrow(why);
  });

  it('--ssh-option is KEY=VALUE, passed as one -o word; the Control* options stay whyport\'s', () => {
    expect(parseSshOption('StrictHostKeyChecking=accept-new')).toBe('StrictHostKeyChecking=accept-new');
    expect(parseSshOption('ProxyJump=bastion.example')).toBe('ProxyJump=bastion.example');
    expect(() => parseSshOption('StrictHostKeyChecking')).toThrow(/not KEY=VALUE/);
    expect(() => parseSshOption('A=b\nProxyCommand=touch x')).toThrow(/not KEY=VALUE/);
    expect(() => parseSshOption('-oFoo=bar')).toThrow(/not KEY=VALUE/);
    expect(() => parseSshOption('ControlPath=/tmp/x')).toThrow(/whyport's own/);
  });
});

describe('quoting for the remote shell', () => {
  const words = ["it's", '$(id)', '`id`', '"x"', 'a b', '', '*', '\\', '\n', 'plain-word_1.2/3:4=5@6%7+8,9', '!', '#', '~', '{a,b}', 'ä'];
  it('a POSIX shell splits the line back into exactly the words', async () => {
    const r = await execa('sh', ['-c', `printf '[%s]' ${shellCommandLine(words)}`]);
    expect(r.stdout).toBe(words.map((w) => `[${w}]`).join(''));
  });
  it('leaves plain words bare so the command reads as typed', () => {
    expect(shellCommandLine(['ss', '-Htlnp', 'sport = :80'])).toBe("ss -Htlnp 'sport = :80'");
    expect(quoteWord("it's")).toBe(`'it'\\''s'`);
    expect(quoteWord('')).toBe("''");
  });
});

describe('whyport with a bad --ssh value', () => {
  const CLI = join(REPO_ROOT, 'dist', 'cli.js');
  it.each([
    [['10.0.0.5', '7071', '--ssh=-oProxyCommand=touch /tmp/whyport-pwned']],
    [['10.0.0.5', '7071', '--ssh', 'a;b']],
    [['10.0.0.5', '7071', '--ssh', 'db1', '--ssh-option', 'ControlMaster=no']],
    [['10.0.0.5', '7071', '--sudo']],
    [['10.0.0.5', '7071', '--ssh-option', 'User=x']],
    [['10.0.0.5', '7071', '--ssh', 'db1', '--watch']],
  ])('%j is bad usage: one line on stderr, exit 2, nothing run', async (argv) => {
    const r = await execa(process.execPath, [CLI, ...argv], { reject: false, stdin: 'ignore', timeout: 10_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^whyport: .+\n {2}hint: .+$/);
  });
});

describe('whyport --ssh without an ssh client on this machine', () => {
  it('says so in one line, and the diagnosis of this end stands', async () => {
    const CLI = join(REPO_ROOT, 'dist', 'cli.js');
    const r = await execa(process.execPath, [CLI, '127.0.0.1', '9', '--ssh', 'root@127.0.0.1', '--json'], { reject: false, stdin: 'ignore', timeout: 20_000, env: { PATH: '/nonexistent' } });
    const report = JSON.parse(r.stdout);
    expect(report.vantages.server.error).toBe('there is no ssh client on this machine (install openssh-client)');
    // 127.0.0.1 is this machine: its server side ran here, and every step says so.
    expect(report.steps.length).toBeGreaterThan(1);
    expect(report.steps.every((s: { where?: string }) => s.where === 'client')).toBe(true);
    expect(r.exitCode).toBe(report.diagnosis.code === 'REACHABLE' ? 0 : report.diagnosis.code === 'INCONCLUSIVE' ? 3 : 1);
  });
});

describe('an ssh failure is said right under the verdict, and on stderr (issue 19)', () => {
  const CLI = join(REPO_ROOT, 'dist', 'cli.js');
  const run = (format: string[], sshTo: string[]) => execa(process.execPath, [CLI, '127.0.0.1', '9', ...sshTo, '--yes', ...format], { reject: false, stdin: 'ignore', timeout: 30_000, env: { NO_COLOR: '1', COLUMNS: '100' } });

  describe.skipIf(sshdUnavailable !== null)('a key the loopback sshd does not know', () => {
    let sshd: LoopbackSshd;
    let stranger: string;
    beforeAll(async () => {
      sshd = await startLoopbackSshd();
      stranger = (await makeSshKey(sshd.dir, 'stranger')).keyPath;
    });
    afterAll(async () => {
      await sshd?.stop();
    });
    const sshTo = () => ['--ssh', `root@127.0.0.1:${sshd.port}`, '--ssh-option', `UserKnownHostsFile=${sshd.knownHostsPath}`, '--ssh-option', `IdentityFile=${stranger}`, '--ssh-option', 'IdentitiesOnly=yes'];
    const why = new RegExp(`ssh to root@127\\.0\\.0\\.1:${'\\d+'}: authentication failed \\(the server takes: publickey\\) — is your key loaded \\(ssh-add -l\\)\\? try ssh -i KEY -p \\d+ root@127\\.0\\.0\\.1`);

    it('text: the line after the box; stderr: one line', async () => {
      const r = await run([], sshTo());
      const lines = r.stdout.split('\n');
      const boxEnd = lines.findIndex((l) => l.startsWith('╰'));
      expect(boxEnd, r.stdout).toBeGreaterThan(0);
      // A blank line, then the warning (wrapped), before anything else of the report.
      const warning = lines.slice(boxEnd + 2, lines.indexOf('', boxEnd + 2)).join(' ').replace(/\s+/g, ' ');
      expect(warning, r.stdout).toMatch(/^⚠ /);
      expect(warning, r.stdout).toMatch(why);
      expect(warning).toMatch(/The verdict above is the client's alone\.$/);
      const stderrLines = r.stderr.split('\n').filter((l) => l.startsWith('whyport: --ssh: '));
      expect(stderrLines, r.stderr).toHaveLength(1);
      expect(stderrLines[0]).toMatch(why);
    });

    it('markdown: right under the headline; JSON keeps vantages.server.error', async () => {
      const md = await run(['--markdown'], sshTo());
      const lines = md.stdout.split('\n');
      expect(lines[0], md.stdout).toMatch(/^## /);
      expect(lines[2], md.stdout).toMatch(/^> ⚠ \*\*Server root@127\.0\.0\.1 not reached over ssh:\*\* /);
      expect(lines[2]).toMatch(why);
      const json = await run(['--json'], sshTo());
      expect(JSON.parse(json.stdout).vantages.server.error).toMatch(why);
      expect(json.stderr).toMatch(why);
    });
  });
});
