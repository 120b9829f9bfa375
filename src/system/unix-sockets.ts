import { defineReader } from './reader.js';

// Unix-domain sockets, as the kernel lists them in /proc/net/unix (what `ss -xl` reads): the only
// way to see whether something listens on a socket path without connecting to it.

/** A listening Unix stream socket: its path (abstract names start with `@`) and inode. */
export interface UnixListener {
  path: string;
  inode: number;
}

/** __SO_ACCEPTCON in the Flags column: the socket is listening. */
const ACCEPTCON = 0x10000;
const SOCK_STREAM = 1;
const SOCK_SEQPACKET = 5;

/**
 * The listening stream (and seqpacket) sockets of /proc/net/unix (pure): `Num RefCount Protocol
 * Flags Type St Inode Path`, hex except the inode; a path with spaces is the rest of the line.
 * Lines that do not parse are skipped.
 */
export function parseProcNetUnix(text: string): UnixListener[] {
  const out: UnixListener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const m = /^\s*[0-9a-fA-F]+:\s+[0-9a-fA-F]+\s+[0-9a-fA-F]+\s+([0-9a-fA-F]+)\s+([0-9a-fA-F]+)\s+[0-9a-fA-F]+\s+(\d+)(?:\s(.*))?$/.exec(line);
    if (!m || m[4] === undefined || m[4] === '') continue;
    const flags = parseInt(m[1]!, 16);
    const type = parseInt(m[2]!, 16);
    if (!(flags & ACCEPTCON) || (type !== SOCK_STREAM && type !== SOCK_SEQPACKET)) continue;
    out.push({ path: m[4], inode: Number(m[3]) });
  }
  return out;
}

/** The listening Unix sockets of the host (its network namespace), once per diagnosis. */
export const unixListenersOf = defineReader<void, UnixListener[] | { error: string }>({
  name: 'unix sockets',
  read: async (_, s) => {
    try {
      return parseProcNetUnix(await s.host.readFile('/proc/net/unix'));
    } catch (err) {
      return { error: `cannot read /proc/net/unix: ${err instanceof Error ? err.message : String(err)}` };
    }
  },
});
