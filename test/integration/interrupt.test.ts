import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TmuxSession, tmuxSkipReason, trimScreen } from '../helpers/tmux.js';

/**
 * Ctrl-C during a probe that waits (issue 19): with --timeout 15000, the first Ctrl-C stops every
 * probe and command in flight at once, prints "stopping…" and the partial report, and whyport
 * exits 130 within half a second of the key, leaving no child behind. A client and a server
 * namespace of this test's own making; the server drops everything from the client (iptables
 * DROP), so the TCP probe and ssh's connect both wait for their timeouts.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces and firewall rules need root (run the tests as root, e.g. in .ci/run)';
  for (const [tool, pkg] of [['iptables', 'iptables'], ['ip', 'iproute2'], ['ssh', 'openssh-client']] as const) {
    if (spawnSync(tool, ['-V'], { stdio: 'ignore' }).error) return `${tool} is missing: apt-get install -y ${pkg}`;
  }
  return tmuxSkipReason();
}

const reason = skipReason();
if (reason) console.warn(`skipping the Ctrl-C tests: ${reason}`);

const TAG = process.pid.toString(36);
const CLIENT_NS = `wpt-int-c-${TAG}`;
const SERVER_NS = `wpt-int-s-${TAG}`;
const CLIENT = '10.213.19.1';
const SERVER = '10.213.19.2';
const PORT = 7071;

const sh = (argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });

/** Every descendant of `pid` (children of all its threads), with its command line. */
function descendants(pid: number): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  const walk = (p: number) => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids: string[] = [];
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(/\s+/).filter(Boolean);
      } catch {
        continue;
      }
      for (const k of kids.map(Number)) {
        let cmd = '?';
        try {
          cmd = readFileSync(`/proc/${k}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
        } catch {
          // ended meanwhile
        }
        out.push({ pid: k, cmd });
        walk(k);
      }
    }
  };
  walk(pid);
  return out;
}

/** Still a live process (not gone, not a zombie waiting to be reaped). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until<T>(what: string, get: () => T | undefined, timeoutMs: number, everyMs = 10): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe.skipIf(reason !== undefined)('Ctrl-C during a probe that waits', () => {
  let session: TmuxSession | undefined;

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    for (const ns of [CLIENT_NS, SERVER_NS]) {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      sh(['ip', 'netns', 'add', ns]);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    sh(['ip', 'link', 'add', `ic${TAG}`, 'netns', CLIENT_NS, 'type', 'veth', 'peer', 'name', `is${TAG}`, 'netns', SERVER_NS]);
    sh(['ip', '-n', CLIENT_NS, 'addr', 'add', `${CLIENT}/24`, 'dev', `ic${TAG}`]);
    sh(['ip', '-n', SERVER_NS, 'addr', 'add', `${SERVER}/24`, 'dev', `is${TAG}`]);
    sh(['ip', '-n', CLIENT_NS, 'link', 'set', `ic${TAG}`, 'up']);
    sh(['ip', '-n', SERVER_NS, 'link', 'set', `is${TAG}`, 'up']);
    // The server answers ARP (not filtered by iptables) and drops every packet from the client.
    sh(['ip', 'netns', 'exec', SERVER_NS, 'iptables', '-A', 'INPUT', '-s', CLIENT, '-j', 'DROP']);
  }, 60_000);

  afterEach(() => {
    session?.close();
    session = undefined;
  });

  afterAll(() => {
    for (const ns of [CLIENT_NS, SERVER_NS]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });

  it('in a terminal: "stopping…", the partial report, exit 130 within 0.5 s of the key, no child left', async () => {
    const t = (session = TmuxSession.start(['ip', 'netns', 'exec', CLIENT_NS, process.execPath, CLI, SERVER, String(PORT), '--timeout', '15000', '--yes'], { cwd: ROOT, env: { NO_COLOR: '1' } }));
    const pid = t.panePid();
    // The probe is under way (its spinner line), then 1.5 s into the run.
    await t.waitFor(/probing|connect|port 7071/i, 10_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(t.exitStatus(), trimScreen(t.capture())).toBeUndefined();
    const children = descendants(pid);
    const pressed = performance.now();
    t.sendKeys('C-c');
    const status = await until('whyport to exit', () => t.exitStatus(), 5_000);
    const tookMs = performance.now() - pressed;
    const shown = trimScreen(t.capture());
    expect(status, shown).toBe(130);
    expect(tookMs, shown).toBeLessThan(500);
    expect(shown).toMatch(/stopping…/);
    expect(shown).toMatch(/Interrupted: this report is partial/);
    expect(shown).toMatch(/╰─+╯/);
    for (const c of children) expect(alive(c.pid), `left running: ${c.pid} ${c.cmd}`).toBe(false);
  });

  it('without a terminal (SIGINT to whyport alone): the ssh in flight is killed, the JSON report is partial, exit 130 within 0.5 s', async () => {
    // --ssh to the server that drops everything: ssh's connect waits its ConnectTimeout (15 s).
    const child = spawn('ip', ['netns', 'exec', CLIENT_NS, process.execPath, CLI, SERVER, String(PORT), '--timeout', '15000', '--json', '--ssh', `root@${SERVER}`, '--ssh-option', 'StrictHostKeyChecking=no', '--ssh-option', 'UserKnownHostsFile=/dev/null'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const pid = child.pid!;
    // ssh is trying to connect.
    const ssh = await until('ssh to start', () => descendants(pid).find((c) => /^ssh /.test(c.cmd)), 10_000, 20);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(alive(ssh.pid), `${ssh.cmd} ended before Ctrl-C; stderr: ${stderr}`).toBe(true);
    const children = descendants(pid);
    const pressed = performance.now();
    process.kill(pid, 'SIGINT');
    const status = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5_000))]);
    const tookMs = performance.now() - pressed;
    if (status === 'hung') child.kill('SIGKILL');
    expect(status, stderr).toBe(130);
    expect(tookMs, stderr).toBeLessThan(500);
    expect(stderr).toMatch(/stopping…/);
    const report = JSON.parse(stdout) as { interrupted?: boolean; steps: unknown[]; diagnosis: { title: string } };
    expect(report.interrupted).toBe(true);
    expect(report.diagnosis.title).toMatch(/Interrupted/);
    // The client's probe was what waited.
    expect(report.diagnosis).toMatchObject({ explanation: expect.stringMatching(/, while step probe-remote ran;/) });
    // Killed by whyport (SIGINT went to whyport alone): nothing of the run outlives it.
    await new Promise((r) => setTimeout(r, 100));
    for (const c of children) expect(alive(c.pid), `left running: ${c.pid} ${c.cmd}`).toBe(false);
  });

  it('a second Ctrl-C is harmless: exit 130 at once, one report', async () => {
    const child = spawn('ip', ['netns', 'exec', CLIENT_NS, process.execPath, CLI, SERVER, String(PORT), '--timeout', '15000', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await new Promise((r) => setTimeout(r, 1_500));
    const pressed = performance.now();
    process.kill(child.pid!, 'SIGINT');
    // Apart: two signals sent back to back reach node as one.
    await new Promise((r) => setTimeout(r, 30));
    if (child.exitCode === null) process.kill(child.pid!, 'SIGINT');
    const status = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5_000))]);
    if (status === 'hung') child.kill('SIGKILL');
    expect(status, stderr).toBe(130);
    expect(performance.now() - pressed, stderr).toBeLessThan(500);
    expect(stderr.match(/stopping…/g)?.length ?? 0, stderr).toBe(1);
    expect(stderr).not.toMatch(/internal error|Error:/);
  });
});
