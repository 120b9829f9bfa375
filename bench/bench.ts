/**
 * `npm run bench` — whyport on a busy server (root, Linux). A dev tool, not part of whyport.
 *
 * Creates a network namespace of its own, fills it with ≥ 100,000 ESTABLISHED TCP sockets on
 * loopback (a helper holding both ends), then times, side by side and interleaved, medians of
 * several runs after a warm-up:
 *   1. whyport's diagnosis of a closed port with a named process that is not running;
 *   2. the manual chain `netstat -an | grep; netstat -ltnp | grep; pgrep; systemctl status`;
 *   3. the floor: `node -e 0` + `ss` with a kernel filter + `pgrep`;
 *   4. with a listener owned by a process: whyport against `ss -ltnp 'sport = :PORT'`;
 *   5. `whyport --help` against `node -e 0`.
 * It prints the times and the ratios issues 5 and 14 set as targets (and, for reference, the closed
 * port without V8's code cache, as on whyport's first run).
 *
 * Case "ssh" (issue 11): two namespaces of its own, client and server, on a veth in 10.213.250.0/24,
 * a private sshd (LogLevel DEBUG1, its own keys) in the server's and nothing on the port. Inside the
 * client's it times, interleaved, `ssh root@SERVER true` on a fresh connection against the whole
 * two-ended diagnosis `whyport SERVER PORT --ssh root@SERVER --json --yes` (and, for reference, one
 * command over an already open connection: what each further remote command costs), and counts
 * the remote commands each diagnosis ran twice over: from sshd's log (one `ctype session` line per
 * command) and from the report's `vantages.server.commands`. It is skipped, with the reason, where
 * sshd, ssh, ssh-keygen or unshare is missing.
 *
 * Case "namespaces" (issue 12, "Cost"): a namespace of its own plays the host, with nothing on the
 * port, so the walk goes sockets → forward → namespaces → …; then 50 more namespaces of its own,
 * each with one python3 process holding a TCP listener on a port of its own (17001, 17002, …).
 * whyport's namespace scan finds namespaces through the processes in them (/proc/PID/ns/net), so a
 * namespace without a process is invisible to it. That gives a clean toggle: on SIGUSR1 each
 * listener moves itself (setns) into the bench's own namespace, which is already there for whyport
 * to see, and on SIGUSR2 back into its own; the harness checks /proc/PID/ns/net of every listener
 * before each run. The same processes and sockets exist in both states, only the 50 namespaces
 * come and go, so (a) parked and (b) at home can take turns run by run. For reference it also
 * times the diagnosis before the listeners exist and after they and their namespaces are gone,
 * which adds the per-process cost of 50 more processes to the difference. With
 * WPT_BENCH_NS_CHILD_EHASH=N the 50 are made from the host namespace with
 * net.ipv4.tcp_child_ehash_entries=N set there (only there), so each has a TCP hash table of its
 * own instead of sharing the machine's: what a read of its /proc/PID/net/tcp costs depends on it.
 *
 * Cases are picked by name: `node dist/bench/bench.js [busy] [ssh] [namespaces]` (`npm run bench
 * -- ssh`); none named runs all three. It cleans up (helpers and sshd killed by pid, namespaces and
 * temp dirs deleted), also on Ctrl-C and on errors. No pass/fail: exit 0 once printed, non-zero
 * only when the setup failed.
 *
 * The same file is also the helpers, picked by argv[2]: `__fill` (holds the sockets), `__listen`
 * (owns the listener) and `__measure` (the timing harness, run inside the namespace so that
 * `ip netns exec` is not part of any measured time).
 *
 * Environment: WPT_BENCH_SOCKETS (default 108000), WPT_BENCH_RUNS (default 5, at least 5),
 * WPT_BENCH_SSH_RUNS (rounds of the ssh case, default 7, at least 3), WPT_BENCH_NS_RUNS (rounds
 * of the namespaces case, default 7, at least 3), WPT_BENCH_NAMESPACES (how many namespaces with a
 * listener it adds, default 50), WPT_BENCH_NS_CHILD_EHASH (see above; default 0, the machine's
 * table), WPT_BENCH_PORT (default
 * 7071), WPT_BENCH_JSON=FILE (also write the results as JSON), WPT_BENCH_LSOF=1 (also time
 * `lsof -iTCP:PORT`, several seconds a run with 100k sockets).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const DIST = fileURLToPath(new URL('..', import.meta.url));
// What `whyport` runs once installed (package.json "bin"): the CommonJS entry, which starts sooner than dist/cli.js.
const CLI = join(DIST, 'cli.cjs');

const ABSENT = 'wptbench-absent'; // 15 characters: pgrep matches it against comm, and nothing has it
const LISTENER_NAME = 'wptbench-lsn';
const FILLER_NAME = 'wptbench-fill';
const FILL_BASE_PORT = 20001;
/** Connections per listening port of a filler: well under the 28,232 ephemeral ports of one destination. */
const FILL_PAIRS_PER_PORT = 20_000;
const FILL_INFLIGHT = 1000;
/** Descriptors a filler keeps free for node itself (epoll, pipes, libraries). */
const FILL_FD_SLACK = 256;
const FILL_TIMEOUT_MS = 120_000;

// ───────────────────────────── helpers shared by every mode ─────────────────────────────

const log = (s: string) => void process.stderr.write(`${s}\n`);
/** A progress line rewritten in place on a terminal; elsewhere only the last one is kept (see `endStatus`). */
const status = (s: string) => void (process.stderr.isTTY ? process.stderr.write(`\r  ${s}   `) : (lastStatus = s));
let lastStatus = '';
const endStatus = () => void process.stderr.write(process.stderr.isTTY ? '\n' : lastStatus ? `  ${lastStatus}\n` : '');

