import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UDP_PAYLOADS, udpPayloadDescription, udpPayloadFor } from '../../src/knowledge/udp-payloads.js';
import { createNamespace, netnsSkipReason, type Namespace } from '../helpers/netns.js';

/**
 * The probe payloads: well-formed by their specifications (decoded here field by field), and
 * answered by the real servers Debian ships (dnsmasq, chrony, net-snmp, rpcbind, memcached), each
 * run on the loopback of a network namespace of this test's own at its usual port.
 */

/** Walks BER TLVs (X.690): [tag, content] pairs at one level; throws when a length overruns. */
function berItems(b: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (let i = 0; i < b.length; ) {
    const tag = b[i]!;
    let len = b[i + 1]!;
    let at = i + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = b.subarray(at, at + n).reduce((a, x) => a * 256 + x, 0);
      at += n;
    }
    if (at + len > b.length) throw new Error(`BER length overruns at ${i}`);
    out.push([tag, b.subarray(at, at + len)]);
    i = at + len;
  }
  return out;
}

describe('the payloads, decoded by their specifications', () => {
  it('by port: the known ones, and none for the ports whose services never answer a stranger', () => {
    expect(udpPayloadFor(53)?.name).toBe('dns');
    expect(udpPayloadFor(5353)?.name).toBe('mdns');
    for (const [port, name] of [[123, 'ntp'], [161, 'snmp'], [137, 'netbios-ns'], [1900, 'ssdp'], [111, 'rpc'], [11211, 'memcached']] as const) expect(udpPayloadFor(port)?.name).toBe(name);
    // syslog never answers, TFTP's request is not state-free, WireGuard needs a key, QUIC was not verified.
    for (const port of [514, 69, 51820, 443, 7071]) expect(udpPayloadFor(port)).toBeUndefined();
    // One entry per port, one name per entry.
    const ports = UDP_PAYLOADS.flatMap((p) => p.ports);
    expect(new Set(ports).size).toBe(ports.length);
    expect(new Set(UDP_PAYLOADS.map((p) => p.name)).size).toBe(UDP_PAYLOADS.length);
    expect(udpPayloadDescription('empty')).toBe('an empty datagram');
    expect(udpPayloadDescription('dns')).toBe('a DNS query for the root name servers');
  });

  it('DNS: one question, the root, type NS, class IN, recursion desired (RFC 1035 §4.1)', () => {
    const b = udpPayloadFor(53)!.bytes;
    expect(b.toString('hex')).toBe('7a3e' + '0100' + '0001' + '0000' + '0000' + '0000' + '00' + '0002' + '0001');
  });

  it('mDNS: a PTR question for _services._dns-sd._udp.local (RFC 6763 §9)', () => {
    const b = udpPayloadFor(5353)!.bytes;
    expect(b.readUInt16BE(4)).toBe(1);
    expect(b.subarray(12, b.length - 4).toString('latin1')).toBe('\x09_services\x07_dns-sd\x04_udp\x05local\x00');
    expect(b.readUInt16BE(b.length - 4)).toBe(12);
  });

  it('NTP: 48 bytes, version 4, mode 3 (client), a transmit timestamp (RFC 5905 §7.3)', () => {
    const b = udpPayloadFor(123)!.bytes;
    expect(b.length).toBe(48);
    expect([b[0]! >> 6, (b[0]! >> 3) & 7, b[0]! & 7]).toEqual([0, 4, 3]);
    expect(b.readBigUInt64BE(40)).not.toBe(0n);
  });

  it('SNMPv3: version 3, reportable noAuthNoPriv, USM with an empty engine id, a get-request with no varbinds (RFC 3414 §4)', () => {
    const [[tag, message]] = berItems(udpPayloadFor(161)!.bytes) as [[number, Buffer]];
    expect(tag).toBe(0x30);
    const [version, global, security, scoped] = berItems(message);
    expect(version).toEqual([0x02, Buffer.from([3])]);
    const [, , flags, model] = berItems(global![1]);
    expect(flags).toEqual([0x04, Buffer.from([0x04])]);
    expect(model).toEqual([0x02, Buffer.from([3])]);
    const [[, usm]] = berItems(security![1]) as [[number, Buffer]];
    expect(berItems(usm)[0]).toEqual([0x04, Buffer.alloc(0)]);
    const [, , pdu] = berItems(scoped![1]);
    expect(pdu![0]).toBe(0xa0);
    expect(berItems(pdu![1]).at(-1)).toEqual([0x30, Buffer.alloc(0)]);
  });

  it('NetBIOS: a node status question for the wildcard name, first-level encoded (RFC 1002 §4.2.17)', () => {
    const b = udpPayloadFor(137)!.bytes;
    expect(b.readUInt16BE(4)).toBe(1);
    expect(b.subarray(12, 46).toString('latin1')).toBe(`\x20CK${'A'.repeat(30)}\x00`);
    expect(b.subarray(46).toString('hex')).toBe('00210001');
  });

  it('RPC: a CALL of the portmapper NULL procedure with AUTH_NULL (RFC 5531 §9, RFC 1833)', () => {
    const b = udpPayloadFor(111)!.bytes;
    const words = Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32BE(i * 4));
    expect(words.slice(1)).toEqual([0, 2, 100000, 2, 0, 0, 0, 0, 0]);
  });

  it('SSDP and memcached: the text requests, memcached behind its 8-byte UDP frame header', () => {
    expect(udpPayloadFor(1900)!.bytes.toString('latin1')).toMatch(/^M-SEARCH \* HTTP\/1\.1\r\n[^]*\r\nMAN: "ssdp:discover"\r\n[^]*\r\n\r\n$/);
    const m = udpPayloadFor(11211)!.bytes;
    expect([...m.subarray(0, 8)]).toEqual([0, 1, 0, 0, 0, 1, 0, 0]);
    expect(m.subarray(8).toString('latin1')).toBe('version\r\n');
  });
});

