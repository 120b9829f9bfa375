/**
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
 */
import { spawnSync } from 'node:child_process';
import { readlinkSync, statSync } from 'node:fs';
import { intEnv, log, sleep } from './shared/common.js';
import { caseRows, f1, machineLines, perRun, signed } from './shared/print.js';
import { addNamespace, dropNamespaces, measureInNamespace, must, onPath, res, startHelper, stopChildren } from './shared/resources.js';
import { measureGroup, median, whyportCmd, type Cmd, type CaseResult } from './shared/timing.js';

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
export interface NsListeners {
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
export async function measureNamespaces(port: number, runs: number, spec: { id: string; listeners?: NsListeners }): Promise<CaseResult[]> {
  const diagnose: Cmd = { ...whyportCmd(['127.0.0.1', String(port), '--json', '--yes']), timeoutMs: 60_000 };
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
export function nsPython(): { python: string } | { skipped: string } {
  const candidates = ['/usr/bin/python3', 'python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import ctypes, sys; ctypes.CDLL(None).setns; print(sys.executable)'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0 && r.stdout.trim()) return { python: r.stdout.trim() };
  }
  return { skipped: 'python3 with ctypes and setns is not installed (apt-get install -y python3); the listeners need it to move between namespaces' };
}

/** Case "namespaces" (issue 12): the diagnosis of a closed port with and without 50 more namespaces with a listener each. */
export async function benchNamespaces(port: number, python: string, loadBefore: number[]): Promise<Record<string, unknown>> {
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
  totalsRow('outside it', outside);
  const text = lines.join('\n');
  process.stdout.write(`\n${text}\n`);
  return text;
}
