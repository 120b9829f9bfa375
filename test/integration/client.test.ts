import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report, StepRecord } from '../../src/report/model.js';
import { startListener, stopAllListeners } from '../helpers/servers.js';

/**
 * whyport from the client's side, for real: two network namespaces of this test's own making (a
 * client and a server joined by a veth pair, TESTBED.md), real listeners and real iptables rules
 * in the server namespace, and the built CLI run in the client namespace with --json. Nothing
 * touches the host's own network or firewall; the namespaces and their /etc/netns files are
 * deleted afterwards.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist', 'cli.js');

/** Installs what the test needs when it is missing (as CI does); the reason to skip otherwise. */
function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces and firewall rules need root (run the tests as root, e.g. in .ci/run)';
  const missing = [['ping', 'iputils-ping'], ['iptables', 'iptables'], ['ip', 'iproute2']].filter(([tool]) => spawnSync(tool!, ['-V'], { stdio: 'ignore' }).error);
  if (missing.length) {
    const install = spawnSync('apt-get', ['install', '-y', ...missing.map(([, pkg]) => pkg!)], { stdio: 'ignore', timeout: 180_000 });
    if (install.status !== 0) return `missing ${missing.map(([t]) => t).join(', ')} and apt-get install failed: apt-get install -y ${missing.map(([, p]) => p).join(' ')}`;
  }
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch (err) {
    return `cannot use network namespaces here: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

const reason = skipReason();
if (reason) console.warn(`skipping the client-side namespace tests: ${reason}`);

const TAG = process.pid.toString(36);
const CLIENT_NS = `wpt-cli-${TAG}`;
const SERVER_NS = `wpt-srv-${TAG}`;
const CLIENT = '10.213.9.1';
const SERVER = '10.213.9.2';
const SERVER6 = 'fd00:213:9::2';
/** Nothing uses it: no ARP answer. */
const UNUSED = '10.213.9.77';
/** No route covers it in the client namespace (it has no default gateway). */
const NOWHERE = '10.99.0.1';

const PORTS = { open: 7071, nothing: 7072, drop: 7073, reset: 7074, portUnreachable: 7075, prohibited: 7076, v4only: 7077 } as const;

function sh(argv: string[]): void {
  execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}
const inServer = (...argv: string[]) => sh(['ip', 'netns', 'exec', SERVER_NS, ...argv]);

interface Run {
  status: number;
  report: Report;
  stderr: string;
  /** Wall-clock time of the whole command, node's start-up included (printed, not asserted: on a busy machine node alone can take most of a second to start). */
  wallMs: number;
}

/** The built CLI inside the client namespace, --json --yes, optionally with a PATH of its own. */
async function whyport(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = performance.now();
  const r = await execa('ip', ['netns', 'exec', CLIENT_NS, process.execPath, CLI, ...args, '--json', '--yes'], {
    reject: false,
    stdin: 'ignore',
    timeout: 20_000,
    env: { NO_COLOR: '1', ...env },
    extendEnv: !env.PATH,
  });
  const wallMs = Math.round(performance.now() - started);
  timings.push(`${args.join(' ')}${env.PATH ? ' (no ping)' : ''}`);
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`whyport ${args.join(' ')} printed no JSON (exit ${r.exitCode}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  timings[timings.length - 1] += `: ${report.diagnosis.code} in ${report.durationMs} ms (${wallMs} ms with node's start-up)`;
  return { status: r.exitCode ?? -1, report, stderr: r.stderr, wallMs };
}

/** What each run cost, printed after the tests: whyport's own clock, and the wall clock. */
const timings: string[] = [];

function trace(r: Run): string {
  return `${r.report.diagnosis.code} (exit ${r.status}, ${r.report.durationMs} ms diagnosing, ${r.wallMs} ms in all) via\n${r.report.steps.map((s) => `  ${s.id} → ${s.outcome}: ${s.summary}`).join('\n')}${r.stderr ? `\nstderr: ${r.stderr}` : ''}`;
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

/** The client-side next move: whyport on the server, then the manual commands. */
function expectNextMove(r: Run, onServer: string, port: number): void {
  expect(r.report.diagnosis.fix, trace(r)).toEqual({
    summary: 'On the server, run whyport; without whyport there, see what listens on the port, then the firewall rules (as root)',
    commands: [onServer, `ss -Htlnp 'sport = :${port}'`, 'nft list ruleset', 'iptables -S'],
    manual: true,
  });
  expect(r.report.diagnosis.explanation).toContain('only visible on the server');
}

describe.skipIf(reason !== undefined)('from a client namespace against a server namespace', () => {
  beforeAll(async () => {
    for (const ns of [CLIENT_NS, SERVER_NS]) {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      sh(['ip', 'netns', 'add', ns]);
      // Addresses usable at once: no duplicate address detection.
      sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    sh(['ip', 'link', 'add', `wc${TAG}`, 'netns', CLIENT_NS, 'type', 'veth', 'peer', 'name', `ws${TAG}`, 'netns', SERVER_NS]);
    sh(['ip', '-n', CLIENT_NS, 'addr', 'add', `${CLIENT}/24`, 'dev', `wc${TAG}`]);
    sh(['ip', '-n', CLIENT_NS, 'addr', 'add', 'fd00:213:9::1/64', 'dev', `wc${TAG}`]);
    sh(['ip', '-n', SERVER_NS, 'addr', 'add', `${SERVER}/24`, 'dev', `ws${TAG}`]);
    sh(['ip', '-n', SERVER_NS, 'addr', 'add', `${SERVER6}/64`, 'dev', `ws${TAG}`]);
    sh(['ip', '-n', CLIENT_NS, 'link', 'set', `wc${TAG}`, 'up']);
    sh(['ip', '-n', SERVER_NS, 'link', 'set', `ws${TAG}`, 'up']);
    // ICMP errors at once, however many the tests provoke.
    inServer('sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0');

    // A private hosts file with names for the server, and a resolver at 127.0.0.1 that refuses.
    mkdirSync(`/etc/netns/${CLIENT_NS}`, { recursive: true });
    writeFileSync(`/etc/netns/${CLIENT_NS}/hosts`, `127.0.0.1 localhost\n${SERVER} appserver\n${SERVER6} appserver\n${SERVER} appserver4\n${SERVER} halfserver\n${SERVER6} halfserver\n`);
    writeFileSync(`/etc/netns/${CLIENT_NS}/resolv.conf`, 'nameserver 127.0.0.1\n');

    // A veth pair passes nothing for a moment after it comes up: wait for an echo each way.
    for (let i = 0; i < 25; i++) {
      const v4 = spawnSync('ip', ['netns', 'exec', CLIENT_NS, 'ping', '-c', '1', '-W', '1', '-n', SERVER], { stdio: 'ignore' });
      const v6 = spawnSync('ip', ['netns', 'exec', CLIENT_NS, 'ping', '-c', '1', '-W', '1', '-n', SERVER6], { stdio: 'ignore' });
      if (v4.status === 0 && v6.status === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    // Listeners on every port but `nothing` (dual stack, except v4only); the rules decide what clients meet.
    for (const port of [PORTS.open, PORTS.drop, PORTS.reset, PORTS.portUnreachable, PORTS.prohibited, 443]) {
      await startListener({ host: '::', port, netns: SERVER_NS });
    }
    await startListener({ host: '0.0.0.0', port: PORTS.v4only, netns: SERVER_NS });
    inServer('iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORTS.drop), '-j', 'DROP');
    inServer('iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORTS.reset), '-j', 'REJECT', '--reject-with', 'tcp-reset');
    inServer('iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORTS.portUnreachable), '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable');
    inServer('iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORTS.prohibited), '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited');
  }, 240_000);

  afterAll(async () => {
    console.log(`whyport from ${CLIENT_NS}:\n  ${timings.join('\n  ')}`);
    await stopAllListeners();
    // Deleting the namespaces deletes their veth ends and every rule made in them.
    for (const ns of [CLIENT_NS, SERVER_NS]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    rmSync(`/etc/netns/${CLIENT_NS}`, { recursive: true, force: true });
  });

  it('a listener: REACHABLE, exit 0', async () => {
    const r = await whyport([SERVER, String(PORTS.open)]);
    expectCode(r, 'REACHABLE', 0);
    expect(r.report.steps.map((s) => [s.id, s.outcome])).toEqual([['where', 'remote'], ['probe-remote', 'open'], ['protocol-remote', 'unknown']]);
    expect(r.report.target).toMatchObject({ host: SERVER, address: SERVER, port: PORTS.open, local: false });
  });

  it('nothing listening: PORT_CLOSED, with the whyport to run on the server (--process, --service passed on)', async () => {
    const r = await whyport([SERVER, String(PORTS.nothing), '--process', 'myapp', '--service', 'myapp.service']);
    expectCode(r, 'PORT_CLOSED', 1);
    expect(step(r, 'probe-remote')).toMatchObject({ outcome: 'closed', summary: `port ${PORTS.nothing}: closed — ${SERVER}:${PORTS.nothing} refuses the connection (ECONNREFUSED): the host is up and answered` });
    expectNextMove(r, `whyport ${SERVER} ${PORTS.nothing} --process myapp --service myapp.service`, PORTS.nothing);
  });

  it(`iptables DROP: PORT_FILTERED within the timeout + 0.5 s, because the host answers ping`, async () => {
    const r = await whyport([SERVER, String(PORTS.drop), '--timeout', '1000']);
    expectCode(r, 'PORT_FILTERED', 1);
    const probe = step(r, 'probe-remote');
    expect(probe.outcome).toBe('filtered');
    expect(probe.evidence.life).toMatch(/^it answers ping in [\d.]+ ms$/);
    expect(r.report.diagnosis.title).toBe(`Connections to ${SERVER} port ${PORTS.drop} time out: something drops them`);
    expectNextMove(r, `whyport ${SERVER} ${PORTS.drop}`, PORTS.drop);
    // whyport's own clock, from the start of the diagnosis to the report: TCP, ping and the route ran
    // at once; then the traceroute to the port (no hop answers on this one link), at most --timeout + 1.5 s.
    const path = step(r, 'path-remote');
    expect(path.outcome, trace(r)).toBe('lost-at-first');
    expect(path.durationMs, trace(r)).toBeLessThanOrEqual(1000 + 1500);
    expect(r.report.durationMs - path.durationMs, trace(r)).toBeLessThanOrEqual(1000 + 500);
  });

  it('REJECT with tcp-reset, and with icmp-port-unreachable: PORT_CLOSED (a refusal either way)', async () => {
    for (const port of [PORTS.reset, PORTS.portUnreachable]) {
      const r = await whyport([SERVER, String(port), '--timeout', '1000']);
      expectCode(r, 'PORT_CLOSED', 1);
      expect(step(r, 'probe-remote').outcome).toBe('closed');
    }
  });

  it('REJECT with icmp-admin-prohibited: PORT_FILTERED, since the host answers ping while the port says EHOSTUNREACH', async () => {
    const r = await whyport([SERVER, String(PORTS.prohibited), '--timeout', '1000']);
    expectCode(r, 'PORT_FILTERED', 1);
    const probe = step(r, 'probe-remote');
    expect(probe.outcome).toBe('prohibited');
    expect(probe.summary).toMatch(/EHOSTUNREACH\) although the host is up \(it answers ping in [\d.]+ ms\): a firewall rejects the port with an ICMP "administratively prohibited"$/);
    expect(r.report.diagnosis.title).toBe(`A firewall rejects connections to ${SERVER} port ${PORTS.prohibited}`);
    // The ICMP error arrives at once: no waiting for the timeout.
    expect(r.report.durationMs, trace(r)).toBeLessThan(1000);
  });

  it('an unused address on the subnet: HOST_UNREACHABLE (nobody answers ARP) within 3.5 s, with the default timeout', async () => {
    const r = await whyport([UNUSED, String(PORTS.open)]);
    expectCode(r, 'HOST_UNREACHABLE', 1);
    expect(step(r, 'probe-remote').outcome).toBe('unreachable');
    expect(step(r, 'route-remote')).toMatchObject({ outcome: 'on-link' });
    expect(step(r, 'route-remote').summary).toMatch(/nobody answers ARP for it \(ip neigh: (INCOMPLETE|FAILED)\) — the host is down/);
    expect(r.report.diagnosis.title).toBe(`${UNUSED} does not answer: it is down, or nothing uses that address`);
    expect(r.report.durationMs, trace(r)).toBeLessThanOrEqual(3500);
  });

  it('no route: HOST_UNREACHABLE, "no route", at once', async () => {
    const r = await whyport([NOWHERE, String(PORTS.open)]);
    expectCode(r, 'HOST_UNREACHABLE', 1);
    expect(step(r, 'route-remote')).toMatchObject({ outcome: 'no-route', summary: `no route to ${NOWHERE}: Network is unreachable (no route covers it, and there is no default gateway)` });
    expect(r.report.diagnosis.title).toBe(`There is no route from this machine to ${NOWHERE}`);
    expect(r.report.diagnosis.fix).toMatchObject({ commands: ['ip route show', 'ip -6 route show'], manual: true });
    expect(r.report.durationMs, trace(r)).toBeLessThan(1000);
  });

  it('a name from a private hosts file, both families, and a service-name port: REACHABLE on every address', async () => {
    const r = await whyport(['appserver', 'https']);
    expectCode(r, 'REACHABLE', 0);
    expect(r.report.target).toMatchObject({ host: 'appserver', port: 443, portName: 'https', addresses: [SERVER6, SERVER] });
    const probe = step(r, 'probe-remote');
    expect(probe.outcome).toBe('open');
    expect(probe.summary).toBe(`port 443 (https): ${SERVER6} open — [${SERVER6}]:443 accepts connections (the TCP handshake completes); ${SERVER} open — ${SERVER}:443 accepts connections (the TCP handshake completes)`);
  });

  it('a service-name port nobody serves: PORT_CLOSED, and the command for the server uses the number', async () => {
    const r = await whyport(['appserver4', 'http']);
    expectCode(r, 'PORT_CLOSED', 1);
    expect(step(r, 'probe-remote').summary.startsWith('port 80 (http): closed')).toBe(true);
    expectNextMove(r, `whyport ${SERVER} 80`, 80);
  });

  it('a name whose IPv6 address refuses while IPv4 accepts: REACHABLE, the failing address named', async () => {
    const r = await whyport(['halfserver', String(PORTS.v4only)]);
    expectCode(r, 'REACHABLE', 0);
    expect(step(r, 'probe-remote').outcome).toBe('partial');
    expect(r.report.diagnosis.title).toBe(`halfserver port ${PORTS.v4only} is reachable on some of its addresses only`);
    expect(r.report.findings).toEqual([{ code: 'ADDRESS_FAILS', summary: `${SERVER6}: [${SERVER6}]:${PORTS.v4only} refuses the connection (ECONNREFUSED): the host is up and answered`, step: 'probe-remote' }]);
  });

  it('a name that does not resolve, with a resolver that refuses: DNS_FAILURE, fast, with the resolver\'s error', async () => {
    const r = await whyport(['nosuch.invalid', String(PORTS.open)]);
    expectCode(r, 'DNS_FAILURE', 1);
    expect(r.report.steps.map((s) => [s.id, s.outcome])).toEqual([['where', 'unresolved'], ['resolver', 'refused']]);
    expect(step(r, 'resolver').summary).toMatch(/^nosuch\.invalid does not resolve \(getaddrinfo: EAI_AGAIN after \d+ ms\); asked directly, nameserver 127\.0\.0\.1 refuses the connection \(ECONNREFUSED\): no DNS server listens there$/);
    expect(r.report.diagnosis.title).toBe('nosuch.invalid does not resolve: no nameserver answers');
    expect(r.report.target.address).toBeNull();
    expect(r.report.durationMs, trace(r)).toBeLessThan(1000);
  });

  describe('without ping (a PATH that has none): said so, and the neighbour table stands in', () => {
    const NO_PING = { PATH: '/usr/sbin:/sbin' };

    it('DROP: still PORT_FILTERED, the host being up because it answered ARP', async () => {
      const r = await whyport([SERVER, String(PORTS.drop), '--timeout', '1000'], NO_PING);
      expectCode(r, 'PORT_FILTERED', 1);
      expect(step(r, 'probe-remote').evidence.life).toMatch(/^it answered ARP, ip neigh: REACHABLE /);
      expect(r.report.findings).toContainEqual(expect.objectContaining({ code: 'PING_MISSING', step: 'probe-remote' }));
    });

    it('icmp-admin-prohibited: still PORT_FILTERED', async () => {
      const r = await whyport([SERVER, String(PORTS.prohibited), '--timeout', '1000'], NO_PING);
      expectCode(r, 'PORT_FILTERED', 1);
      expect(step(r, 'probe-remote').outcome).toBe('prohibited');
    });

    it('nothing listening: PORT_CLOSED (a refusal proves the host is up)', async () => {
      const r = await whyport([SERVER, String(PORTS.nothing)], NO_PING);
      expectCode(r, 'PORT_CLOSED', 1);
    });

    it('an unused address: HOST_UNREACHABLE (no ARP answer)', async () => {
      const r = await whyport(['10.213.9.78', String(PORTS.open), '--timeout', '1000'], NO_PING);
      expectCode(r, 'HOST_UNREACHABLE', 1);
      expect(step(r, 'route-remote').outcome).toBe('on-link');
    });
  });
});
