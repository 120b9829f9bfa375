import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Report, StepRecord } from '../../src/report/model.js';
import { copyBuiltCli } from '../helpers/as-user.js';
import { startListener, stopAllListeners } from '../helpers/servers.js';

/**
 * whyport on the server, with real iptables and nftables rules loaded into a server namespace of
 * this test's own making (never the host's firewall), run against the server's own non-loopback
 * address; and from a client namespace, what a remote client meets meanwhile. Rules are flushed
 * after each test; the namespaces are deleted at the end.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'firewall rules and network namespaces need root (run the tests as root, e.g. in .ci/run)';
  const missing = [['nft', 'nftables'], ['iptables', 'iptables'], ['ping', 'iputils-ping'], ['ip', 'iproute2']].filter(([tool]) => spawnSync(tool!, ['-V'], { stdio: 'ignore' }).error);
  if (missing.length) {
    const install = spawnSync('apt-get', ['install', '-y', ...missing.map(([, pkg]) => pkg!)], { stdio: 'ignore', timeout: 180_000 });
    if (install.status !== 0) return `missing ${missing.map(([t]) => t).join(', ')} and apt-get install failed: apt-get install -y ${missing.map(([, p]) => p).join(' ')}`;
  }
  return undefined;
}

const reason = skipReason();
if (reason) console.warn(`skipping the server-side firewall tests: ${reason}`);

// The non-root cases run a copy of the build: nobody may not be able to enter the checkout.
const asNobody = reason ? undefined : copyBuiltCli();
if (asNobody?.nobodySkipReason) console.warn(`skipping the non-root firewall tests: ${asNobody.nobodySkipReason}`);
const noNobody = asNobody?.nobodySkipReason !== undefined;

const TAG = process.pid.toString(36);
const CLIENT_NS = `wpt-fwc-${TAG}`;
const SERVER_NS = `wpt-fws-${TAG}`;
const SERVER = '10.213.10.2';
const PORT = 7071;

function sh(argv: string[], input?: string): void {
  execFileSync(argv[0]!, argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'], timeout: 10_000, ...(input !== undefined ? { input } : {}) });
}
const inServer = (...argv: string[]) => sh(['ip', 'netns', 'exec', SERVER_NS, ...argv]);
const nftInServer = (ruleset: string) => sh(['ip', 'netns', 'exec', SERVER_NS, 'nft', '-f', '-'], ruleset);

interface Run {
  status: number;
  report: Report;
  stderr: string;
}

/** The built CLI in a namespace, --json --yes; as nobody (from the copy) when asked. */
async function whyportIn(ns: string, args: string[], opts: { asNobody?: boolean } = {}): Promise<Run> {
  const run = opts.asNobody ? asNobody!.nobodyArgv : [process.execPath, CLI];
  const cwd = opts.asNobody ? asNobody!.cwd : undefined;
  const r = await execa('ip', ['netns', 'exec', ns, ...run, ...args, '--json', '--yes'], { cwd, reject: false, stdin: 'ignore', timeout: 30_000, env: { NO_COLOR: '1' } });
  try {
    return { status: r.exitCode ?? -1, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
  } catch {
    throw new Error(`in ${ns}: whyport ${args.join(' ')} printed no JSON (exit ${r.exitCode}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}
const onServer = (...args: string[]) => whyportIn(SERVER_NS, [SERVER, String(PORT), ...args]);
const fromClient = (...args: string[]) => whyportIn(CLIENT_NS, [SERVER, String(PORT), '--timeout', '1000', ...args]);

function trace(r: Run): string {
  return `${r.report.diagnosis.code} (exit ${r.status}) via\n${r.report.steps.map((s) => `  ${s.id} → ${s.outcome}: ${s.summary}`).join('\n')}${r.stderr ? `\nstderr: ${r.stderr}` : ''}`;
}

function step(r: Run, id: string): StepRecord {
  const s = r.report.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step '${id}':\n${trace(r)}`);
  return s;
}

function expectCode(r: Run, code: string, status: number): void {
  expect(r.report.diagnosis.code, trace(r)).toBe(code);
  expect(r.status, trace(r)).toBe(status);
}

const LOOPBACK_THEN_DROP = `table inet filter {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "lo" accept
    tcp dport ${PORT} drop
  }
}
`;

describe.skipIf(reason !== undefined)('on the server: the firewall rule that blocks the port, named', () => {
  beforeAll(async () => {
    for (const ns of [CLIENT_NS, SERVER_NS]) {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      sh(['ip', 'netns', 'add', ns]);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    sh(['ip', 'link', 'add', `fc${TAG}`, 'netns', CLIENT_NS, 'type', 'veth', 'peer', 'name', `fs${TAG}`, 'netns', SERVER_NS]);
    sh(['ip', '-n', CLIENT_NS, 'addr', 'add', '10.213.10.1/24', 'dev', `fc${TAG}`]);
    sh(['ip', '-n', SERVER_NS, 'addr', 'add', `${SERVER}/24`, 'dev', `fs${TAG}`]);
    sh(['ip', '-n', CLIENT_NS, 'link', 'set', `fc${TAG}`, 'up']);
    sh(['ip', '-n', SERVER_NS, 'link', 'set', `fs${TAG}`, 'up']);
    inServer('sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0');
    // A veth pair passes nothing for a moment after it comes up, and its operational state turns UP
    // later still (the kernel's link watch): until then Node does not list the server's address as
    // the server's own. Wait for both.
    for (let i = 0; i < 25; i++) {
      const ping = spawnSync('ip', ['netns', 'exec', CLIENT_NS, 'ping', '-c', '1', '-W', '1', '-n', SERVER], { stdio: 'ignore' });
      const state = spawnSync('ip', ['-n', SERVER_NS, '-br', 'link', 'show', 'dev', `fs${TAG}`], { encoding: 'utf8' }).stdout;
      if (ping.status === 0 && /\sUP\s/.test(state)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // Listening on every address: the listener looks right, only the firewall stands in the way.
    await startListener({ host: '0.0.0.0', port: PORT, netns: SERVER_NS });
  }, 240_000);

  afterEach(() => {
    // Only the server namespace's own rules (iptables-nft keeps its tables in nftables too).
    inServer('iptables', '-F', 'INPUT');
    inServer('nft', 'flush', 'ruleset');
  });

  afterAll(async () => {
    await stopAllListeners();
    for (const ns of [CLIENT_NS, SERVER_NS]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    asNobody?.remove();
  });

  it('no rule: REACHABLE, after the firewall was checked, with the hint to look from the client', async () => {
    const r = await onServer();
    expectCode(r, 'REACHABLE', 0);
    expect(r.report.steps.map((s) => s.id).slice(-3)).toEqual(['connect-local', 'firewall', 'protocol-local']);
    expect(step(r, 'firewall').outcome).toBe('allows');
    expect(r.report.diagnosis.explanation).toContain('run whyport from that client');
  });

  it('iptables DROP for everyone: the connection from here times out, FIREWALL_BLOCKS names the rule and the iptables fix', async () => {
    inServer('iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP');
    const r = await onServer('--timeout', '1000');
    expectCode(r, 'FIREWALL_BLOCKS', 1);
    expect(step(r, 'connect-local').outcome).toBe('timeout');
    expect(step(r, 'firewall')).toMatchObject({
      outcome: 'blocks',
      summary: `iptables table filter, chain INPUT: \`-A INPUT -p tcp -m tcp --dport ${PORT} -j DROP\` drops connections to port ${PORT}`,
      command: 'iptables -S INPUT',
      evidence: expect.objectContaining({ tool: 'iptables', table: 'filter', chain: 'INPUT', rule: `-A INPUT -p tcp -m tcp --dport ${PORT} -j DROP` }),
    });
    expect(r.report.diagnosis.title).toBe('The firewall blocks port 7071: iptables table filter, chain INPUT');
    // The rule is about this port alone and the policy accepts: the fix deletes that very rule.
    expect(r.report.diagnosis.fix).toEqual({
      summary: `Delete the rule \`-A INPUT -p tcp -m tcp --dport ${PORT} -j DROP\` (table filter, chain INPUT): it is about port ${PORT} alone, and nothing else blocks the port without it (takes effect at once; save the rules (netfilter-persistent save) to keep it after a reboot)`,
      commands: [`iptables -D INPUT -p tcp -m tcp --dport ${PORT} -j DROP`],
    });
    expect(r.report.diagnosis.explanation).toContain(`The fix: Delete the rule \`-A INPUT -p tcp -m tcp --dport ${PORT} -j DROP\``);

    const fixed = await onServer('--fix', '--timeout', '1000');
    expect(fixed.report.diagnosis.applied, trace(fixed)).toMatchObject({ command: `iptables -D INPUT -p tcp -m tcp --dport ${PORT} -j DROP`, exitCode: 0, verified: true, after: 'REACHABLE' });
    // Removed, not overridden: the chain holds no rule at all now.
    expect(execFileSync('ip', ['netns', 'exec', SERVER_NS, 'iptables', '-S', 'INPUT'], { encoding: 'utf8' }).trim()).toBe('-P INPUT ACCEPT');
  });

  it('iptables: a DROP of every port behind a loopback accept is narrowed, not removed: an ACCEPT for this port alone goes ahead of it', async () => {
    inServer('iptables', '-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT');
    inServer('iptables', '-A', 'INPUT', '-j', 'DROP');
    const r = await onServer();
    expectCode(r, 'FIREWALL_BLOCKS', 1);
    expect(step(r, 'firewall').evidence).toMatchObject({ rule: '-A INPUT -j DROP', fixKind: 'narrow' });
    expect(r.report.diagnosis.fix?.commands).toEqual([`iptables -I INPUT -p tcp --dport ${PORT} -j ACCEPT`]);
    expect(r.report.diagnosis.fix?.summary).toContain(`\`-A INPUT -j DROP\` blocks every port, not port ${PORT} alone, so it stays`);

    const fixed = await onServer('--fix');
    expect(fixed.report.diagnosis.applied, trace(fixed)).toMatchObject({ exitCode: 0, verified: true, after: 'REACHABLE' });
    // The broad DROP is still there, behind the accept for this port only.
    expect(execFileSync('ip', ['netns', 'exec', SERVER_NS, 'iptables', '-S', 'INPUT'], { encoding: 'utf8' }).trim().split('\n')).toEqual([
      '-P INPUT ACCEPT',
      `-A INPUT -p tcp -m tcp --dport ${PORT} -j ACCEPT`,
      '-A INPUT -i lo -j ACCEPT',
      '-A INPUT -j DROP',
    ]);
    expectCode(await fromClient(), 'REACHABLE', 0);
  });

  it('iptables: a default DROP policy stays; the fix lets this port in and says why it does not touch the policy', async () => {
    inServer('iptables', '-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT');
    inServer('iptables', '-P', 'INPUT', 'DROP');
    try {
      const r = await onServer();
      expectCode(r, 'FIREWALL_BLOCKS', 1);
      expect(step(r, 'firewall').evidence).toMatchObject({ policy: true, fixKind: 'narrow' });
      expect(r.report.diagnosis.fix?.commands).toEqual([`iptables -I INPUT -p tcp --dport ${PORT} -j ACCEPT`]);
      expect(r.report.diagnosis.fix?.summary).toContain('the default policy (-P INPUT DROP) blocks every port that no rule lets in, so it stays');
    } finally {
      inServer('iptables', '-P', 'INPUT', 'ACCEPT');
    }
  });

  it('iptables: a DROP for this port alone with a second DROP of it behind: deleting the first would not open it, so it is narrowed', async () => {
    inServer('iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP');
    inServer('iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', `${PORT - 1}:${PORT + 1}`, '-j', 'DROP');
    const r = await onServer('--timeout', '1000');
    expectCode(r, 'FIREWALL_BLOCKS', 1);
    expect(r.report.diagnosis.fix?.commands).toEqual([`iptables -I INPUT -p tcp --dport ${PORT} -j ACCEPT`]);
    expect(r.report.diagnosis.fix?.summary).toContain(`deleting \`-A INPUT -p tcp -m tcp --dport ${PORT} -j DROP\` alone would not open the port: \`-A INPUT -p tcp -m tcp --dport ${PORT - 1}:${PORT + 1} -j DROP\` would block it next`);
  });

  it('iptables REJECT for everyone: the connection from here is refused, FIREWALL_BLOCKS', async () => {
    inServer('iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'REJECT', '--reject-with', 'tcp-reset');
    const r = await onServer();
    expectCode(r, 'FIREWALL_BLOCKS', 1);
    expect(step(r, 'connect-local').outcome).toBe('refused');
    expect(step(r, 'firewall').summary).toBe(`iptables table filter, chain INPUT: \`-A INPUT -p tcp -m tcp --dport ${PORT} -j REJECT --reject-with tcp-reset\` rejects (with tcp-reset) connections to port ${PORT}`);
  });

  it('iptables: loopback accepted before the DROP — local tests pass, remote clients fail, and both sides say so', async () => {
    inServer('iptables', '-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT');
    inServer('iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP');
    const server = await onServer();
    expectCode(server, 'FIREWALL_BLOCKS', 1);
    expect(step(server, 'connect-local').outcome).toBe('connected');
    expect(step(server, 'firewall').evidence).toMatchObject({ remoteOnly: true, loopback: 'connections over loopback are accepted before it, by `-A INPUT -i lo -j ACCEPT` (iptables table filter, chain INPUT)' });
    expect(server.report.diagnosis.title).toBe('The firewall blocks port 7071 for clients on other machines');
    expect(server.report.diagnosis.explanation).toContain('tests on the server pass while remote clients fail');
    const client = await fromClient();
    expectCode(client, 'PORT_FILTERED', 1);
  });

  it('nftables: a native table with a loopback accept before the drop; --fix deletes the drop by its handle and the port opens for clients', async () => {
    nftInServer(LOOPBACK_THEN_DROP);
    const before = await fromClient();
    expectCode(before, 'PORT_FILTERED', 1);

    const r = await onServer();
    expectCode(r, 'FIREWALL_BLOCKS', 1);
    expect(step(r, 'firewall')).toMatchObject({
      outcome: 'blocks',
      summary: `nftables table inet filter, chain input: \`tcp dport ${PORT} drop\` drops connections to port ${PORT} from other machines; connections over loopback are accepted before it, by \`iifname "lo" accept\` (nftables table inet filter, chain input)`,
      command: 'nft -a list chain inet filter input',
    });
    expect(r.report.diagnosis.explanation).toContain(`A client on another machine meets nftables table inet filter, chain input instead: \`tcp dport ${PORT} drop\` drops its connection.`);
    const handle = /tcp dport 7071 drop # handle (\d+)/.exec(execFileSync('ip', ['netns', 'exec', SERVER_NS, 'nft', '-a', 'list', 'chain', 'inet', 'filter', 'input'], { encoding: 'utf8' }))![1];
    expect(r.report.diagnosis.fix?.commands).toEqual([`nft delete rule inet filter input handle ${handle}`]);
    expect(r.report.diagnosis.fix?.summary).toMatch(/^Delete the rule `tcp dport 7071 drop` \(inet filter, chain input\): it is about port 7071 alone, and nothing else blocks the port without it \(takes effect at once; change the ruleset file \(\/etc\/nftables\.conf\) the same way to keep it after a reboot\)$/);
    expect(r.report.diagnosis.fix?.manual).toBeUndefined();

    const fixed = await onServer('--fix');
    expect(fixed.report.diagnosis.applied, trace(fixed)).toMatchObject({ command: `nft delete rule inet filter input handle ${handle}`, exitCode: 0, verified: true, after: 'REACHABLE' });
    // Only that rule went: the loopback accept stays.
    const left = execFileSync('ip', ['netns', 'exec', SERVER_NS, 'nft', 'list', 'chain', 'inet', 'filter', 'input'], { encoding: 'utf8' });
    expect(left).toContain('iifname "lo" accept');
    expect(left).not.toContain('drop');
    const after = await fromClient();
    expectCode(after, 'REACHABLE', 0);
  });

  it.skipIf(noNobody)('not root, the port reachable here: REACHABLE still, with a finding that the firewall could not be read', async () => {
    nftInServer(LOOPBACK_THEN_DROP);
    const r = await whyportIn(SERVER_NS, [SERVER, String(PORT)], { asNobody: true });
    expectCode(r, 'REACHABLE', 0);
    expect(step(r, 'firewall').outcome).toBe('no-permission');
    expect(r.report.findings).toContainEqual(expect.objectContaining({ code: 'FIREWALL_UNREADABLE', summary: expect.stringContaining('run whyport as root') }));
  });

  it.skipIf(noNobody)('not root, and connections from here time out: INCONCLUSIVE, saying the rules need root', async () => {
    inServer('iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP');
    const r = await whyportIn(SERVER_NS, [SERVER, String(PORT), '--timeout', '1000'], { asNobody: true });
    expectCode(r, 'INCONCLUSIVE', 3);
    expect(step(r, 'firewall').outcome).toBe('no-permission');
    expect(r.report.diagnosis.explanation).toContain('cannot be read without root');
  });
});
