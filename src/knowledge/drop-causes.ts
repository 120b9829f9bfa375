/**
 * The kernel's drops of an incoming connection that no firewall rule shows: the counter each one
 * grows (`nstat`), the kernel's own reason name for it (`skb:kfree_skb`, include/net/dropreason-core.h),
 * what it means and its fix. Order is preference: when two grew alike, the first names the cause.
 */
export interface DropCause {
  /** The kernel's reason (SKB_DROP_REASON_* without the prefix); a name of whyport's where the kernel has none. */
  reason: string;
  /** The nstat counter that grows with it, when there is one. */
  counter?: string;
}

/** A table this full already drops new connections (the kernel evicts, then drops, near the limit). */
export const CONNTRACK_FULL_AT = 0.95;

/** Counters watched over the window, each with the drop reason it counts. */
export const DROP_COUNTERS: readonly Required<DropCause>[] = [
  { counter: 'TcpExtIPReversePathFilter', reason: 'IP_RPFILTER' },
  { counter: 'TcpExtListenOverflows', reason: 'TCP_LISTEN_OVERFLOW' },
  { counter: 'TcpExtListenDrops', reason: 'TCP_LISTEN_OVERFLOW' },
  { counter: 'TcpExtTCPReqQFullDrop', reason: 'TCP_REQQFULLDROP' },
  { counter: 'TcpExtSyncookiesFailed', reason: 'TCP_SYNCOOKIES_FAILED' },
  { counter: 'IpInAddrErrors', reason: 'IP_INADDRERRORS' },
  { counter: 'IpExtInNoRoutes', reason: 'IP_INNOROUTES' },
];

/**
 * Reasons the kernel gives for packets that are not a new connection being turned away (old
 * data, a packet for a closed socket, an unspecified free): the trace is machine-wide, and these
 * come from everyone's traffic.
 */
export const NOISE_REASONS: ReadonlySet<string> = new Set(['NOT_SPECIFIED', 'NO_SOCKET', 'TCP_OLD_DATA', 'TCP_OLD_ACK', 'TCP_TOO_OLD_ACK', 'TCP_CLOSE', 'TCP_RESET', 'SOCKET_CLOSE', 'TCP_OFOMERGE', 'TCP_ZEROWINDOW', 'TCP_OLD_SEQUENCE', 'TCP_INVALID_SEQUENCE', 'QUEUE_PURGE', 'OTHERHOST', 'IP_INHDR']);

/** What is known where the cause is named: the window's facts the fix words need. */
export interface DropFacts {
  port: number;
  /** The client's address as its packets came (the probe's source). */
  client?: string;
  /** The interface they came in by. */
  inInterface?: string;
  /** The interface the server's route back to the client leaves by. */
  routeBackDev?: string;
  /** nf_conntrack_max now. */
  conntrackMax?: number;
  /** What the firewall step found: 'allows', 'no-permission', 'unknown', …. */
  firewall?: string;
}

/** What a named drop means, and its fix: a summary and the commands, in a person's words. */
export interface DropExplained {
  /** One clause: "reverse-path filtering (rp_filter) drops them: …". */
  why: string;
  fixSummary: string;
  /** The commands, each as argv: the fix first, then what shows the cause. */
  fix: string[][];
}

/** The meaning and fix of a drop reason, with the facts of the window. Pure. */
export function explainDrop(reason: string, f: DropFacts): DropExplained {
  const iface = f.inInterface ?? 'all';
  switch (reason) {
    case 'IP_RPFILTER': {
      const back = f.routeBackDev && f.inInterface && f.routeBackDev !== f.inInterface ? `: they come in by ${f.inInterface}, and the route back to ${f.client ?? 'the client'} leaves by ${f.routeBackDev}` : '';
      return {
        why: `reverse-path filtering (rp_filter) drops them, because the route back to their source is not by the interface they came in by${back}`,
        fixSummary: `Make reverse-path filtering loose on ${iface} (2: any route back will do), or route the answers to ${f.client ?? 'the client'} back out by the interface they come in by`,
        fix: [['sysctl', '-w', `net.ipv4.conf.${iface}.rp_filter=2`], ...(f.client ? [['ip', 'route', 'get', f.client]] : [])],
      };
    }
    case 'NF_CONNTRACK_FULL':
      return {
        why: 'the connection-tracking table is full, so netfilter drops every new connection before any rule sees it',
        fixSummary: 'Raise the connection-tracking limit (and make it last in /etc/sysctl.d/), then find what fills the table',
        fix: [...(f.conntrackMax ? [['sysctl', '-w', `net.netfilter.nf_conntrack_max=${f.conntrackMax * 2}`]] : []), ['sysctl', 'net.netfilter.nf_conntrack_count', 'net.netfilter.nf_conntrack_max']],
      };
    case 'TCP_LISTEN_OVERFLOW':
      return {
        why: `the accept queue of port ${f.port} overflows: the program does not accept connections as fast as they come, or its backlog is too small`,
        fixSummary: 'Look at the accept queue against its backlog; raise the backlog the program listens with (capped by net.core.somaxconn) or find why it stopped accepting',
        fix: [['ss', '-Htln', `sport = :${f.port}`], ['sysctl', 'net.core.somaxconn']],
      };
    case 'TCP_REQQFULLDROP':
      return {
        why: 'the SYN queue is full and SYN cookies are off, so new connections are dropped before the handshake',
        fixSummary: 'Turn SYN cookies on, or raise the SYN queue',
        fix: [['sysctl', '-w', 'net.ipv4.tcp_syncookies=1'], ['sysctl', 'net.ipv4.tcp_max_syn_backlog']],
      };
    case 'NETFILTER_DROP':
      return f.firewall === 'allows'
        ? {
            why: 'a netfilter rule drops them, though the rules whyport read let the port in: a rule it could not evaluate (a set, a mark, a table of another program) or conntrack\'s INVALID state',
            fixSummary: 'Look for the rule that drops them, with counters: the one whose packet count grows while the client connects',
            fix: [['nft', 'list', 'ruleset'], ['iptables', '-L', '-v', '-n']],
          }
        : {
            why: 'a firewall rule drops them (the kernel says NETFILTER_DROP), one whyport could not read',
            fixSummary: 'Read the rules as root and remove or narrow the one that drops the port',
            fix: [['nft', 'list', 'ruleset'], ['iptables', '-S']],
          };
    case 'TC_INGRESS':
      return {
        why: `a tc filter on the ingress of ${iface} drops them`,
        fixSummary: `Look at the tc filters of ${iface} and remove the one that drops the port`,
        fix: [['tc', 'filter', 'show', 'dev', iface, 'ingress']],
      };
    case 'IP_INADDRERRORS':
    case 'IP_INVALID_DEST':
      return {
        why: 'the kernel drops them as addressed to an address that is not this machine\'s',
        fixSummary: 'Check that the address the client connects to is one of this machine\'s',
        fix: [['ip', '-br', 'addr']],
      };
    case 'IP_INNOROUTES':
      return {
        why: 'the kernel has no route for them and drops them',
        fixSummary: `Check the route to the port's address and back to ${f.client ?? 'the client'}`,
        fix: [...(f.client ? [['ip', 'route', 'get', f.client]] : []), ['ip', 'route']],
      };
    default:
      return {
        why: `the kernel drops them (reason ${reason})`,
        fixSummary: `Look up the kernel's drop reason ${reason} (include/net/dropreason-core.h) and what sets it on this machine`,
        fix: [],
      };
  }
}
