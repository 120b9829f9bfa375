import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { CLI, step, trace, waitFor, type JsonRun } from '../helpers/cli-in-bed.js';
import { createNamespace, netnsSkipReason, type Namespace } from '../helpers/netns.js';
import { uniqueProcessName } from '../helpers/servers.js';

/**
 * The server's side of a UDP diagnosis against real sockets, in a network namespace of the test's
 * own (10.213.9.2 and .3 on a veth whose both ends stay inside): a real DNS server (dnsmasq) bound
 * to loopback only and to the namespace's address, a socket bound to another address, one bound
 * to `::` with IPV6_V6ONLY, a connected socket alone on its port, and a program whose 2 KB
 * receive buffer a bounded burst overflows while it reads slowly (node:dgram's recvBufferSize,
 * Atomics.wait per datagram). Each is diagnosed by the real CLI run inside the namespace
 * (`ip netns exec NS node dist/cli.js 10.213.9.2 PORT/udp --json --yes`). Every process is
 * stopped by pid; datagrams go only to the namespace's own addresses.
 */

const ADDRESS = '10.213.9.2';
const OTHER = '10.213.9.3';

// One node helper, several roles; each prints READY PORT (the sender BURST, then DONE) on stdout.
const HELPER = String.raw`
const dgram = require('node:dgram');
const [role, name, ...args] = process.argv.slice(1);
process.title = name;
process.on('SIGTERM', () => process.exit(0));
const say = (...a) => console.log(a.join(' '));
if (role === 'bound') {
  // bound HOST PORT [v6only] [slowMs RCVBUF]
  const [host, port, v6only, slowMs, rcvbuf] = args;
  const opts = { type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: v6only === 'v6only' };
  if (rcvbuf) opts.recvBufferSize = Number(rcvbuf);
  const s = dgram.createSocket(opts);
  // A slow reader: each datagram blocks the loop for slowMs, as a program busy with each request would.
  const pause = new Int32Array(new SharedArrayBuffer(4));
  s.on('message', () => { if (slowMs) Atomics.wait(pause, 0, 0, Number(slowMs)); });
  s.bind(Number(port), host, () => say('READY', s.address().port));
} else if (role === 'connected') {
  // connected PEERHOST PEERPORT: bound to an ephemeral-free port of its own and connected
  const [peer, peerPort, port] = args;
  const s = dgram.createSocket('udp4');
  s.bind(Number(port), '127.0.0.1', () => s.connect(Number(peerPort), peer, () => say('READY', s.address().port)));
} else if (role === 'sender') {
  // sender HOST PORT BURST EVERYMS MAXMS: a burst, then one datagram every EVERYMS until stdin
  // closes or MAXMS have passed: bounded either way.
  const [host, port, burst, everyMs, maxMs] = args;
  const s = dgram.createSocket('udp4');
  const payload = Buffer.alloc(200, 120);
  let left = Number(burst);
  const sendBurst = () => {
    if (left-- <= 0) { say('BURST'); return steady(); }
    s.send(payload, Number(port), host, sendBurst);
  };
  const stop = () => { say('DONE'); s.close(); process.exit(0); };
  const steady = () => {
    const t = setInterval(() => s.send(payload, Number(port), host), Number(everyMs));
    setTimeout(stop, Number(maxMs));
    process.stdin.on('end', stop);
    process.stdin.resume();
  };
  sendBurst();
}
`;

interface Helper {
  pid: number;
  line(start: string): Promise<string[]>;
  /** Closes its stdin (the sender stops). */
  end(): void;
  stop(): Promise<void>;
}

const started = new Set<Helper>();

