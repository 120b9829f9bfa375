/**
 * The closed port, inside the busy case: whyport's diagnosis of a port nothing listens on, with
 * `--process` naming a program that is not running, against the manual chain of the seed
 * (`netstat -an | grep; netstat -ltnp | grep; pgrep; systemctl status`) and the floor (`node -e 0`
 * + `ss` with a kernel filter + `pgrep`); the same over UDP; and, for reference, `ss -p` with the
 * same filter and whyport without V8's code cache (as on its first run).
 */
import { measureGroup, NODE_NOOP, whyportCmd, type Case, type CaseResult } from './shared/timing.js';
import { closedPortUdpCases } from './udp.js';

/** 15 characters: pgrep matches it against comm, and nothing has it. */
export const ABSENT = 'wptbench-absent';

function closedPortCases(port: number): Case[] {
  const P = port;
  const filter = `( sport = :${P} or dport = :${P} )`;
  return [
    { id: 'whyport-closed', label: 'whyport --json --yes --process (not running)', whyport: true, cmds: [whyportCmd(['127.0.0.1', String(P), '--json', '--yes', '--process', ABSENT])] },
    {
      id: 'manual',
      label: 'manual chain (seed)',
      cmds: [
        { label: `netstat -an | grep :${P}`, argv: ['netstat', '-an'], grep: `:${P}` },
        { label: `netstat -ltnp | grep :${P}`, argv: ['netstat', '-ltnp'], grep: `:${P}` },
        { label: `pgrep ${ABSENT}`, argv: ['pgrep', ABSENT] },
        { label: `systemctl status ${ABSENT}`, argv: ['systemctl', 'status', ABSENT] },
      ],
    },
    {
      id: 'floor',
      label: 'floor',
      cmds: [NODE_NOOP, { label: `ss -Htan '${filter}'`, argv: ['ss', '-Htan', filter] }, { label: `pgrep ${ABSENT}`, argv: ['pgrep', ABSENT] }],
    },
    // UDP beside TCP (issue 13): the same closed port over UDP, and its floor with ss -u.
    ...closedPortUdpCases(P, ABSENT, filter),
    // Not a target: what `-p` costs ss on this host (it reads every fd of every process, filter or not).
    { id: 'ss-p-filtered', label: 'for reference: ss -p with the same filter', cmds: [{ label: `ss -Htanp '${filter}'`, argv: ['ss', '-Htanp', filter] }] },
    // Not a target: a cache directory that cannot be made, so every run compiles whyport (its first run anywhere).
    {
      id: 'whyport-closed-cold',
      label: 'for reference: whyport without its code cache',
      cmds: [{ label: `XDG_CACHE_HOME=/dev/null node dist/cli.cjs 127.0.0.1 ${P} --json --yes --process ${ABSENT}`, argv: ['env', 'XDG_CACHE_HOME=/dev/null', ...whyportCmd(['127.0.0.1', String(P), '--json', '--yes', '--process', ABSENT]).argv] }],
    },
  ];
}

/** The harness's side: the closed port's commands taking turns, one warm-up round. */
export function measureClosedPort(port: number, runs: number): Promise<CaseResult[]> {
  return measureGroup(`closed port ${port}`, closedPortCases(port), runs, 1);
}
