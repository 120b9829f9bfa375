// The readers' first commands (src/system/socket-query.ts), apart from them so the start-up entry
// (src/host/early.ts) can start the same command before whyport's bundle loads.

/** The `ss` command readSocketTable runs first: every TCP socket of the port, in every state. */
export function socketTableArgv(port: number): string[] {
  return ['ss', '-Htane', 'state', 'all', `( sport = :${port} or dport = :${port} )`];
}

/** The same for UDP, with each socket's memory (`-m`: skmem, the receive buffer and the drops). */
export function udpSocketTableArgv(port: number): string[] {
  return ['ss', '-Huanem', 'state', 'all', `( sport = :${port} or dport = :${port} )`];
}
