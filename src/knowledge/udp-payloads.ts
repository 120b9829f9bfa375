/**
 * What whyport sends to a UDP port so that a service there answers, by port: a UDP service
 * ignores a datagram it cannot parse (an empty one included), and silence tells open from
 * filtered no better than nothing. In the spirit of nmap's nmap-payloads: only requests that are
 * harmless and change no state on the server, each one the first message an ordinary client of
 * that protocol sends. Built here from the protocols' own specifications (RFC sections named), not
 * copied, with fixed but random-looking ids so that a capture can tell whyport's probes apart.
 *
 * Left out on purpose: TFTP (69: a read request opens a transfer), syslog (514: it never answers),
 * WireGuard (51820: it answers nothing without a key of the peer's), QUIC and DTLS (443: a QUIC
 * version-negotiation trigger would be harmless, but no QUIC server could be run here to verify
 * it). Those ports get an empty datagram.
 */
export interface UdpPayload {
  /** The well-known ports the request is sent to. */
  ports: readonly number[];
  /** A short name for reports and JSON: 'dns', 'ntp', … ('empty' is the empty datagram's). */
  name: string;
  /** What was sent, as a sentence names it: "a DNS query for the root name servers". */
  description: string;
  bytes: Buffer;
  /** What a reply proves beyond "the port is open". */
  proves: string;
}

/** A DNS message with one question (RFC 1035 §4.1): `id`, flags, the name's labels, type, class IN. */
function dnsQuery(id: number, flags: number, labels: readonly string[], type: number): Buffer {
  const name = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(1, 4); // QDCOUNT
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2); // class IN
  return Buffer.concat([header, name, tail]);
}

/** One BER TLV (X.690), short or long length form. */
function ber(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const length = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
const int = (n: number) => ber(0x02, n < 0x80 ? Buffer.from([n]) : n < 0x8000 ? Buffer.from([n >> 8, n & 0xff]) : Buffer.from([0, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]));
const octets = (b: Buffer = Buffer.alloc(0)) => ber(0x04, b);
const sequence = (...items: Buffer[]) => ber(0x30, ...items);

/**
 * SNMPv3 engine discovery (RFC 3414 §4, RFC 3412 §6): a GetRequest with no varbinds, no user and an
 * empty authoritative engine id, flagged reportable and noAuthNoPriv. An agent must answer it with
 * a Report carrying its engine id (usmStatsUnknownEngineIDs), whatever its communities and users.
 */
const SNMPV3_DISCOVERY = sequence(
  int(3), // msgVersion
  sequence(int(0x2b7d) /* msgID */, int(65507) /* msgMaxSize */, octets(Buffer.from([0x04])) /* msgFlags: reportable */, int(3) /* msgSecurityModel: USM */),
  octets(sequence(octets(), int(0), int(0), octets(), octets(), octets())), // UsmSecurityParameters, all empty
  sequence(octets(), octets(), ber(0xa0, int(0x5e31) /* request-id */, int(0), int(0), sequence())), // ScopedPDU: get-request
);

/** NTP mode 3 (client), version 4 (RFC 5905 §7.3), the 48-byte header SNTP clients send (RFC 4330 §5), with a fixed transmit timestamp the server copies back. */
const NTP_CLIENT = (() => {
  const b = Buffer.alloc(48);
  b[0] = 0x23; // LI 0, VN 4, Mode 3
  b.writeUInt32BE(0xe9c1f3a2, 40);
  b.writeUInt32BE(0x5b8d0c71, 44);
  return b;
})();

/** NetBIOS node status request (RFC 1002 §4.2.17): the wildcard name `*`, first-level encoded (RFC 1001 §14.1), type NBSTAT. */
const NBSTAT = (() => {
  const wildcard = Buffer.concat([Buffer.from('*', 'ascii'), Buffer.alloc(15)]);
  const encoded = [...wildcard].map((c) => String.fromCharCode(0x41 + (c >> 4), 0x41 + (c & 0x0f))).join('');
  return dnsQuery(0x3c6e, 0x0000, [encoded], 0x21);
})();

/** An ONC RPC call (RFC 5531 §9) of the portmapper (program 100000, version 2, RFC 1833 §3) NULL procedure, AUTH_NULL both ways. */
const PORTMAP_NULL = (() => {
  const words = [0x6d2f41c8 /* xid */, 0 /* CALL */, 2 /* RPC version */, 100000, 2, 0 /* NULL */, 0, 0 /* cred AUTH_NULL */, 0, 0 /* verf AUTH_NULL */];
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32BE(w, i * 4));
  return b;
})();

