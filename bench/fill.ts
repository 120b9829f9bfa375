/**
 * Filling the busy case's namespace with ESTABLISHED TCP sockets on loopback: `__fill PAIRS
 * BASEPORT` is the helper that holds both ends of its connections (as many helpers as
 * RLIMIT_NOFILE requires), and the orchestrator's count of what is there.
 */
import { spawnSync } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { exitWithParent } from './shared/common.js';
import { must } from './shared/resources.js';

export const FILLER_NAME = 'wptbench-fill';
export const FILL_BASE_PORT = 20001;
/** Connections per listening port of a filler: well under the 28,232 ephemeral ports of one destination. */
export const FILL_PAIRS_PER_PORT = 20_000;
const FILL_INFLIGHT = 1000;
/** Descriptors a filler keeps free for node itself (epoll, pipes, libraries). */
const FILL_FD_SLACK = 256;
export const FILL_TIMEOUT_MS = 120_000;

/** `__fill`: opens `pairs` loopback connections to listeners of its own from `basePort` on, says `ready`, and holds them until killed. */
export async function fillMode(pairs: number, basePort: number): Promise<void> {
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

interface FillerPlan {
  pairs: number;
  basePort: number;
  nofile: number;
}

/**
 * One filler holding every socket when RLIMIT_NOFILE can be raised that far (CAP_SYS_RESOURCE),
 * else as many as the hard limit requires (each holds both ends of its connections).
 */
export function planFillers(pairs: number): FillerPlan[] {
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


export function countSockets(ns: string): { total: number; states: Record<string, number>; summary: string } {
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