// The real servers, from Debian's packages (.ci/run installs them; apt's policy-rc.d keeps them from
// starting on the machine itself, TESTBED.md): each runs only inside the test's namespace.
const SERVERS = [['dnsmasq', 'dnsmasq-base'], ['chronyd', 'chrony'], ['snmpd', 'snmpd'], ['rpcbind', 'rpcbind'], ['memcached', 'memcached']] as const;

function skipReason(): string | undefined {
  const ns = netnsSkipReason();
  if (ns) return ns;
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  const missing = SERVERS.filter(([tool]) => !dirs.some((d) => d && existsSync(join(d, tool))));
  return missing.length === 0 ? undefined : `missing ${missing.map(([t]) => t).join(', ')}: apt-get install -y ${missing.map(([, p]) => p).join(' ')} (as .ci/run does)`;
}

const reason = skipReason();
if (reason) console.warn(`skipping the payloads against real servers: ${reason}`);

/** Sends the bytes from inside the namespace to 127.0.0.1:PORT once a second until a reply (3 s at most); the reply in hex, or '' for none. */
const EXCHANGE = `
const s = require('node:dgram').createSocket('udp4');
const [port, hex] = process.argv.slice(1);
s.on('message', (m) => { console.log(m.toString('hex')); process.exit(0); });
s.on('error', (e) => { console.error(e.code); process.exit(1); });
s.connect(Number(port), '127.0.0.1', () => { const go = () => s.send(Buffer.from(hex, 'hex')); go(); setInterval(go, 1000); });
setTimeout(() => process.exit(2), 3000);
`;

