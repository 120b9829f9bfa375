import type { UdpProbeResult } from '../host/udp-probe.js';
import { udpProbeOptions } from '../knowledge/udp-payloads.js';
import { connectKey, type ConnectKey } from './tcp-connect.js';
import { defineReader } from './reader.js';

/**
 * One UDP probe from the host: the datagram the port's service answers (an empty one when none is
 * known), retried until a reply, an ICMP error or the timeout.
 */
export const udpProbeOf = defineReader<ConnectKey, UdpProbeResult>({
  name: 'udp probe',
  key: connectKey,
  read: (k, s) => s.host.probeUdp(k.address, k.port, udpProbeOptions(k.port, k.timeoutMs)),
});
