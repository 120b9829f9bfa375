import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHost } from '../../src/host/local.js';
import { findOwners } from '../../src/system/owners.js';
import { parseProcNetTcp } from '../../src/system/procnet.js';
import { AS_NOBODY, asNobodySkipReason, readableTempDir } from '../helpers/as-user.js';

const isRoot = process.getuid?.() === 0;
const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));
const canRun = isRoot && python !== undefined && asNobodySkipReason() === undefined;

// A listener on 127.0.0.1, held by a process called `my (app), v2` and by the child it forks
// (which inherits the descriptor), as a worker-forking server does.
const SERVER = String.raw`
import ctypes, os, signal, socket, sys, time
libc = ctypes.CDLL(None)
libc.prctl(15, ctypes.c_char_p(sys.argv[1].encode()), 0, 0, 0)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
child = 0
if sys.argv[2] == "fork":
    child = os.fork()
    if child == 0:
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)   # die with the parent
        libc.prctl(15, b"forked worker", 0, 0, 0)
        time.sleep(120)
        os._exit(0)
print(s.getsockname()[1], os.getpid(), child, flush=True)
time.sleep(120)
`;

interface Server {
  process: ChildProcess;
  port: number;
  pid: number;
  childPid: number;
  inode: number;
}

const started: ChildProcess[] = [];
const extraPids: number[] = [];
let dir = '';

async function startServer(argv: string[], name: string, fork: boolean): Promise<Server> {
  const child = spawn(argv[0]!, [...argv.slice(1), join(dir, 'server.py'), name, fork ? 'fork' : 'single'], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`test server exited with ${code}`)));
  });
  const [port, pid, childPid] = line.split(' ').map(Number) as [number, number, number];
  if (childPid) extraPids.push(childPid);
  const listening = parseProcNetTcp(readFileSync('/proc/net/tcp', 'utf8'), 'inet').find((s) => s.state === 'LISTEN' && s.local.port === port);
  return { process: child, port, pid, childPid, inode: listening!.inode! };
}

/** Whether some descriptor link under /proc cannot be read by this process (checked independently of findOwners). */
function somethingUnreadable(): boolean {
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return true;
    }
  }
  return false;
}

describe.skipIf(!canRun)('findOwners (real processes; needs root, python3 and setpriv)', () => {
  let shared: Server;
  let nobodys: Server;

  beforeAll(async () => {
    // server.py is run as nobody too: not from the checkout, which nobody may not be able to enter.
    dir = readableTempDir('whyport-owners-');
    writeFileSync(join(dir, 'server.py'), SERVER);
    chmodSync(join(dir, 'server.py'), 0o644); // whatever root's umask
    shared = await startServer([python!], 'my (app), v2', true);
    nobodys = await startServer([...AS_NOBODY, python!], 'nobodys app', false);
  });

  afterAll(() => {
    for (const pid of extraPids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone with its parent.
      }
    }
    for (const child of started) if (child.pid) child.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the process holding a socket, with its full name from /proc/PID/comm', async () => {
    const { owners, hidden } = await findOwners(localHost, [shared.inode]);
    expect(hidden).toBe(false);
    // /proc is read in pid order and the scan stops at the first owner: the lower pid of the two.
    const first = shared.pid < shared.childPid ? { pid: shared.pid, program: 'my (app), v2', fd: 3 } : { pid: shared.childPid, program: 'forked worker', fd: 3 };
    expect(owners.get(shared.inode)).toEqual([first]);
  });

  it('looks at candidate pids first and stops there once every socket has an owner', async () => {
    const { owners } = await findOwners(localHost, [shared.inode], { candidatePids: [shared.childPid] });
    expect(owners.get(shared.inode)).toEqual([{ pid: shared.childPid, program: 'forked worker', fd: 3 }]);
  });

  it('lists every holder of a shared socket when asked to be exhaustive', async () => {
    const { owners } = await findOwners(localHost, [shared.inode, nobodys.inode], { exhaustive: true });
    expect(owners.get(shared.inode)).toEqual([
      { pid: shared.pid, program: 'my (app), v2', fd: 3 },
      { pid: shared.childPid, program: 'forked worker', fd: 3 },
    ]);
    expect(owners.get(nobodys.inode)).toEqual([{ pid: nobodys.pid, program: 'nobodys app', fd: 3 }]);
  });

  it('finds no owner of an inode nobody holds, ignoring pids that are gone', async () => {
    const gone = 4_194_000; // above the default pid_max: never a live process
    const { owners, hidden } = await findOwners(localHost, [999_999_999], { candidatePids: [gone, 0, -1] });
    expect(owners.size).toBe(0);
    // Root reads every descriptor, unless something is walled off even from root (on this test
    // bed pid 1's links refuse readlink): then the owner may be there, and hidden says so.
    expect(hidden).toBe(somethingUnreadable());
    expect(await findOwners(localHost, [])).toEqual({ owners: new Map(), hidden: false });
    expect(await findOwners(localHost, [0])).toEqual({ owners: new Map(), hidden: false });
  });

  it('as non-root: other users’ owners are hidden, the own ones still found', async (ctx) => {
    // Drop the effective ids of this test process only (vitest runs each file in its own process).
    // The gid too: the kernel lets a process read another's descriptors only when uids and gids match.
    try {
      process.setegid(65534);
      process.seteuid(65534);
    } catch (err) {
      // Worker threads cannot change ids (vitest's threads pool); this file needs its own process (the forks pool).
      expect((err as NodeJS.ErrnoException).code).toBe('ERR_WORKER_UNSUPPORTED_OPERATION');
      ctx.skip('the ids of a worker thread cannot change: run this file in the forks pool');
    }
    try {
      const rootOwned = await findOwners(localHost, [shared.inode]);
      expect(rootOwned.owners.size).toBe(0);
      expect(rootOwned.hidden).toBe(true);

      const own = await findOwners(localHost, [nobodys.inode]);
      expect(own.owners.get(nobodys.inode)).toEqual([{ pid: nobodys.pid, program: 'nobodys app', fd: 3 }]);
      expect(own.hidden).toBe(false);

      const both = await findOwners(localHost, [nobodys.inode, shared.inode]);
      expect([...both.owners.keys()]).toEqual([nobodys.inode]);
      expect(both.hidden).toBe(true);
    } finally {
      process.seteuid(0);
      process.setegid(0);
    }
  });
});
