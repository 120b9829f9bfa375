// Real listeners for the baseline tests: child processes (node or python3) bound to loopback
// ports chosen at run time, optionally inside a private network namespace, optionally moved into
// a cgroup named like a systemd service. Everything is stopped by pid and removed afterwards.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execaRunner, type Runner } from '../../src/system/runner.js';
import type { Host } from '../../src/host/host.js';
import { localHost } from '../../src/host/local.js';

export const isRoot = process.getuid?.() === 0;
export const hasSs = spawnSync('ss', ['-V']).status === 0;
export const hasPython = spawnSync('python3', ['-c', '']).status === 0;
export const canUnshare = isRoot && spawnSync('unshare', ['-n', 'true']).status === 0;

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Waits until the child prints a line containing `word`; rejects if it exits or takes too long. */
function waitFor(child: ChildProcess, word: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 10 s: ${err}`)), 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(word)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before it was ready: ${err}`));
    });
  });
}

/** Stops a child by its pid and waits for it to be gone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await gone;
}

/** A private network namespace with lo up, held open by a sleeping process. */
export interface Netns {
  pid: number;
  /**
   * The execa runner with `ss` run inside the namespace (nsenter keeps the pid of what it runs);
   * other commands (notify) run as they would on the host.
   */
  runner: Runner;
  /** This machine as a Host, with `ss` run inside the namespace (files and /proc are shared with it). */
  host: Host;
  /** argv prefix that runs a program inside the namespace. */
  enter: string[];
  close(): Promise<void>;
}

export async function privateNetns(): Promise<Netns> {
  const holder = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && echo ready && exec sleep 100000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(holder, 'ready', 'the namespace holder');
  const pid = holder.pid!;
  const enter = ['nsenter', `--net=/proc/${pid}/ns/net`, '--'];
  const runner: Runner = { run: (argv, options) => execaRunner.run(argv[0] === 'ss' ? [...enter, ...argv] : argv, options) };
  return {
    pid,
    enter,
    runner,
    host: { ...localHost, run: runner.run, identity: async () => ({ ...(await localHost.identity()), hostname: 'wpt-host' }) },
    close: () => stopChild(holder),
  };
}

export interface ListenerSpec {
  protocol: 'tcp' | 'udp';
  host: string;
  port: number;
  program: 'node' | 'python3';
  netns?: Netns;
}

export interface RunningListener {
  pid: number;
  /** The process name the kernel shows (what the baseline records). */
  comm: string;
  stop(): Promise<void>;
}

const NODE_TCP = `require('net').createServer().listen(+process.argv[2], process.argv[1], () => console.log('ready'))`;
const NODE_UDP = `const s = require('dgram').createSocket(process.argv[1].includes(':') ? 'udp6' : 'udp4'); s.bind(+process.argv[2], process.argv[1], () => console.log('ready'))`;
const PY = `
import socket, sys, time
proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
family = socket.AF_INET6 if ':' in host else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
if proto == 'tcp':
    s.listen(16)
print('ready', flush=True)
time.sleep(100000)
`;

/** Starts a real listener and waits until its socket is bound. */
export async function startListener(spec: ListenerSpec): Promise<RunningListener> {
  const argv =
    spec.program === 'node'
      ? ['node', '-e', spec.protocol === 'tcp' ? NODE_TCP : NODE_UDP, spec.host, String(spec.port)]
      : ['python3', '-c', PY, spec.protocol, spec.host, String(spec.port)];
  const full = [...(spec.netns?.enter ?? []), ...argv];
  const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(child, 'ready', `${spec.program} on ${spec.protocol} ${spec.host}:${spec.port}`);
  const pid = child.pid!;
  return { pid, comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), stop: () => stopChild(child) };
}

/** The cgroup2 mount (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts), if writable. */
export function cgroup2Root(): string | undefined {
  if (!isRoot) return undefined;
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n');
  const line = mounts.find((l) => l.split(' ')[2] === 'cgroup2');
  return line?.split(' ')[1];
}

/**
 * A cgroup laid out as systemd lays out a service (`/<slice>/<name>.service`), so that
 * /proc/PID/cgroup of a process moved into it reads as that unit, without systemd.
 */
export function fakeServiceCgroup(root: string, service: string): { enter(pid: number): void; remove(): void } {
  const slice = join(root, `wpt-baseline-${process.pid}.slice`);
  const dir = join(slice, service);
  mkdirSync(dir, { recursive: true });
  return {
    enter: (pid) => writeFileSync(join(dir, 'cgroup.procs'), `${pid}\n`),
    // Only empty cgroups can be removed: call after the processes in it are stopped.
    remove: () => {
      for (const d of [dir, slice]) if (existsSync(d)) rmdirSync(d);
    },
  };
}

/** Collects what a command writes. */
export function captureIO(): { stdout: string; stderr: string; io: { stdout(t: string): void; stderr(t: string): void } } {
  const c = {
    stdout: '',
    stderr: '',
    io: {
      stdout: (t: string) => void (c.stdout += t),
      stderr: (t: string) => void (c.stderr += t),
    },
  };
  return c;
}
