import type { Family, TcpSocket, TcpState } from './socket.js';

/** The kernel's TCP state numbers (include/net/tcp_states.h) as /proc/net/tcp prints them, in hex. */
const PROC_STATES: Readonly<Record<number, TcpState>> = {
  0x01: 'ESTABLISHED',
  0x02: 'SYN_SENT',
  0x03: 'SYN_RECV',
  0x04: 'FIN_WAIT1',
  0x05: 'FIN_WAIT2',
  0x06: 'TIME_WAIT',
  0x07: 'CLOSE',
  0x08: 'CLOSE_WAIT',
  0x09: 'LAST_ACK',
  0x0a: 'LISTEN',
  0x0b: 'CLOSING',
  0x0c: 'NEW_SYN_RECV',
};

//   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//    0: 0100007F:1BA2 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 16003 …
// /proc/net/udp has the same columns, then `ref pointer drops` (the socket's sk_drops).
const ROW =
  /^\s*\d+:\s+([0-9A-Fa-f]+):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]+):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{2})\s+([0-9A-Fa-f]+):([0-9A-Fa-f]+)\s+\S+\s+\S+\s+(\d+)\s+\d+\s+(\d+)(?:\s+\d+\s+[0-9A-Fa-f]+\s+(\d+))?/;

/**
 * Parses /proc/net/tcp (family 'inet') or /proc/net/tcp6 ('inet6'). Addresses are 32-bit words in
 * the byte order of the host that printed them (Host.identity; little-endian on x86 and arm64,
 * where the fixtures come from); ports are plain hex.
 * On LISTEN rows rx_queue is the accept queue and tx_queue is 0 (the backlog is not shown).
 * Whether an IPv6 wildcard is dual-stack is not in the file: dualStack stays undefined.
 */
export function parseProcNetTcp(text: string, family: Family, byteOrder: 'LE' | 'BE' = 'LE'): TcpSocket[] {
  return parseRows(text, family, byteOrder, 'tcp');
}

/**
 * Parses /proc/net/udp ('inet') or /proc/net/udp6 ('inet6'), as parseProcNetTcp: a UDP socket is
 * UNCONN (07, TCP_CLOSE: bound, unconnected) or ESTABLISHED (01: connected), rx_queue is the
 * bytes queued for reading (sk_rmem_alloc), and the last column the socket's drops. The receive
 * buffer's size is not in the file.
 */
export function parseProcNetUdp(text: string, family: Family, byteOrder: 'LE' | 'BE' = 'LE'): TcpSocket[] {
  return parseRows(text, family, byteOrder, 'udp');
}

function parseRows(text: string, family: Family, byteOrder: 'LE' | 'BE', protocol: 'tcp' | 'udp'): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const line of text.split('\n')) {
    const m = ROW.exec(line);
    if (!m) continue;
    const [, localHex, localPort, peerHex, peerPort, stateHex, txHex, rxHex, uid, inode, drops] = m;
    const local = hexAddress(localHex!, byteOrder);
    const peer = hexAddress(peerHex!, byteOrder);
    if (local === undefined || peer === undefined) continue;
    const state = parseInt(stateHex!, 16);
    const socket: TcpSocket = {
      family,
      state: protocol === 'udp' ? (state === 0x07 ? 'UNCONN' : state === 0x01 ? 'ESTABLISHED' : 'UNKNOWN') : (PROC_STATES[state] ?? 'UNKNOWN'),
      recvQ: parseInt(rxHex!, 16),
      sendQ: parseInt(txHex!, 16),
      local: { address: local, port: parseInt(localPort!, 16) },
      peer: { address: peer, port: parseInt(peerPort!, 16) },
      uid: Number(uid),
      inode: Number(inode),
    };
    if (protocol === 'udp') {
      socket.protocol = 'udp';
      if (drops !== undefined) socket.drops = Number(drops);
    }
    sockets.push(socket);
  }
  return sockets;
}

/** 8 hex digits: an IPv4 address; 32: an IPv6 one. Each 8-digit word is a u32 in host order. */
function hexAddress(hex: string, byteOrder: 'LE' | 'BE'): string | undefined {
  if (hex.length !== 8 && hex.length !== 32) return undefined;
  const bytes = Buffer.alloc(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    const word = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    if (byteOrder === 'LE') bytes.writeUInt32LE(word, w * 4);
    else bytes.writeUInt32BE(word, w * 4);
  }
  return bytes.length === 4 ? [...bytes].join('.') : formatIPv6(bytes);
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as `::`, IPv4-mapped dotted. */
export function formatIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
