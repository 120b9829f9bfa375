import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorCode } from '../../src/host/host.js';
import { parseRecording, Recorder, RecordingError, RECORDING_FORMAT, type Recording } from '../../src/host/recording.js';
import { NOT_RECORDED, replayHost as replayRecording } from '../../src/host/replay.js';
import { parseDiagnoseArgs } from '../../src/cli/diagnose-args.js';
import { serviceTable } from '../../src/cli/port-argument.js';
import { diagnose } from '../../src/commands/diagnose.js';
import { replayHost } from '../helpers/replay-host.js';
import { quietHost } from '../helpers/quiet-host.js';

const dir = mkdtempSync(join(tmpdir(), 'whyport-recording-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const meta = (): Omit<Recording, 'calls' | 'redacted' | 'truncated'> => ({
  whyport: { version: '0.1.0', format: RECORDING_FORMAT },
  recorded: '2026-01-01T00:00:00Z',
  target: { host: '10.213.9.2', port: 7071, protocol: 'tcp' },
  options: { playbook: 'default', answers: {}, timeoutMs: 3000 },
  vantages: { client: { hostname: 'app1', local: false } },
});

/** The recording, as a file would carry it (JSON and back). */
const roundTrip = (r: Recording): Recording => parseRecording(JSON.stringify(r), 'rec.json');

describe('Recorder and the replay host', () => {
  it('answers each recorded call with its answer or its error, again and again; anything else is ENOREPLAY', async () => {
    const recorder = new Recorder();
    const host = recorder.wrap(replayHost({ files: { '/etc/redis/redis.conf': 'port 6379\nrequirepass secret123\n' }, commands: { 'ss -Htln': { stdout: 'LISTEN\n' } } }), 'client');
    expect(await host.readFile('/etc/redis/redis.conf')).toContain('secret123');
    await expect(host.readFile('/nope')).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await host.run(['ss', '-Htln'], { timeoutMs: 100 })).stdout).toBe('LISTEN\n');
    expect(await host.stat(['/etc/redis/redis.conf', '/nope'])).toEqual([expect.objectContaining({ kind: 'file' }), undefined]);

    const recording = roundTrip(recorder.recording(meta()));
    expect(JSON.stringify(recording)).not.toContain('secret123');
    expect(recording.redacted).toEqual([{ kind: 'config-secret', where: 'readFile /etc/redis/redis.conf' }]);

    const replay = replayRecording(recording, 'client');
    expect(await replay.readFile('/etc/redis/redis.conf')).toBe('port 6379\nrequirepass REDACTED\n');
    expect(await replay.readFile('/etc/redis/redis.conf')).toBe('port 6379\nrequirepass REDACTED\n');
    await expect(replay.readFile('/nope')).rejects.toMatchObject({ code: 'ENOENT' });
    // Asked with another timeout: the same question.
    expect((await replay.run(['ss', '-Htln'], { timeoutMs: 9000 })).stdout).toBe('LISTEN\n');
    expect(await replay.stat(['/etc/redis/redis.conf', '/nope'])).toEqual([expect.objectContaining({ kind: 'file' }), undefined]);

    const missing = await replay.readFile('/etc/other').catch((e: unknown) => e);
    expect(errorCode(missing)).toBe(NOT_RECORDED);
    expect((missing as Error).message).toBe('not in the recording: readFile /etc/other');
    const run = await replay.run(['ip', '-br', 'addr']);
    expect(run).toMatchObject({ exitCode: null, missing: false, stdout: '' });
    expect(run.stderr).toContain('not in the recording');
    expect(await replay.connectTcp('192.0.2.1', 80, 1000)).toMatchObject({ outcome: 'error', errno: NOT_RECORDED });
    expect(replay.probeTls).toBeUndefined();
  });

  it('replays the probes as recorded, in order, without touching the network', async () => {
    const recorder = new Recorder();
    let n = 0;
    const outcomes = ['refused', 'connected'] as const;
    const probing = { ...replayHost({}), connectTcp: async (address: string, port: number) => ({ address, port, outcome: outcomes[n++]!, durationMs: 3 }) };
    const host = recorder.wrap(probing, 'client');
    await host.connectTcp('203.0.113.9', 443, 3000);
    await host.connectTcp('203.0.113.9', 443, 3000);
    const replay = replayRecording(roundTrip(recorder.recording(meta())), 'client');
    expect((await replay.connectTcp('203.0.113.9', 443, 10)).outcome).toBe('refused');
    expect((await replay.connectTcp('203.0.113.9', 443, 10)).outcome).toBe('connected');
    // Past the last answer, the last one again (a re-check asks once more).
    expect((await replay.connectTcp('203.0.113.9', 443, 10)).outcome).toBe('connected');
  });

  it('stops growing at its limit and says how many calls it left out', async () => {
    const recorder = new Recorder(2_000);
    const host = recorder.wrap(replayHost({ files: { '/big': 'x'.repeat(1500) } }), 'client');
    for (let i = 0; i < 5; i++) await host.readFile('/big');
    const r = recorder.recording(meta());
    expect(r.calls.length).toBe(1);
    expect(r.truncated).toEqual({ calls: 4, limitBytes: 2_000 });
  });
});

