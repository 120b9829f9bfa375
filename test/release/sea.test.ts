import { execa } from 'execa';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, netnsSkipReason, type Namespace } from '../helpers/netns.js';
import { startListener, stopAllListeners } from '../helpers/servers.js';

/**
 * The single executable (npm run sea) on a machine without Node.js: every command of it runs with
 * no `node` on PATH and node's binary itself hidden (an empty file bind-mounted over /usr/bin/node
 * and over this node's real path, in a mount namespace of the test's own), from a copy outside the
 * package, and must print what `node dist/cli.js` prints, but for durations and pids. Each runs in
 * a network namespace of the test's own holding the same listener, so neither sees the other's
 * connections (a probe's TIME_WAIT) and the baseline is the test's alone.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SEA = join(ROOT, 'dist', `whyport-linux-${process.arch}`);
const CLI = join(ROOT, 'dist', 'cli.js');
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function skipReason(): string | undefined {
  if (!existsSync(SEA)) return `${SEA} is not built (npm run sea, or npm run release-check)`;
  if (!existsSync(CLI)) return 'dist/cli.js is not built (npm run build)';
  if (process.getuid?.() !== 0) return 'hiding node needs a mount namespace, which needs root (run the tests as root, e.g. in .ci/run)';
  for (const tool of ['unshare', 'nsenter']) if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error) return `${tool} (util-linux) is missing`;
  return netnsSkipReason();
}
const skip = skipReason();

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** A process that holds a mount namespace inside a network namespace of the test's, for nsenter to join. */
interface Holder {
  child: ChildProcess;
  pid: number;
  ns: Namespace;
  /** The pid of the listener on OPEN_PORT inside it. */
  listener?: number;
}

// Fixed ports: the namespaces are new and empty.
const CLOSED_PORT = 7070;
const OPEN_PORT = 7071;

let tmp: string;
let withNode: Holder;
let withoutNode: Holder;
let copy: string;
const holders: Holder[] = [];