function intEnv(name: string, fallback: number, min: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, not ${JSON.stringify(v)}`);
  return n;
}

/** Exits when the parent goes away (its end of our stdin closes), so no helper outlives a killed bench. */
function exitWithParent(): void {
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}

// ───────────────────────────── __fill: hold the sockets ─────────────────────────────

async function fillMode(pairs: number, basePort: number): Promise<void> {
  const nPorts = Math.ceil(pairs / FILL_PAIRS_PER_PORT);
  exitWithParent();
  const held: Socket[] = [];
  const servers: Server[] = [];
  let accepted = 0;
  let connected = 0;
  let started = 0;
  let failures = 0;
  let lastError = '';
  const say = (s: string) => void process.stdout.write(`${s}\n`);

  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const check = () => {
    if (connected + failures >= pairs && accepted >= connected) finish();
  };

  for (let i = 0; i < nPorts; i++) {
    const server = createServer({ pauseOnConnect: true }, (s) => {
      s.on('error', () => {});
      held.push(s);
      accepted++;
      check();
    });
    server.on('error', (e) => {
      say(`error listen: ${e.message}`);
      process.exit(1);
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: basePort + i, backlog: 4096 }, resolve));
    servers.push(server);
  }

  const startOne = () => {
    if (started >= pairs) return;
    const port = basePort + (started % nPorts);
    started++;
    const c = connect({ host: '127.0.0.1', port });
    let settled = false;
    c.once('connect', () => {
      settled = true;
      c.pause();
      connected++;
      if (connected % 2_000 === 0) say(`progress ${connected}`);
      check();
      startOne();
    });
    c.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      failures++;
      lastError = e.code ?? e.message;
      check();
      startOne();
    });
    held.push(c);
  };
  for (let i = 0; i < Math.min(FILL_INFLIGHT, pairs); i++) startOne();
  await done;
  say(`progress ${connected}`);
  if (failures > 0) say(`failures ${failures} ${lastError}`);
  say(`ready ${connected} ${accepted}`);
  // Stay, holding every socket, until killed.
  setInterval(() => {}, 1 << 30);
}

// ───────────────────────────── __listen: own the listener ─────────────────────────────

async function listenMode(port: number): Promise<void> {
  exitWithParent();
  const server = createServer((s) => {
    s.on('error', () => {});
    s.resume();
    s.end();
  });
  server.on('error', (e) => {
    process.stdout.write(`error ${e.message}\n`);
    process.exit(1);
  });
  // The same port over UDP too: a bound socket that reads and never answers (as syslog does).
  const udp = createSocket('udp4');
  udp.on('message', () => {});
  udp.on('error', (e) => {
    process.stdout.write(`error ${e.message}\n`);
    process.exit(1);
  });
  udp.bind(port, '0.0.0.0', () => server.listen({ host: '0.0.0.0', port, backlog: 511 }, () => process.stdout.write('ready\n')));
}

// ───────────────────────────── __measure: the timing harness ─────────────────────────────

interface Cmd {
  label: string;
  argv: string[];
  /** Keep only the lines containing this (the `| grep` of the manual chain, done here). */
  grep?: string;
  /** Killed (SIGKILL) after this long; default RUN_TIMEOUT_MS. */
  timeoutMs?: number;
}

const RUN_TIMEOUT_MS = 120_000;

interface Case {
  id: string;
  label: string;
  cmds: Cmd[];
  /** Parse the whyport JSON report of each run. */
  whyport?: boolean;
  /** A counter read before and after each run (the ssh case: sessions in sshd's log); the difference is kept. */
  counter?: () => number;
  /** Sets the stage before each run, outside the timed part (the namespaces case: park or bring home the listeners). */
  before?: () => Promise<void>;
}

interface Sample {
  total: number;
  parts: number[];
  report?: WhyportReport;
  problem?: string;
  counted?: number;
  /** The namespaces step's evidence.looked: how many other network namespaces whyport read. */
  looked?: number;
}

interface WhyportReport {
  durationMs: number;
  diagnosis: { code: string };
  steps: { id: string; durationMs: number; command?: string; outcome?: string; where?: string; evidence?: Record<string, unknown> }[];
  vantages?: { server?: { error?: string | null; commands?: number; ran?: string[] } };
}

interface CaseResult {
  id: string;
  label: string;
  parts: string[];
  runs: number;
  median: number;
  min: number;
  max: number;
  partMedians: number[];
  diagnosis?: string;
  inProcessMs?: number;
  steps?: { id: string; medianMs: number; command: string; outcome: string; where?: string }[];
  /** Per run: the case's counter's difference (sessions sshd logged). */
  counted?: number[];
  /** Per run: the report's vantages.server.commands (null when it has none). */
  serverCommands?: (number | null)[];
  /** The last report's vantages.server.ran. */
  serverRan?: string[];
  /** Per run, in order: wall time, and the report's durationMs (null without a report). */
  totals: number[];
  inProcess: (number | null)[];
  /** Per run: the namespaces step's evidence.looked (null when the run had none); only when some run had it. */
  looked?: (number | null)[];
  problems: string[];
}

function runOnce(cmd: Cmd): Promise<{ ms: number; stdout: string; stderr: string; code: number | null; error?: string }> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd.argv[0]!, cmd.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let spawnError: string | undefined;
    child.on('error', (e) => (spawnError = e.message));
    const timeoutMs = cmd.timeoutMs ?? RUN_TIMEOUT_MS;
    const timer = setTimeout(() => {
      spawnError = `timed out after ${timeoutMs / 1000} s`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      let stdout = Buffer.concat(out).toString('utf8');
      if (cmd.grep !== undefined) stdout = stdout.split('\n').filter((l) => l.includes(cmd.grep!)).join('\n');
      resolve({ ms, stdout, stderr: Buffer.concat(err).toString('utf8'), code, ...(spawnError ? { error: spawnError } : {}) });
    });
  });
}

async function runCase(c: Case): Promise<Sample> {
  const parts: number[] = [];
  let report: WhyportReport | undefined;
  let problem: string | undefined;
  await c.before?.();
  const before = c.counter?.();
  for (const cmd of c.cmds) {
    const r = await runOnce(cmd);
    parts.push(r.ms);
    if (r.error) problem = `${cmd.label}: ${r.error}`;
    if (c.whyport) {
      try {
        report = JSON.parse(r.stdout) as WhyportReport;
      } catch {
        problem = `${cmd.label}: exit ${r.code}, no JSON report; stderr: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ') || '(empty)'}`;
      }
    }
  }
  const counted = before === undefined ? undefined : c.counter!() - before;
  if (report?.vantages?.server?.error) problem = `the server's side was not diagnosed: ${report.vantages.server.error}`;
  const looked = report?.steps?.find((s) => s.id === 'namespaces')?.evidence?.looked;
  return {
    total: parts.reduce((a, b) => a + b, 0),
    parts,
    ...(report ? { report } : {}),
    ...(problem ? { problem } : {}),
    ...(counted === undefined ? {} : { counted }),
    ...(typeof looked === 'number' ? { looked } : {}),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs the cases round-robin (A B C, A B C, …) so drift hits them alike; the first `warmup` rounds are dropped. */
async function measureGroup(title: string, cases: Case[], runs: number, warmup: number): Promise<CaseResult[]> {
  const samples = new Map<string, Sample[]>(cases.map((c) => [c.id, []]));
  for (let round = 0; round < warmup + runs; round++) {
    status(`${title}: ${round < warmup ? 'warm-up' : `run ${round - warmup + 1}/${runs}`}`);
    for (const c of cases) {
      const s = await runCase(c);
      if (round >= warmup) samples.get(c.id)!.push(s);
    }
  }
  endStatus();
  return cases.map((c) => summarise(c, samples.get(c.id)!));
}

function summarise(c: Case, list: Sample[]): CaseResult {
  const totals = list.map((s) => s.total);
  const result: CaseResult = {
    id: c.id,
    label: c.label,
    parts: c.cmds.map((x) => x.label),
    runs: list.length,
    median: median(totals),
    min: Math.min(...totals),
    max: Math.max(...totals),
    partMedians: c.cmds.map((_, i) => median(list.map((s) => s.parts[i]!))),
    totals,
    inProcess: list.map((s) => s.report?.durationMs ?? null),
    ...(list.some((s) => s.looked !== undefined) ? { looked: list.map((s) => s.looked ?? null) } : {}),
    problems: [...new Set(list.flatMap((s) => (s.problem ? [s.problem] : [])))],
  };
  const reports = list.flatMap((s) => (s.report ? [s.report] : []));
  if (reports.length > 0) {
    result.diagnosis = [...new Set(reports.map((r) => r.diagnosis?.code))].join(', ');
    result.inProcessMs = median(reports.map((r) => r.durationMs));
    const ids = reports[reports.length - 1]!.steps.map((s) => s.id);
    result.steps = ids.map((id) => {
      const seen = reports.flatMap((r) => r.steps.filter((s) => s.id === id));
      const last = seen[seen.length - 1]!;
      return { id, medianMs: median(seen.map((s) => s.durationMs)), command: last.command ?? '', outcome: last.outcome ?? '', ...(last.where ? { where: last.where } : {}) };
    });
    const last = reports[reports.length - 1]!;
    if (last.vantages?.server) {
      result.serverCommands = list.map((s) => s.report?.vantages?.server?.commands ?? null);
      result.serverRan = last.vantages.server.ran ?? [];
    }
  }
  if (c.counter) result.counted = list.flatMap((s) => (s.counted === undefined ? [] : [s.counted]));
  return result;
}

interface MeasureConfig {
  phase: 'closed' | 'listener' | 'ssh' | 'namespaces';
  port: number;
  runs: number;
  listenerPid?: number;
  /** The ssh case: how the client namespace reaches the server's sshd. */
  ssh?: SshReach;
  /** The namespaces case: the id of the lone case, or the listeners to toggle between (a) and (b). */
  namespaces?: { id: string; listeners?: NsListeners };
}

/** What a client needs to reach the bench's sshd, and where that sshd logs. */
interface SshReach {
  server: string;
  user: string;
  keyPath: string;
  knownHostsPath: string;
  sshdLog: string;
  /** Where the harness keeps an open master connection for the reference case (in the bench's temp dir). */
  controlPath: string;
}

function sshOptions(s: SshReach): string[] {
  return [`UserKnownHostsFile=${s.knownHostsPath}`, `IdentityFile=${s.keyPath}`, 'IdentitiesOnly=yes'];
}

/**
 * The commands of the ssh case: a bare fresh connection, the whole two-ended diagnosis, and for
 * reference one command over the harness's open connection (what each further remote command costs).
 */
function sshCases(port: number, s: SshReach): Case[] {
  const dest = `${s.user}@${s.server}`;
  const options = sshOptions(s);
  const sessions = () => countSessions(readFileSync(s.sshdLog, 'utf8'));
  return [
    {
      id: 'ssh-true',
      label: `ssh ${dest} true`,
      counter: sessions,
      cmds: [
        {
          label: `ssh -o BatchMode=yes -o UserKnownHostsFile=K -o IdentityFile=KEY -o IdentitiesOnly=yes ${dest} true`,
          // ControlMaster=no, ControlPath=none: a fresh connection each time, whatever a config file says.
          argv: ['ssh', '-o', 'BatchMode=yes', ...options.flatMap((o) => ['-o', o]), '-o', 'ControlMaster=no', '-o', 'ControlPath=none', dest, 'true'],
          timeoutMs: 30_000,
        },
      ],
    },
    {
      id: 'whyport-ssh',
      label: `whyport ${s.server} ${port} --ssh ${dest} --json --yes`,
      whyport: true,
      counter: sessions,
      cmds: [
        {
          label: `node dist/cli.cjs ${s.server} ${port} --ssh ${dest} --ssh-option … --json --yes`,
          argv: [process.execPath, CLI, s.server, String(port), '--ssh', dest, ...options.flatMap((o) => ['--ssh-option', o]), '--json', '--yes'],
          timeoutMs: 90_000,
        },
      ],
    },
    {
      id: 'ssh-mux',
      label: `ssh ${dest} true over an open connection`,
      cmds: [
        {
          label: `ssh -o ControlPath=MUX … ${dest} true`,
          argv: ['ssh', '-o', 'BatchMode=yes', ...options.flatMap((o) => ['-o', o]), '-o', 'ControlMaster=no', '-o', `ControlPath=${s.controlPath}`, dest, 'true'],
          timeoutMs: 30_000,
        },
      ],
    },
  ];
}

/**
 * Opens the master connection the reference case uses (ssh -f backgrounds once authenticated;
 * ControlPersist bounds its life should the harness die without closing it).
 */
function openMaster(s: SshReach): void {
  const argv = ['ssh', '-o', 'BatchMode=yes', ...sshOptions(s).flatMap((o) => ['-o', o]), '-o', 'ControlMaster=yes', '-o', 'ControlPersist=120', '-o', `ControlPath=${s.controlPath}`, '-E', `${s.controlPath}.log`, '-f', '-N', `${s.user}@${s.server}`];
  // No pipes: the backgrounded master would hold them open and spawnSync would wait for it.
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}); see ${s.controlPath}.log`);
}

function closeMaster(s: SshReach): void {
  spawnSync('ssh', ['-o', `ControlPath=${s.controlPath}`, '-O', 'exit', `${s.user}@${s.server}`], { stdio: 'ignore', timeout: 10_000 });
}

/** sshd at LogLevel DEBUG1 logs one such line per channel a command runs in. */
function countSessions(log: string): number {
  let n = 0;
  for (const line of log.split('\n')) if (line.includes('server_input_channel_open: ctype session')) n++;
  return n;
}

async function measureMode(config: MeasureConfig): Promise<void> {
  const node = process.execPath;
  const P = config.port;
  const filter = `( sport = :${P} or dport = :${P} )`;
  const nodeNoop: Cmd = { label: 'node -e 0', argv: [node, '-e', '0'] };
  const results: CaseResult[] = [];

  if (config.phase === 'namespaces') {
    results.push(...(await measureNamespaces(P, config.runs, config.namespaces!)));
  } else if (config.phase === 'ssh') {
    openMaster(config.ssh!);
    try {
      results.push(...(await measureGroup(`ssh to ${config.ssh!.server}`, sshCases(P, config.ssh!), config.runs, 1)));
    } finally {
      closeMaster(config.ssh!);
    }
  } else if (config.phase === 'closed') {
    results.push(
      ...(await measureGroup(
        `closed port ${P}`,
        [
          { id: 'whyport-closed', label: 'whyport --json --yes --process (not running)', whyport: true, cmds: [{ label: `node dist/cli.cjs 127.0.0.1 ${P} --json --yes --process ${ABSENT}`, argv: [node, CLI, '127.0.0.1', String(P), '--json', '--yes', '--process', ABSENT] }] },
          {
            id: 'manual',
            label: 'manual chain (seed)',
            cmds: [
              { label: `netstat -an | grep :${P}`, argv: ['netstat', '-an'], grep: `:${P}` },
              { label: `netstat -ltnp | grep :${P}`, argv: ['netstat', '-ltnp'], grep: `:${P}` },
              { label: `pgrep ${ABSENT}`, argv: ['pgrep', ABSENT] },
              { label: `systemctl status ${ABSENT}`, argv: ['systemctl', 'status', ABSENT] },
            ],
          },
          {
            id: 'floor',
            label: 'floor',
            cmds: [nodeNoop, { label: `ss -Htan '${filter}'`, argv: ['ss', '-Htan', filter] }, { label: `pgrep ${ABSENT}`, argv: ['pgrep', ABSENT] }],
          },
          // UDP beside TCP (issue 13): the same closed port over UDP, and its floor with ss -u.
          { id: 'whyport-closed-udp', label: 'whyport P/udp --json --yes --process (not running)', whyport: true, cmds: [{ label: `node dist/cli.cjs 127.0.0.1 ${P}/udp --json --yes --process ${ABSENT}`, argv: [node, CLI, '127.0.0.1', `${P}/udp`, '--json', '--yes', '--process', ABSENT] }] },
          {
            id: 'floor-udp',
            label: 'floor, UDP',
            cmds: [nodeNoop, { label: `ss -Huan '${filter}'`, argv: ['ss', '-Huan', filter] }, { label: `pgrep ${ABSENT}`, argv: ['pgrep', ABSENT] }],
          },
          // Not a target: what `-p` costs ss on this host (it reads every fd of every process, filter or not).
          { id: 'ss-p-filtered', label: 'for reference: ss -p with the same filter', cmds: [{ label: `ss -Htanp '${filter}'`, argv: ['ss', '-Htanp', filter] }] },
          // Not a target: a cache directory that cannot be made, so every run compiles whyport (its first run anywhere).
          {
            id: 'whyport-closed-cold',
            label: 'for reference: whyport without its code cache',
            cmds: [{ label: `XDG_CACHE_HOME=/dev/null node dist/cli.cjs 127.0.0.1 ${P} --json --yes --process ${ABSENT}`, argv: ['env', 'XDG_CACHE_HOME=/dev/null', node, CLI, '127.0.0.1', String(P), '--json', '--yes', '--process', ABSENT] }],
          },
        ],
        config.runs,
        1,
      )),
    );
    results.push(
      ...(await measureGroup(
        'start-up',
        [
          { id: 'help', label: 'whyport --help', cmds: [{ label: 'node dist/cli.cjs --help', argv: [node, CLI, '--help'] }] },
          { id: 'node', label: 'node -e 0', cmds: [nodeNoop] },
          { id: 'node-esm', label: 'node --input-type=module -e 0', cmds: [{ label: 'node --input-type=module -e 0', argv: [node, '--input-type=module', '-e', '0'] }] },
          { id: 'version', label: 'whyport --version', cmds: [{ label: 'node dist/cli.cjs --version', argv: [node, CLI, '--version'] }] },
          { id: 'explain', label: 'whyport explain 22 (the bundle, from its code cache)', cmds: [{ label: 'node dist/cli.cjs explain 22', argv: [node, CLI, 'explain', '22'] }] },
        ],
        Math.max(config.runs * 2 + 1, 11),
        2,
      )),
    );
  } else {
    const cases: Case[] = [
      { id: 'whyport-listener', label: `whyport --json --yes --process ${LISTENER_NAME}`, whyport: true, cmds: [{ label: `node dist/cli.cjs 127.0.0.1 ${P} --json --yes --process ${LISTENER_NAME}`, argv: [node, CLI, '127.0.0.1', String(P), '--json', '--yes', '--process', LISTENER_NAME] }] },
      { id: 'ss-ltnp', label: `ss -ltnp 'sport = :${P}'`, cmds: [{ label: `ss -Htlnp 'sport = :${P}'`, argv: ['ss', '-Htlnp', `sport = :${P}`] }] },
      // The listener's UDP socket on the same port: bound, read, never answering.
      { id: 'whyport-listener-udp', label: `whyport P/udp --json --yes --process ${LISTENER_NAME}`, whyport: true, cmds: [{ label: `node dist/cli.cjs 127.0.0.1 ${P}/udp --json --yes --process ${LISTENER_NAME}`, argv: [node, CLI, '127.0.0.1', `${P}/udp`, '--json', '--yes', '--process', LISTENER_NAME] }] },
      { id: 'ss-ulnp', label: `ss -ulnp 'sport = :${P}'`, cmds: [{ label: `ss -Hulnp 'sport = :${P}'`, argv: ['ss', '-Hulnp', `sport = :${P}`] }] },
    ];
    if (process.env.WPT_BENCH_LSOF === '1' && spawnSync('sh', ['-c', 'command -v lsof'], { stdio: 'ignore' }).status === 0) {
      cases.push({ id: 'lsof', label: 'for reference: lsof', cmds: [{ label: `lsof -nP -iTCP:${P} -sTCP:LISTEN`, argv: ['lsof', '-nP', `-iTCP:${P}`, '-sTCP:LISTEN'] }] });
    }
    results.push(...(await measureGroup(`listener on ${P}`, cases, config.runs, 1)));
  }
  process.stdout.write(JSON.stringify(results));
}

// ───────────────────────────── the orchestrator (root namespace) ─────────────────────────────

interface Resources {
  /** Network namespaces this run made (never one it did not). */
  namespaces: string[];
  tmps: string[];
  children: ChildProcess[];
}

const res: Resources = { namespaces: [], tmps: [], children: [] };
let cleanedUp = false;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Still running: a zombie counts as gone (the event loop, which reaps it, is not running during cleanup). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM, up to 5 s to go, then SIGKILL; synchronous. */
function killAndWait(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5_000;
  while (pids.some(alive) && Date.now() < deadline) spawnSync('sleep', ['0.05'], { timeout: 1_000 });
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Kills our own helpers (and sshd) by pid, then whatever they left running in our namespaces (an
 * ssh master of a whyport killed mid-run, an sshd session), by the pids `ip netns pids` gives; then
 * deletes the namespaces and temp dirs. Synchronous: also runs from 'exit'.
 */
function cleanup(): void {
  if (cleanedUp) return;
  cleanedUp = true;
  killAndWait(res.children.flatMap((c) => (c.pid !== undefined && c.exitCode === null && c.signalCode === null ? [c.pid] : [])));
  const left = res.namespaces.flatMap((ns) => {
    const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5_000 });
    return r.status === 0 ? r.stdout.split('\n').filter(Boolean).map(Number).filter((pid) => pid !== process.pid) : [];
  });
  if (left.length > 0) killAndWait(left);
  for (const ns of [...res.namespaces].reverse()) {
    const r = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) log(`bench: could not delete namespace ${ns}: ${r.error?.message ?? r.stderr.trim()}`);
  }
  for (const dir of res.tmps) rmSync(dir, { recursive: true, force: true });
}

function must(argv: string[], timeoutMs = 30_000): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore', timeout: 5_000 }).status === 0;
}

/** Makes a namespace with lo up, and remembers it for cleanup. */
function addNamespace(ns: string): string {
  must(['ip', 'netns', 'add', ns]);
  res.namespaces.push(ns);
  must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  return ns;
}

/** Starts a helper inside the namespace and waits for the line starting with `ready`. */
function startHelper(ns: string, argv: string[], onLine: (line: string) => void, timeoutMs: number): Promise<{ child: ChildProcess; ready: string }> {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
  res.children.push(child);
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${argv.join(' ')}: not ready after ${timeoutMs / 1000} s`)), timeoutMs);
    child.on('error', (e) => reject(e));
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')} exited early (${sig ?? `exit ${code}`})`));
    });
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ready')) {
          clearTimeout(timer);
          resolve({ child, ready: line });
        } else if (line.startsWith('error')) {
          clearTimeout(timer);
          reject(new Error(`${argv.join(' ')}: ${line}`));
        } else onLine(line);
      }
    });
  });
}

