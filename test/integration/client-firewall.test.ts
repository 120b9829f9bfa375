import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { step, trace, type JsonRun } from '../helpers/cli-in-bed.js';
import { copyBuiltCli } from '../helpers/as-user.js';
import { startListener, stopAllListeners } from '../helpers/servers.js';

/**
 * The client's own rules first: a client namespace whose OUTPUT side drops or rejects the server's
 * port (real iptables and nftables rules, in namespaces of this test's own making, never the host's
 * firewall), a server namespace listening on it, and the built CLI run from the client. The
 * diagnosis is FIREWALL_BLOCKS on the client, naming its rule; --fix deletes it and the port answers.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'firewall rules and network namespaces need root (run the tests as root, e.g. in .ci/run)';
  const missing = [['nft', 'nftables'], ['iptables', 'iptables'], ['ping', 'iputils-ping'], ['ip', 'iproute2']].filter(([tool]) => spawnSync(tool!, ['-V'], { stdio: 'ignore' }).error);
  if (missing.length) return `missing ${missing.map(([t]) => t).join(', ')}: apt-get install -y ${missing.map(([, p]) => p).join(' ')}`;
  return undefined;
}

const reason = skipReason();
if (reason) console.warn(`skipping the client's own firewall tests: ${reason}`);

const asNobody = reason ? undefined : copyBuiltCli();
if (asNobody?.nobodySkipReason) console.warn(`skipping the non-root client firewall test: ${asNobody.nobodySkipReason}`);
const noNobody = asNobody?.nobodySkipReason !== undefined;

const TAG = process.pid.toString(36);
const CLIENT_NS = `wpt-ofc-${TAG}`;
const SERVER_NS = `wpt-ofs-${TAG}`;
const CLIENT = '10.213.12.1';
const SERVER = '10.213.12.2';
const PORT = 7072;

function sh(argv: string[], input?: string): string {
  return execFileSync(argv[0]!, argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], timeout: 10_000, encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
}
const inClient = (...argv: string[]) => sh(['ip', 'netns', 'exec', CLIENT_NS, ...argv]);

interface Run extends JsonRun {
  status: number;
}

async function fromClient(args: string[] = [], opts: { asNobody?: boolean } = {}): Promise<Run> {
  const run = opts.asNobody ? asNobody!.nobodyArgv : [process.execPath, CLI];
  const cwd = opts.asNobody ? asNobody!.cwd : undefined;
  const argv = [SERVER, String(PORT), '--timeout', '1500', ...args, '--json', '--yes'];
  const r = await execa('ip', ['netns', 'exec', CLIENT_NS, ...run, ...argv], { cwd, reject: false, stdin: 'ignore', timeout: 30_000, env: { NO_COLOR: '1' } });
  try {
    return { status: r.exitCode ?? -1, report: JSON.parse(r.stdout) as Report, stdout: r.stdout, stderr: r.stderr, argv };
  } catch {
    throw new Error(`whyport printed no JSON (exit ${r.exitCode}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

function expectCode(r: Run, code: string, status: number): void {
  expect(r.report.diagnosis.code, trace(r)).toBe(code);
  expect(r.status, trace(r)).toBe(status);
}

describe.skipIf(reason !== undefined)("from a client: its own firewall's output rules first", () => {
  beforeAll(async () => {
    for (const ns of [CLIENT_NS, SERVER_NS]) {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      sh(['ip', 'netns', 'add', ns]);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    sh(['ip', 'link', 'add', `oc${TAG}`, 'netns', CLIENT_NS, 'type', 'veth', 'peer', 'name', `os${TAG}`, 'netns', SERVER_NS]);
    sh(['ip', '-n', CLIENT_NS, 'addr', 'add', `${CLIENT}/24`, 'dev', `oc${TAG}`]);
    sh(['ip', '-n', SERVER_NS, 'addr', 'add', `${SERVER}/24`, 'dev', `os${TAG}`]);
    sh(['ip', '-n', CLIENT_NS, 'link', 'set', `oc${TAG}`, 'up']);
    sh(['ip', '-n', SERVER_NS, 'link', 'set', `os${TAG}`, 'up']);
    for (let i = 0; i < 25; i++) {
      if (spawnSync('ip', ['netns', 'exec', CLIENT_NS, 'ping', '-c', '1', '-W', '1', '-n', SERVER], { stdio: 'ignore' }).status === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await startListener({ host: '0.0.0.0', port: PORT, netns: SERVER_NS });
  }, 60_000);

  afterEach(() => {
    inClient('iptables', '-F', 'OUTPUT');
    inClient('iptables', '-t', 'raw', '-F', 'OUTPUT');
    inClient('nft', 'delete', 'table', 'inet', 'client').toString();
  });

  afterAll(async () => {
    await stopAllListeners();
    for (const ns of [CLIENT_NS, SERVER_NS]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });

  // afterEach deletes the nft table: every test makes one, empty when it needs none.
  const emptyTable = () => sh(['ip', 'netns', 'exec', CLIENT_NS, 'nft', 'add', 'table', 'inet', 'client']);

  it("the issue's case: `iptables -A OUTPUT -p tcp --dport 7072 -j DROP` is FIREWALL_BLOCKS here, naming the rule; --fix deletes it and the port answers", async () => {
    emptyTable();
    inClient('iptables', '-A', 'OUTPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP');
    const r = await fromClient();
    expectCode(r, 'FIREWALL_BLOCKS', 1);
    expect(r.report.steps.map((s) => [s.id, s.outcome])).toEqual([['where', 'remote'], ['probe-remote', 'filtered'], ['client-firewall', 'blocks']]);
    expect(step(r, 'client-firewall').evidence).toMatchObject({ tool: 'iptables', table: 'filter', chain: 'OUTPUT', rule: `-A OUTPUT -p tcp -m tcp --dport ${PORT} -j DROP`, oif: `oc${TAG}`, source: CLIENT });
    expect(r.report.diagnosis.title).toBe(`This machine's own firewall blocks connections to ${SERVER} port ${PORT}: iptables table filter, chain OUTPUT`);
    expect(r.report.diagnosis.explanation).not.toContain('run whyport on the server');
    expect(r.report.diagnosis.fix).toMatchObject({ commands: [`iptables -D OUTPUT -p tcp -m tcp --dport ${PORT} -j DROP`] });
    // The probe's timeout plus the firewall read: no more.
    expect(r.report.durationMs, trace(r)).toBeLessThanOrEqual(1500 + 1000);

    const fixed = await fromClient(['--fix']);
    expect(fixed.report.diagnosis.applied, trace(fixed)).toMatchObject({ command: `iptables -D OUTPUT -p tcp -m tcp --dport ${PORT} -j DROP`, exitCode: 0, verified: true, after: 'REACHABLE' });
    expect(inClient('iptables', '-S', 'OUTPUT').trim()).toBe('-P OUTPUT ACCEPT');
  });

  it('a REJECT in OUTPUT: the probe is refused (closed), and the answer is still this machine\'s rule', async () => {
    emptyTable();
    inClient('iptables', '-A', 'OUTPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'REJECT');
    const r = await fromClient();
    expectCode(r, 'FIREWALL_BLOCKS', 1);
    expect(step(r, 'probe-remote').outcome).toBe('closed');
    expect(step(r, 'client-firewall').evidence).toMatchObject({ verdict: 'reject', gets: 'its connections are refused at once (ECONNREFUSED), as if the port were closed' });
  });

  it('nftables: a reject on the output hook, deleted by its handle with --fix', async () => {
    sh(['ip', 'netns', 'exec', CLIENT_NS, 'nft', '-f', '-'], `table inet client {\n  chain output {\n    type filter hook output priority filter; policy accept;\n    tcp dport ${PORT} reject with icmpx admin-prohibited\n  }\n}\n`);
    const r = await fromClient();
    expectCode(r, 'FIREWALL_BLOCKS', 1);
    expect(step(r, 'client-firewall').evidence).toMatchObject({ tool: 'nftables', table: 'inet client', chain: 'output', rule: `tcp dport ${PORT} reject with icmpx admin-prohibited` });
    const handle = /reject with icmpx admin-prohibited # handle (\d+)/.exec(inClient('nft', '-a', 'list', 'chain', 'inet', 'client', 'output'))![1];
    expect(r.report.diagnosis.fix).toMatchObject({ commands: [`nft delete rule inet client output handle ${handle}`] });
    const fixed = await fromClient(['--fix']);
    expect(fixed.report.diagnosis.applied, trace(fixed)).toMatchObject({ exitCode: 0, verified: true, after: 'REACHABLE' });
  });

  it("UDP: a drop in OUTPUT fails the probe's own send (EPERM), and the rule is named", async () => {
    emptyTable();
    inClient('iptables', '-A', 'OUTPUT', '-p', 'udp', '--dport', String(PORT), '-j', 'DROP');
    const argv = [SERVER, `${PORT}/udp`, '--timeout', '1500', '--json', '--yes'];
    const r = await execa('ip', ['netns', 'exec', CLIENT_NS, process.execPath, CLI, ...argv], { reject: false, stdin: 'ignore', timeout: 30_000, env: { NO_COLOR: '1' } });
    const run: Run = { status: r.exitCode ?? -1, report: JSON.parse(r.stdout) as Report, stdout: r.stdout, stderr: r.stderr, argv };
    expectCode(run, 'FIREWALL_BLOCKS', 1);
    expect(step(run, 'probe-remote').evidence).toMatchObject({ because: expect.stringContaining('(EPERM)') });
    expect(step(run, 'client-firewall').evidence).toMatchObject({ rule: `-A OUTPUT -p udp -m udp --dport ${PORT} -j DROP`, gets: 'its sends fail at once with EPERM ("Operation not permitted")' });
    expect(run.report.diagnosis.title).toBe(`This machine's own firewall blocks datagrams to ${SERVER} port ${PORT}: iptables table filter, chain OUTPUT`);
  });

  it('a rule for another port: no false alarm, REACHABLE', async () => {
    emptyTable();
    inClient('iptables', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '7099', '-j', 'DROP');
    const r = await fromClient();
    expectCode(r, 'REACHABLE', 0);
  });

  it('a drop on the way (the server drops it), the client clean: PORT_FILTERED as before, with what the client read', async () => {
    emptyTable();
    sh(['ip', 'netns', 'exec', SERVER_NS, 'iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP']);
    try {
      const r = await fromClient();
      expectCode(r, 'PORT_FILTERED', 1);
      expect(step(r, 'client-firewall').outcome).toBe('allows');
      expect(r.report.diagnosis.evidence).toContain(step(r, 'client-firewall').summary);
    } finally {
      sh(['ip', 'netns', 'exec', SERVER_NS, 'iptables', '-F', 'INPUT']);
    }
  });

  it.skipIf(noNobody)("not root: the old verdict (PORT_FILTERED), nothing read, and a line saying what root would add", async () => {
    emptyTable();
    inClient('iptables', '-A', 'OUTPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP');
    const r = await fromClient([], { asNobody: true });
    expectCode(r, 'PORT_FILTERED', 1);
    expect(step(r, 'client-firewall')).toMatchObject({ outcome: 'no-permission', summary: `this machine's own firewall was not read: that needs root (as root, whyport would also look for a rule here that drops or rejects outgoing TCP to ${SERVER}:${PORT})` });
    expect(r.report.diagnosis.evidence).toContain(step(r, 'client-firewall').summary);
  });
});
