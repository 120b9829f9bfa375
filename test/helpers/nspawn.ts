import { build } from 'esbuild';
import { execa } from 'execa';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostError, type Host } from '../../src/host/host.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, type Runner } from '../../src/system/runner.js';

/**
 * A real systemd, booted with systemd-nspawn from the host's own root (see /work/shared/TESTBED.md),
 * in a network namespace of its own. The host has no systemd as PID 1, so this is the only way to
 * test against real `systemctl`, `journalctl` and cgroups.
 */

/** The repository root, bound read-only into the container at the same path. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What a command run inside the container did; a non-zero exit is data. */
export interface ExecResult {
  /** null when it did not run to an exit (timed out, killed). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string>;
}

export interface SystemdTestbed {
  /** Machine name, also the name of its network namespace under /run/netns. */
  readonly name: string;
  /** Host PID of the systemd-nspawn process (the one `stop()` signals). */
  readonly nspawnPid: number;
  /** Host PID of the container's PID 1 (systemd); `nsenter -t` targets it. */
  readonly leaderPid: number;
  /** Scratch dir on the host, bound read-write at the same path inside. */
  readonly tmpDir: string;
  /** Host dir that is the container's /etc/systemd/system. */
  readonly unitDir: string;
  /** With realServices: the host dir that is the container's root for /etc, /var and /srv (edit $root/etc/… to break a service). */
  readonly root: string | undefined;
  /** Where systemd-nspawn's console output goes; quoted in boot errors. */
  readonly logFile: string;
  /** Milliseconds from spawning systemd-nspawn to `is-system-running` saying running|degraded. */
  readonly bootMs: number;
  /**
   * Runs argv inside the container (all namespaces of its PID 1), C locale, no colours, no pager.
   * A command that times out comes back with `timedOut` and a null exit code.
   */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * whyport's Runner contract, but every command runs inside the container: hand it to code under
   * test to make it see this systemd. Timeouts kill inside the container (see nsenterRun).
   */
  readonly runner: Runner;
  /**
   * whyport's Host, all of it inside the container: commands through `runner`, and every file,
   * link, /proc scan, cgroup and lookup by whyport's own local host code run inside (a bundle of
   * src/host/local.ts, one `nsenter … node` per call). So a pid, its cgroup and the systemd that
   * answers systemctl are always the container's; they can no longer disagree.
   */
  readonly host: Host;
  /** Writes a unit file into the container's /etc/systemd/system; call `daemonReload()` after. */
  writeUnit(name: string, text: string): Promise<void>;
  /** `systemctl daemon-reload` inside; throws with its stderr when it fails. */
  daemonReload(): Promise<void>;
  /** Maps a PID as seen inside the container to the host PID of the same process. */
  hostPid(pidInside: number): Promise<number | undefined>;
  /** Stops the container (SIGTERM, then SIGKILL), deletes the namespace and temp dirs. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Default `wpt-sd-<pid>-<n>`; must be a valid hostname and a free netns name. */
  name?: string;
  bootTimeoutMs?: number;
  /**
   * A server with this machine's Debian packages (nginx, apache2, PostgreSQL, …) as they are
   * installed: the container gets a private, writable copy of /etc (with no unit enabled) and
   * /var/lib, empty log folders for the services, and /srv for test programs (TESTBED.md, "Real
   * Debian services"). Unit files written with writeUnit go to the copy's /etc/systemd/system.
   */
  realServices?: boolean;
}

const DEFAULT_BOOT_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const SYSTEMD_ENV = { LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '', PAGER: 'cat' };

let counter = 0;

/**
 * Null when a systemd test bed can be started here; otherwise the reason, for `describe.skipIf`
 * (print it with console.warn so a skip is never silent).
 */
