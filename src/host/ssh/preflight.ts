import type { FileInfo, HostIdentity, InterfaceAddress } from '../host.js';
import { interfacesOfIpAddr } from '../../system/ip-addr.js';
import { fileInfosOfStatLines } from '../../system/stat.js';
import { PREFLIGHT_STAT_PATHS } from './remote-scripts.js';

/** What the server said about itself when whyport first reached it (one remote command). */
export interface ServerFacts {
  identity: HostIdentity;
  /** The user the commands run as there (root with --sudo). */
  user: string | undefined;
  interfaces: InterfaceAddress[];
  /** What each of PREFLIGHT_STAT_PATHS is (undefined where it cannot be stat'ed): the host's stat answers from here. */
  stats: ReadonlyMap<string, FileInfo | undefined>;
  /** The programs found on PATH there, of those whyport may use. */
  tools: Set<string>;
  /** $SSH_CONNECTION as the server saw it: the client's address and port, the server's address and port. */
  connection: { client: string; clientPort: number; server: string; serverPort: number } | undefined;
  /** The server's uptime in µs when it answered, and this process's clock then (for monotonicUs). */
  uptimeUs: number;
  atLocalMs: number;
}

/**
 * The output of the preflight script (remote-scripts.ts): `key=value` lines (a key may repeat; a
 * `stat=` line per PREFLIGHT_STAT_PATHS, in order), then `--ip` and `ip -o addr show`.
 * `atLocalMs` is this process's clock when it came.
 */
export function parsePreflight(out: string, atLocalMs: number): ServerFacts {
  const [head = '', ip = ''] = out.split('\n--ip\n');
  const kv = new Map<string, string[]>();
  for (const line of head.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i), [...(kv.get(line.slice(0, i)) ?? []), line.slice(i + 1)]);
  }
  const one = (k: string) => kv.get(k)?.[0] ?? '';
  const uid = Number(one('uid'));
  const conn = one('ssh').trim().split(/\s+/);
  const uptime = Number(one('uptime').split(/\s+/)[0]);
  return {
    identity: {
      hostname: one('hostname') || 'server',
      uid: Number.isInteger(uid) && one('uid') !== '' ? uid : undefined,
      root: one('uid') === '0',
      // od -tx2 of the bytes 'a','b': 6261 on a little-endian machine.
      byteOrder: one('order') === '6162' ? 'BE' : 'LE',
      ...(conn.length === 4 ? { via: { client: conn[0]!, server: conn[2]! } } : {}),
    },
    user: one('user') || undefined,
    interfaces: interfacesOfIpAddr(ip),
    stats: new Map(fileInfosOfStatLines((kv.get('stat') ?? []).join('\n'), PREFLIGHT_STAT_PATHS.length).map((info, i) => [PREFLIGHT_STAT_PATHS[i]!, info])),
    tools: new Set(kv.get('tool') ?? []),
    connection: conn.length === 4 ? { client: conn[0]!, clientPort: Number(conn[1]), server: conn[2]!, serverPort: Number(conn[3]) } : undefined,
    uptimeUs: Number.isFinite(uptime) ? Math.round(uptime * 1e6) : 0,
    atLocalMs,
  };
}