/** Runs argv inside the namespace; `line` waits for a stdout line starting with a word. */
function startIn(ns: Namespace, argv: string[]): Helper {
  const child: ChildProcess = spawn(ns.exec[0]!, [...ns.exec.slice(1), ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
  const helper: Helper = {
    pid: child.pid!,
    async line(start) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const found = out.slice(0, out.lastIndexOf('\n') + 1).split('\n').find((l) => l === start || l.startsWith(`${start} `));
        if (found) return found.split(' ');
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${argv.join(' ')} (pid ${child.pid}) never said ${start}: ${out}${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    end() {
      child.stdin!.end();
    },
    async stop() {
      started.delete(helper);
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid!, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await exited;
    },
  };
  started.add(helper);
  return helper;
}

function helper(ns: Namespace, role: string, name: string, ...args: (string | number)[]): Helper {
  return startIn(ns, [process.execPath, '-e', HELPER, role, name, ...args.map(String)]);
}

async function whyport(ns: Namespace, port: string, ...more: string[]): Promise<JsonRun> {
  const argv = [ADDRESS, port, '--json', '--yes', ...more];
  const r = await execa(ns.exec[0]!, [...ns.exec.slice(1), process.execPath, CLI, ...argv], { reject: false, stdin: 'ignore', timeout: 30_000, env: { NO_COLOR: '1' } });
  try {
    return { status: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, argv, report: JSON.parse(r.stdout) as Report };
  } catch {
    throw new Error(`whyport ${argv.join(' ')} printed no JSON (exit ${r.exitCode}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** What the real ss in the namespace says of the port's UDP sockets, with their memory. */
async function ssIn(ns: Namespace, port: number): Promise<string> {
  const r = await execa(ns.exec[0]!, [...ns.exec.slice(1), 'ss', '-Huanm', `( sport = :${port} or dport = :${port} )`], { reject: false, timeout: 5_000 });
  return r.stdout;
}

const dnsmasqAt = (ns: Namespace, address: string, port: number) =>
  startIn(ns, ['dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--pid-file=', '--user=root', `--port=${port}`, `--listen-address=${address}`, '--bind-interfaces', '--address=/example.test/10.1.2.3']);

const SKIP = netnsSkipReason() ?? (!existsSync('/usr/sbin/dnsmasq') ? 'dnsmasq is not installed (apt-get install -y dnsmasq-base)' : !existsSync(CLI) ? `${CLI} is missing: run npm run build first` : undefined);
if (SKIP) console.warn(`skipping the UDP server tests: ${SKIP}`);

let ns: Namespace;

beforeAll(() => {
  if (SKIP) return;
  ns = createNamespace({ addresses: [`${ADDRESS}/24`, `${OTHER}/24`], etc: { hosts: '127.0.0.1 localhost\n::1 localhost\n' } });
});

afterEach(async () => {
  await Promise.all([...started].map((h) => h.stop()));
});

afterAll(() => ns?.remove());

describe.skipIf(SKIP !== undefined)('UDP on the server, real sockets in a namespace of its own', () => {
  it('dnsmasq bound to 127.0.0.1 only: the socket is listening, the bind is loopback-only (BOUND_TO_LOOPBACK)', async () => {
    const dns = dnsmasqAt(ns, '127.0.0.1', 53);
    await waitFor(async () => (await ssIn(ns, 53)).includes('127.0.0.1:53'), 'dnsmasq on 127.0.0.1:53');
    const r = await whyport(ns, '53/udp');
    expect(r.report.target.protocol).toBe('udp');
    expect(r.report.diagnosis.code, trace(r)).toBe('BOUND_TO_LOOPBACK');
    const sockets = step(r, 'sockets');
    expect(sockets).toMatchObject({ outcome: 'listening', summary: 'UDP port 53: 1 UNCONN', command: "ss -Huanm '( sport = :53 or dport = :53 )'" });
    expect(sockets.evidence.services).toEqual([expect.objectContaining({ endpoint: '127.0.0.1:53', owner: `dnsmasq (pid ${dns.pid})`, queued: 0, drops: 0, full: false })]);
    const listening = step(r, 'listening');
    expect(listening).toMatchObject({ outcome: 'loopback-only', summary: `bound only to loopback: 127.0.0.1:53 (dnsmasq[${dns.pid}])`, command: "ss -Hulnp 'sport = :53'" });
    // A healthy socket is not watched: no drop sample was taken.
    expect(sockets.evidence.drops).toBeUndefined();
  });

  it('dnsmasq bound to the address asked for: covers, and port-owner names it bound to the UDP port', async () => {
    const dns = dnsmasqAt(ns, ADDRESS, 5353);
    await waitFor(async () => (await ssIn(ns, 5353)).includes(`${ADDRESS}:5353`), `dnsmasq on ${ADDRESS}:5353`);
    const r = await whyport(ns, '5353/udp');
    expect(step(r, 'listening')).toMatchObject({ outcome: 'covers', summary: `bound to ${ADDRESS}:5353 (dnsmasq[${dns.pid}])` });
    expect(step(r, 'owner')).toMatchObject({ outcome: 'unnamed', summary: `dnsmasq (pid ${dns.pid}) is bound to UDP port 5353`, command: "ss -Hulnp 'sport = :5353'" });
  });

  it('the named program bound to another UDP port: process-listeners says where (LISTENING_ON_OTHER_PORT)', async () => {
    const dns = dnsmasqAt(ns, '127.0.0.1', 5354);
    await waitFor(async () => (await ssIn(ns, 5354)).includes('127.0.0.1:5354'), 'dnsmasq on 127.0.0.1:5354');
    // A port no other namespace on this machine serves (the namespaces step looks at them all).
    const r = await whyport(ns, '7353/udp', '--process', 'dnsmasq');
    expect(r.report.diagnosis.code, trace(r)).toBe('LISTENING_ON_OTHER_PORT');
    const ports = r.report.steps.find((s) => s.check === 'process-listeners')!;
    expect(ports).toMatchObject({ outcome: 'other-ports', summary: 'dnsmasq is bound to UDP 127.0.0.1:5354 — not to port 7353', command: `ss -Hulnp | grep '"dnsmasq"'` });
    // pgrep is the machine's: other namespaces' dnsmasq are among the pids, but only this namespace's sockets are read.
    expect(ports.evidence).toMatchObject({ pids: expect.arrayContaining([dns.pid]), ports: [5354] });
  });

  it('a socket bound to another address of the host: other-address (BOUND_TO_OTHER_ADDRESS)', async () => {
    const name = uniqueProcessName('wpt-other');
    const s = helper(ns, 'bound', name, OTHER, 0);
    const port = Number((await s.line('READY'))[1]);
    const r = await whyport(ns, `${port}/udp`);
    expect(r.report.diagnosis.code, trace(r)).toBe('BOUND_TO_OTHER_ADDRESS');
    expect(step(r, 'listening')).toMatchObject({ outcome: 'other-address', summary: `bound to ${OTHER}:${port} (${name}[${s.pid}]), not to ${ADDRESS}` });
  });

  it('a socket bound to :: with IPV6_V6ONLY does not take IPv4 datagrams: other-address for an IPv4 target', async () => {
    const name = uniqueProcessName('wpt-v6only');
    const s = helper(ns, 'bound', name, '::', 0, 'v6only');
    const port = Number((await s.line('READY'))[1]);
    const r = await whyport(ns, `${port}/udp`);
    const listening = step(r, 'listening');
    expect(listening.outcome, trace(r)).toBe('other-address');
    expect(listening.evidence.listeners).toEqual([expect.objectContaining({ address: '::', family: 'inet6', dualStack: false })]);
  });

  it('only a connected UDP socket on the port: none, saying it receives only from its peer', async () => {
    const peer = helper(ns, 'bound', uniqueProcessName('wpt-peer'), '127.0.0.1', 0);
    const peerPort = Number((await peer.line('READY'))[1]);
    const name = uniqueProcessName('wpt-conn');
    // A fixed port below the ephemeral range, so it is a connected socket and not a client's port.
    const c = helper(ns, 'connected', name, '127.0.0.1', peerPort, 7391);
    await c.line('READY');
    const r = await whyport(ns, '7391/udp');
    const sockets = step(r, 'sockets');
    expect(sockets.outcome, trace(r)).toBe('none');
    expect(sockets.summary).toBe(
      `no UDP socket is bound to port 7391 for anyone to reach: only a connected UDP socket, 127.0.0.1:7391 (${name} (pid ${c.pid})), which receives only from its peer 127.0.0.1:${peerPort} — not a listener`,
    );
    expect(sockets.evidence.connected).toEqual([`127.0.0.1:7391 ↔ 127.0.0.1:${peerPort} (${name} (pid ${c.pid}))`]);
  });

  it('a slow reader with a 2 KB buffer behind a burst: receive-drops (UDP_RECEIVE_DROPS) with the growth and the sizes; after the burst, listening with its past drops', async () => {
    const name = uniqueProcessName('wpt-slow');
    const slow = helper(ns, 'bound', name, '0.0.0.0', 0, '', 20, 2048);
    const port = Number((await slow.line('READY'))[1]);
    // 300 at once, then one every 2 ms (500/s against a reader of 50/s) while whyport watches;
    // at most 20 s, and stopped as soon as whyport is done.
    const sender = helper(ns, 'sender', uniqueProcessName('wpt-send'), '127.0.0.1', port, 300, 2, 20_000);
    await sender.line('BURST');
    const seen = await ssIn(ns, port);
    const rb = Number(/rb(\d+)/.exec(seen)![1]);
    expect(rb).toBeLessThan(10_000);
    expect(Number(/,d(\d+)\)/.exec(seen)![1])).toBeGreaterThan(0);

    const r = await whyport(ns, `${port}/udp`);
    sender.end();
    await sender.line('DONE');
    expect(r.report.diagnosis.code, trace(r)).toBe('UDP_RECEIVE_DROPS');
    const sockets = step(r, 'sockets');
    expect(sockets.outcome).toBe('receive-drops');
    const drops = sockets.evidence.drops as Record<string, number | string | null>;
    const rmemMax = Number((await execa(ns.exec[0]!, [...ns.exec.slice(1), 'cat', '/proc/sys/net/core/rmem_max'])).stdout);
    expect(drops).toMatchObject({ listener: `0.0.0.0:${port}`, owner: `${name} (pid ${slow.pid})`, pid: slow.pid, rcvbuf: rb, rmemMax });
    expect(drops.growth).toBeGreaterThan(0);
    expect(drops.drops).toBeGreaterThanOrEqual(drops.growth as number);
    expect(drops.windowMs).toBeGreaterThanOrEqual(500);
    expect(drops.queued).toBeLessThanOrEqual(rb);
    expect(drops.rcvbufErrors).toBeGreaterThan(0);
    expect(drops.detail).toMatch(new RegExp(`^${name} \\(pid ${slow.pid}\\): the kernel dropped ${drops.growth} datagrams? for 0\\.0\\.0\\.0:${port} within ${drops.windowMs} ms`));
    expect(sockets.summary).toBe(
      `UDP port ${port}: 0.0.0.0:${port} (${name} (pid ${slow.pid})) dropped ${drops.growth} datagram${drops.growth === 1 ? '' : 's'} within ${drops.windowMs} ms (${drops.drops} in all); ${drops.queued} of ${rb} bytes queued, net.core.rmem_max ${rmemMax}`,
    );
    // Only UDP's outcomes and evidence: nothing of TCP's states.
    expect(sockets.evidence.acceptQueue).toBeUndefined();
    expect(sockets.evidence.closeWait).toBeUndefined();

    // The burst is over: the reader drains its queue, the counter stays.
    await waitFor(async () => /skmem:\(r0,/.test(await ssIn(ns, port)), 'the slow reader to drain its queue');
    const after = await whyport(ns, `${port}/udp`);
    const again = step(after, 'sockets');
    expect(again.outcome, trace(after)).toBe('listening');
    const past = (after.report.findings ?? []).find((f) => f.code === 'UDP_PAST_DROPS');
    expect(past).toMatchObject({ step: 'sockets' });
    expect(past!.summary).toMatch(new RegExp(`^0\\.0\\.0\\.0:${port} \\(${name} \\(pid ${slow.pid}\\)\\) has dropped \\d+ datagrams since it was opened, none within the \\d+ ms whyport watched`));
  });

  it('dnsmasq on the address answers the DNS query whyport sends over UDP: REACHABLE, and the text report says udp', async () => {
    const dns = dnsmasqAt(ns, ADDRESS, 5355);
    await waitFor(async () => (await ssIn(ns, 5355)).includes(`${ADDRESS}:5355`), `dnsmasq on ${ADDRESS}:5355`);
    // 5355 is llmnr's: no payload of whyport's, so the empty datagram — dnsmasq drops it silently.
    const r = await whyport(ns, '5355/udp');
    expect(step(r, 'connect-local').outcome, trace(r)).toBe('no-reply');
    expect(r.report.diagnosis.code, trace(r)).toBe('REACHABLE');
    expect(r.report.diagnosis.title).toBe(`dnsmasq (pid ${dns.pid}) is bound to UDP port 5355 and nothing here drops what is sent to it`);
    await dns.stop();
    const dns53 = dnsmasqAt(ns, ADDRESS, 53);
    await waitFor(async () => (await ssIn(ns, 53)).includes(`${ADDRESS}:53`), `dnsmasq on ${ADDRESS}:53`);
    const answered = await whyport(ns, 'domain', '--udp');
    expect(answered.report.target).toMatchObject({ port: 53, protocol: 'udp', portName: 'domain' });
    expect(step(answered, 'connect-local')).toMatchObject({ outcome: 'connected' });
    expect(answered.report.diagnosis.code, trace(answered)).toBe('REACHABLE');
    expect(answered.report.diagnosis.explanation).toContain(`answers over UDP`);
    const text = await execa(ns.exec[0]!, [...ns.exec.slice(1), process.execPath, CLI, ADDRESS, '53/udp', '--yes'], { reject: false, stdin: 'ignore', timeout: 30_000, env: { NO_COLOR: '1', COLUMNS: '100' } });
    expect(text.stdout).toMatch(new RegExp(`whyport · ${ADDRESS.replace(/\./g, '\\.')}:53/udp`));
    expect(text.stdout).toContain(`dnsmasq (pid ${dns53.pid}) is bound to UDP port 53`);
    expect(text.exitCode).toBe(0);
  });

  it('a program that reads and never answers: bound, let in, silent to the probe (REACHABLE, with what decides it)', async () => {
    const name = uniqueProcessName('wpt-mute');
    const s = helper(ns, 'bound', name, '0.0.0.0', 0);
    const port = Number((await s.line('READY'))[1]);
    const r = await whyport(ns, `${port}/udp`, '--timeout', '1000');
    expect(r.report.diagnosis.code, trace(r)).toBe('REACHABLE');
    expect(r.status).toBe(0);
    expect(step(r, 'connect-local')).toMatchObject({ outcome: 'no-reply' });
    expect(step(r, 'connect-local').summary).toMatch(/no reply and no ICMP error from 10\.213\.9\.2:\d+ to an empty datagram within \d+ ms \(\d tries\)/);
    expect(r.report.diagnosis.explanation).toContain('many programs answer only requests of their own protocol');
  });

  it('a UDP-only service name is UDP by itself: syslog is 514/udp', async () => {
    const name = uniqueProcessName('wpt-syslog');
    const s = helper(ns, 'bound', name, '0.0.0.0', 514);
    await s.line('READY');
    const r = await whyport(ns, 'syslog');
    expect(r.report.target).toMatchObject({ port: 514, protocol: 'udp', portName: 'syslog' });
    expect(step(r, 'owner').summary, trace(r)).toBe(`${name} (pid ${s.pid}) is bound to UDP port 514`);
  });

  it('an nft rule that drops udp dport: FIREWALL_BLOCKS names it, and the fix lets UDP in', async () => {
    const dns = dnsmasqAt(ns, ADDRESS, 5356);
    await waitFor(async () => (await ssIn(ns, 5356)).includes(`${ADDRESS}:5356`), `dnsmasq on ${ADDRESS}:5356`);
    const nft = (...a: string[]) => execa(ns.exec[0]!, [...ns.exec.slice(1), 'nft', ...a], { timeout: 5_000 });
    await nft('add', 'table', 'inet', 'wptudp');
    await nft('add', 'chain', 'inet', 'wptudp', 'input', '{ type filter hook input priority 0 ; policy accept ; }');
    await nft('add', 'rule', 'inet', 'wptudp', 'input', 'udp', 'dport', '5356', 'drop');
    try {
      const r = await whyport(ns, '5356/udp', '--timeout', '1000');
      expect(r.report.diagnosis.code, trace(r)).toBe('FIREWALL_BLOCKS');
      expect(step(r, 'firewall').evidence).toMatchObject({ tool: 'nftables', table: 'inet wptudp', chain: 'input', rule: 'udp dport 5356 drop' });
      // The rule is about 5356 alone: its fix deletes it by its handle.
      expect(r.report.diagnosis.fix?.commands).toEqual([expect.stringMatching(/^nft delete rule inet wptudp input handle \d+$/)]);
      expect(dns.pid).toBeGreaterThan(0);
    } finally {
      await nft('delete', 'table', 'inet', 'wptudp');
    }
  });

  it('bound in another network namespace only: CONTAINER_NOT_PUBLISHED for the UDP port, with a publish command for UDP', async () => {
    const other = createNamespace({ addresses: ['10.213.9.40/24'] });
    try {
      const name = uniqueProcessName('wpt-inner');
      const s = helper(other, 'bound', name, '0.0.0.0', 0);
      const port = Number((await s.line('READY'))[1]);
      const r = await whyport(ns, `${port}/udp`);
      expect(r.report.diagnosis.code, trace(r)).toBe('CONTAINER_NOT_PUBLISHED');
      expect(step(r, 'namespaces').summary).toBe(`${name} (pid ${s.pid}) is bound to UDP 0.0.0.0:${port} inside network namespace ${other.name}, a network namespace of its own`);
      expect(r.report.diagnosis.fix?.commands?.[0]).toBe(`iptables -t nat -A PREROUTING -p udp --dport ${port} -j DNAT --to-destination 10.213.9.40:${port}`);
      await s.stop();
    } finally {
      other.remove();
    }
  });
});
