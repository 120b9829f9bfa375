import { errorCode, type Host } from '../host/host.js';
import { parseNetstat } from './netstat.js';
import { findOwners } from './owners.js';
import { parseProcNetTcp, parseProcNetUdp } from './procnet.js';
import type { CommandResult } from './runner.js';
import { showCommand } from './runner.js';
import type { SocketSource, SocketTable, TcpSocket } from './socket.js';
import { parseSs } from './ss.js';
import { defineReader } from './reader.js';
import { socketTableArgv, udpSocketTableArgv } from '../host/socket-argv.js';

export { socketTableArgv, udpSocketTableArgv };

export interface SocketQueryOptions {
  timeoutMs: number;
  /**
   * Processes to look at first when finding owners (see findOwners). A promise is awaited only
   * once the table is read, so looking them up never delays the start of ss.
   */
  candidatePids?: readonly number[] | Promise<readonly number[]>;
  /** Start from this source instead of ss (tests use it to exercise the fallbacks). */
  prefer?: SocketSource;
  /** UDP sockets instead of TCP ones. */
  protocol?: 'tcp' | 'udp';
  /** false: leave the owners out (a second reading that only wants the counters). */
  owners?: false;
}

/**
 * Every TCP socket, in every state, whose local or peer port is `port`, with its owners; or with
 * `protocol: 'udp'` every UDP socket, bound (UNCONN) or connected (ESTABLISHED), with its receive
 * buffer, queued bytes and drops where the source shows them (ss -m; /proc/net/udp has drops only).
 *
 * ss filters in the kernel and is asked without `-p`, because `ss -p` reads every descriptor of
 * every process, which is slow on a busy server; owners are then found by inode, stopping early
 * (findOwners). Without ss, netstat is read (also without -p, for the same reason), and without
 * netstat, /proc/net/tcp and tcp6 (udp and udp6).
 */
export async function readSocketTable(host: Host, port: number, opts: SocketQueryOptions): Promise<SocketTable> {
  const filter = `( sport = :${port} or dport = :${port} )`;
  const onPort = (s: TcpSocket) => s.local.port === port || s.peer.port === port;
  const table =
    opts.protocol === 'udp'
      ? await readFirstAvailable(host, opts, 'udp', {
          ss: { argv: udpSocketTableArgv(port), shown: showCommand(['ss', '-Huanm', filter]) },
          netstat: { argv: ['netstat', '-uaneeW'], shown: `netstat -uanp | grep ':${port} '` },
          proc: { shown: `grep ':${hexPort(port)} ' /proc/net/udp /proc/net/udp6` },
          keep: onPort,
        })
      : await readFirstAvailable(host, opts, 'tcp', {
          ss: { argv: socketTableArgv(port), shown: showCommand(['ss', '-Htanp', filter]) },
          netstat: { argv: ['netstat', '-taneeW'], shown: `netstat -tanp | grep ':${port} '` },
          proc: { shown: `grep ':${hexPort(port)} ' /proc/net/tcp /proc/net/tcp6` },
          keep: onPort,
        });
  if (opts.owners === false) return table;
  const candidates = await opts.candidatePids;
  return attachOwners(host, table, candidates?.length ? candidates : undefined);
}


/**
 * Every LISTEN socket on the machine, without owners: callers attach them (attachOwners) to the
 * few sockets they care about, as a full owner scan is costly. With `protocol: 'udp'`, every
 * bound unconnected UDP socket (what `ss -ul` lists), client sockets given a port included.
 */
export async function readListeners(host: Host, opts: { timeoutMs: number; prefer?: SocketSource; protocol?: 'tcp' | 'udp' }): Promise<SocketTable> {
  if (opts.protocol === 'udp') {
    return readFirstAvailable(host, opts, 'udp', {
      ss: { argv: ['ss', '-Hulne'], shown: 'ss -Hulnp' },
      netstat: { argv: ['netstat', '-ulneeW'], shown: 'netstat -ulnp' },
      // 07 is TCP_CLOSE, what an unconnected UDP socket is; the state column is the only one followed by ' 07 '.
      proc: { shown: "grep ' 07 ' /proc/net/udp /proc/net/udp6" },
      keep: (s) => s.state === 'UNCONN',
    });
  }
  return readFirstAvailable(host, opts, 'tcp', {
    ss: { argv: ['ss', '-Htlne'], shown: 'ss -Htlnp' },
    netstat: { argv: ['netstat', '-tlneeW'], shown: 'netstat -tlnp' },
    // 0A is TCP_LISTEN; the state column is the only one followed by ' 0A '.
    proc: { shown: "grep ' 0A ' /proc/net/tcp /proc/net/tcp6" },
    keep: (s) => s.state === 'LISTEN',
  });
}

/**
 * The table with owners filled in by socket inode: the processes found, `[]` for sockets no
 * process can hold (inode 0: TIME_WAIT, not yet accepted), left undefined when the owner could
 * not be seen. ownersHidden is set when that is because whyport is not root.
 */
