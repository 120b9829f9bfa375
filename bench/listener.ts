/**
 * The listener, inside the busy case: a port with a listener owned by a process (a helper of the
 * bench, named wptbench-lsn): whyport against `ss -ltnp 'sport = :PORT'`, the same over UDP,
 * and, with WPT_BENCH_LSOF=1, `lsof -iTCP:PORT` (several seconds a run with 100k sockets).
 *
 * `__listen PORT` is the helper that owns the listener (TCP and UDP on the same port).
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { exitWithParent } from './shared/common.js';
import { measureGroup, whyportCmd, type Case, type CaseResult } from './shared/timing.js';
import { listenerUdpCases } from './udp.js';

export const LISTENER_NAME = 'wptbench-lsn';

export async function listenMode(port: number): Promise<void> {
  exitWithParent();
  const server = createServer((s) => {
    s.on('error', () => {});
    s.resume();
    s.end();
  });
  server.on('error', (e) => {
    process.stdout.write(`error ${e.message}\n`);
    process.exit(1);
  });
  // The same port over UDP too: a bound socket that reads and never answers (as syslog does).
  const udp = createSocket('udp4');
  udp.on('message', () => {});
  udp.on('error', (e) => {
    process.stdout.write(`error ${e.message}\n`);
    process.exit(1);
  });
  udp.bind(port, '0.0.0.0', () => server.listen({ host: '0.0.0.0', port, backlog: 511 }, () => process.stdout.write('ready\n')));
}

/** The harness's side: the listener's commands taking turns, one warm-up round. */
export function measureListener(port: number, runs: number): Promise<CaseResult[]> {
  const P = port;
  const cases: Case[] = [
    { id: 'whyport-listener', label: `whyport --json --yes --process ${LISTENER_NAME}`, whyport: true, cmds: [whyportCmd(['127.0.0.1', String(P), '--json', '--yes', '--process', LISTENER_NAME])] },
    // Side by side: the same diagnosis stopped at the handshake (the protocol step's cost).
    { id: 'whyport-listener-no-protocol', label: `whyport --json --yes --process ${LISTENER_NAME} --no-protocol`, whyport: true, cmds: [whyportCmd(['127.0.0.1', String(P), '--json', '--yes', '--process', LISTENER_NAME, '--no-protocol'])] },
    { id: 'ss-ltnp', label: `ss -ltnp 'sport = :${P}'`, cmds: [{ label: `ss -Htlnp 'sport = :${P}'`, argv: ['ss', '-Htlnp', `sport = :${P}`] }] },
    // The listener's UDP socket on the same port: bound, read, never answering.
    ...listenerUdpCases(P, LISTENER_NAME),
  ];
  if (process.env.WPT_BENCH_LSOF === '1' && spawnSync('sh', ['-c', 'command -v lsof'], { stdio: 'ignore' }).status === 0) {
    cases.push({ id: 'lsof', label: 'for reference: lsof', cmds: [{ label: `lsof -nP -iTCP:${P} -sTCP:LISTEN`, argv: ['lsof', '-nP', `-iTCP:${P}`, '-sTCP:LISTEN'] }] });
  }
  return measureGroup(`listener on ${P}`, cases, runs, 1);
}