/** Runs the timing harness inside the namespace; its results come back as JSON on stdout. */
function measureInNamespace(ns: string, config: MeasureConfig, timeoutMs: number): Promise<CaseResult[]> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, SELF, '__measure', JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  res.children.push(child);
  const out: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  let timedOut = false;
  // What it was running when killed is left in the namespace; cleanup() finds it there.
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      if (timedOut) return reject(new Error(`the timing harness did not finish in ${Math.round(timeoutMs / 1000)} s`));
      if (code !== 0) return reject(new Error(`the timing harness failed (${sig ?? `exit ${code}`})`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as CaseResult[]);
      } catch (e) {
        reject(new Error(`the timing harness printed no results: ${(e as Error).message}`));
      }
    });
  });
}

function countSockets(ns: string): { total: number; states: Record<string, number>; summary: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'ss', '-Htan'], { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ss -Htan in the namespace failed: ${r.error?.message ?? r.stderr}`);
  const states: Record<string, number> = {};
  let total = 0;
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    total++;
    const st = line.slice(0, line.indexOf(' '));
    states[st] = (states[st] ?? 0) + 1;
  }
  const summary = must(['ip', 'netns', 'exec', ns, 'ss', '-s']).split('\n').find((l) => l.startsWith('TCP:'))?.trim() ?? '';
  return { total, states, summary };
}

const f1 = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const loadText = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');

/** A case's median (min … max), its parts' medians, and its problems. */
function caseRows(label: string, r: CaseResult | undefined, indent = '  '): string[] {
  if (!r) return [];
  const lines = [`${indent}${label.padEnd(58 - indent.length)}${f1(r.median).padStart(8)} ms   (${f1(r.min)} … ${f1(r.max)}, n=${r.runs})`];
  if (r.parts.length > 1) r.parts.forEach((p, i) => lines.push(`${indent}    ${p.padEnd(54 - indent.length)}${f1(r.partMedians[i]!).padStart(8)} ms`));
  for (const p of r.problems) lines.push(`${indent}    ! ${p}`);
  return lines;
}

/** a / b against its target; "(missed)" when it is not met. */
function targetRow(label: string, a: CaseResult | undefined, b: CaseResult | undefined, goal: string, ok: (x: number) => boolean): string {
  if (!a || !b) return `  ${label.padEnd(44)}     n/a`;
  const x = a.median / b.median;
  return `  ${label.padEnd(44)}${ratio(a.median, b.median).padStart(8)}   target ${goal}${ok(x) ? '' : '   (missed)'}`;
}

function machineLines(loadBefore: number[], how: string): string[] {
  return [
    `  node ${process.version}, Linux ${release()}, ${cpus().length} CPUs; ${how}`,
    `  load average at start ${loadText(loadBefore)}, at end ${loadText(loadavg())}${Math.max(loadBefore[0]!, loadavg()[0]!) > cpus().length ? '  (busy machine: times are noisy)' : ''}`,
  ];
}

function printResults(all: CaseResult[], meta: { sockets: number; summary: string; ns: string; runs: number; port: number; listenerPid: number; loadBefore: number[] }): string {
  const by = (id: string) => all.find((r) => r.id === id);
  const lines: string[] = [];
  const row = (label: string, r: CaseResult | undefined) => void lines.push(...caseRows(label, r));
  lines.push(`whyport benchmark: ${meta.sockets.toLocaleString('en-US')} TCP sockets in network namespace ${meta.ns}`);
  lines.push(`  ss -s: ${meta.summary}`);
  lines.push(...machineLines(meta.loadBefore, 'medians after a warm-up (min … max), wall time per run'));
  lines.push('');
  lines.push(`Closed port ${meta.port}, --process ${ABSENT} (not running):`);
  row(`whyport (${by('whyport-closed')?.diagnosis ?? 'no report'})`, by('whyport-closed'));
  row('manual chain (seed), run one after another', by('manual'));
  row('floor: node -e 0 + ss with a filter + pgrep', by('floor'));
  row(`ss -Htanp with the same filter (reference)`, by('ss-p-filtered'));
  row('whyport without its code cache (reference: a first run)', by('whyport-closed-cold'));
  row(`whyport ${meta.port}/udp (${by('whyport-closed-udp')?.diagnosis ?? 'no report'})`, by('whyport-closed-udp'));
  row('floor, UDP: node -e 0 + ss -u with a filter + pgrep', by('floor-udp'));
  lines.push('');
  lines.push(`Listener on ${meta.port} owned by ${LISTENER_NAME} (pid ${meta.listenerPid}):`);
  row(`whyport (${by('whyport-listener')?.diagnosis ?? 'no report'})`, by('whyport-listener'));
  row(`ss -Htlnp 'sport = :${meta.port}'`, by('ss-ltnp'));
  row(`lsof -nP -iTCP:${meta.port} -sTCP:LISTEN (reference)`, by('lsof'));
  row(`whyport ${meta.port}/udp, its bound UDP socket (${by('whyport-listener-udp')?.diagnosis ?? 'no report'})`, by('whyport-listener-udp'));
  row(`ss -Hulnp 'sport = :${meta.port}'`, by('ss-ulnp'));
  lines.push('');
  lines.push('Start-up:');
  row('node dist/cli.cjs --help', by('help'));
  row('node -e 0', by('node'));
  row('node --input-type=module -e 0 (ESM loader, reference)', by('node-esm'));
  row('node dist/cli.cjs --version', by('version'));
  row('node dist/cli.cjs explain 22 (the bundle, cached)', by('explain'));
  lines.push('');
  lines.push('Ratios (issue 5 and 14 targets):');
  lines.push(targetRow('closed port: whyport / floor', by('whyport-closed'), by('floor'), '≤ 1.3×', (x) => x <= 1.3));
  lines.push(targetRow('closed port: manual chain / whyport', by('manual'), by('whyport-closed'), '≥ 10×', (x) => x >= 10));
  lines.push(targetRow('listener: whyport / ss -ltnp', by('whyport-listener'), by('ss-ltnp'), '< 1× (whyport faster)', (x) => x < 1));
  lines.push(targetRow('whyport --help / node -e 0', by('help'), by('node'), '≤ 1.15×', (x) => x <= 1.15));
  lines.push(targetRow('closed port: UDP / TCP (issue 13: as fast)', by('whyport-closed-udp'), by('whyport-closed'), '≤ 1.1×', (x) => x <= 1.1));
  lines.push(targetRow('closed port, UDP: whyport / its floor', by('whyport-closed-udp'), by('floor-udp'), '—', () => true));
  lines.push(targetRow('closed port, no code cache / floor (reference)', by('whyport-closed-cold'), by('floor'), '—', () => true));
  lines.push('');
  lines.push("Where whyport's time goes (medians; wall − in-process = node start-up, imports, playbook load, exit):");
  for (const id of ['whyport-closed', 'whyport-listener', 'whyport-closed-udp', 'whyport-listener-udp']) {
    const r = by(id);
    if (!r || r.inProcessMs === undefined) continue;
    lines.push(`  ${id.replace('whyport-', '').replace('-udp', ' (UDP)').replace('closed', 'closed port')}: wall ${f1(r.median)} ms, report durationMs ${f1(r.inProcessMs)} ms, outside the walk ${f1(r.median - r.inProcessMs)} ms`);
    for (const s of r.steps ?? []) lines.push(`    ${s.id.padEnd(28)}${f1(s.medianMs).padStart(7)} ms  ${s.outcome.padEnd(12)} ${s.command}`);
  }
  const text = lines.join('\n');
  process.stdout.write(`\n${text}\n`);
  return text;
}

interface FillerPlan {
  pairs: number;
  basePort: number;
  nofile: number;
}

/**
 * One filler holding every socket when RLIMIT_NOFILE can be raised that far (CAP_SYS_RESOURCE),
 * else as many as the hard limit requires (each holds both ends of its connections).
 */
function planFillers(pairs: number): FillerPlan[] {
  const want = pairs * 2 + FILL_FD_SLACK;
  let perProcess: number;
  let nofile: number;
  if (spawnSync('prlimit', [`--nofile=${want}:${want}`, 'true'], { stdio: 'ignore', timeout: 10_000 }).status === 0) {
    perProcess = pairs;
    nofile = want;
  } else {
    const hard = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8', timeout: 10_000 }).stdout.trim();
    nofile = hard === 'unlimited' ? 1 << 20 : Number(hard);
    perProcess = Math.floor((nofile - FILL_FD_SLACK) / 2);
    if (!(perProcess >= 500)) throw new Error(`the hard limit on open files is ${hard}: too low to hold the sockets`);
  }
  const n = Math.ceil(pairs / perProcess);
  const plan: FillerPlan[] = [];
  let basePort = FILL_BASE_PORT;
  for (let k = 0, left = pairs; k < n; k++) {
    const mine = Math.ceil(left / (n - k));
    plan.push({ pairs: mine, basePort, nofile });
    basePort += Math.ceil(mine / FILL_PAIRS_PER_PORT);
    left -= mine;
  }
  return plan;
}

/** Case "busy": ≥ 100,000 sockets in a namespace of its own, whyport against the manual chain and the floor. */
async function benchBusyServer(port: number, loadBefore: number[]): Promise<Record<string, unknown>> {
  for (const tool of ['ss', 'netstat', 'pgrep', 'prlimit']) {
    if (!onPath(tool)) throw new Error(`${tool} is not installed (apt-get install -y iproute2 net-tools procps util-linux)`);
  }
  const pairs = Math.ceil(intEnv('WPT_BENCH_SOCKETS', 108_000, 2) / 2);
  const runs = intEnv('WPT_BENCH_RUNS', 5, 5);
  const plan = planFillers(pairs);
  const lastFillPort = plan.at(-1)!.basePort + Math.ceil(plan.at(-1)!.pairs / FILL_PAIRS_PER_PORT) - 1;
  if ((port >= FILL_BASE_PORT && port <= lastFillPort) || (port >= 32768 && port <= 60999)) {
    throw new Error(`WPT_BENCH_PORT must be outside the fillers' ports ${FILL_BASE_PORT}–${lastFillPort} and the ephemeral range 32768–60999`);
  }
  const t0 = performance.now();

  const tmp = join(tmpdir(), `wpt-bench-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  res.tmps.push(tmp);
  // Symlinks to node give the helpers a name of their own (comm), for pgrep and for the owner lookup.
  for (const name of [FILLER_NAME, LISTENER_NAME]) symlinkSync(process.execPath, join(tmp, name));

  const ns = addNamespace(`wpt-bench-${process.pid}`);
  log(`bench: namespace ${ns}; opening ${(pairs * 2).toLocaleString('en-US')} loopback sockets (${pairs.toLocaleString('en-US')} connections)…`);

  if (plan.length > 1) log(`  (RLIMIT_NOFILE cannot be raised past ${plan[0]!.nofile} here: ${plan.length} filler processes)`);
  const progress = plan.map(() => 0);
  const fillers = await Promise.all(
    plan.map((p, k) =>
      startHelper(
        ns,
        ['prlimit', `--nofile=${p.nofile}:${p.nofile}`, join(tmp, FILLER_NAME), SELF, '__fill', String(p.pairs), String(p.basePort)],
        (line) => {
          if (line.startsWith('progress')) {
            progress[k] = Number(line.split(' ')[1]);
            status(`${progress.reduce((a, b) => a + b, 0).toLocaleString('en-US')} connections`);
          } else if (line.startsWith('failures')) log(`\n  filler ${k}: ${line}`);
        },
        FILL_TIMEOUT_MS,
      ),
    ),
  );
  endStatus();
  const count = countSockets(ns);
  log(`bench: ${count.total.toLocaleString('en-US')} TCP sockets in ${ns} (${Object.entries(count.states).map(([s, n]) => `${n} ${s}`).join(', ')}) after ${((performance.now() - t0) / 1000).toFixed(1)} s; filler pids ${fillers.map((f) => f.child.pid).join(' ')}`);
  if (count.total < 100_000 && pairs * 2 >= 100_000) throw new Error(`only ${count.total} sockets; the benchmark wants ≥ 100,000`);

  // Generous: the manual chain alone takes seconds a run with 100k sockets.
  const harnessTimeoutMs = 30 * 60_000;
  const closed = await measureInNamespace(ns, { phase: 'closed', port, runs }, harnessTimeoutMs);

  const lsn = await startHelper(ns, [join(tmp, LISTENER_NAME), SELF, '__listen', String(port)], () => {}, 10_000);
  const listenerPid = lsn.child.pid!;
  const listener = await measureInNamespace(ns, { phase: 'listener', port, runs, listenerPid }, harnessTimeoutMs);

  const all = [...closed, ...listener];
  const text = printResults(all, { sockets: count.total, summary: count.summary, ns, runs, port, listenerPid, loadBefore });
  return { sockets: count.total, states: count.states, runs, port, results: all, text, settings: `WPT_BENCH_SOCKETS=${pairs * 2} WPT_BENCH_RUNS=${runs}` };
}

// ───────────────────────────── case "ssh": both ends over a real sshd ─────────────────────────────

const SSHD = '/usr/sbin/sshd';
/** Client .1, server .2; a /24 of the private 10.213.0.0/16 the tests also use, on links only our namespaces see. */
const SSH_SUBNET = '10.213.250';
const SSHD_PORT = 22;

/** Null when the ssh case can run here; otherwise why not (the case is then skipped, saying so). */
function sshUnavailable(): string | null {
  try {
    accessSync(SSHD, fsConstants.X_OK);
  } catch {
    return `${SSHD} is not installed (apt-get install -y openssh-server)`;
  }
  for (const [tool, pkg] of [['ssh', 'openssh-client'], ['ssh-keygen', 'openssh-client'], ['unshare', 'util-linux'], ['ss', 'iproute2']] as const) {
    if (!onPath(tool)) return `${tool} is not installed (apt-get install -y ${pkg})`;
  }
  return null;
}

function tailOf(file: string, lines = 20): string {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // not written yet
  }
  const t = text.trimEnd().split('\n').slice(-lines).join('\n');
  return t ? `${file}, last lines:\n${t}` : `${file} is empty`;
}

/** An ed25519 key pair `dir/name`, `dir/name.pub` without a passphrase; returns the public key line. */
function makeKey(dir: string, name: string): string {
  const path = join(dir, name);
  must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `whyport-bench-${name}`, '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

/**
 * A private sshd in the server namespace: its own host key, root's key and authorized_keys in
 * `dir`, DEBUG1 to `dir/sshd.log`; in a private mount namespace with a tmpfs /run, so /run/sshd
 * exists without touching the machine's. `ip netns exec`, unshare and sh all exec: the child's pid
 * is sshd's. Resolves once sshd says it listens.
 */
async function startSshd(srv: string, dir: string, address: string): Promise<{ pid: number; hostKey: string; keyPath: string; logPath: string }> {
  const hostKey = makeKey(dir, 'ssh_host_ed25519_key');
  const clientKey = makeKey(dir, 'id_ed25519');
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, `${clientKey}\n`, { mode: 0o600 });
  const configPath = join(dir, 'sshd_config');
  writeFileSync(
    configPath,
    [
      `Port ${SSHD_PORT}`,
      `ListenAddress ${address}`,
      `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'LogLevel DEBUG1',
      'PidFile none',
      '',
    ].join('\n'),
  );
  const logPath = join(dir, 'sshd.log');
  const fd = openSync(logPath, 'a');
  let sshd: ChildProcess;
  try {
    const script = `mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd && exec ${SSHD} -D -e -f "$1"`;
    sshd = spawn('ip', ['netns', 'exec', srv, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', configPath], { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  res.children.push(sshd);
  let spawnError: string | undefined;
  sshd.on('error', (e) => (spawnError = e.message));
  const deadline = performance.now() + 10_000;
  const listening = `Server listening on ${address} port ${SSHD_PORT}.`;
  for (;;) {
    if (spawnError) throw new Error(`could not start sshd: ${spawnError}`);
    if (sshd.exitCode !== null || sshd.signalCode !== null) throw new Error(`sshd exited (${sshd.signalCode ?? `exit ${sshd.exitCode}`}) before it listened; ${tailOf(logPath)}`);
    if (readFileSync(logPath, 'utf8').includes(listening)) break;
    if (performance.now() > deadline) throw new Error(`sshd did not listen on ${address}:${SSHD_PORT} within 10 s; ${tailOf(logPath)}`);
    await sleep(50);
  }
  return { pid: sshd.pid!, hostKey, keyPath: join(dir, 'id_ed25519'), logPath };
}

/** Case "ssh" (issue 11): the two-ended diagnosis against a bare `ssh SERVER true`, and its remote commands. */
async function benchSsh(port: number, loadBefore: number[]): Promise<Record<string, unknown>> {
  if (port === SSHD_PORT) throw new Error(`WPT_BENCH_PORT must not be ${SSHD_PORT}: the ssh case's sshd listens there`);
  const runs = intEnv('WPT_BENCH_SSH_RUNS', 7, 3);
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'wpt-bench-ssh-'));
  res.tmps.push(dir);
  const cli = addNamespace(`wpt-bench-cli-${process.pid}`);
  const srv = addNamespace(`wpt-bench-srv-${process.pid}`);
  const client = `${SSH_SUBNET}.1`;
  const server = `${SSH_SUBNET}.2`;
  // Interface names are per namespace: the veth never appears in the machine's own.
  must(['ip', '-n', cli, 'link', 'add', 'wpbC', 'type', 'veth', 'peer', 'name', 'wpbS', 'netns', srv]);
  must(['ip', '-n', cli, 'addr', 'add', `${client}/24`, 'dev', 'wpbC']);
  must(['ip', '-n', srv, 'addr', 'add', `${server}/24`, 'dev', 'wpbS']);
  must(['ip', '-n', cli, 'link', 'set', 'wpbC', 'up']);
  must(['ip', '-n', srv, 'link', 'set', 'wpbS', 'up']);
  must(['ip', 'netns', 'exec', srv, 'sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0']);

  const sshd = await startSshd(srv, dir, server);
  const knownHostsPath = join(dir, 'known_hosts');
  const [type, key] = sshd.hostKey.split(/\s+/);
  writeFileSync(knownHostsPath, `${server} ${type} ${key}\n`);
  const reach: SshReach = { server, user: 'root', keyPath: sshd.keyPath, knownHostsPath, sshdLog: sshd.logPath, controlPath: join(dir, 'mux') };

  const busy = must(['ip', 'netns', 'exec', srv, 'ss', '-Htln', `sport = :${port}`]).trim();
  if (busy) throw new Error(`something listens on port ${port} in ${srv}: ${busy}`);
  // One bare connection first, so a key or host-key problem is a clear error rather than n failed runs.
  const check = sshCases(port, reach)[0]!.cmds[0]!.argv;
  const first = spawnSync('ip', ['netns', 'exec', cli, ...check], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (first.status !== 0) throw new Error(`${check.join(' ')} in ${cli} failed (${first.error?.message ?? `exit ${first.status}`}): ${first.stderr.trim()}; ${tailOf(sshd.logPath)}`);
  log(`bench: sshd pid ${sshd.pid} in ${srv} at ${server}:${SSHD_PORT}, client namespace ${cli} at ${client}, ready after ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Each round at most its commands' timeouts (30 s + 90 s + 30 s).
  const results = await measureInNamespace(cli, { phase: 'ssh', port, runs, ssh: reach }, (runs + 1) * 150_000 + 60_000);
  const text = printSsh(results, { cli, srv, client, server, port, sshdPid: sshd.pid, dir, reach, loadBefore });
  return { runs, port, client, server, results, text, settings: `WPT_BENCH_SSH_RUNS=${runs}` };
}

/** "3" when every run agrees, else "2–4 (per run: 2 3 4 …)"; "?" for a run without the number. */
function perRun(xs: readonly (number | null)[] | undefined): string {
  if (!xs || xs.length === 0) return 'n/a';
  const known = xs.filter((x): x is number => x !== null);
  if (known.length === xs.length && new Set(known).size === 1) return `${known[0]} every run (n=${xs.length})`;
  const range = known.length ? `${Math.min(...known)}–${Math.max(...known)}` : '?';
  return `${range} (per run: ${xs.map((x) => x ?? '?').join(' ')})`;
}

function printSsh(all: CaseResult[], meta: { cli: string; srv: string; client: string; server: string; port: number; sshdPid: number; dir: string; reach: SshReach; loadBefore: number[] }): string {
  const bare = all.find((r) => r.id === 'ssh-true');
  const why = all.find((r) => r.id === 'whyport-ssh');
  const mux = all.find((r) => r.id === 'ssh-mux');
  const dest = `${meta.reach.user}@${meta.server}`;
  const lines: string[] = [];
  lines.push(`whyport --ssh benchmark: client namespace ${meta.cli} (${meta.client}) → sshd pid ${meta.sshdPid} (LogLevel DEBUG1) in ${meta.srv} at ${meta.server}:${SSHD_PORT}; nothing listens on ${meta.port}`);
  lines.push(...machineLines(meta.loadBefore, 'medians after a warm-up (min … max), wall time per run, timed inside the client namespace, the two taking turns'));
  lines.push(`  K=${meta.reach.knownHostsPath} KEY=${meta.reach.keyPath} MUX=${meta.reach.controlPath}`);
  for (const r of [bare, why, mux]) if (r) lines.push(`  $ ${r.parts[0]}`);
  lines.push('');
  lines.push(`Fresh connection against the whole two-ended diagnosis of ${meta.server}:${meta.port}:`);
  lines.push(...caseRows(`ssh ${dest} true (fresh connection)`, bare));
  lines.push(...caseRows(`whyport --ssh ${dest} (${why?.diagnosis ?? 'no report'})`, why));
  lines.push(...caseRows('for reference: one more command on an open connection', mux));
  lines.push('');
  lines.push('Ratio and remote commands (issue 11 targets):');
  lines.push(targetRow('whyport --ssh / ssh SERVER true', why, bare, '≤ 3×', (x) => x <= 3));
  const logged = why?.counted ?? [];
  const reported = why?.serverCommands ?? [];
  const most = (xs: readonly (number | null)[]) => (xs.length > 0 && xs.every((x) => x !== null) ? Math.max(...(xs as number[])) : undefined);
  const countRow = (label: string, n: number | undefined, note: string) => `  ${label.padEnd(44)}${(n === undefined ? 'n/a' : String(n)).padStart(8)}   ${note}`;
  const worst = most(logged);
  lines.push(countRow('remote commands a diagnosis, sshd log', worst, `target ≤ 8${worst !== undefined && worst > 8 ? '   (missed)' : ''}   ${perRun(logged)}`));
  const agree = reported.length === logged.length && reported.every((x, i) => x === logged[i]);
  lines.push(countRow('remote commands, vantages.server.commands', most(reported), agree ? 'the same as sshd log, run by run' : `differs from sshd log: ${perRun(reported)}`));
  const bareCounts = bare?.counted ?? [];
  lines.push(countRow('(check) sshd log for one ssh SERVER true', most(bareCounts), bareCounts.every((x) => x === 1) ? 'as expected, one a run' : `expected 1 a run: ${perRun(bareCounts)}`));
  if (why?.inProcessMs !== undefined) {
    lines.push('');
    lines.push(`Where whyport --ssh's time goes (medians): wall ${f1(why.median)} ms, report durationMs ${f1(why.inProcessMs)} ms, outside the walk ${f1(why.median - why.inProcessMs)} ms`);
    for (const s of why.steps ?? []) lines.push(`    ${`[${s.where ?? '?'}] ${s.id}`.padEnd(30)}${f1(s.medianMs).padStart(7)} ms  ${s.outcome.padEnd(12)} ${s.command.split('\n')[0]}`);
    const n = most(logged);
    if (bare && mux && n !== undefined && n >= 1) {
      // A fresh `ssh true` is one connection and one command; the diagnosis is one connection and n commands, plus node.
      const estimate = why.median - why.inProcessMs + bare.median + (n - 1) * mux.median;
      lines.push(`  estimate: outside the walk + ssh SERVER true + ${n - 1} more command${n === 2 ? '' : 's'} × ${f1(mux.median)} ms = ${f1(estimate)} ms (measured ${f1(why.median)} ms)`);
    }
    lines.push(`  ran on the server (vantages.server.ran, last run):`);
    (why.serverRan ?? []).forEach((c, i) => lines.push(`    ${i + 1}. ${c}`));
  }
  const text = lines.join('\n');
  process.stdout.write(`\n${text}\n`);
  return text;
}

// ───────────────────────────── case "namespaces": 50 more network namespaces ─────────────────────────────

/** The first port the namespaces' listeners use, one more for each (none is the diagnosed port). */
const NS_LISTEN_BASE = 17001;

/**
 * One listener of the namespaces case (python3: node cannot setns). It binds in the namespace it
 * was started in and, on SIGUSR1, moves itself into the namespace at argv[3] (the bench's own), on
 * SIGUSR2 back home: its socket stays where it was bound, but while it is away its namespace has
 * no process and whyport's /proc walk does not find it. Exits at EOF on stdin (the bench is gone).
 */
const NS_LISTENER_PY = `
import ctypes, os, signal, socket, sys
try:
    address, port, park_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    park = os.open(park_path, os.O_RDONLY)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(16)
except Exception as e:
    print('error', e, flush=True)
    sys.exit(1)
def move(fd):
    if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        os.write(2, b'wptbench listener: setns failed, errno %d\\n' % ctypes.get_errno())
        os._exit(1)
signal.signal(signal.SIGUSR1, lambda *_: move(park))
signal.signal(signal.SIGUSR2, lambda *_: move(home))
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
print('ready', flush=True)
while sys.stdin.buffer.read(4096):
    pass
`;

/** The namespaces case's listeners, as the harness toggles them: pid, the inode of its own namespace, and where it parks. */
interface NsListeners {
  pids: number[];
  homeInodes: number[];
  parkInode: number;
}

/** The inode of a process's network namespace (/proc/PID/ns/net → net:[INODE]); undefined when gone or unreadable. */
function netnsOf(pid: number | 'self'): number | undefined {
  try {
    const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Parks every listener in the bench's namespace (their own then have no process: (a)) or brings
 * them home ((b)), and waits until /proc/PID/ns/net of each shows it: what whyport will read.
 */
async function moveListeners(l: NsListeners, to: 'park' | 'home'): Promise<void> {
  const want = (i: number) => (to === 'park' ? l.parkInode : l.homeInodes[i]!);
  l.pids.forEach((pid, i) => {
    const now = netnsOf(pid);
    // Neither here nor there: not our listener any more (gone, and the pid perhaps reused).
    if (now !== l.parkInode && now !== l.homeInodes[i]) throw new Error(`listener pid ${pid} is gone: its network namespace is ${now === undefined ? 'unreadable' : `net:[${now}]`}`);
    if (now !== want(i)) process.kill(pid, to === 'park' ? 'SIGUSR1' : 'SIGUSR2');
  });
  const deadline = performance.now() + 5_000;
  while (l.pids.some((pid, i) => netnsOf(pid) !== want(i))) {
    if (performance.now() > deadline) throw new Error(`the listeners did not move (${to}) within 5 s`);
    await sleep(2);
  }
}

/** The harness's side of the namespaces case: one lone series, or (a) and (b) taking turns. */
async function measureNamespaces(port: number, runs: number, spec: { id: string; listeners?: NsListeners }): Promise<CaseResult[]> {
  const diagnose: Cmd = { label: `node dist/cli.cjs 127.0.0.1 ${port} --json --yes`, argv: [process.execPath, CLI, '127.0.0.1', String(port), '--json', '--yes'], timeoutMs: 60_000 };
  const l = spec.listeners;
  if (!l) return measureGroup(`namespaces case, ${spec.id}`, [{ id: spec.id, label: spec.id, whyport: true, cmds: [diagnose] }], runs, 1);
  return measureGroup(
    `${l.pids.length} namespaces, (a) and (b) taking turns`,
    [
      { id: 'ns-parked', label: `(a) the ${l.pids.length} listeners parked`, whyport: true, before: () => moveListeners(l, 'park'), cmds: [diagnose] },
      { id: 'ns-home', label: `(b) the ${l.pids.length} listeners at home`, whyport: true, before: () => moveListeners(l, 'home'), cmds: [diagnose] },
    ],
    runs,
    1,
  );
}

/** The python3 the listeners run (Debian's rather than a version manager's shim, which is slow to start), or why there is none. */
function nsPython(): { python: string } | { skipped: string } {
  const candidates = ['/usr/bin/python3', 'python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import ctypes, sys; ctypes.CDLL(None).setns; print(sys.executable)'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0 && r.stdout.trim()) return { python: r.stdout.trim() };
  }
  return { skipped: 'python3 with ctypes and setns is not installed (apt-get install -y python3); the listeners need it to move between namespaces' };
}

/** Stops children of ours by pid (SIGTERM, SIGKILL after 5 s), waits for their exit, and forgets them. */
async function stopChildren(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const hard = setTimeout(() => c.kill('SIGKILL'), 5_000);
          c.once('exit', () => {
            clearTimeout(hard);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  res.children = res.children.filter((c) => !children.includes(c));
}

/** Deletes namespaces of ours (after their processes are gone) and forgets them. */
function dropNamespaces(names: string[]): void {
  for (const ns of names) must(['ip', 'netns', 'del', ns], 10_000);
  res.namespaces = res.namespaces.filter((n) => !names.includes(n));
}

/** Case "namespaces" (issue 12): the diagnosis of a closed port with and without 50 more namespaces with a listener each. */
async function benchNamespaces(port: number, python: string, loadBefore: number[]): Promise<Record<string, unknown>> {
  const runs = intEnv('WPT_BENCH_NS_RUNS', 7, 3);
  const count = intEnv('WPT_BENCH_NAMESPACES', 50, 1);
  const childEhash = intEnv('WPT_BENCH_NS_CHILD_EHASH', 0, 0);
  if (childEhash > 0 && !onPath('nsenter')) throw new Error('WPT_BENCH_NS_CHILD_EHASH needs nsenter (apt-get install -y util-linux)');
  if (port >= NS_LISTEN_BASE && port < NS_LISTEN_BASE + count) throw new Error(`WPT_BENCH_PORT must be outside the listeners' ports ${NS_LISTEN_BASE}–${NS_LISTEN_BASE + count - 1}`);
  const t0 = performance.now();
  const host = addNamespace(`wpt-bench-nshost-${process.pid}`);
  const busy = must(['ip', 'netns', 'exec', host, 'ss', '-Htln', `sport = :${port}`]).trim();
  if (busy) throw new Error(`something listens on port ${port} in ${host}: ${busy}`);
  const parkInode = netnsOf('self');
  if (parkInode === undefined) throw new Error('cannot read /proc/self/ns/net');
  // Per phase at most (runs + warm-up) × cases × (the run's timeout + a move).
  const harnessTimeout = (cases: number) => (runs + 1) * cases * 70_000 + 30_000;

  const before = await measureInNamespace(host, { phase: 'namespaces', port, runs, namespaces: { id: 'ns-none-before' } }, harnessTimeout(1));

  const names = Array.from({ length: count }, (_, i) => `wpt-bench-ns-${process.pid}-${i}`);
  if (childEhash > 0) {
    // A namespace gets a hash table of its own when the one it is made from says so; made from the
    // host namespace (nsenter enters only its network namespace, so the name lands in /run/netns).
    must(['ip', 'netns', 'exec', host, 'sysctl', '-qw', `net.ipv4.tcp_child_ehash_entries=${childEhash}`]);
    for (const ns of names) {
      must(['nsenter', `--net=/run/netns/${host}`, 'ip', 'netns', 'add', ns]);
      res.namespaces.push(ns);
      must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
  } else for (const ns of names) addNamespace(ns);
  // Negative: the namespace shares the machine's table (what every read of its /proc/PID/net/tcp walks).
  const ehash = Number(must(['ip', 'netns', 'exec', names[0]!, 'sysctl', '-n', 'net.ipv4.tcp_ehash_entries']).trim());
  const listeners = await Promise.all(
    names.map((ns, i) =>
      startHelper(ns, [python, '-c', NS_LISTENER_PY, i % 2 ? '0.0.0.0' : '127.0.0.1', String(NS_LISTEN_BASE + i), `/proc/${process.pid}/ns/net`], () => {}, 20_000),
    ),
  );
  const l: NsListeners = { pids: listeners.map((x) => x.child.pid!), homeInodes: names.map((ns) => statSync(`/run/netns/${ns}`).ino), parkInode };
  l.pids.forEach((pid, i) => {
    if (netnsOf(pid) !== l.homeInodes[i]) throw new Error(`listener pid ${pid} is not in ${names[i]} (its network namespace: ${netnsOf(pid) ?? 'unreadable'})`);
  });
  log(`bench: host namespace ${host}; ${count} namespaces wpt-bench-ns-${process.pid}-0…${count - 1} with a listener each (pids ${l.pids[0]}…${l.pids.at(-1)}), ready after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const turns = await measureInNamespace(host, { phase: 'namespaces', port, runs, namespaces: { id: 'turns', listeners: l } }, harnessTimeout(2));

  await stopChildren(listeners.map((x) => x.child));
  dropNamespaces(names);
  const after = await measureInNamespace(host, { phase: 'namespaces', port, runs, namespaces: { id: 'ns-none-after' } }, harnessTimeout(1));

  const results = [...before, ...turns, ...after];
  const text = printNamespaces(results, { host, count, port, python, ehash, loadBefore });
  return { runs, port, namespaces: count, ehash, results, text, settings: `WPT_BENCH_NS_RUNS=${runs} WPT_BENCH_NAMESPACES=${count}${childEhash ? ` WPT_BENCH_NS_CHILD_EHASH=${childEhash}` : ''}` };
}

const signed = (n: number) => `${n >= 0 ? '+' : '−'}${f1(Math.abs(n))}`;

function printNamespaces(all: CaseResult[], meta: { host: string; count: number; port: number; python: string; ehash: number; loadBefore: number[] }): string {
  const by = (id: string) => all.find((r) => r.id === id);
  const [pre, a, b, post] = ['ns-none-before', 'ns-parked', 'ns-home', 'ns-none-after'].map(by);
  const n = meta.count;
  const lines: string[] = [];
  lines.push(`whyport namespaces benchmark (issue 12): whyport inside ${meta.host}, the host, where nothing listens on ${meta.port}; ${n} more namespaces of its own with one listener each (${meta.python}, ports ${NS_LISTEN_BASE}–${NS_LISTEN_BASE + n - 1}, 127.0.0.1 and 0.0.0.0 in turn)`);
  lines.push(...machineLines(meta.loadBefore, 'medians after a warm-up (min … max), wall time per run, timed inside the host namespace'));
  lines.push(
    meta.ehash < 0
      ? `  their TCP established hash: the machine's, ${-meta.ehash} buckets, shared (tcp_ehash_entries ${meta.ehash}); each read of a namespace's /proc/PID/net/tcp or tcp6 walks all of it`
      : `  their TCP established hash: ${meta.ehash} buckets of their own (WPT_BENCH_NS_CHILD_EHASH), not the machine's`,
  );
  lines.push(`  $ node dist/cli.cjs 127.0.0.1 ${meta.port} --json --yes`);
  lines.push('');
  lines.push(`Taking turns, run by run (for (a) the ${n} listeners move themselves into the bench's own namespace, leaving theirs without a process, which whyport's /proc walk then cannot find; for (b) they move back):`);
  lines.push(...caseRows(`(a) without the ${n} namespaces (${a?.diagnosis ?? 'no report'})`, a));
  lines.push(...caseRows(`(b) with the ${n} namespaces (${b?.diagnosis ?? 'no report'})`, b));
  lines.push(`For reference, one after the other: no listener processes and none of the ${n} namespaces at all:`);
  lines.push(...caseRows(`before they are made (${pre?.diagnosis ?? 'no report'})`, pre));
  lines.push(...caseRows(`after they are gone (${post?.diagnosis ?? 'no report'})`, post));
  lines.push('');
  lines.push('Cost (issue 12 target: the whole diagnosis within +25 ms):');
  const row = (label: string, ms: number | undefined, note = '') => lines.push(`  ${label.padEnd(52)}${(ms === undefined ? 'n/a' : `${signed(ms)} ms`).padStart(11)}   ${note}`);
  if (a && b) {
    const d = b.median - a.median;
    row('(b) − (a), medians of wall time', d, `target ≤ +25 ms${d > 25 ? '   (missed)' : ''}`);
    const paired = a.totals.length === b.totals.length ? median(b.totals.map((x, i) => x - a.totals[i]!)) : undefined;
    row('(b) − (a), median of the run-by-run differences', paired);
    const inA = a.inProcess.filter((x): x is number => x !== null);
    const inB = b.inProcess.filter((x): x is number => x !== null);
    row('(b) − (a), report durationMs (medians)', inA.length && inB.length ? median(inB) - median(inA) : undefined);
    if (pre && post) row('(b) − reference (mean of before and after)', b.median - (pre.median + post.median) / 2, `also ${n} more processes; before → after drift ${signed(post.median - pre.median)} ms`);
  }
  lines.push(`  namespaces whyport looked at (steps[namespaces].evidence.looked):`);
  for (const [label, r] of [['(a)', a], ['(b)', b], ['before', pre], ['after', post]] as const) lines.push(`    ${label.padEnd(8)}${perRun(r?.looked)}`);
  lines.push('');
  lines.push('Per step (medians of steps[].durationMs, ms):');
  const cols = [pre, a, b, post];
  const ids = [...new Set(cols.flatMap((r) => (r?.steps ?? []).map((s) => s.id)))];
  const cell = (r: CaseResult | undefined, id: string) => r?.steps?.find((s) => s.id === id)?.medianMs;
  const fmt = (x: number | undefined) => (x === undefined ? '–' : f1(x)).padStart(8);
  lines.push(`  ${'step'.padEnd(18)}${['before', '(a)', '(b)', 'b − a', 'after'].map((h) => h.padStart(8)).join('')}   outcome in (b)`);
  for (const id of ids) {
    const [x0, xa, xb, x1] = cols.map((r) => cell(r, id));
    const d = xa !== undefined && xb !== undefined ? signed(xb - xa).padStart(8) : fmt(undefined);
    lines.push(`  ${id.padEnd(18)}${fmt(x0)}${fmt(xa)}${fmt(xb)}${d}${fmt(x1)}   ${b?.steps?.find((s) => s.id === id)?.outcome ?? ''}`);
  }
  const outside = (r: CaseResult | undefined) => (r?.inProcessMs === undefined ? undefined : r.median - r.inProcessMs);
  const totalsRow = (label: string, of: (r: CaseResult | undefined) => number | undefined) => {
    const [x0, xa, xb, x1] = cols.map(of);
    lines.push(`  ${label.padEnd(18)}${fmt(x0)}${fmt(xa)}${fmt(xb)}${xa !== undefined && xb !== undefined ? signed(xb - xa).padStart(8) : fmt(undefined)}${fmt(x1)}`);
  };
  totalsRow('report durationMs', (r) => r?.inProcessMs);
  totalsRow('outside the walk', outside);
  const text = lines.join('\n');
  process.stdout.write(`\n${text}\n`);
  return text;
}

// ───────────────────────────── which cases, and the run ─────────────────────────────

const BENCHES = ['busy', 'ssh', 'namespaces'] as const;
type BenchName = (typeof BENCHES)[number];

/** The cases named on the command line; none named means all of them. */
function selectedBenches(args: readonly string[]): BenchName[] {
  for (const a of args) {
    if (!(BENCHES as readonly string[]).includes(a)) throw new Error(`unknown case ${JSON.stringify(a)}: the cases are ${BENCHES.join(', ')} (none named runs all)`);
  }
  return args.length === 0 ? [...BENCHES] : BENCHES.filter((b) => args.includes(b));
}

async function orchestrate(args: readonly string[]): Promise<number> {
  const benches = selectedBenches(args);
  if (process.platform !== 'linux') throw new Error('the benchmark needs Linux (network namespaces)');
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (ip netns; ss -p / netstat -p see every process; the ssh case logs in as root; the namespaces case moves its listeners between namespaces)');
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  if (!onPath('ip')) throw new Error('ip is not installed (apt-get install -y iproute2)');
  const port = intEnv('WPT_BENCH_PORT', 7071, 1);
  const t0 = performance.now();
  const loadBefore = loadavg();
  const out: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, kernel: release(), cpus: cpus().length };
  const settings: string[] = [];
  const texts: string[] = [];

  // ssh and namespaces first: they are short, and run before the busy case has filled memory with sockets.
  if (benches.includes('ssh')) {
    const why = sshUnavailable();
    if (why) {
      const text = `whyport --ssh benchmark: skipped, ${why}`;
      process.stdout.write(`\n${text}\n`);
      out.ssh = { skipped: why, text };
      texts.push(text);
    } else {
      const { settings: used, ...r } = await benchSsh(port, loadBefore);
      settings.push(String(used));
      out.ssh = r;
      texts.push(String(r.text));
    }
  }
  if (benches.includes('namespaces')) {
    const py = nsPython();
    if ('skipped' in py) {
      const text = `whyport namespaces benchmark: skipped, ${py.skipped}`;
      process.stdout.write(`\n${text}\n`);
      out.namespaces = { skipped: py.skipped, text };
      texts.push(text);
    } else {
      const { settings: used, ...r } = await benchNamespaces(port, py.python, loadBefore);
      settings.push(String(used));
      out.namespaces = r;
      texts.push(String(r.text));
    }
  }
  if (benches.includes('busy')) {
    const { settings: used, ...r } = await benchBusyServer(port, loadBefore);
    settings.push(String(used));
    Object.assign(out, r);
    texts.push(String(r.text));
  }
  log(`\nbench: done in ${((performance.now() - t0) / 1000).toFixed(0)} s (npm run bench${args.length ? ` -- ${benches.join(' ')}` : ''}${settings.length ? `; ${settings.join(' ')}` : ''})`);
  const jsonFile = process.env.WPT_BENCH_JSON;
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify({ ...out, text: texts.join('\n\n') }, null, 2)}\n`);
  return 0;
}

// ───────────────────────────── entry ─────────────────────────────

const mode = process.argv[2];
if (mode === '__fill') {
  await fillMode(Number(process.argv[3]), Number(process.argv[4]));
} else if (mode === '__listen') {
  await listenMode(Number(process.argv[3]));
} else if (mode === '__measure') {
  await measureMode(JSON.parse(process.argv[3]!) as MeasureConfig);
} else {
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      log(`\nbench: ${sig}, cleaning up`);
      cleanup();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
  try {
    process.exitCode = await orchestrate(process.argv.slice(2));
  } catch (err) {
    log(`bench: setup failed: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    cleanup();
  }
}
