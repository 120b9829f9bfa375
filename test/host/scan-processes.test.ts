import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('a script an interpreter runs answers to its name, by name and by the quick exact look (bash script.sh)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wpt-scan-'));
    writeFileSync(join(dir, 'wptnightly.sh'), 'sleep 30\n');
    const child = spawn('bash', [join(dir, 'wptnightly.sh')], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      for (const match of ['name', 'exact'] as const) {
        const found = await localHost.processes({ name: 'wptnightly', match });
        expect(found.map((p) => p.pid), match).toEqual([child.pid]);
        expect(found[0]).toMatchObject({ name: 'bash', script: join(dir, 'wptnightly.sh') });
      }
      // Its child `sleep 30` is not it, and an argument is no name.
      expect(await localHost.processes({ name: '30', match: 'exact' })).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
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
