import type { ClientSees, Packet } from './model.js';

// What the client gets back from a drop or a reject: the reply decides, on the client, whether
// whyport says closed or filtered (nmap's rule), so the server's verdict names it.

/** ICMP unreachable codes by the names nft and iptables give them, in the words of RFC 792 / 4443. */
const UNREACHABLE: Record<string, string> = {
  'port-unreachable': 'port unreachable',
  'port-unreach': 'port unreachable',
  'admin-prohibited': 'administratively prohibited',
  'adm-prohibited': 'administratively prohibited',
  'host-unreachable': 'host unreachable',
  'net-unreachable': 'network unreachable',
  'prot-unreachable': 'protocol unreachable',
  'proto-unreachable': 'protocol unreachable',
  'host-prohibited': 'host prohibited',
  'net-prohibited': 'network prohibited',
  'no-route': 'no route',
  'addr-unreachable': 'address unreachable',
  'addr-unreach': 'address unreachable',
  'policy-fail': 'policy failure',
  'reject-route': 'reject route',
};

/**
 * What a client sees from a block: a reject's reply (`rejectWith` as nft or iptables names it:
 * `icmpx admin-prohibited`, `icmp-port-unreachable`, `tcp-reset`, …) or a drop's silence.
 */
export function clientSees(verdict: 'drop' | 'reject', rejectWith: string | undefined, p: Pick<Packet, 'protocol' | 'family'>): ClientSees {
  const silence: ClientSees = { reply: 'no reply', code: p.protocol === 'udp' ? 'OPEN_OR_FILTERED' : 'PORT_FILTERED' };
  if (verdict === 'drop') return silence;
  const how = (rejectWith ?? 'icmp-port-unreachable').toLowerCase();
  if (/^tcp[- ]reset$/.test(how)) {
    // The kernel sends a reset only in answer to a TCP segment; a datagram is just dropped.
    return p.protocol === 'tcp' ? { reply: 'TCP reset', code: 'PORT_CLOSED' } : silence;
  }
  const name = how.replace(/^(?:icmpx|icmpv6|icmp6|icmp)[- ]/, '');
  const icmp = p.family === 6 ? 'ICMPv6' : 'ICMP';
  const words = UNREACHABLE[name] ?? name;
  return { reply: `${icmp} ${words}`, code: words === 'port unreachable' ? 'PORT_CLOSED' : 'PORT_FILTERED' };
}