export async function systemdTestbedAvailable(): Promise<string | null> {
  if (process.platform !== 'linux') return `systemd test bed needs Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'systemd test bed needs root (network namespaces, systemd-nspawn); run the tests as root or in CI';
  }
  for (const tool of ['systemd-nspawn', 'nsenter', 'ip', 'systemctl']) {
    if (!(await onPath(tool))) {
      const pkg = tool === 'systemd-nspawn' ? 'systemd-container' : tool === 'ip' ? 'iproute2' : tool === 'nsenter' ? 'util-linux' : 'systemd';
      return `${tool} is not installed (apt-get install -y ${pkg})`;
    }
  }
  const probe = `wpt-probe-${process.pid}`;
  const add = await execa('ip', ['netns', 'add', probe], { reject: false, timeout: 5_000 });
  if (add.exitCode !== 0) return `cannot create a network namespace: ${String(add.stderr).trim()}`;
  await execa('ip', ['netns', 'del', probe], { reject: false, timeout: 5_000 });
  return null;
}

/** Boots a fresh systemd container and waits until it is up; `stop()` it in afterAll. */
export async function startSystemdTestbed(opts: StartOptions = {}): Promise<SystemdTestbed> {
  const name = opts.name ?? `wpt-sd-${process.pid}-${counter++}`;
  const bootTimeoutMs = opts.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
  const tmpDir = await mkdtemp(join(tmpdir(), `${name}-`));
  const root = opts.realServices ? join(tmpDir, 'root') : undefined;
  const unitDir = root ? join(root, 'etc', 'systemd', 'system') : join(tmpDir, 'units');
  const logFile = join(tmpDir, 'nspawn.log');
  if (root) await copyServerRoot(root);
  else await mkdir(unitDir);

  const cleanups: Array<() => Promise<void>> = [async () => rm(tmpDir, { recursive: true, force: true })];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
  };

  try {
    await mustRun(['ip', 'netns', 'add', name]);
    cleanups.push(async () => {
      await execa('ip', ['netns', 'del', name], { reject: false, timeout: 5_000 });
    });
    await mustRun(['ip', '-n', name, 'link', 'set', 'lo', 'up']);

    const args = [
      '--quiet',
      '--register=no',
      '--keep-unit',
      `--network-namespace-path=/run/netns/${name}`,
      // A server's root may read and change its firewall; nspawn grants CAP_NET_ADMIN only with
      // --private-network, so processes started by the container's systemd (sshd's sessions)
      // would lack it. The namespace is the test's own.
      '--capability=CAP_NET_ADMIN',
      '--volatile=yes',
      '-D',
      '/',
      '-M',
      name,
      ...(root
        ? [`--bind=${root}/etc:/etc`, `--bind=${root}/var:/var`, `--bind=${root}/srv:/srv`]
        : [`--bind-ro=${unitDir}:/etc/systemd/system`]),
      `--bind=${tmpDir}`,
      `--bind-ro=${REPO_ROOT}`,
      '-b',
      'systemd.firstboot=off',
      'systemd.unit=multi-user.target',
    ];
    const started = performance.now();
    // Not awaited: it runs until stop(). reject:false so its exit never becomes an unhandled rejection.
    // Both streams append to one file, so console and errors interleave as they happened.
    const toLog = { file: logFile, append: true } as const;
    const child = execa('systemd-nspawn', args, { reject: false, stdin: 'ignore', stdout: toLog, stderr: toLog, cleanup: true });
    const nspawnPid = child.pid;
    if (nspawnPid === undefined) throw new Error(`systemd-nspawn did not start; see ${logFile}`);
    let exited = false;
    const exitedPromise = child.then(() => {
      exited = true;
    });
    cleanups.push(async () => {
      const clean = await stopProcess(nspawnPid, exitedPromise, () => exited);
      if (!clean) console.warn(`systemd-nspawn ${name} ignored SIGTERM for ${STOP_GRACE_MS} ms; killed it.\n${await logTail(logFile)}`);
    });

    const deadline = started + bootTimeoutMs;
    let leaderPid: number | undefined;
    let lastState = '(no container PID 1 yet)';
    for (;;) {
      if (exited) throw new Error(`systemd-nspawn exited during boot.\n${await logTail(logFile)}`);
      leaderPid ??= await containerInit(nspawnPid);
      if (leaderPid !== undefined) {
        const r = await nsenterRun(leaderPid, ['systemctl', 'is-system-running'], { timeoutMs: 5_000 });
        lastState = r.stdout.trim() || r.stderr.trim() || lastState;
        if (lastState === 'running' || lastState === 'degraded') break;
      }
      if (performance.now() > deadline) {
        throw new Error(
          `systemd in container ${name} did not come up within ${bootTimeoutMs} ms ` +
            `(last 'systemctl is-system-running': ${lastState}).\n${await logTail(logFile)}`,
        );
      }
      await sleep(50);
    }
    const bootMs = Math.round(performance.now() - started);
    const leader = leaderPid;

    const bed: SystemdTestbed = {
      name,
      nspawnPid,
      leaderPid: leader,
      tmpDir,
      unitDir,
      root,
      logFile,
      bootMs,
      exec: (argv, o) => nsenterRun(leader, argv, o),
      async writeUnit(unit, text) {
        if (unit.includes('/')) throw new Error(`unit name must not contain '/': ${unit}`);
        await writeFile(join(unitDir, unit), text);
      },
      async daemonReload() {
        const r = await nsenterRun(leader, ['systemctl', 'daemon-reload'], { timeoutMs: 15_000 });
        if (r.exitCode !== 0) throw new Error(`systemctl daemon-reload failed in ${name}: ${r.stderr.trim()}`);
      },
      runner: runnerInside(leader),
      host: await hostInside(leader, tmpDir),
      hostPid: (pidInside) => hostPidOf(leader, pidInside),
      stop: cleanup,
    };
    return bed;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The services whose log folders Debian's packages expect, with their owners. */
const SERVICE_LOG_DIRS: readonly [string, string | undefined][] = [
  ['nginx', undefined],
  ['apache2', undefined],
  ['redis', 'redis'],
  ['postgresql', 'postgres'],
];

/**
 * A private copy of this machine's /etc (no unit enabled: nothing starts at boot but what a test
 * starts) and /var/lib, as TESTBED.md describes; about half a second.
 */
async function copyServerRoot(root: string): Promise<void> {
  await mkdir(join(root, 'var', 'log'), { recursive: true });
  await mkdir(join(root, 'srv'));
  await mustRun(['cp', '-a', '/etc', join(root, 'etc')]);
  await rm(join(root, 'etc', 'systemd', 'system'), { recursive: true, force: true });
  await mkdir(join(root, 'etc', 'systemd', 'system'));
  await mustRun(['cp', '-a', '/var/lib', join(root, 'var', 'lib')]);
  for (const [dir, owner] of SERVICE_LOG_DIRS) {
    const path = join(root, 'var', 'log', dir);
    await mkdir(path, { recursive: true });
    if (owner) await execa('chown', [`${owner}:${owner}`, path], { reject: false, timeout: 5_000 });
  }
}

/**
 * Gives the container's network namespace a server's address on an `eth0` (a veth pair with both
 * ends inside, so nothing sent to it leaves). Null on success, else why it cannot.
 */
export async function addServerAddress(netns: string, address: string): Promise<string | null> {
  // The dummy driver is not on every kernel; veth is.
  for (const argv of [
    ['-n', netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0-peer'],
    ['-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0'],
    ['-n', netns, 'link', 'set', 'eth0-peer', 'up'],
    ['-n', netns, 'link', 'set', 'eth0', 'up'],
  ]) {
    const r = await execa('ip', argv, { reject: false, timeout: 5_000 });
    if (r.exitCode !== 0) return `ip ${argv.join(' ')}: ${String(r.stderr).trim()}`;
  }
  return null;
}

/** Null when the Debian packages a realServices test bed runs are installed; otherwise what to install. */
export async function realServicesAvailable(packages: readonly string[]): Promise<string | null> {
  const base = await systemdTestbedAvailable();
  if (base) return base;
  const missing: string[] = [];
  for (const p of packages) {
    const r = await execa('dpkg-query', ['-W', '-f=${Status}', p], { reject: false, timeout: 5_000 });
    if (!String(r.stdout).includes('install ok installed')) missing.push(p);
  }
  return missing.length ? `Debian packages not installed: ${missing.join(' ')} (apt-get install -y ${missing.join(' ')}; .ci/run does)` : null;
}

async function nsenterRun(leaderPid: number, argv: readonly string[], o: ExecOptions = {}): Promise<ExecResult> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  // The timeout is enforced inside the container. Killing nsenter from outside orphans its child in
  // the container's PID namespace; that child's zombie is never reaped there and stalls shutdown
  // ("Sending SIGTERM to remaining processes..." until SIGKILL).
  const inner = ['timeout', '--kill-after=2', `${timeoutMs / 1000}s`, ...argv];
  const r = await execa('nsenter', ['-t', String(leaderPid), '-a', '--', ...inner], {
    reject: false,
    timeout: timeoutMs + 15_000,
    input: o.input,
    stdin: o.input === undefined ? 'ignore' : 'pipe',
    env: { ...SYSTEMD_ENV, ...o.env },
    stripFinalNewline: false,
  });
  const exitCode = typeof r.exitCode === 'number' ? r.exitCode : null;
  // 124: timeout(1) fired; 137: it had to SIGKILL after the grace period.
  const timedOut = Boolean(r.timedOut) || exitCode === 124 || exitCode === 137;
  return { exitCode: timedOut ? null : exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), timedOut };
}

function runnerInside(leaderPid: number): Runner {
  return {
    async run(argv, options = {}) {
      const started = performance.now();
      const r = await nsenterRun(leaderPid, argv, {
        timeoutMs: options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
        input: options.input,
        env: options.env,
      });
      return {
        argv,
        exitCode: r.exitCode,
        stdout: r.stdout,
        stderr: r.stderr,
        // timeout(1)'s words when the program is not installed in the container.
        missing: r.exitCode === 127 && /No such file or directory/.test(r.stderr),
        timedOut: r.timedOut,
        durationMs: Math.round(performance.now() - started),
      };
    },
  };
}

/** The Host methods besides run, each answered inside the container by the bundled local host. */
const HOST_METHODS = [
  'readFile', 'readFileTail', 'listDir', 'readLink', 'stat', 'networkInterfaces', 'lookup', 'nameservers', 'queryNameservers',
  'identity', 'monotonicUs', 'connectTcp', 'probeUdp', 'talk', 'netNamespaces', 'socketOwners', 'processes', 'descendants', 'socketInodes', 'cgroups', 'unitFiles',
] as const satisfies readonly Exclude<keyof Host, 'run'>[];

// Reads one {method, args} request on stdin, answers {ok, value} or {ok: false, code, message}.
const AGENT = (localHostFile: string) => `import { localHost } from ${JSON.stringify(localHostFile)};
let input = '';
for await (const chunk of process.stdin) input += chunk;
const { method, args } = JSON.parse(input);
// probeUdp's payload travels as hex (JSON has no bytes).
if (method === 'probeUdp' && typeof args[2]?.payload === 'string') args[2].payload = Buffer.from(args[2].payload, 'hex');
// talk's steps alike.
if (method === 'talk') for (const s of args[2].steps) for (const k of ['send', 'onlyAfter']) if (typeof s[k] === 'string') s[k] = Buffer.from(s[k], 'hex');
try {
  process.stdout.write(JSON.stringify({ ok: true, value: await localHost[method](...args) }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, code: e?.code ?? 'EIO', message: String(e?.message ?? e) }));
}
`;

/**
 * A Host whose every read happens inside the container: whyport's local host, bundled into the
 * scratch dir (bound at the same path inside) and run there with the container's node, one call
 * per batch, as an ssh host would run one remote command per batch.
 */
async function hostInside(leaderPid: number, tmpDir: string): Promise<Host> {
  const agent = join(tmpDir, 'host-agent.mjs');
  await build({
    stdin: { contents: AGENT(join(REPO_ROOT, 'src/host/local.ts')), resolveDir: REPO_ROOT, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: agent,
    logLevel: 'silent',
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  });
  const call = async (method: string, args: unknown[]): Promise<unknown> => {
    const r = await nsenterRun(leaderPid, [process.execPath, agent], { input: JSON.stringify({ method, args }), timeoutMs: 15_000 });
    let answer: { ok: true; value: unknown } | { ok: false; code: string; message: string };
    try {
      answer = JSON.parse(r.stdout) as typeof answer;
    } catch {
      throw new Error(`host agent for ${method} in the container printed no answer (exit ${r.exitCode}): ${r.stderr.trim()}`);
    }
    if (!answer.ok) throw new HostError(answer.message, answer.code);
    return answer.value;
  };
  const methods = Object.fromEntries(HOST_METHODS.map((m) => [m, (...args: unknown[]) => call(m, args)]));
  const probeUdp: Host['probeUdp'] = (address, port, opts) =>
    call('probeUdp', [address, port, { ...opts, ...(opts.payload ? { payload: Buffer.from(opts.payload).toString('hex') } : {}) }]) as ReturnType<Host['probeUdp']>;
  const hex = (b: Uint8Array | undefined) => (b ? { hex: Buffer.from(b).toString('hex') } : {});
  const talk: Host['talk'] = (address, port, opts) =>
    call('talk', [
      address,
      port,
      { ...opts, signal: undefined, steps: opts.steps.map((s) => ({ until: s.until, ...(s.send ? { send: hex(s.send).hex } : {}), ...(s.onlyAfter ? { onlyAfter: hex(s.onlyAfter).hex } : {}) })) },
    ]) as ReturnType<Host['talk']>;
  return { ...methods, probeUdp, talk, run: runnerInside(leaderPid).run } as unknown as Host;
}

async function mustRun(argv: readonly string[]): Promise<void> {
  const [file, ...args] = argv;
  const r = await execa(file!, args, { reject: false, timeout: 10_000 });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.exitCode}): ${String(r.stderr).trim()}`);
}

