import { describe, expect, it } from 'vitest';
import { execaRunner } from '../../../src/host/runner.js';
import { batchScript, newBoundary, sections, showRemote, splitBatch } from '../../../src/host/ssh/framing.js';
import { REMOTE_SCRIPTS } from '../../../src/host/ssh/remote-scripts.js';

// The wire format of the ssh session, run by a real sh here (what the server's sh does with it):
// a batch of commands on the stdin of `sh -s`, and the NUL-framed sections of the remote scripts.

describe('a batch script run by sh -s, split back into one result per command', () => {
  it('keeps each command to its own output, stderr and exit status, whatever they print', async () => {
    const b = newBoundary();
    const items = [
      // Output that looks like frames (NULs, another boundary, a frame of index 1) stays output.
      { argv: ['printf', '\\0%s 1\\0x\\0%s rc 0 7\\0', 'deadbeefdeadbeefde', 'deadbeefdeadbeefde'] },
      { argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] },
      { argv: ['no-such-program-here'] },
      { argv: ['sleep', '5'], options: { timeoutMs: 1_000 } },
    ];
    const { script, timeoutMs } = batchScript(items);
    expect(timeoutMs).toBe(5_000 * 3 + 1_000);
    const r = await execaRunner.run(['sh', '-s', '--', b], { input: script, timeoutMs: 10_000 });
    const { results, head } = splitBatch(items, r, b, 12);
    expect(head).toBe('');
    expect(results[0]).toMatchObject({ exitCode: 0, stdout: '\0deadbeefdeadbeefde 1\0x\0deadbeefdeadbeefde rc 0 7\0', stderr: '', durationMs: 12 });
    expect(results[1]).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', missing: false, timedOut: false });
    expect(results[2]).toMatchObject({ exitCode: 127, missing: true });
    expect(results[3]).toMatchObject({ exitCode: 124, timedOut: true });
  });

  it('a batch cut short (the connection dropped): the commands that never ran have no exit status', () => {
    const items = [{ argv: ['true'] }, { argv: ['false'] }];
    const b = 'a'.repeat(18);
    const r = { argv: [], exitCode: 255, stdout: `\0${b} 0\0\0${b} rc 0 0\0`, stderr: 'Connection reset\n', missing: false, timedOut: false, durationMs: 1 };
    const { results } = splitBatch(items, r, b, 1);
    expect(results.map((x) => x.exitCode)).toEqual([0, null]);
    expect(results[1]).toMatchObject({ stdout: '', stderr: 'Connection reset\n' });
  });
});

describe('the sections of a remote script', () => {
  it("the proc script's own pid and the command lines of this machine's processes", async () => {
    const b = newBoundary();
    const r = await execaRunner.run(['sh', '-c', REMOTE_SCRIPTS.proc, 'sh', b, 'cmdline', String(process.pid)]);
    const s = sections(r.stdout, b);
    expect([...s.keys()]).toEqual(['self', 'cmdline']);
    expect(Number(s.get('self')![0])).toBeGreaterThan(0);
    expect(s.get('cmdline')![0]).toMatch(new RegExp(`^/proc/${process.pid}/cmdline:`));
  });
});

describe('the log of remote commands', () => {
  it("names whyport's scripts, drops boundaries, and quotes other commands as typed", () => {
    expect(showRemote(['sh', '-c', REMOTE_SCRIPTS.stat, 'sh', '/etc', 'a b'])).toBe('sh -c <stat> /etc a b');
    expect(showRemote(['sh', '-c', REMOTE_SCRIPTS.units, 'sh', newBoundary(), '1048576', '/etc/systemd/system'])).toBe('sh -c <units> 1048576 /etc/systemd/system');
    expect(showRemote(['ss', '-Htane', '( sport = :80 )'])).toBe("ss -Htane '( sport = :80 )'");
  });
});
