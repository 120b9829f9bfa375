/**
 * When a number of sockets in one state on one port stops being ordinary traffic and becomes worth
 * saying. These are the defaults of the sockets check's parameters (closeWaitThreshold, …): a
 * playbook that knows its service better sets them with `with:`.
 */
export interface SocketThresholds {
  /** CLOSE_WAIT held by the port's server side at or above this is a leak (CLOSE_WAIT_LEAK). */
  closeWait: number;
  /** Half-open connections (SYN_RECV) at or above this are a finding. */
  synRecv: number;
  /** TIME_WAIT on the port at or above this is a finding. */
  timeWait: number;
  /** FIN_WAIT2 on the port at or above this is a finding. */
  finWait2: number;
}

export const DEFAULT_THRESHOLDS: Readonly<SocketThresholds> = {
  // A program that closes its sockets leaves CLOSE_WAIT for the microseconds between read()
  // returning 0 and close(), so a busy server shows a few at most. CLOSE_WAIT never times out: a
  // socket the program forgot stays until the program exits, and the count only grows. 20 on one
  // port is far past in-flight closes, and far below the descriptor limit (1024 by default) a leak
  // ends in, which leaves time to act.
  closeWait: 20,
  // A handshake takes one round trip, so half-open connections last milliseconds. 50 at once is
  // well above a busy server's normal count, and below the SYN queue's default size (128 and more)
  // where the kernel starts sending SYN cookies or dropping: it warns before connections fail.
  synRecv: 50,
  // TIME_WAIT lasts 60 s on Linux, so 1000 means a steady 17 closes a second: normal on a busy web
  // server, hence only a finding. On the side that closes first each one holds an ephemeral port
  // toward the same address and port, out of about 28,000 (32768–60999): 1000 is an early warning.
  timeWait: 1000,
  // Orphaned FIN_WAIT2 sockets (closed here, the peer never closes) are dropped after
  // tcp_fin_timeout (60 s). 100 at once means many peers that hold connections they should close.
  finWait2: 100,
};

/**
 * How long to wait between two readings of the kernel's listen-overflow counter when an accept
 * queue is full. On a busy server dropped SYNs arrive all the time, so a short interval shows the
 * counter growing; clients retry a dropped SYN only after 1 s, 2 s, 4 s…, so an idle server with a
 * stuck queue may show no growth, which the report says rather than waits seconds for.
 */
export const OVERFLOW_SAMPLE_MS = 300;

/** The kernel's cap on every listen backlog: what a program asks for is silently cut to this. */
export const SOMAXCONN_FILE = '/proc/sys/net/core/somaxconn';

/**
 * How long to watch a UDP socket's drop counter when it has dropped datagrams before or its queue
 * is full. Datagrams are not retried by the kernel (a client's own retry of a DNS query comes
 * after 1 s or more), so only a sender that keeps sending shows growth; half a second sees a busy
 * service's drops grow and costs a healthy socket nothing, as it is not watched at all.
 */
export const UDP_DROP_SAMPLE_MS = 500;

/**
 * How long the server's own UDP probe of itself (the connect step) waits for a reply. An ICMP port
 * unreachable over loopback comes in microseconds, and a program that answers a local request
 * does so well within this; past it, a silent program and a drop look alike anyway, and the
 * verdict (bound, and let in or not by the firewall) does not depend on the wait.
 */
export const UDP_LOCAL_REPLY_MS = 1_000;

/**
 * A UDP receive queue is full when less room is left in the buffer (rcvbuf − queued bytes) than
 * one small datagram takes in kernel memory: the kernel drops a datagram whose truesize does not
 * fit (udp __udp_enqueue_schedule_skb), and a 1-byte datagram over loopback takes 832 bytes here
 * (measured: test/fixtures/ss/capture-udp.sh). Larger datagrams are dropped earlier; the drop
 * counter shows those.
 */
export const UDP_QUEUE_FULL_ROOM_BYTES = 1024;

/** The host's UDP buffer limits and its ephemeral port range (per network namespace). */
export const RMEM_MAX_FILE = '/proc/sys/net/core/rmem_max';
export const RMEM_DEFAULT_FILE = '/proc/sys/net/core/rmem_default';
export const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';