describe('parseRecording', () => {
  const good = JSON.stringify({ ...meta(), calls: [], redacted: [] });
  it.each([
    ['{"whyport": ', /not JSON/],
    ['[1,2]', /not a whyport recording/],
    ['{"version": 1, "steps": []}', /not a whyport recording/],
    [good.replace(`"format":${RECORDING_FORMAT}`, '"format":99'), /format 99; this whyport reads format 1/],
    [good.replace('"port":7071', '"port":70710'), /its target/],
    [good.replace('"calls":[]', '"calls":[{"at":"client","call":"rm","args":[]}]'), /calls\[0\] is not a recorded host call/],
  ])('refuses %s in one line', (text, message) => {
    const err = (() => {
      try {
        parseRecording(text, 'r.json');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RecordingError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });
});

describe('diagnose with record, then with --replay', () => {
  const env = { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {}, version: '0.1.0' };
  const services = serviceTable(quietHost.files!['/etc/services']!, '/etc/services');

  it('writes a recording (mode 0600) that walks to the same diagnosis and steps, reading nothing else', async () => {
    const file = join(dir, 'quiet.json');
    const recordOpts = await parseDiagnoseArgs(['10.213.9.2', '7071', '--json', '-o', file], env, () => {}, services, { record: true });
    if (recordOpts === 'exit') throw new Error('no diagnosis');
    let recorded = '';
    let said = '';
    await diagnose(recordOpts, { host: replayHost(quietHost), stdout: (t) => void (recorded += t), stderr: (t) => void (said += t) });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(said).toMatch(/^whyport: .*quiet\.json: recorded \d+ host calls \(expect NOT_LISTENING\); nothing needed redacting\n$/);
    const recording = JSON.parse(readFileSync(file, 'utf8')) as Recording;
    expect(recording.expect).toEqual({ code: 'NOT_LISTENING' });
    expect(recording.vantages.client).toEqual({ hostname: 'app1', local: false });

    const replayOpts = await parseDiagnoseArgs(['10.213.9.2', '7071', '--json', '--replay', file], env, () => {}, services);
    if (replayOpts === 'exit') throw new Error('no diagnosis');
    let replayed = '';
    // No host given: were the replay to read this machine, it would see another one.
    const status = await diagnose(replayOpts, { stdout: (t) => void (replayed += t), stderr: () => {} });
    const a = JSON.parse(recorded);
    const b = JSON.parse(replayed);
    expect(status).toBe(1);
    expect(b.diagnosis.code).toBe('NOT_LISTENING');
    expect(b.steps.map((s: { id: string; outcome: string }) => `${s.id}.${s.outcome}`)).toEqual(a.steps.map((s: { id: string; outcome: string }) => `${s.id}.${s.outcome}`));
    expect(b.whyport.host).toBe('app1');
  });

  it('refuses a replay of another target, and -o without record', async () => {
    const file = join(dir, 'other.json');
    writeFileSync(file, JSON.stringify({ ...meta(), calls: [], redacted: [] }));
    const opts = await parseDiagnoseArgs(['10.0.0.9', '7071', '--replay', file], env, () => {}, services);
    if (opts === 'exit') throw new Error('no diagnosis');
    await expect(diagnose(opts, { stdout: () => {}, stderr: () => {} })).rejects.toThrow(/is a recording of 10\.213\.9\.2 7071, not of 10\.0\.0\.9 7071/);
    await expect(parseDiagnoseArgs(['10.0.0.9', '7071', '-o', file], env, () => {}, services)).rejects.toThrow(/only goes with whyport record/);
    await expect(parseDiagnoseArgs(['10.0.0.9', '7071'], env, () => {}, services, { record: true })).rejects.toThrow(/needs -o FILE/);
    await expect(parseDiagnoseArgs(['10.0.0.9', '7071', '--replay', file, '--fix'], env, () => {}, services)).rejects.toThrow(/--replay does not go with --fix/);
  });
});

describe('loadRecording', () => {
  it('refuses a file past the limit, a directory, and a missing file, in one line each', async () => {
    const { loadRecording } = await import('../../src/commands/record.js');
    const { MAX_RECORDING_BYTES } = await import('../../src/host/recording.js');
    const big = join(dir, 'big.json');
    writeFileSync(big, Buffer.alloc(MAX_RECORDING_BYTES + 1, 0x20));
    await expect(loadRecording(big)).rejects.toThrow(/cannot read the recording .*big\.json: larger than 20480 KB/);
    await expect(loadRecording(dir)).rejects.toThrow(/is a directory/);
    await expect(loadRecording(join(dir, 'none.json'))).rejects.toThrow(/no such file/);
  });
});
