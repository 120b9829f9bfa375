import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report, StepRecord } from '../../src/report/model.js';
import { startListener, stopAllListeners } from '../helpers/servers.js';
import { copyBuiltCli, type BuiltCopy } from '../helpers/as-user.js';

/**
 * The hop where it dies, for real: two routers between a client and a server (TESTBED.md, "Two
 * routers": client — r1 — r2 — server in four network namespaces of this test's own making,
 * forwarding on r1 and r2, routes both ways), r2 dropping port 80 in its FORWARD chain, a listener
 * on the server's port 80. whyport from the client times out on the port and traces the path with
 * the real traceroute: r1 and r2 answer, then silence. Nothing touches the host's own network.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces, routers and firewall rules need root (run the tests as root, e.g. in .ci/run)';
  const missing = [['traceroute', 'traceroute'], ['iptables', 'iptables'], ['ip', 'iproute2']].filter(([tool]) => spawnSync(tool!, ['--version'], { stdio: 'ignore' }).error);
  if (missing.length) return `missing ${missing.map(([t]) => t).join(', ')}: apt-get install -y ${missing.map(([, p]) => p).join(' ')}`;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch (err) {
    return `cannot use network namespaces here: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

const reason = skipReason();
if (reason) console.warn(`skipping the two-router path tests: ${reason}`);

const TAG = process.pid.toString(36);
const NS = { client: `wpt-pc-${TAG}`, r1: `wpt-p1-${TAG}`, r2: `wpt-p2-${TAG}`, server: `wpt-ps-${TAG}` };
const R1 = '10.213.21.1';
const R2 = '10.213.22.2';
const SERVER = '10.213.23.2';
const PORT = 80;
const TIMEOUT_MS = 1500;

function sh(argv: string[]): void {
  execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}
const ipn = (ns: string, ...args: string[]) => sh(['ip', '-n', ns, ...args]);
const inNs = (ns: string, ...argv: string[]) => sh(['ip', 'netns', 'exec', ns, ...argv]);

interface Run {
  status: number;
  report: Report;
  stdout: string;
  stderr: string;
}

/** The built CLI in the client namespace (as nobody from a copy, or with a PATH of its own, when asked). */
async function whyport(args: string[], opts: { env?: Record<string, string>; as?: BuiltCopy; json?: boolean } = {}): Promise<Run> {
  const run = opts.as ? opts.as.nobodyArgv : [process.execPath, CLI];
  const json = opts.json ?? true;
  const r = await execa('ip', ['netns', 'exec', NS.client, ...run, ...args, ...(json ? ['--json'] : []), '--yes'], {
    reject: false,
    stdin: 'ignore',
    timeout: 30_000,
    cwd: opts.as?.cwd,
    env: { NO_COLOR: '1', ...opts.env },
    extendEnv: !opts.env?.PATH,
  });
  if (!json) return { status: r.exitCode ?? -1, report: undefined as unknown as Report, stdout: r.stdout, stderr: r.stderr };
  try {
    return { status: r.exitCode ?? -1, report: JSON.parse(r.stdout) as Report, stdout: r.stdout, stderr: r.stderr };
  } catch {
    throw new Error(`whyport ${args.join(' ')} printed no JSON (exit ${r.exitCode}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

function trace(r: Run): string {
  return `${r.report.diagnosis.code} (exit ${r.status}) via\n${r.report.steps.map((s) => `  ${s.id} → ${s.outcome} (${s.durationMs} ms): ${s.summary}`).join('\n')}${r.stderr ? `\nstderr: ${r.stderr}` : ''}`;
}

function step(r: Run, id: string): StepRecord {
  const s = r.report.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step '${id}':\n${trace(r)}`);
  return s;
}

const args = [SERVER, String(PORT), '--timeout', String(TIMEOUT_MS)];

describe.skipIf(reason !== undefined)('two routers, the second dropping the port', () => {
  let nobody: BuiltCopy | undefined;
  /** A PATH of everything in /usr/bin but traceroute (Debian links it there and in /usr/sbin). */
  let noTraceroute = '';

  beforeAll(async () => {
    for (const ns of Object.values(NS)) {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      sh(['ip', 'netns', 'add', ns]);
      ipn(ns, 'link', 'set', 'lo', 'up');
    }
    const link = (a: string, aIf: string, b: string, bIf: string) => sh(['ip', 'link', 'add', aIf, 'netns', a, 'type', 'veth', 'peer', 'name', bIf, 'netns', b]);
    link(NS.client, `pc${TAG}`, NS.r1, `p1a${TAG}`);
    link(NS.r1, `p1b${TAG}`, NS.r2, `p2a${TAG}`);
    link(NS.r2, `p2b${TAG}`, NS.server, `ps${TAG}`);
    const addr = (ns: string, cidr: string, dev: string) => {
      ipn(ns, 'addr', 'add', cidr, 'dev', dev);
      ipn(ns, 'link', 'set', dev, 'up');
    };
    addr(NS.client, '10.213.21.2/24', `pc${TAG}`);
    addr(NS.r1, `${R1}/24`, `p1a${TAG}`);
    addr(NS.r1, '10.213.22.1/24', `p1b${TAG}`);
    addr(NS.r2, `${R2}/24`, `p2a${TAG}`);
    addr(NS.r2, '10.213.23.1/24', `p2b${TAG}`);
    addr(NS.server, `${SERVER}/24`, `ps${TAG}`);
    ipn(NS.client, 'route', 'add', 'default', 'via', R1);
    ipn(NS.r1, 'route', 'add', '10.213.23.0/24', 'via', R2);
    ipn(NS.r2, 'route', 'add', '10.213.21.0/24', 'via', '10.213.22.1');
    ipn(NS.server, 'route', 'add', 'default', 'via', '10.213.23.1');
    for (const r of [NS.r1, NS.r2]) inNs(r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    for (const ns of [NS.r1, NS.r2, NS.server]) inNs(ns, 'sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0');
    for (let i = 0; i < 25; i++) {
      if (spawnSync('ip', ['netns', 'exec', NS.client, 'ping', '-c', '1', '-W', '1', '-n', SERVER], { stdio: 'ignore' }).status === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await startListener({ host: '0.0.0.0', port: PORT, netns: NS.server });
    inNs(NS.r2, 'iptables', '-A', 'FORWARD', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP');
    nobody = copyBuiltCli();
    noTraceroute = mkdtempSync(join(tmpdir(), 'wpt-no-traceroute-'));
    for (const name of readdirSync('/usr/bin')) if (!/traceroute/.test(name)) symlinkSync(join('/usr/bin', name), join(noTraceroute, name));
  }, 60_000);

  afterAll(async () => {
    nobody?.remove();
    if (noTraceroute) rmSync(noTraceroute, { recursive: true, force: true });
    await stopAllListeners();
    for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });

  it('as root: PORT_FILTERED, and the SYNs pass r1 and are lost after r2, within --timeout + 1.5 s', async () => {
    const r = await whyport(args);
    expect(r.report.diagnosis.code, trace(r)).toBe('PORT_FILTERED');
    expect(r.status).toBe(1);
    expect(r.report.steps.map((s) => [s.id, s.outcome]), trace(r)).toEqual([['where', 'remote'], ['probe-remote', 'filtered'], ['client-firewall', 'allows'], ['path-remote', 'lost-after']]);
    expect(r.report.diagnosis.path).toEqual({ hops: [R1, R2], lastHop: R2 });
    const path = step(r, 'path-remote');
    expect(path.summary).toBe(`the SYNs pass ${R1} and are lost after ${R2} (hop 2; no answer from hop 3 on)`);
    expect(path.command).toBe(`traceroute -T -n -p ${PORT} -q 1 -w 1 -N 30 -m 30 ${SERVER}`);
    expect(r.report.diagnosis.evidence).toContain(path.summary);
    expect(r.report.diagnosis.explanation).toContain(`A traceroute to the port from here: the SYNs pass ${R1} and are lost after ${R2}`);
    // The time the trace adds: the step's own, bounded by --timeout + 1.5 s (and some slack for a busy machine).
    console.log(`path-remote took ${path.durationMs} ms (bound ${TIMEOUT_MS + 1500} ms); the whole diagnosis ${r.report.durationMs} ms`);
    expect(path.durationMs).toBeLessThanOrEqual(TIMEOUT_MS + 1500 + 500);
  });

  it('the text report says it in one line', async () => {
    const r = await whyport(args, { json: false });
    expect(r.stdout).toContain(`Path: the SYNs pass ${R1} and are lost after ${R2}`);
  });

  it('without traceroute on PATH: one line names the package, the verdict unchanged', async () => {
    const r = await whyport(args, { env: { PATH: noTraceroute } });
    expect(r.report.diagnosis.code, trace(r)).toBe('PORT_FILTERED');
    const path = step(r, 'path-remote');
    expect(path.outcome).toBe('no-tool');
    expect(path.summary).toBe('not traced: traceroute is not installed (apt install traceroute: a TCP traceroute to the port names the last router the SYNs pass)');
    expect(r.report.diagnosis.path).toBeUndefined();
    expect(r.report.diagnosis.evidence).toContain(path.summary);
  });

  it('as nobody: the "run as root" note, the verdict unchanged', async () => {
    if (nobody?.nobodySkipReason) {
      console.warn(`skipping the nobody run: ${nobody.nobodySkipReason}`);
      return;
    }
    const r = await whyport(args, { as: nobody });
    expect(r.report.diagnosis.code, trace(r)).toBe('PORT_FILTERED');
    const path = step(r, 'path-remote');
    expect(path.outcome).toBe('not-root');
    expect(path.summary).toMatch(/^not traced: run as root for a TCP traceroute/);
    expect(r.report.diagnosis.path).toBeUndefined();
  });
});
