// Apart from their meanings (tcp-states.ts) so the socket readers, early on every diagnosis, load
// only the names.
/** TCP states as netstat names them (ss's ESTAB, SYN-SENT… are normalised to these). */
export const TCP_STATES = [
  'LISTEN',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'CLOSING',
  'NEW_SYN_RECV',
  'UNKNOWN',
] as const;
export type TcpState = (typeof TCP_STATES)[number];