async function hold(): Promise<Holder> {
  const ns = createNamespace();
  // `ip netns exec` keeps the pid and `unshare` execs: the pid is sleep's, in the new mount namespace.
  const child = spawn('ip', ['netns', 'exec', ns.name, 'unshare', '--mount', '--propagation', 'private', 'sleep', '600'], { stdio: 'ignore' });
  const h: Holder = { child, pid: child.pid!, ns };
  holders.push(h);
  // Ready once sleep runs in a mount namespace other than ours.
  const ours = readlinkSync('/proc/self/ns/mnt');
  for (let i = 0; i < 100; i++) {
    try {
      if (readFileSync(`/proc/${h.pid}/comm`, 'utf8').trim() === 'sleep' && readlinkSync(`/proc/${h.pid}/ns/mnt`) !== ours) {
        h.listener = (await startListener({ host: '127.0.0.1', port: OPEN_PORT, netns: ns.name })).pid;
        return h;
      }
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the namespace holder did not start within 2 s');
}

/** argv run inside a holder's mount and network namespaces, with a clean environment of our choosing. */
async function inside(h: Holder, argv: string[], home: string): Promise<Run> {
  const r = await execa('nsenter', ['-t', String(h.pid), '-m', '-n', `--wd=${tmp}`, '--', 'env', '-i', `PATH=${PATH}`, `HOME=${home}`, ...argv], { reject: false, timeout: 30_000, cwd: tmp, stdin: 'ignore' });
  if (r.timedOut) throw new Error(`${argv.join(' ')} did not finish within 30 s`);
  return { status: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const viaNode = (args: string[]) => inside(withNode, [process.execPath, CLI, ...args], join(tmp, 'home-node'));
const viaSea = (args: string[]) => inside(withoutNode, [copy, ...args], join(tmp, 'home-sea'));

/** What varies from run to run and says nothing about the report: durations, times, pids, the baseline file's name. */
function normal(text: string): string {
  let out = text;
  for (const h of holders) out = out.replace(new RegExp(`\\b${h.listener}\\b`, 'g'), 'PID');
  return out
    .replaceAll(tmp, 'TMP')
    .replace(/TMP\/(node|sea)-/g, 'TMP/X-')
    .replace(/"(durationMs|startedMonotonicUs|endMs)": \d+/g, '"$1": N')
    // The namespaces step names the pid of each other namespace: the test's own helpers come and go.
    .replace(/nsenter -t \d+/g, 'nsenter -t PID')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)/g, 'TIME')
    .replace(/ +\d+(?:\.\d+)? m?s\b/g, ' N ms')
    .replace(/ {2,}/g, ' ');
}

async function expectSame(args: string[], expectStatus?: number): Promise<Run> {
  const [n, s] = [await viaNode(args), await viaSea(args)];
  const what = `whyport ${args.join(' ')}`;
  if (expectStatus !== undefined) expect(n.status, `${what} with node: ${n.stderr}`).toBe(expectStatus);
  expect({ status: s.status, stdout: normal(s.stdout), stderr: normal(s.stderr) }, what).toEqual({ status: n.status, stdout: normal(n.stdout), stderr: normal(n.stderr) });
  return s;
}

describe.skipIf(skip !== undefined)(`the single executable without node${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'wpt-sea-'));
    for (const d of ['home-node', 'home-sea', 'bin']) mkdirSync(join(tmp, d));
    // Copied out of the package, as onto a server: nothing next to it.
    copy = join(tmp, 'bin', 'whyport');
    copyFileSync(SEA, copy);
    spawnSync('chmod', ['755', copy]);
    copyFileSync(join(ROOT, 'test/fixtures/playbooks/tutorial/myapp.yaml'), join(tmp, 'myapp.yaml'));
    withNode = await hold();
    withoutNode = await hold();
    // Hide every node: on PATH, and the binary this test runs on (it may live elsewhere).
    const empty = join(tmp, 'empty');
    writeFileSync(empty, '');
    const nodes = new Set([realpathSync(process.execPath), ...PATH.split(delimiter).map((d) => join(d, 'node')).filter((f) => existsSync(f)).map((f) => realpathSync(f))]);
    for (const n of nodes) {
      const r = await execa('nsenter', ['-t', String(withoutNode.pid), '-m', '--', 'mount', '--bind', empty, n], { reject: false, timeout: 5000 });
      expect(r.exitCode, `mount --bind over ${n}: ${r.stderr}`).toBe(0);
    }
  });

  afterAll(async () => {
    await stopAllListeners();
    for (const h of holders) {
      h.child.kill('SIGKILL');
      h.ns.remove();
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('runs where node does not: node is neither on PATH nor at its own path', async () => {
    const n = await inside(withoutNode, ['node', '-e', '0'], tmp);
    expect(n.status).not.toBe(0);
    const real = await inside(withoutNode, [process.execPath, '-e', '0'], tmp);
    expect(real.status).not.toBe(0);
    expect((await viaSea(['--version'])).stdout).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('diagnoses a closed port and a listening one as node dist/cli.js does', async () => {
    const c = await expectSame(['127.0.0.1', String(CLOSED_PORT), '--json', '--yes'], 1);
    expect(JSON.parse(c.stdout).diagnosis.code).toBe('NOT_LISTENING');
    await expectSame(['127.0.0.1', String(CLOSED_PORT), '--yes'], 1);
    const o = await expectSame(['127.0.0.1', String(OPEN_PORT), '--json', '--yes'], 0);
    expect(JSON.parse(o.stdout).diagnosis.code).toBe('REACHABLE');
    await expectSame(['127.0.0.1', String(OPEN_PORT), '--markdown', '--yes', '--verbose'], 0);
  });

  it('explain, baseline save and check, completion, help, version and a usage error', async () => {
    await expectSame(['explain', 'CLOSE-WAIT'], 0);
    await expectSame(['explain', '5432'], 0);
    for (const v of ['node', 'sea']) {
      const file = join(tmp, `${v}-baseline.json`);
      const run = v === 'node' ? viaNode : viaSea;
      expect((await run(['baseline', 'save', '--file', file])).status).toBe(0);
    }
    expect(normal(readFileSync(join(tmp, 'sea-baseline.json'), 'utf8'))).toBe(normal(readFileSync(join(tmp, 'node-baseline.json'), 'utf8')));
    const n = await viaNode(['baseline', 'check', '--json', '--file', join(tmp, 'node-baseline.json')]);
    const s = await viaSea(['baseline', 'check', '--json', '--file', join(tmp, 'sea-baseline.json')]);
    expect(normal(s.stdout)).toBe(normal(n.stdout));
    expect(s.status).toBe(n.status);
    for (const shell of ['bash', 'zsh', 'fish']) await expectSame(['completion', shell], 0);
    await expectSame(['--help'], 0);
    await expectSame(['--version'], 0);
    await expectSame(['127.0.0.1', '99999'], 2);
  });

  it('playbook validate, list, show, graph, schema and checks, from the assets inside it', async () => {
    await expectSame(['playbook', 'validate', 'default', 'myapp.yaml'], 0);
    await expectSame(['playbook', 'validate', 'nosuch.yaml'], 2);
    await expectSame(['playbook', 'list'], 0);
    await expectSame(['playbook', 'show', 'default'], 0);
    await expectSame(['playbook', 'graph'], 0);
    await expectSame(['playbook', 'graph', 'myapp.yaml', '--format', 'dot'], 0);
    await expectSame(['--playbook', 'myapp.yaml', '127.0.0.1', String(CLOSED_PORT), '--json', '--yes']);
    await expectSame(['playbook', 'graph', '--format', 'text'], 0);
    await expectSame(['playbook', 'new', 'webapp', '-o', '-'], 0);
    const schema = await expectSame(['playbook', 'schema'], 0);
    expect(schema.stdout.trim()).toBe(readFileSync(join(ROOT, 'playbooks/playbook.schema.json'), 'utf8').trim());
    // The path differs: the executable has no package folder, so it writes the schema to its cache.
    const where = await viaSea(['playbook', 'schema', '--path']);
    expect(where.stdout.trim()).toBe(join(tmp, 'home-sea', '.cache', 'whyport', JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version, 'playbooks', 'playbook.schema.json'));
    expect(readFileSync(where.stdout.trim(), 'utf8')).toBe(readFileSync(join(ROOT, 'playbooks/playbook.schema.json'), 'utf8'));
    await expectSame(['checks'], 0);
  });
});
