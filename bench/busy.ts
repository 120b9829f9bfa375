/**
 * Case "busy" (issues 5, 13 and 14): whyport on a busy server. Creates a network namespace of its
 * own, fills it with ≥ 100,000 ESTABLISHED TCP sockets on loopback (helpers holding both ends, see
 * fill.ts), then times inside it, side by side and interleaved, medians of several runs after a
 * warm-up: the closed port (closed-port.ts, with its UDP twin in udp.ts), start-up (startup.ts)
 * and the listener owned by a process (listener.ts). It prints the times and the ratios issues 5
 * and 14 set as targets.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ABSENT } from './closed-port.js';
import { countSockets, FILL_BASE_PORT, FILL_PAIRS_PER_PORT, FILL_TIMEOUT_MS, FILLER_NAME, planFillers } from './fill.js';
import { LISTENER_NAME } from './listener.js';
import { endStatus, intEnv, log, SELF, status } from './shared/common.js';
import { caseRows, f1, machineLines, targetRow } from './shared/print.js';
import { addNamespace, measureInNamespace, onPath, res, startHelper } from './shared/resources.js';
import type { CaseResult } from './shared/timing.js';

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
  row(`whyport --no-protocol, stopped at the handshake (${by('whyport-listener-no-protocol')?.diagnosis ?? 'no report'})`, by('whyport-listener-no-protocol'));
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
    lines.push(`  ${id.replace('whyport-', '').replace('-udp', ' (UDP)').replace('closed', 'closed port')}: wall ${f1(r.median)} ms, report durationMs (from whyport's process start) ${f1(r.inProcessMs)} ms, outside it ${f1(r.median - r.inProcessMs)} ms`);
    for (const s of r.steps ?? []) lines.push(`    ${s.id.padEnd(28)}${f1(s.medianMs).padStart(7)} ms  ${s.outcome.padEnd(12)} ${s.command}`);
  }
  const text = lines.join('\n');
  process.stdout.write(`\n${text}\n`);
  return text;
}

/** Case "busy": ≥ 100,000 sockets in a namespace of its own, whyport against the manual chain and the floor. */
export async function benchBusyServer(port: number, loadBefore: number[]): Promise<Record<string, unknown>> {
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
