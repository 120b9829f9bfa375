/**
 * Case "ssh" (issue 11): two namespaces of its own, client and server, on a veth in 10.213.250.0/24,
 * a private sshd (sshd.ts) in the server's and nothing on the port. Inside the client's it times,
 * interleaved, `ssh root@SERVER true` on a fresh connection against the whole two-ended diagnosis
 * `whyport SERVER PORT --ssh root@SERVER --json --yes` (and, for reference, one command over an
 * already open connection: what each further remote command costs), and counts the remote
 * commands each diagnosis ran twice over: from sshd's log (one `ctype session` line per command)
 * and from the report's `vantages.server.commands`. It is skipped, with the reason, where sshd,
 * ssh, ssh-keygen or unshare is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, intEnv, log } from './shared/common.js';
import { caseRows, f1, machineLines, perRun, targetRow } from './shared/print.js';
import { addNamespace, measureInNamespace, must, res } from './shared/resources.js';
import { measureGroup, type Case, type CaseResult } from './shared/timing.js';
import { SSH_SUBNET, SSHD_PORT, startSshd, tailOf } from './sshd.js';

/** What a client needs to reach the bench's sshd, and where that sshd logs. */
export interface SshReach {
  server: string;
  user: string;
  keyPath: string;
  knownHostsPath: string;
  sshdLog: string;
  /** Where the harness keeps an open master connection for the reference case (in the bench's temp dir). */
  controlPath: string;
}

function sshOptions(s: SshReach): string[] {
  return [`UserKnownHostsFile=${s.knownHostsPath}`, `IdentityFile=${s.keyPath}`, 'IdentitiesOnly=yes'];
}

/**
 * The commands of the ssh case: a bare fresh connection, the whole two-ended diagnosis, and for
 * reference one command over the harness's open connection (what each further remote command costs).
 */
function sshCases(port: number, s: SshReach): Case[] {
  const dest = `${s.user}@${s.server}`;
  const options = sshOptions(s);
  const sessions = () => countSessions(readFileSync(s.sshdLog, 'utf8'));
  return [
    {
      id: 'ssh-true',
      label: `ssh ${dest} true`,
      counter: sessions,
      cmds: [
        {
          label: `ssh -o BatchMode=yes -o UserKnownHostsFile=K -o IdentityFile=KEY -o IdentitiesOnly=yes ${dest} true`,
          // ControlMaster=no, ControlPath=none: a fresh connection each time, whatever a config file says.
          argv: ['ssh', '-o', 'BatchMode=yes', ...options.flatMap((o) => ['-o', o]), '-o', 'ControlMaster=no', '-o', 'ControlPath=none', dest, 'true'],
          timeoutMs: 30_000,
        },
      ],
    },
    {
      id: 'whyport-ssh',
      label: `whyport ${s.server} ${port} --ssh ${dest} --json --yes`,
      whyport: true,
      counter: sessions,
      cmds: [
        {
          label: `node dist/cli.cjs ${s.server} ${port} --ssh ${dest} --ssh-option … --json --yes`,
          argv: [process.execPath, CLI, s.server, String(port), '--ssh', dest, ...options.flatMap((o) => ['--ssh-option', o]), '--json', '--yes'],
          timeoutMs: 90_000,
        },
      ],
    },
    {
      id: 'ssh-mux',
      label: `ssh ${dest} true over an open connection`,
      cmds: [
        {
          label: `ssh -o ControlPath=MUX … ${dest} true`,
          argv: ['ssh', '-o', 'BatchMode=yes', ...options.flatMap((o) => ['-o', o]), '-o', 'ControlMaster=no', '-o', `ControlPath=${s.controlPath}`, dest, 'true'],
          timeoutMs: 30_000,
        },
      ],
    },
  ];
}

/**
 * Opens the master connection the reference case uses (ssh -f backgrounds once authenticated;
 * ControlPersist bounds its life should the harness die without closing it).
 */
