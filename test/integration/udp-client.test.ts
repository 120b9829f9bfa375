import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report, StepRecord } from '../../src/report/model.js';
import { REPO_ROOT } from '../helpers/nspawn.js';
import { netnsSkipReason } from '../helpers/netns.js';
import { twoHostNetwork, type TwoHosts } from '../helpers/ssh.js';

/**
 * whyport from a client against UDP ports, for real: a client and a server namespace of this
 * test's own joined by a veth pair (IPv4 and IPv6), a real DNS server (dnsmasq) in the server's,
 * real iptables and ip6tables rules there, and the built CLI run in the client's with --json.
 * nmap's UDP rule end to end: a reply is REACHABLE, an ICMP port unreachable PORT_CLOSED, an
 * ICMP admin-prohibited PORT_FILTERED, silence OPEN_OR_FILTERED (exit 3) — also under the
 * server's ICMP rate limit, which the retries outlast.
 */

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const PORTS = { nothing: 7072, drop: 7073, portUnreachable: 7075, prohibited: 7076, hostUnreachable: 7078 } as const;

function skipReason(): string | undefined {
  const ns = netnsSkipReason();
  if (ns) return ns;
  const missing = [['ping', 'iputils-ping'], ['iptables', 'iptables'], ['dnsmasq', 'dnsmasq-base']].filter(([tool]) => spawnSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return undefined;
  const install = spawnSync('apt-get', ['install', '-y', ...missing.map(([, pkg]) => pkg!)], { stdio: 'ignore', timeout: 180_000 });
  return install.status === 0 ? undefined : `missing ${missing.map(([t]) => t).join(', ')} and apt-get install failed: apt-get install -y ${missing.map(([, p]) => p).join(' ')}`;
}

const reason = skipReason();
if (reason) console.warn(`skipping the UDP client tests: ${reason}`);

interface Run {
  status: number | null;
  report: Report;
  stderr: string;
}

describe.skipIf(reason !== undefined)('UDP from a client namespace against a server namespace', () => {
  let net: TwoHosts;
  let server = '';
  let server6 = '';
  let dnsmasq: ChildProcess | undefined;
  const timings: string[] = [];

  const inServer = async (...argv: string[]) => {
    const r = await net.server.exec(argv);
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} in the server namespace: exit ${r.exitCode}: ${r.stderr}`);
  };

  const whyport = async (args: string[]): Promise<Run> => {
    const r = await net.runInClient([process.execPath, CLI, ...args, '--json', '--yes'], { timeoutMs: 20_000, env: { NO_COLOR: '1' } });
    let report: Report;
    try {
      report = JSON.parse(r.stdout) as Report;
    } catch {
      throw new Error(`whyport ${args.join(' ')} printed no JSON (exit ${r.exitCode}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    }
    timings.push(`${args.join(' ')}: ${report.diagnosis.code} in ${report.durationMs} ms`);
    return { status: r.exitCode, report, stderr: r.stderr };
  };
  const trace = (r: Run) => `${r.report.diagnosis.code} (exit ${r.status}, ${r.report.durationMs} ms) via\n${r.report.steps.map((s) => `  ${s.id} → ${s.outcome}: ${s.summary}`).join('\n')}${r.stderr ? `\nstderr: ${r.stderr}` : ''}`;
  const step = (r: Run, id: string): StepRecord => {
    const s = r.report.steps.find((x) => x.id === id);
    if (!s) throw new Error(`no step '${id}':\n${trace(r)}`);
    return s;
  };
  const expectCode = (r: Run, code: string, status: number) => {
    expect(r.report.diagnosis.code, trace(r)).toBe(code);
    expect(r.status, trace(r)).toBe(status);
  };
  const udpOf = (r: Run) => (step(r, 'probe-remote').evidence.addresses as { udp: { outcome: string; tries: number; payload: string } }[])[0]!.udp;

  beforeAll(async () => {
    net = await twoHostNetwork();
    server = net.server.address;
    const subnet = server.split('.')[2];
    server6 = `fd00:213:${subnet}::2`;
    // IPv6 on the same veth: its ends are the devices that carry the IPv4 addresses.
    for (const [host, address] of [[net.client, `fd00:213:${subnet}::1/64`], [net.server, `${server6}/64`]] as const) {
      const shown = await host.exec(['ip', '-o', '-4', 'addr', 'show']);
      const dev = new RegExp(`^\\d+: (\\S+)\\s+inet ${host.address.replaceAll('.', '\\.')}/`, 'm').exec(shown.stdout)?.[1];
      if (!dev) throw new Error(`no device with ${host.address}: ${shown.stdout}`);
      const r = await host.exec(['ip', 'addr', 'add', address, 'dev', dev, 'nodad']);
      if (r.exitCode !== 0) throw new Error(`ip addr add ${address}: ${r.stderr}`);
    }
    await inServer('sysctl', '-qw', 'net.ipv6.icmp.ratelimit=0');
    // A private hosts file (a name with both families) and a resolver that refuses at once.
    mkdirSync(`/etc/netns/${net.client.netns}`, { recursive: true });
    writeFileSync(`/etc/netns/${net.client.netns}/hosts`, `127.0.0.1 localhost\n${server} dnsserver\n${server6} dnsserver\n`);
    writeFileSync(`/etc/netns/${net.client.netns}/resolv.conf`, 'nameserver 127.0.0.1\n');

    // TESTBED.md's real DNS server, on both of the server's addresses.
    dnsmasq = spawn('ip', ['netns', 'exec', net.server.netns, 'dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--pid-file=', '--user=root', '--port=53', `--listen-address=${server}`, `--listen-address=${server6}`, '--bind-interfaces', '--address=/example.test/10.1.2.3'], { stdio: 'ignore' });
    for (const [cmd, port, target] of [
      ['iptables', PORTS.drop, ['DROP']],
      ['iptables', PORTS.portUnreachable, ['REJECT', '--reject-with', 'icmp-port-unreachable']],
      ['iptables', PORTS.prohibited, ['REJECT', '--reject-with', 'icmp-admin-prohibited']],
      ['iptables', PORTS.hostUnreachable, ['REJECT', '--reject-with', 'icmp-host-unreachable']],
      ['ip6tables', PORTS.drop, ['DROP']],
      ['ip6tables', PORTS.prohibited, ['REJECT', '--reject-with', 'icmp6-adm-prohibited']],
    ] as const) {
      await inServer(cmd, '-A', 'INPUT', '-p', 'udp', '--dport', String(port), '-j', ...target);
    }
    // The veth passes nothing for a moment after it comes up; dnsmasq takes a moment to bind.
    for (let i = 0; i < 50; i++) {
      const up = await net.runInClient(['ping', '-c', '1', '-W', '1', '-n', server6]);
      const bound = await net.server.exec(['ss', '-Huln', 'sport = :53']);
      if (up.exitCode === 0 && bound.stdout.split('\n').filter(Boolean).length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);

  afterAll(async () => {
    console.log(`whyport over UDP:\n  ${timings.join('\n  ')}`);
    if (dnsmasq?.pid && dnsmasq.exitCode === null) {
      await new Promise<void>((r) => {
        dnsmasq!.once('exit', () => r());
        dnsmasq!.kill('SIGTERM');
      });
    }
    // Deleting the namespaces deletes their veth, addresses and rules; remove() also deletes /etc/netns/NAME.
    await net?.remove();
  });

  it('dnsmasq answers the DNS query: REACHABLE, exit 0, over IPv4 and IPv6', async () => {
    for (const address of [server, server6]) {
      const r = await whyport([address, '53/udp']);
      expectCode(r, 'REACHABLE', 0);
      expect(r.report.target).toMatchObject({ port: 53, protocol: 'udp', local: false });
      expect(step(r, 'probe-remote').outcome).toBe('open');
      expect(udpOf(r)).toMatchObject({ outcome: 'reply', payload: 'dns', tries: 1 });
      expect(r.report.diagnosis.explanation).toContain('answered a DNS query for the root name servers');
      expect(r.report.diagnosis.explanation).toContain('look above UDP');
    }
  });

  it('--udp and a name with both families: every address answers', async () => {
    const r = await whyport(['dnsserver', '53', '--udp']);
    expectCode(r, 'REACHABLE', 0);
    expect(step(r, 'probe-remote').summary).toMatch(/^port 53 \(domain\): fd00:213:\d+::2 open — \[fd00:213:\d+::2\]:53 answered a DNS query for the root name servers \(a reply of \d+ bytes after 1 try\); 10\.213\.\d+\.2 open — /);
  });

  it('nothing bound: PORT_CLOSED at the first try, with whyport PORT/udp and ss -Hulnp for the server', async () => {
    const r = await whyport([server, `${PORTS.nothing}/udp`]);
    expectCode(r, 'PORT_CLOSED', 1);
    expect(step(r, 'probe-remote').summary).toBe(`port ${PORTS.nothing}: closed — ${server}:${PORTS.nothing} answered an empty datagram with an ICMP port unreachable (ECONNREFUSED, after 1 try): the host is up and answered`);
    expect(r.report.diagnosis.title).toBe(`${server} answers, but port ${PORTS.nothing} refuses datagrams`);
    expect(r.report.diagnosis.explanation).toContain('A refusal is an ICMP port unreachable: nothing listens on the port');
    expect(r.report.diagnosis.fix?.commands).toEqual([`whyport ${server} ${PORTS.nothing}/udp`, `ss -Hulnp 'sport = :${PORTS.nothing}'`, 'nft list ruleset', 'iptables -S']);
    // The ICMP error answered the first datagram: the probe ended before its first retry (250 ms), not at the timeout.
    expect(udpOf(r), trace(r)).toMatchObject({ outcome: 'refused', tries: 1 });
  });

  it('a UDP-only service name (ntp, nothing bound): PORT_CLOSED, the NTP request sent', async () => {
    const r = await whyport([server, 'ntp']);
    expectCode(r, 'PORT_CLOSED', 1);
    expect(r.report.target).toMatchObject({ port: 123, protocol: 'udp' });
    expect(udpOf(r)).toMatchObject({ outcome: 'refused', payload: 'ntp' });
  });

  it('iptables DROP: OPEN_OR_FILTERED, exit 3, within the timeout + 0.5 s, after every try, saying what decides it', async () => {
    for (const address of [server, server6]) {
      const r = await whyport([address, `${PORTS.drop}/udp`, '--timeout', '1000']);
      expectCode(r, 'OPEN_OR_FILTERED', 3);
      const probe = step(r, 'probe-remote');
      expect(probe.outcome).toBe('open-or-filtered');
      expect(probe.evidence.life).toMatch(/^it answers ping in [\d.]+ ms$/);
      expect(udpOf(r)).toMatchObject({ outcome: 'silent', tries: 3, payload: 'empty' });
      expect(r.report.diagnosis.explanation).toContain('a program that ignores the probe and a firewall that drops it look alike from here');
      expect(r.report.diagnosis.explanation).toContain('run whyport there');
      expect(r.report.diagnosis.fix?.commands?.[0]).toBe(`whyport ${address} ${PORTS.drop}/udp`);
      // Then the UDP traceroute to the port (no privilege needed), at most --timeout + 1.5 s.
      const path = step(r, 'path-remote');
      expect(path.durationMs, trace(r)).toBeLessThanOrEqual(1000 + 1500);
      expect(r.report.durationMs - path.durationMs, trace(r)).toBeLessThanOrEqual(1000 + 500);
    }
  });

  it('REJECT with icmp-port-unreachable: PORT_CLOSED (the same ICMP as a port nobody holds), at the first try', async () => {
    const r = await whyport([server, `${PORTS.portUnreachable}/udp`, '--timeout', '1000']);
    expectCode(r, 'PORT_CLOSED', 1);
    expect(udpOf(r), trace(r)).toMatchObject({ outcome: 'refused', tries: 1 });
  });

  it('REJECT with icmp-admin-prohibited: PORT_FILTERED at the first try, over IPv4 and IPv6', async () => {
    for (const address of [server, server6]) {
      const r = await whyport([address, `${PORTS.prohibited}/udp`, '--timeout', '1000']);
      expectCode(r, 'PORT_FILTERED', 1);
      expect(step(r, 'probe-remote').outcome).toBe('prohibited');
      expect(r.report.diagnosis.title).toBe(`A firewall rejects datagrams to ${address} port ${PORTS.prohibited}`);
      // The ICMP error answered the first datagram: no waiting for the timeout.
      expect(udpOf(r), trace(r)).toMatchObject({ outcome: 'unreachable', tries: 1 });
    }
  });

  it('REJECT with icmp-host-unreachable: OPEN_OR_FILTERED — Linux does not report that soft error to a UDP socket', async () => {
    const r = await whyport([server, `${PORTS.hostUnreachable}/udp`, '--timeout', '1000']);
    expectCode(r, 'OPEN_OR_FILTERED', 3);
  });

  it('an unused address on the subnet: HOST_UNREACHABLE (nobody answers ARP), not OPEN_OR_FILTERED', async () => {
    const unused = server.replace(/\.2$/, '.77');
    const r = await whyport([unused, '53/udp']);
    expectCode(r, 'HOST_UNREACHABLE', 1);
    expect(step(r, 'probe-remote').outcome).toBe('unreachable');
    expect(step(r, 'route-remote').outcome).toBe('on-link');
  });

  it("the server's ICMP rate limit tripped by a burst: the retries still get the port unreachable, PORT_CLOSED", async () => {
    // One ICMP error per 3 s per client after a burst of 6 (Linux's token bucket), and 12 closed
    // ports probed at once right before whyport runs: the bucket is empty when whyport's first try goes.
    await inServer('sysctl', '-qw', 'net.ipv4.icmp_ratelimit=3000');
    try {
      const burst = `
        const dgram = require('node:dgram');
        let refused = 0, done = 0;
        for (let p = 8001; p <= 8012; p++) {
          const s = dgram.createSocket('udp4');
          const end = () => { s.close(); if (++done === 12) console.log(refused); };
          const t = setTimeout(end, 300);
          s.on('error', () => { refused++; clearTimeout(t); end(); });
          s.connect(p, process.argv[1], () => s.send(Buffer.alloc(0)));
        }`;
      const b = await net.runInClient([process.execPath, '-e', burst, server]);
      const answered = Number(b.stdout.trim());
      // The limit did trip: some of the 12 got no ICMP error at all.
      expect(answered, b.stderr).toBeLessThan(12);
      const r = await whyport([server, `${PORTS.nothing}/udp`, '--timeout', '5000']);
      expectCode(r, 'PORT_CLOSED', 1);
      // Its first try fell in the empty bucket: a later one got the answer.
      expect(udpOf(r).tries, trace(r)).toBeGreaterThan(1);
      timings.push(`(the burst got ${answered} of 12 ICMP errors; whyport needed ${udpOf(r).tries} tries)`);
    } finally {
      await inServer('sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0');
    }
  });
});