export const UDP_PAYLOADS: readonly UdpPayload[] = [
  {
    ports: [53],
    name: 'dns',
    description: 'a DNS query for the root name servers',
    // What `dig . NS` asks: recursion desired, so a resolver answers as readily as an authoritative server.
    bytes: dnsQuery(0x7a3e, 0x0100, [], 2),
    proves: 'a DNS server answers there (any answer, a refusal or an error included, is one)',
  },
  {
    ports: [5353],
    name: 'mdns',
    description: 'an mDNS query for the services it offers',
    // DNS-SD service enumeration (RFC 6763 §9); from a port other than 5353 a responder answers by unicast (RFC 6762 §6.7).
    bytes: dnsQuery(0x1b94, 0x0000, ['_services', '_dns-sd', '_udp', 'local'], 12),
    proves: 'an mDNS responder (Avahi, Bonjour, systemd-resolved) answers there',
  },
  { ports: [123], name: 'ntp', description: 'an NTP client request', bytes: NTP_CLIENT, proves: 'an NTP server answers there (its reply carries its stratum and time)' },
  { ports: [161], name: 'snmp', description: 'an SNMPv3 engine-discovery request', bytes: SNMPV3_DISCOVERY, proves: 'an SNMPv3 agent answers there (with its engine id), whatever its users and communities' },
  { ports: [137], name: 'netbios-ns', description: 'a NetBIOS node status request', bytes: NBSTAT, proves: 'a NetBIOS name server (Samba nmbd, Windows) answers there, with the names it holds' },
  {
    ports: [1900],
    name: 'ssdp',
    description: 'an SSDP M-SEARCH request',
    // UPnP Device Architecture 1.1 §1.3.2: a search for every device and service.
    bytes: Buffer.from('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n', 'ascii'),
    proves: 'a UPnP device or service (a router, a media server) answers there',
  },
  { ports: [111], name: 'rpc', description: 'an RPC portmapper NULL call', bytes: PORTMAP_NULL, proves: 'an RPC portmapper (rpcbind) answers there' },
  {
    ports: [11211],
    name: 'memcached',
    description: 'a memcached version request',
    // memcached's UDP frame header (doc/protocol.txt: request id 1, sequence 0, 1 datagram, reserved 0), then
    // `version`: its reply is one line, where `stats` would send kilobytes (what made memcached an amplifier).
    bytes: Buffer.from('\0\x01\0\0\0\x01\0\0version\r\n', 'latin1'),
    proves: 'memcached answers there with UDP enabled (it is off by default since 1.5.6)',
  },
];

const BY_PORT = new Map(UDP_PAYLOADS.flatMap((p) => p.ports.map((port) => [port, p] as const)));

/** The request whyport sends to a UDP port, or undefined when none is known (an empty datagram is sent). */
export function udpPayloadFor(port: number): UdpPayload | undefined {
  return BY_PORT.get(port);
}

/** The options of Host.probeUdp for a port: its request (with its name) when one is known, an empty datagram otherwise. */
export function udpProbeOptions(port: number, timeoutMs: number): { timeoutMs: number; payload?: Uint8Array; payloadName?: string } {
  const payload = udpPayloadFor(port);
  return { timeoutMs, ...(payload ? { payload: payload.bytes, payloadName: payload.name } : {}) };
}

/**
 * What a probe sent, as a sentence names it, from the payload name of a UdpProbeResult: 'empty',
 * 'newline' (what goes over ssh instead of an empty datagram, which bash cannot write), or an entry's.
 */
export function udpPayloadDescription(name: string): string {
  if (name === 'empty') return 'an empty datagram';
  if (name === 'newline') return 'a datagram of one newline';
  return UDP_PAYLOADS.find((p) => p.name === name)?.description ?? 'a datagram';
}

/** What a reply to that payload would have shown, for a port that stayed silent: a clause. */
export function udpPayloadNote(name: string): string {
  const known = UDP_PAYLOADS.find((p) => p.name === name);
  if (known) return `a reply would have shown that ${known.proves}`;
  return 'no request is known here that the usual service on this port answers, and many programs ignore a datagram they cannot parse';
}