function openMaster(s: SshReach): void {
  const argv = ['ssh', '-o', 'BatchMode=yes', ...sshOptions(s).flatMap((o) => ['-o', o]), '-o', 'ControlMaster=yes', '-o', 'ControlPersist=120', '-o', `ControlPath=${s.controlPath}`, '-E', `${s.controlPath}.log`, '-f', '-N', `${s.user}@${s.server}`];
  // No pipes: the backgrounded master would hold them open and spawnSync would wait for it.
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}); see ${s.controlPath}.log`);
}

function closeMaster(s: SshReach): void {
  spawnSync('ssh', ['-o', `ControlPath=${s.controlPath}`, '-O', 'exit', `${s.user}@${s.server}`], { stdio: 'ignore', timeout: 10_000 });
}

/** sshd at LogLevel DEBUG1 logs one such line per channel a command runs in. */
function countSessions(log: string): number {
  let n = 0;
  for (const line of log.split('\n')) if (line.includes('server_input_channel_open: ctype session')) n++;
  return n;
}

/** The harness's side: the three commands taking turns, with the reference's master connection open meanwhile. */
export async function measureSsh(port: number, runs: number, reach: SshReach): Promise<CaseResult[]> {
  openMaster(reach);
  try {
    return await measureGroup(`ssh to ${reach.server}`, sshCases(port, reach), runs, 1);
  } finally {
    closeMaster(reach);
  }
}

/** Case "ssh" (issue 11): the two-ended diagnosis against a bare `ssh SERVER true`, and its remote commands. */
export async function benchSsh(port: number, loadBefore: number[]): Promise<Record<string, unknown>> {
  if (port === SSHD_PORT) throw new Error(`WPT_BENCH_PORT must not be ${SSHD_PORT}: the ssh case's sshd listens there`);
  const runs = intEnv('WPT_BENCH_SSH_RUNS', 7, 3);
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'wpt-bench-ssh-'));
  res.tmps.push(dir);
  const cli = addNamespace(`wpt-bench-cli-${process.pid}`);
  const srv = addNamespace(`wpt-bench-srv-${process.pid}`);
  const client = `${SSH_SUBNET}.1`;
  const server = `${SSH_SUBNET}.2`;
  // Interface names are per namespace: the veth never appears in the machine's own.
  must(['ip', '-n', cli, 'link', 'add', 'wpbC', 'type', 'veth', 'peer', 'name', 'wpbS', 'netns', srv]);
  must(['ip', '-n', cli, 'addr', 'add', `${client}/24`, 'dev', 'wpbC']);
  must(['ip', '-n', srv, 'addr', 'add', `${server}/24`, 'dev', 'wpbS']);
  must(['ip', '-n', cli, 'link', 'set', 'wpbC', 'up']);
  must(['ip', '-n', srv, 'link', 'set', 'wpbS', 'up']);
  must(['ip', 'netns', 'exec', srv, 'sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0']);

  const sshd = await startSshd(srv, dir, server);
  const knownHostsPath = join(dir, 'known_hosts');
  const [type, key] = sshd.hostKey.split(/\s+/);
  writeFileSync(knownHostsPath, `${server} ${type} ${key}\n`);
  const reach: SshReach = { server, user: 'root', keyPath: sshd.keyPath, knownHostsPath, sshdLog: sshd.logPath, controlPath: join(dir, 'mux') };

  const busy = must(['ip', 'netns', 'exec', srv, 'ss', '-Htln', `sport = :${port}`]).trim();
  if (busy) throw new Error(`something listens on port ${port} in ${srv}: ${busy}`);
  // One bare connection first, so a key or host-key problem is a clear error rather than n failed runs.
  const check = sshCases(port, reach)[0]!.cmds[0]!.argv;
  const first = spawnSync('ip', ['netns', 'exec', cli, ...check], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (first.status !== 0) throw new Error(`${check.join(' ')} in ${cli} failed (${first.error?.message ?? `exit ${first.status}`}): ${first.stderr.trim()}; ${tailOf(sshd.logPath)}`);
  log(`bench: sshd pid ${sshd.pid} in ${srv} at ${server}:${SSHD_PORT}, client namespace ${cli} at ${client}, ready after ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Each round at most its commands' timeouts (30 s + 90 s + 30 s).
  const results = await measureInNamespace(cli, { phase: 'ssh', port, runs, ssh: reach }, (runs + 1) * 150_000 + 60_000);
  const text = printSsh(results, { cli, srv, client, server, port, sshdPid: sshd.pid, dir, reach, loadBefore });
  return { runs, port, client, server, results, text, settings: `WPT_BENCH_SSH_RUNS=${runs}` };
}

function printSsh(all: CaseResult[], meta: { cli: string; srv: string; client: string; server: string; port: number; sshdPid: number; dir: string; reach: SshReach; loadBefore: number[] }): string {
  const bare = all.find((r) => r.id === 'ssh-true');
  const why = all.find((r) => r.id === 'whyport-ssh');
  const mux = all.find((r) => r.id === 'ssh-mux');
  const dest = `${meta.reach.user}@${meta.server}`;
  const lines: string[] = [];
  lines.push(`whyport --ssh benchmark: client namespace ${meta.cli} (${meta.client}) → sshd pid ${meta.sshdPid} (LogLevel DEBUG1) in ${meta.srv} at ${meta.server}:${SSHD_PORT}; nothing listens on ${meta.port}`);
  lines.push(...machineLines(meta.loadBefore, 'medians after a warm-up (min … max), wall time per run, timed inside the client namespace, the two taking turns'));
  lines.push(`  K=${meta.reach.knownHostsPath} KEY=${meta.reach.keyPath} MUX=${meta.reach.controlPath}`);
  for (const r of [bare, why, mux]) if (r) lines.push(`  $ ${r.parts[0]}`);
  lines.push('');
  lines.push(`Fresh connection against the whole two-ended diagnosis of ${meta.server}:${meta.port}:`);
  lines.push(...caseRows(`ssh ${dest} true (fresh connection)`, bare));
  lines.push(...caseRows(`whyport --ssh ${dest} (${why?.diagnosis ?? 'no report'})`, why));
  lines.push(...caseRows('for reference: one more command on an open connection', mux));
  lines.push('');
  lines.push('Ratio and remote commands (issue 11 targets):');
  lines.push(targetRow('whyport --ssh / ssh SERVER true', why, bare, '≤ 3×', (x) => x <= 3));
  const logged = why?.counted ?? [];
  const reported = why?.serverCommands ?? [];
  const most = (xs: readonly (number | null)[]) => (xs.length > 0 && xs.every((x) => x !== null) ? Math.max(...(xs as number[])) : undefined);
  const countRow = (label: string, n: number | undefined, note: string) => `  ${label.padEnd(44)}${(n === undefined ? 'n/a' : String(n)).padStart(8)}   ${note}`;
  const worst = most(logged);
  lines.push(countRow('remote commands a diagnosis, sshd log', worst, `target ≤ 8${worst !== undefined && worst > 8 ? '   (missed)' : ''}   ${perRun(logged)}`));
  const agree = reported.length === logged.length && reported.every((x, i) => x === logged[i]);
  lines.push(countRow('remote commands, vantages.server.commands', most(reported), agree ? 'the same as sshd log, run by run' : `differs from sshd log: ${perRun(reported)}`));
  const bareCounts = bare?.counted ?? [];
  lines.push(countRow('(check) sshd log for one ssh SERVER true', most(bareCounts), bareCounts.every((x) => x === 1) ? 'as expected, one a run' : `expected 1 a run: ${perRun(bareCounts)}`));
  if (why?.inProcessMs !== undefined) {
    lines.push('');
    lines.push(`Where whyport --ssh's time goes (medians): wall ${f1(why.median)} ms, report durationMs (from whyport's process start) ${f1(why.inProcessMs)} ms, outside it ${f1(why.median - why.inProcessMs)} ms`);
    for (const s of why.steps ?? []) lines.push(`    ${`[${s.where ?? '?'}] ${s.id}`.padEnd(30)}${f1(s.medianMs).padStart(7)} ms  ${s.outcome.padEnd(12)} ${s.command.split('\n')[0]}`);
    const n = most(logged);
    if (bare && mux && n !== undefined && n >= 1) {
      // A fresh `ssh true` is one connection and one command; the diagnosis is one connection and n commands, plus node.
      const estimate = why.median - why.inProcessMs + bare.median + (n - 1) * mux.median;
      lines.push(`  estimate: outside durationMs + ssh SERVER true + ${n - 1} more command${n === 2 ? '' : 's'} × ${f1(mux.median)} ms = ${f1(estimate)} ms (measured ${f1(why.median)} ms)`);
    }
    lines.push(`  ran on the server (vantages.server.ran, last run):`);
    (why.serverRan ?? []).forEach((c, i) => lines.push(`    ${i + 1}. ${c}`));
  }
  const text = lines.join('\n');
  process.stdout.write(`\n${text}\n`);
  return text;
}
