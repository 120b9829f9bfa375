// What the readers (src/system/socket-query.ts, src/system/namespaces.ts) and the start-up entry
// (src/host/early.ts) must agree on, apart from the readers so the entry can start the same reads
// before whyport's bundle loads: the first socket-table commands, and sockstat's counts.

/** The `ss` command readSocketTable runs first: every TCP socket of the port, in every state. */
export function socketTableArgv(port: number): string[] {
  return ['ss', '-Htane', 'state', 'all', `( sport = :${port} or dport = :${port} )`];
}

/** The same for UDP, with each socket's memory (`-m`: skmem, the receive buffer and the drops). */
export function udpSocketTableArgv(port: number): string[] {
  return ['ss', '-Huanem', 'state', 'all', `( sport = :${port} or dport = :${port} )`];
}

/** `TCP: inuse 3 …` of /proc/PID/net/sockstat (`TCP6:`, `UDP:`, `UDP6:` alike); undefined when it cannot be read. */
export function tcpInUse(sockstat: string, label: 'TCP' | 'TCP6' | 'UDP' | 'UDP6'): number | undefined {
  const m = new RegExp(`^${label}: inuse (\\d+)`, 'm').exec(sockstat);
  return m ? Number(m[1]) : undefined;
}