/**
 * The child of systemd-nspawn that is PID 1 in its own PID namespace. nspawn forks a short-lived
 * intermediate child first, so "any child" could be the wrong process for nsenter.
 */
async function containerInit(nspawnPid: number): Promise<number | undefined> {
  for (const pid of await childrenOf(nspawnPid)) {
    const nspid = (await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')).match(/^NSpid:\s*(.*)$/m)?.[1];
    const ids = nspid?.trim().split(/\s+/) ?? [];
    if (ids.length >= 2 && ids.at(-1) === '1') return pid;
  }
  return undefined;
}

async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => undefined);
  if (text !== undefined) return text.split(/\s+/).filter(Boolean).map(Number);
  // Kernels without CONFIG_PROC_CHILDREN: scan every process's parent.
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    if (ppid === String(pid)) out.push(Number(entry));
  }
  return out;
}

async function hostPidOf(leaderPid: number, pidInside: number): Promise<number | undefined> {
  const ns = await readlink(`/proc/${leaderPid}/ns/pid`);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const nsOf = await readlink(`/proc/${entry}/ns/pid`).catch(() => undefined);
    if (nsOf !== ns) continue;
    const nspid = (await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '')).match(/^NSpid:\s*(.*)$/m)?.[1];
    if (nspid?.trim().split(/\s+/).at(-1) === String(pidInside)) return Number(entry);
  }
  return undefined;
}

/** False when SIGTERM was not enough. */
async function stopProcess(pid: number, exitedPromise: Promise<void>, exited: () => boolean): Promise<boolean> {
  if (exited()) return true;
  signal(pid, 'SIGTERM');
  // SIGTERM makes nspawn ask the container's systemd for a clean shutdown.
  await Promise.race([exitedPromise, sleep(STOP_GRACE_MS)]);
  if (exited()) return true;
  signal(pid, 'SIGKILL');
  await Promise.race([exitedPromise, sleep(5_000)]);
  return false;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

async function logTail(file: string, lines = 40): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
  return tail ? `systemd-nspawn log (${file}, last ${lines} lines):\n${tail}` : `systemd-nspawn log ${file} is empty`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function onPath(tool: string): Promise<boolean> {
  // sbin too: ip and nsenter live there and a non-root PATH may lack it.
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'].filter(Boolean);
  for (const dir of dirs) {
    if (await access(join(dir, tool), fsConstants.X_OK).then(() => true, () => false)) return true;
  }
  return false;
}
