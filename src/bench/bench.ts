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
 * It prints the times and the ratios issue 5 sets as targets, and cleans up (helpers killed by
 * pid, namespace deleted), also on Ctrl-C and on errors. No pass/fail: exit 0 once printed,
 * non-zero only when the setup failed.
 *
 * The same file is also the helpers, picked by argv[2]: `__fill` (holds the sockets), `__listen`
 * (owns the listener) and `__measure` (the timing harness, run inside the namespace so that
 * `ip netns exec` is not part of any measured time).
 *
 * Environment: WPT_BENCH_SOCKETS (default 108000), WPT_BENCH_RUNS (default 5, at least 5),
 * WPT_BENCH_PORT (default 7071), WPT_BENCH_JSON=FILE (also write the results as JSON),
 * WPT_BENCH_LSOF=1 (also time `lsof -iTCP:PORT`, several seconds a run with 100k sockets).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const DIST = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(DIST, 'cli.js');

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
  server.listen({ host: '0.0.0.0', port, backlog: 511 }, () => process.stdout.write('ready\n'));
}

// ───────────────────────────── __measure: the timing harness ─────────────────────────────

interface Cmd {
  label: string;
  argv: string[];
  /** Keep only the lines containing this (the `| grep` of the manual chain, done here). */
  grep?: string;
}

interface Case {
  id: string;
  label: string;
  cmds: Cmd[];
  /** Parse the whyport JSON report of each run. */
  whyport?: boolean;
}

interface Sample {
  total: number;
  parts: number[];
  report?: WhyportReport;
  problem?: string;
}

interface WhyportReport {
  durationMs: number;
  diagnosis: { code: string };
  steps: { id: string; durationMs: number; command?: string; outcome?: string }[];
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
  steps?: { id: string; medianMs: number; command: string; outcome: string }[];
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
    child.on('close', (code) => {
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
  return { total: parts.reduce((a, b) => a + b, 0), parts, ...(report ? { report } : {}), ...(problem ? { problem } : {}) };
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
      return { id, medianMs: median(seen.map((s) => s.durationMs)), command: last.command ?? '', outcome: last.outcome ?? '' };
    });
  }
  return result;
}

interface MeasureConfig {
  phase: 'closed' | 'listener';
  port: number;
  runs: number;
  listenerPid?: number;
}