describe.skipIf(reason !== undefined)('the payloads against the real servers', () => {
  let ns: Namespace;
  let dir: string;
  const children: ChildProcess[] = [];
  const start = (argv: string[]) => {
    const child = spawn('ip', ['netns', 'exec', ns.name, ...argv], { stdio: 'ignore' });
    children.push(child);
  };
  const exchange = async (port: number): Promise<Buffer> => {
    // The servers take a moment to bind: the script resends until one answers.
    const r = await execa('ip', ['netns', 'exec', ns.name, process.execPath, '-e', EXCHANGE, String(port), udpPayloadFor(port)!.bytes.toString('hex')], { reject: false, timeout: 10_000 });
    expect(r.exitCode, `no reply on port ${port}: ${r.stderr}`).toBe(0);
    return Buffer.from(r.stdout.trim(), 'hex');
  };

  beforeAll(() => {
    ns = createNamespace();
    dir = mkdtempSync(join(tmpdir(), 'wpt-payloads-'));
    writeFileSync(join(dir, 'chrony.conf'), `allow 127.0.0.1\nlocal stratum 8\nport 123\ncmdport 0\npidfile ${dir}/chronyd.pid\ndriftfile ${dir}/drift\n`);
    writeFileSync(join(dir, 'snmpd.conf'), 'rocommunity public 127.0.0.1\n');
    start(['dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--pid-file=', '--user=root', '--port=53', '--listen-address=127.0.0.1', '--bind-interfaces']);
    start(['chronyd', '-d', '-x', '-f', join(dir, 'chrony.conf')]);
    start(['snmpd', '-f', '-Lf', '/dev/null', '-C', '-c', join(dir, 'snmpd.conf'), 'udp:127.0.0.1:161']);
    // rpcbind keeps its lock and state under /run: a private /run, so nothing of the machine's is touched.
    start(['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /run && exec rpcbind -f -w']);
    start(['memcached', '-U', '11211', '-p', '0', '-l', '127.0.0.1', '-u', 'root']);
  });
  afterAll(async () => {
    // Each by its pid (ip netns exec keeps it: the child is the server itself, or unshare's sh that exec'd it).
    await Promise.all(children.map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : (c.once('exit', () => r()), c.kill('SIGTERM'))))));
    ns?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dnsmasq answers the DNS query: same id, a response, the question echoed', async () => {
    const r = await exchange(53);
    const q = udpPayloadFor(53)!.bytes;
    expect(r.readUInt16BE(0)).toBe(0x7a3e);
    expect(r[2]! & 0x80).toBe(0x80);
    expect(r.subarray(12, q.length)).toEqual(q.subarray(12));
  });

  it('chrony answers the NTP request: mode 4 (server), our transmit timestamp as its origin', async () => {
    const r = await exchange(123);
    expect(r[0]! & 7).toBe(4);
    expect(r.subarray(24, 32)).toEqual(udpPayloadFor(123)!.bytes.subarray(40, 48));
  });

  it('net-snmp answers the SNMPv3 discovery with a Report carrying its engine id', async () => {
    const r = await exchange(161);
    const [[, message]] = berItems(r) as [[number, Buffer]];
    const [version, , security, scoped] = berItems(message);
    expect(version).toEqual([0x02, Buffer.from([3])]);
    const [[, usm]] = berItems(security![1]) as [[number, Buffer]];
    expect(berItems(usm)[0]![1].length).toBeGreaterThan(0); // msgAuthoritativeEngineID
    expect(berItems(scoped![1])[2]![0]).toBe(0xa8); // Report-PDU
  });

  it('rpcbind answers the NULL call: same xid, an accepted REPLY', async () => {
    const r = await exchange(111);
    expect(r.readUInt32BE(0)).toBe(udpPayloadFor(111)!.bytes.readUInt32BE(0));
    expect([r.readUInt32BE(4), r.readUInt32BE(8), r.readUInt32BE(20)]).toEqual([1, 0, 0]); // REPLY, MSG_ACCEPTED, SUCCESS
  });

  it('memcached (UDP on) answers the version request behind the same frame header', async () => {
    const r = await exchange(11211);
    expect([...r.subarray(0, 2)]).toEqual([0, 1]);
    expect(r.subarray(8).toString('latin1')).toMatch(/^VERSION \d+\.\d+\.\d+\r\n$/);
  });
});

