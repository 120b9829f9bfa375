import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import type { Report, StepRecord } from '../../src/report/model.js';
import { freePort, startListener, stopAllListeners, uniqueProcessName } from '../helpers/servers.js';

/**
 * The fixes whyport prints are the ones a person can run and that move them forward: commands
 * quoted the way the steps quote them (one form, the one a shell takes), against real listeners
 * and real processes started here, read through main().
 */

interface Run {
  status: number;
  out: string;
  stderr: string;
}

async function run(...args: string[]): Promise<Run> {
  let out = '';
  let stderr = '';
  const status = await main(args, {
    stdout: (t) => void (out += t),
    stderr: (t) => void (stderr += t),
    environment: { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: { ...process.env, NO_COLOR: '1', COLUMNS: '200' } },
  });
  return { status, out, stderr };
}

async function json(...args: string[]): Promise<Report> {
  const r = await run(...args, '--json');
  try {
    return JSON.parse(r.out) as Report;
  } catch {
    throw new Error(`whyport ${args.join(' ')} --json printed no JSON (exit ${r.status}).\n${r.out}\n${r.stderr}`);
  }
}

const trace = (r: Report) => `${r.diagnosis.code}: ${r.diagnosis.title}\n${r.steps.map((s) => `  ${s.id} → ${s.outcome}: ${s.summary}`).join('\n')}`;

function step(r: Report, id: string): StepRecord {
  const s = r.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step '${id}':\n${trace(r)}`);
  return s;
}

afterEach(async () => {
  await stopAllListeners();
});
afterAll(async () => {
  await stopAllListeners();
});

describe('fix commands are printed in the one form a shell takes, as the steps print theirs', () => {
  it('PORT_TAKEN: the fix lists the listeners exactly as the listening step shows its command, in JSON, text and Markdown', async () => {
    const l = await startListener({ host: '127.0.0.1', name: uniqueProcessName('holder') });
    const args = ['127.0.0.1', String(l.port), '--process', 'nosuchprog-xyz', '--yes'];
    const r = await json(...args);
    expect(r.diagnosis.code, trace(r)).toBe('PORT_TAKEN');
    const shown = `ss -Htlnp 'sport = :${l.port}'`;
    expect(step(r, 'listening').command).toBe(shown);
    expect(r.diagnosis.fix?.commands).toEqual([shown]);
    const text = await run(...args);
    expect(text.out.split('\n').map((line) => line.trim())).toContain(shown);
    expect(text.out).not.toContain(`ss -Htlnp sport = :${l.port}`);
    const md = await run(...args, '--markdown');
    expect(md.out.split('\n')).toContain(shown);
  });
});
