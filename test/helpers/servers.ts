import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Real TCP listeners for integration tests: each one is a child process (node or python3) that
 * binds an address and port, prints `READY <port>`, and holds the socket until it is stopped by
 * pid. A listener can carry a process name of its own (PR_SET_NAME, what `pgrep`, `ss -p` and
 * /proc/PID/comm show), and can run inside a network namespace (`ip netns exec` keeps the pid).
 */

export interface ListenerOptions {
  /** Address to bind, e.g. '127.0.0.1', '0.0.0.0', '::'. */
  host: string;
  /** Port to bind; 0 (the default) lets the kernel pick a free one, read back from READY. */
  port?: number;
  /** Process name (comm, at most 15 characters) the child sets on itself. */
  name?: string;
  /** Which program runs the listener; the comm is 'node' or 'python3' unless `name` is given. */
  runtime?: 'node' | 'python3';
  /** Network namespace to run in (`ip netns exec NS …`). */
  netns?: string;
  /** How long to wait for READY. */
  readyTimeoutMs?: number;
}

export interface Listener {
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  /** What /proc/PID/comm says once the listener is ready. */
  readonly comm: string;
  /** Stops it (SIGTERM, then SIGKILL) and waits until it is gone. Safe to call twice. */
  stop(): Promise<void>;
}

const running = new Set<Listener>();

// If the test process ends without its afterAll (a crash, a hard timeout), leave no listener behind.
process.once('exit', () => {
  for (const l of running) {
    try {
      process.kill(l.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

// Node sets comm through libuv's uv_set_process_title (prctl PR_SET_NAME on Linux).
const NODE_LISTENER = `
const [host, port, name] = process.argv.slice(1);
if (name) process.title = name;
const server = require('node:net').createServer((c) => c.on('error', () => {}));
server.on('error', (e) => { console.error('listen failed: ' + e.message); process.exit(3); });
server.listen({ host, port: Number(port), exclusive: true }, () => console.log('READY ' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

const PYTHON_LISTENER = `
import socket, sys, signal, ctypes
host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if name:
    ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(16)
print('READY', s.getsockname()[1], flush=True)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    c, _ = s.accept()
    c.close()
`;

/** The real python3 binary (not a pyenv shim, whose bash wrapper costs a tenth of a second). */
export function python3Path(): string | undefined {
  for (const p of ['/usr/bin/python3', '/usr/local/bin/python3']) if (existsSync(p)) return p;
  return undefined;
}

/** Starts a listener and resolves once it listens; rejects with its stderr if it cannot. */
export async function startListener(opts: ListenerOptions): Promise<Listener> {
  const runtime = opts.runtime ?? 'node';
  const port = String(opts.port ?? 0);
  const name = opts.name ?? '';
  if (name.length > 15) throw new Error(`process name '${name}' is longer than the 15 characters comm keeps`);
  let argv: string[];
  if (runtime === 'node') {
    argv = [process.execPath, '-e', NODE_LISTENER, opts.host, port, name];
  } else {
    const py = python3Path() ?? 'python3';
    argv = [py, '-c', PYTHON_LISTENER, opts.host, port, name];
  }
  if (opts.netns) argv = ['ip', 'netns', 'exec', opts.netns, ...argv];

  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${argv[0]}`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;

  const listener: Listener = {
    pid,
    host: opts.host,
    port: 0,
    comm: '',
    async stop() {
      running.delete(listener);
      if (stopped) return exited;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
        const timer = setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }, 1500);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  running.add(listener);

  try {
    const ready = await waitForReady(child, opts.readyTimeoutMs ?? 5000);
    const comm = readComm(pid) ?? '';
    Object.assign(listener, { port: ready, comm });
    return listener;
  } catch (err) {
    await listener.stop();
    throw err;
  }
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(`no READY within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`listener ${child.pid}: ${why}${err ? `\n${err.trim()}` : ''}`));
    };
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before it listened`));
  });
}

/** /proc/PID/comm, or undefined when the process is gone. */
export function readComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Stops every listener still running (for afterAll / afterEach). */
export async function stopAllListeners(): Promise<void> {
  await Promise.all([...running].map((l) => l.stop()));
}

/** A TCP port free on `host` right now: bound with port 0, then released. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A process name unique to this test run, at most 15 characters (what comm keeps). */
export function uniqueProcessName(prefix: string): string {
  const tag = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
  return `${prefix}-${tag}`.slice(0, 15);
}
