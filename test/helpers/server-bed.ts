import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TwoHosts } from './ssh.js';

/** Programs run in the server's namespace of a two-host network, and the waits around them. */
export interface ServerBed {
  /** Every process started, for the teardown (and for tests that start their own). */
  readonly children: ChildProcess[];
  /** Starts argv in the server's namespace; stopped by pid in stopAll. */
  serve(argv: string[], opts?: { cwd?: string }): { child: ChildProcess; stderr: () => string };
  /** Waits until the port accepts (from the client's namespace). */
  ready(port: number, what: string, stderr: () => string, ms?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(child: ChildProcess): Promise<void>;
  stopAll(): Promise<void>;
  /** redis-server on `port` in the server's namespace, bound everywhere, with a config file in `dir` and these lines added. */
  redis(dir: string, port: number, extra: string[]): Promise<void>;
  /** A fresh MariaDB data directory in `dir` (root@localhost only), its path. */
  mariadbData(dir: string): string;
  /** mariadbd on 3306 at the server's address over `data`, names never resolved, with these options added; ready. */
  mariadbd(data: string, extra?: string[]): Promise<{ child: ChildProcess; stderr: () => string }>;
}

export function serverBed(net: TwoHosts): ServerBed {
  const children: ChildProcess[] = [];
  const serve: ServerBed['serve'] = (argv, opts = {}) => {
    const child = spawn('ip', ['netns', 'exec', net.server.netns, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
    children.push(child);
    return { child, stderr: () => err };
  };
  const stop: ServerBed['stop'] = async (child) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const ready: ServerBed['ready'] = async (port, what, stderr, ms = 30_000) => {
    const until = performance.now() + ms;
    for (;;) {
      const r = await net.client.exec(['bash', '-c', `exec 3<>/dev/tcp/${net.server.address}/${port}`], { timeoutMs: 2_000 });
      if (r.exitCode === 0) return;
      if (performance.now() > until) throw new Error(`${what} did not listen on ${port}: ${stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    children,
    serve,
    ready,
    stop,
    stopAll: async () => {
      for (const c of children) await stop(c);
    },
    redis: async (dir, port, extra) => {
      const conf = join(dir, `redis-${port}.conf`);
      writeFileSync(conf, [`port ${port}`, 'bind * -::*', 'save ""', 'appendonly no', `dir ${dir}`, 'daemonize no', ...extra].join('\n') + '\n');
      const s = serve(['/usr/bin/redis-server', conf]);
      await ready(port, 'redis-server', s.stderr);
    },
    mariadbData: (dir) => {
      const data = join(dir, 'mysql');
      mkdirSync(data);
      const init = spawnSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], { encoding: 'utf8', timeout: 120_000 });
      if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr}`);
      return data;
    },
    mariadbd: async (data, extra = []) => {
      const s = serve(['/usr/sbin/mariadbd', '--no-defaults', `--datadir=${data}`, '--user=root', `--bind-address=${net.server.address}`, '--port=3306', `--socket=${join(data, 'sock')}`, `--pid-file=${join(data, 'pid')}`, '--skip-log-bin', '--skip-name-resolve', ...extra]);
      await ready(3306, 'mariadbd', s.stderr, 60_000);
      return s;
    },
  };
}
