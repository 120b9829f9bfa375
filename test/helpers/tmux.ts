import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real terminal for prompt tests: one tmux server per session on a private socket (`-L`), with
 * `remain-on-exit on` so the exit status and the last screen survive the program (TESTBED.md).
 */

export interface TmuxOptions {
  cwd: string;
  width?: number;
  height?: number;
  /** Extra environment for the program (tmux passes its own TERM). */
  env?: Record<string, string>;
}

let counter = 0;

/** Why tmux cannot be used here, or undefined when it can. */
export function tmuxSkipReason(): string | undefined {
  const r = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  if (r.error) return 'tmux is missing: apt-get install -y tmux';
  return undefined;
}

export class TmuxSession {
  readonly socket: string;
  private readonly dir: string;
  private socketPath = '';
  private closed = false;

  private constructor(socket: string, dir: string) {
    this.socket = socket;
    this.dir = dir;
  }

  /** Starts `argv` in a detached session; the command line is quoted for tmux's shell. */
  static start(argv: readonly string[], opts: TmuxOptions): TmuxSession {
    const dir = mkdtempSync(join(tmpdir(), 'wpt-tmux-'));
    const conf = join(dir, 'tmux.conf');
    // In the config file, so it holds before the program starts (it may end at once).
    writeFileSync(conf, 'set -g remain-on-exit on\nset -g history-limit 5000\n');
    const session = new TmuxSession(`wpt-it-${process.pid}-${counter++}`, dir);
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const command = [...(env.length ? ['env', ...env] : []), ...argv.map(shellQuote)].join(' ');
    execFileSync(
      'tmux',
      ['-L', session.socket, '-f', conf, 'new-session', '-d', '-s', 't', '-x', String(opts.width ?? 120), '-y', String(opts.height ?? 40), '-c', opts.cwd, command],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 },
    );
    try {
      session.socketPath = session.tmux(['display-message', '-p', '#{socket_path}']).trim();
    } catch {
      // the program may have ended and taken the server with it; nothing to unlink then
    }
    return session;
  }

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', timeout: 5000 });
  }

  /** Sends keys as tmux names them: literal text, 'Enter', 'C-c', 'Down'… */
  sendKeys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 't', ...keys]);
  }

  /** Sends text literally (no key-name lookup), e.g. a name that could read as a key. */
  type(text: string): void {
    this.tmux(['send-keys', '-t', 't', '-l', text]);
  }

  /**
   * The whole screen and its scrollback; with `escapes`, the colours and attributes as SGR sequences.
   * Lines the terminal wrapped are joined back, unless `joined` is false (as the screen shows them).
   */
  capture(opts: { escapes?: boolean; joined?: boolean } = {}): string {
    return this.tmux(['capture-pane', '-p', ...(opts.joined === false ? [] : ['-J']), ...(opts.escapes ? ['-e'] : []), '-S', '-', '-t', 't']);
  }

  /** The program's exit status once it has ended, else undefined. */
  exitStatus(): number | undefined {
    const [dead, status, pid] = this.tmux(['display-message', '-p', '-t', 't', '#{pane_dead} #{pane_dead_status} #{pane_pid}']).trim().split(' ');
    if (dead === '1' && status !== undefined && status !== '') return Number(status);
    // Under load the tmux server here sometimes leaves the ended program a zombie for many seconds
    // before it reaps it and marks the pane dead; the kernel already holds the exit status then.
    return pid ? zombieExitStatus(Number(pid)) : undefined;
  }

  /** The pid of the program in the pane. */
  panePid(): number {
    return Number(this.tmux(['display-message', '-p', '-t', 't', '#{pane_pid}']).trim());
  }

  /** Polls the screen until `test` holds; throws with the screen when it does not in time. */
  async waitFor(test: RegExp | ((screen: string) => boolean), timeoutMs = 15_000, what = String(test)): Promise<string> {
    const ok = typeof test === 'function' ? test : (s: string) => test.test(s);
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = this.capture();
      if (ok(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}; the screen shows:\n${trimScreen(screen)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for the program to end and returns its exit status. */
  async waitForExit(timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = this.exitStatus();
      if (status !== undefined) {
        await this.settle();
        return status;
      }
      if (Date.now() > deadline) {
        throw new Error(`the program did not end within ${timeoutMs} ms; ${this.processState()}\nthe screen shows:\n${trimScreen(this.capture())}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until tmux has drawn all the output (two captures alike), at most `timeoutMs`. */
  async settle(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = this.capture();
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const now = this.capture();
      if (now === last) return;
      last = now;
    }
  }

  /** What the pane's program is doing (its state, threads, children, descriptors), for failure messages. */
  processState(): string {
    try {
      const pid = this.panePid();
      const read = (f: string) => {
        try {
          return readFileSync(f, 'utf8').trim();
        } catch {
          return '?';
        }
      };
      const stat = read(`/proc/${pid}/stat`).split(' ');
      const tasks = (() => {
        try {
          return readdirSync(`/proc/${pid}/task`);
        } catch {
          return [];
        }
      })();
      const threads = tasks.map((t) => `${read(`/proc/${pid}/task/${t}/comm`)}:${read(`/proc/${pid}/task/${t}/wchan`)}`).join(' ');
      const children = tasks.flatMap((t) => read(`/proc/${pid}/task/${t}/children`).split(/\s+/).filter((c) => c && c !== '?'));
      const childText = children.map((c) => `${c} ${read(`/proc/${c}/cmdline`).replaceAll('\0', ' ')}`).join('; ');
      let fds = '';
      try {
        fds = readdirSync(`/proc/${pid}/fd`).map((fd) => {
          try {
            return `${fd}→${readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
          } catch {
            return fd;
          }
        }).join(' ');
      } catch {
        // gone
      }
      return `pid ${pid} state ${stat[2] ?? '?'}; threads ${threads}; children [${childText}]; fds ${fds}`;
    } catch (err) {
      return `(no process state: ${(err as Error).message})`;
    }
  }

  /** Kills the program if it still runs (by its pid), then this session's tmux server. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.exitStatus() === undefined) {
        const pid = this.panePid();
        if (pid > 0) process.kill(pid, 'SIGKILL');
      }
    } catch {
      // the server or the program is gone already
    }
    try {
      this.tmux(['kill-server']);
    } catch {
      // already gone
    }
    // tmux 3.3 leaves the socket file behind after kill-server.
    if (this.socketPath) rmSync(this.socketPath, { force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The exit status of a process that has ended but was not reaped yet (state Z), from the
 * exit_code field of /proc/PID/stat (Linux ≥ 3.5), as a shell reports it; undefined otherwise.
 */
export function zombieExitStatus(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the parenthesised comm start at field 3 (state); exit_code is field 52.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  if (fields[0] !== 'Z' || fields[49] === undefined) return undefined;
  const wait = Number(fields[49]);
  return wait & 0x7f ? 128 + (wait & 0x7f) : (wait >> 8) & 0xff;
}

/** The screen without the blank lines tmux pads it with. */
export function trimScreen(screen: string): string {
  return screen.replace(/\n{3,}/g, '\n\n').trimEnd();
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