async function measureMode(config: MeasureConfig): Promise<void> {
  const node = process.execPath;
  const P = config.port;
  const filter = `( sport = :${P} or dport = :${P} )`;
  const nodeNoop: Cmd = { label: 'node -e 0', argv: [node, '-e', '0'] };
  const importOf = (file: string): Cmd => ({
    label: `node -e "import('./dist/${file}')"`,
    argv: [node, '-e', `import(${JSON.stringify(pathToFileURL(join(DIST, file)).href)})`],
  });
  const results: CaseResult[] = [];

  if (config.phase === 'closed') {
    results.push(
      ...(await measureGroup(
        `closed port ${P}`,
        [
          { id: 'whyport-closed', label: 'whyport --json --yes --process (not running)', whyport: true, cmds: [{ label: `node dist/cli.js 127.0.0.1 ${P} --json --yes --process ${ABSENT}`, argv: [node, CLI, '127.0.0.1', String(P), '--json', '--yes', '--process', ABSENT] }] },
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
          // Not a target: what `-p` costs ss on this host (it reads every fd of every process, filter or not).
          { id: 'ss-p-filtered', label: 'for reference: ss -p with the same filter', cmds: [{ label: `ss -Htanp '${filter}'`, argv: ['ss', '-Htanp', filter] }] },
        ],
        config.runs,
        1,
      )),
    );
    results.push(
      ...(await measureGroup(
        'start-up',
        [
          { id: 'help', label: 'whyport --help', cmds: [{ label: 'node dist/cli.js --help', argv: [node, CLI, '--help'] }] },
          { id: 'node', label: 'node -e 0', cmds: [nodeNoop] },
          { id: 'node-esm', label: 'node --input-type=module -e 0', cmds: [{ label: 'node --input-type=module -e 0', argv: [node, '--input-type=module', '-e', '0'] }] },
          { id: 'import-main', label: 'import main.js (what --help loads)', cmds: [importOf('main.js')] },
          { id: 'import-diagnose', label: 'import diagnose.js (the diagnosis code)', cmds: [importOf('diagnose.js')] },
        ],
        Math.max(config.runs * 2 + 1, 11),
        2,
      )),
    );
  } else {
    const cases: Case[] = [
      { id: 'whyport-listener', label: `whyport --json --yes --process ${LISTENER_NAME}`, whyport: true, cmds: [{ label: `node dist/cli.js 127.0.0.1 ${P} --json --yes --process ${LISTENER_NAME}`, argv: [node, CLI, '127.0.0.1', String(P), '--json', '--yes', '--process', LISTENER_NAME] }] },
      { id: 'ss-ltnp', label: `ss -ltnp 'sport = :${P}'`, cmds: [{ label: `ss -Htlnp 'sport = :${P}'`, argv: ['ss', '-Htlnp', `sport = :${P}`] }] },
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
  ns?: string;
  tmp?: string;
  children: ChildProcess[];
}

const res: Resources = { children: [] };
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

/** Kills our own helpers by pid, waits for them, then deletes the namespace. Synchronous: also runs from 'exit'. */
function cleanup(): void {
  if (cleanedUp) return;
  cleanedUp = true;
  const pids = res.children.flatMap((c) => (c.pid !== undefined && c.exitCode === null && c.signalCode === null ? [c.pid] : []));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5_000;
  while (pids.some(alive) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  if (res.ns) {
    const r = spawnSync('ip', ['netns', 'del', res.ns], { encoding: 'utf8' });
    if (r.status !== 0) log(`bench: could not delete namespace ${res.ns}: ${r.stderr.trim()}`);
  }
  if (res.tmp) rmSync(res.tmp, { recursive: true, force: true });
}

function must(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Starts a helper inside the namespace and waits for the line starting with `ready`. */
function startHelper(argv: string[], onLine: (line: string) => void, timeoutMs: number): Promise<{ child: ChildProcess; ready: string }> {
  const child = spawn('ip', ['netns', 'exec', res.ns!, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
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
function measureInNamespace(config: MeasureConfig): Promise<CaseResult[]> {
  const child = spawn('ip', ['netns', 'exec', res.ns!, process.execPath, SELF, '__measure', JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  res.children.push(child);
  const out: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => {
      if (code !== 0) return reject(new Error(`the timing harness failed (${sig ?? `exit ${code}`})`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as CaseResult[]);
      } catch (e) {
        reject(new Error(`the timing harness printed no results: ${(e as Error).message}`));
      }
    });
  });
}

function countSockets(): { total: number; states: Record<string, number>; summary: string } {
  const r = spawnSync('ip', ['netns', 'exec', res.ns!, 'ss', '-Htan'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`ss -Htan in the namespace failed: ${r.stderr}`);
  const states: Record<string, number> = {};
  let total = 0;
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    total++;
    const st = line.slice(0, line.indexOf(' '));
    states[st] = (states[st] ?? 0) + 1;
  }
  const summary = must(['ip', 'netns', 'exec', res.ns!, 'ss', '-s']).split('\n').find((l) => l.startsWith('TCP:'))?.trim() ?? '';
  return { total, states, summary };
}

const f1 = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

function printResults(all: CaseResult[], meta: { sockets: number; summary: string; ns: string; runs: number; port: number; listenerPid: number; loadBefore: number[] }): string {
  const by = (id: string) => all.find((r) => r.id === id);
  const lines: string[] = [];
  const row = (label: string, r: CaseResult | undefined, indent = '  ') => {
    if (!r) return;
    lines.push(`${indent}${label.padEnd(58 - indent.length)}${f1(r.median).padStart(8)} ms   (${f1(r.min)} … ${f1(r.max)}, n=${r.runs})`);
    if (r.parts.length > 1) r.parts.forEach((p, i) => lines.push(`${indent}    ${p.padEnd(54 - indent.length)}${f1(r.partMedians[i]!).padStart(8)} ms`));
    for (const p of r.problems) lines.push(`${indent}    ! ${p}`);
  };
  lines.push(`whyport benchmark: ${meta.sockets.toLocaleString('en-US')} TCP sockets in network namespace ${meta.ns}`);
  lines.push(`  ss -s: ${meta.summary}`);
  lines.push(`  node ${process.version}, Linux ${release()}, ${cpus().length} CPUs; medians after a warm-up (min … max), wall time per run`);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  lines.push(`  load average at start ${load(meta.loadBefore)}, at end ${load(loadavg())}${Math.max(meta.loadBefore[0]!, loadavg()[0]!) > cpus().length ? '  (busy machine: times are noisy)' : ''}`);
  lines.push('');
  lines.push(`Closed port ${meta.port}, --process ${ABSENT} (not running):`);
  row(`whyport (${by('whyport-closed')?.diagnosis ?? 'no report'})`, by('whyport-closed'));
  row('manual chain (seed), run one after another', by('manual'));
  row('floor: node -e 0 + ss with a filter + pgrep', by('floor'));
  row(`ss -Htanp with the same filter (reference)`, by('ss-p-filtered'));
  lines.push('');
  lines.push(`Listener on ${meta.port} owned by ${LISTENER_NAME} (pid ${meta.listenerPid}):`);
  row(`whyport (${by('whyport-listener')?.diagnosis ?? 'no report'})`, by('whyport-listener'));
  row(`ss -Htlnp 'sport = :${meta.port}'`, by('ss-ltnp'));
  row(`lsof -nP -iTCP:${meta.port} -sTCP:LISTEN (reference)`, by('lsof'));
  lines.push('');
  lines.push('Start-up:');
  row('node dist/cli.js --help', by('help'));
  row('node -e 0', by('node'));
  row('node --input-type=module -e 0 (ESM loader, reference)', by('node-esm'));
  row(`node -e "import('./dist/main.js')"`, by('import-main'));
  row(`node -e "import('./dist/diagnose.js')"`, by('import-diagnose'));
  lines.push('');
  lines.push('Ratios (issue 5 targets):');
  const target = (label: string, a: CaseResult | undefined, b: CaseResult | undefined, goal: string, ok: (x: number) => boolean) => {
    if (!a || !b) return lines.push(`  ${label.padEnd(44)}     n/a`);
    const x = a.median / b.median;
    lines.push(`  ${label.padEnd(44)}${ratio(a.median, b.median).padStart(8)}   target ${goal}${ok(x) ? '' : '   (missed)'}`);
  };
  target('closed port: whyport / floor', by('whyport-closed'), by('floor'), '≤ 1.5×', (x) => x <= 1.5);
  target('closed port: manual chain / whyport', by('manual'), by('whyport-closed'), '≥ 10×', (x) => x >= 10);
  target('listener: whyport / ss -ltnp', by('whyport-listener'), by('ss-ltnp'), '< 1× (whyport faster)', (x) => x < 1);
  target('whyport --help / node -e 0', by('help'), by('node'), '≤ 1.3×', (x) => x <= 1.3);
  lines.push('');
  lines.push("Where whyport's time goes (medians; wall − in-process = node start-up, imports, playbook load, exit):");
  for (const id of ['whyport-closed', 'whyport-listener']) {
    const r = by(id);
    if (!r || r.inProcessMs === undefined) continue;
    lines.push(`  ${id === 'whyport-closed' ? 'closed port' : 'listener'}: wall ${f1(r.median)} ms, report durationMs ${f1(r.inProcessMs)} ms, outside the walk ${f1(r.median - r.inProcessMs)} ms`);
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
  if (spawnSync('prlimit', [`--nofile=${want}:${want}`, 'true'], { stdio: 'ignore' }).status === 0) {
    perProcess = pairs;
    nofile = want;
  } else {
    const hard = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
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

async function orchestrate(): Promise<number> {
  if (process.platform !== 'linux') throw new Error('the benchmark needs Linux (network namespaces)');
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (ip netns, and ss -p / netstat -p see every process)');
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  for (const tool of ['ip', 'ss', 'netstat', 'pgrep', 'prlimit']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) throw new Error(`${tool} is not installed (apt-get install -y iproute2 net-tools procps util-linux)`);
  }
  const pairs = Math.ceil(intEnv('WPT_BENCH_SOCKETS', 108_000, 2) / 2);
  const runs = intEnv('WPT_BENCH_RUNS', 5, 5);
  const port = intEnv('WPT_BENCH_PORT', 7071, 1);
  const plan = planFillers(pairs);
  const lastFillPort = plan.at(-1)!.basePort + Math.ceil(plan.at(-1)!.pairs / FILL_PAIRS_PER_PORT) - 1;
  if ((port >= FILL_BASE_PORT && port <= lastFillPort) || (port >= 32768 && port <= 60999)) {
    throw new Error(`WPT_BENCH_PORT must be outside the fillers' ports ${FILL_BASE_PORT}–${lastFillPort} and the ephemeral range 32768–60999`);
  }
  const t0 = performance.now();
  const loadBefore = loadavg();

  res.tmp = join(tmpdir(), `wpt-bench-${process.pid}`);
  mkdirSync(res.tmp, { recursive: true });
  // Symlinks to node give the helpers a name of their own (comm), for pgrep and for the owner lookup.
  for (const name of [FILLER_NAME, LISTENER_NAME]) symlinkSync(process.execPath, join(res.tmp, name));

  res.ns = `wpt-bench-${process.pid}`;
  must(['ip', 'netns', 'add', res.ns]);
  must(['ip', '-n', res.ns, 'link', 'set', 'lo', 'up']);
  log(`bench: namespace ${res.ns}; opening ${(pairs * 2).toLocaleString('en-US')} loopback sockets (${pairs.toLocaleString('en-US')} connections)…`);

  if (plan.length > 1) log(`  (RLIMIT_NOFILE cannot be raised past ${plan[0]!.nofile} here: ${plan.length} filler processes)`);
  const progress = plan.map(() => 0);
  const fillers = await Promise.all(
    plan.map((p, k) =>
      startHelper(
        ['prlimit', `--nofile=${p.nofile}:${p.nofile}`, join(res.tmp!, FILLER_NAME), SELF, '__fill', String(p.pairs), String(p.basePort)],
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
  const count = countSockets();
  log(`bench: ${count.total.toLocaleString('en-US')} TCP sockets in ${res.ns} (${Object.entries(count.states).map(([s, n]) => `${n} ${s}`).join(', ')}) after ${((performance.now() - t0) / 1000).toFixed(1)} s; filler pids ${fillers.map((f) => f.child.pid).join(' ')}`);
  if (count.total < 100_000 && pairs * 2 >= 100_000) throw new Error(`only ${count.total} sockets; the benchmark wants ≥ 100,000`);

  const closed = await measureInNamespace({ phase: 'closed', port, runs });

  const lsn = await startHelper([join(res.tmp, LISTENER_NAME), SELF, '__listen', String(port)], () => {}, 10_000);
  const listenerPid = lsn.child.pid!;
  const listener = await measureInNamespace({ phase: 'listener', port, runs, listenerPid });

  const all = [...closed, ...listener];
  const text = printResults(all, { sockets: count.total, summary: count.summary, ns: res.ns, runs, port, listenerPid, loadBefore });
  log(`\nbench: done in ${((performance.now() - t0) / 1000).toFixed(0)} s (npm run bench; WPT_BENCH_SOCKETS=${pairs * 2} WPT_BENCH_RUNS=${runs})`);
  const jsonFile = process.env.WPT_BENCH_JSON;
  if (jsonFile) {
    writeFileSync(jsonFile, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, kernel: release(), cpus: cpus().length, sockets: count.total, states: count.states, runs, port, results: all, text }, null, 2)}\n`);
  }
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
    process.exitCode = await orchestrate();
  } catch (err) {
    log(`bench: setup failed: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    cleanup();
  }
}