export async function attachOwners(host: Host, table: SocketTable, candidatePids?: readonly number[]): Promise<SocketTable> {
  const inodes = table.sockets.flatMap((s) => (s.inode ? [s.inode] : []));
  const found = await findOwners(host, inodes, candidatePids ? { candidatePids } : {});
  const unseen: TcpSocket[] = [];
  const sockets = table.sockets.map((s): TcpSocket => {
    if (s.inode === undefined) return s;
    if (s.inode === 0) return { ...s, owners: [] };
    const owners = found.owners.get(s.inode);
    if (owners) return { ...s, owners };
    unseen.push(s);
    const { owners: _dropped, ...rest } = s;
    return rest;
  });
  const notices = [...table.notices];
  if (unseen.length > 0 && !found.hidden) {
    // Root sees every process here, so these belong to another PID namespace (a container) or to the kernel.
    const which = unseen.slice(0, 3).map((s) => `${s.state} ${s.local.address}:${s.local.port} (inode ${s.inode})`);
    const more = unseen.length > 3 ? ` and ${unseen.length - 3} more` : '';
    notices.push(`no process visible from here holds ${which.join(', ')}${more}: it may belong to a container or to the kernel`);
  }
  return { ...table, sockets, notices, ownersHidden: table.ownersHidden || found.hidden };
}

interface Sources {
  ss: { argv: string[]; shown: string };
  netstat: { argv: string[]; shown: string };
  proc: { shown: string };
  /** Which sockets to keep: ss filters in the kernel, netstat and /proc are filtered here. */
  keep: (s: TcpSocket) => boolean;
}

const ORDER: Record<SocketSource, SocketSource[]> = {
  ss: ['ss', 'netstat', 'proc'],
  netstat: ['netstat', 'proc'],
  proc: ['proc'],
};

async function readFirstAvailable(host: Host, opts: { timeoutMs: number; prefer?: SocketSource }, protocol: 'tcp' | 'udp', sources: Sources): Promise<SocketTable> {
  const skipped: string[] = [];
  const udp = protocol === 'udp' ? ({ protocol } as const) : {};
  for (const source of ORDER[opts.prefer ?? 'ss']) {
    if (source === 'proc') {
      const read = await readProcNet(host, protocol);
      if (typeof read === 'string') {
        skipped.push(read);
        continue;
      }
      return { source, ...udp, command: sources.proc.shown, sockets: read.filter(sources.keep), ownersHidden: false, notices: fallbackNotices(skipped) };
    }
    const { argv, shown } = sources[source];
    const result = await host.run(argv, { timeoutMs: opts.timeoutMs });
    const failure = whyUnusable(result);
    if (failure) {
      skipped.push(failure);
      continue;
    }
    if (source === 'ss') {
      return { source, ...udp, command: shown, sockets: parseSs(result.stdout, udp).filter(sources.keep), ownersHidden: false, notices: fallbackNotices(skipped) };
    }
    // netstat writes its notices (about root, with -p) to stderr.
    const parsed = parseNetstat(`${result.stdout}\n${result.stderr}`, udp);
    return {
      source,
      ...udp,
      command: shown,
      sockets: parsed.sockets.filter(sources.keep),
      ownersHidden: parsed.ownersHidden,
      notices: [...fallbackNotices(skipped), ...parsed.notices],
    };
  }
  throw new Error(
    `could not read the ${protocol.toUpperCase()} sockets of this host: ${skipped.join('; ')}. Install iproute2 (ss) or net-tools (netstat), or check that /proc is mounted.`,
  );
}

function whyUnusable(result: CommandResult): string | undefined {
  const shown = showCommand(result.argv);
  if (result.missing) return `${result.argv[0]} is not installed`;
  if (result.timedOut) return `${shown} did not finish within the timeout`;
  if (result.exitCode !== 0) {
    const said = result.stderr.trim().split('\n')[0];
    return `${shown} failed (exit ${result.exitCode ?? 'signal'}${said ? `: ${said}` : ''})`;
  }
  return undefined;
}

function fallbackNotices(skipped: string[]): string[] {
  return skipped.length > 0 ? [`${skipped.join('; ')}: read another source instead`] : [];
}

/** Both files; tcp6 (udp6) is absent when IPv6 is disabled, which is not an error. */
async function readProcNet(host: Host, protocol: 'tcp' | 'udp'): Promise<TcpSocket[] | string> {
  const file = `/proc/net/${protocol}`;
  let v4: string;
  try {
    v4 = await host.readFile(file);
  } catch (err) {
    return `${file} could not be read (${errorCode(err) ?? String(err)})`;
  }
  let v6 = '';
  try {
    v6 = await host.readFile(`${file}6`);
  } catch {
    // No IPv6 on this host.
  }
  // Addresses are words in the byte order of the kernel that printed them, not of this machine.
  const { byteOrder } = await host.identity();
  const parse = protocol === 'udp' ? parseProcNetUdp : parseProcNetTcp;
  return [...parse(v4, 'inet', byteOrder), ...parse(v6, 'inet6', byteOrder)];
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/** Every listening TCP socket (or bound UDP one) of the host, without owners (readListeners), once per diagnosis. */
export const listenersOf = defineReader<'tcp' | 'udp', SocketTable>({
  name: 'listening sockets',
  key: (protocol) => protocol,
  read: (protocol, s) => readListeners(s.host, { timeoutMs: s.timeoutMs, ...(protocol === 'udp' ? { protocol } : {}) }),
});
