/**
 * `npm run bench` — whyport timed against what it replaces (root, Linux). A dev tool, not part of
 * whyport. Each command is a whole process timed from outside, the commands compared taking turns
 * (shared/timing.ts), medians after a warm-up, and the ratios printed against their targets
 * (shared/print.ts). One file per case:
 *
 * - "busy" (busy.ts): ≥ 100,000 ESTABLISHED TCP sockets in a namespace of its own (fill.ts), and in
 *   it the closed port (closed-port.ts: whyport, the seed's manual chain, the floor), start-up
 *   (startup.ts: `whyport --help` against `node -e 0`), a listener owned by a process
 *   (listener.ts: whyport against `ss -ltnp`), and the same ports over UDP (udp.ts);
 * - "ssh" (ssh.ts, sshd.ts): the two-ended diagnosis over a private sshd against a bare `ssh true`;
 * - "namespaces" (namespaces.ts): the cost of 50 more network namespaces with a listener each.
 *
 * Cases are picked by name: `node dist/bench/bench.js [busy] [ssh] [namespaces]` (`npm run bench
 * -- ssh`); none named runs all three. It cleans up (helpers and sshd killed by pid, namespaces and
 * temp dirs deleted, shared/resources.ts), also on Ctrl-C and on errors. No pass/fail: exit 0 once
 * printed, non-zero only when the setup failed.
 *
 * The same entry is also the helpers, picked by argv[2]: `__fill` (holds the sockets, fill.ts),
 * `__listen` (owns the listener, listener.ts) and `__measure` (the timing harness, measure.ts, run
 * inside the namespace so that `ip netns exec` is not part of any measured time).
 *
 * Environment: WPT_BENCH_SOCKETS (default 108000), WPT_BENCH_RUNS (default 5, at least 5),
 * WPT_BENCH_SSH_RUNS (rounds of the ssh case, default 7, at least 3), WPT_BENCH_NS_RUNS (rounds
 * of the namespaces case, default 7, at least 3), WPT_BENCH_NAMESPACES (how many namespaces with a
 * listener it adds, default 50), WPT_BENCH_NS_CHILD_EHASH (see namespaces.ts; default 0, the
 * machine's table), WPT_BENCH_PORT (default 7071), WPT_BENCH_JSON=FILE (also write the results as
 * JSON), WPT_BENCH_LSOF=1 (also time `lsof -iTCP:PORT`, several seconds a run with 100k sockets).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { benchBusyServer } from './busy.js';
import { fillMode } from './fill.js';
import { listenMode } from './listener.js';
import { measureMode, type MeasureConfig } from './measure.js';
import { benchNamespaces, nsPython } from './namespaces.js';
import { CLI, intEnv, log } from './shared/common.js';
import { cleanup, onPath } from './shared/resources.js';
import { benchSsh } from './ssh.js';
import { sshUnavailable } from './sshd.js';

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
