import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { localHost } from '../../src/host/local.js';

// The processes of a name, as the process step asks for them, on this machine's real /proc.

/** Kernel threads: no command line. */
function kernelThreads(): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8') === '') out.push({ pid: Number(d), comm: readFileSync(`/proc/${d}/comm`, 'utf8').trim() });
    } catch {
      // gone
    }
  }
  return out;
}

describe('processes by name, on the real /proc', () => {
  const threads = kernelThreads();
  const kworker = threads.find((t) => /^kworker\/.*-(\w+)$/.test(t.comm));

  it.skipIf(kworker === undefined)('a part of a kernel thread’s name is no program: `unbound` is not kworker/…-events_unbound', async () => {
    const word = /-(\w+)$/.exec(kworker!.comm)![1]!; // events_unbound, mm_percpu_wq, …
    const found = await localHost.processes({ name: word, match: 'name' });
    expect(found.map((p) => p.pid)).not.toContain(kworker!.pid);
  });

  it.skipIf(threads.length === 0)('a kernel thread still counts by its whole name (nfsd runs as kernel threads)', async () => {
    const t = threads.find((x) => x.comm.length <= 15 && /^[\w-]+$/.test(x.comm))!;
    expect((await localHost.processes({ name: t.comm, match: 'name' })).map((p) => p.pid)).toContain(t.pid);
  });

  it('a user process matches by a part of its name, as pgrep does', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      expect((await localHost.processes({ name: 'slee', match: 'name' })).map((p) => p.pid)).toContain(child.pid);
    } finally {
      child.kill();
    }
  });
});
