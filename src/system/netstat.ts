import type { Endpoint, Family, SocketOwner, TcpSocket } from './socket.js';
import { splitEndpoint } from './socket.js';
import { normalizeTcpState } from './ss.js';

/** What `netstat -tan…` says about the host's TCP sockets. */
export interface NetstatTable {
  sockets: TcpSocket[];
  /** netstat's own remarks, e.g. "(Not all processes could be identified, …)", one string each. */
  notices: string[];
  /** netstat said it could not see every process (not root): a `-` owner is then unknown, not none. */
  ownersHidden: boolean;
}

/** netstat's two ways of saying that `-p` saw only some processes (net-tools prg_cache_load). */
const HIDDEN_NOTICE = /Not all processes could be identified|No info could be read for "-p"|you should be root|have to be root/i;

/**
 * Parses `netstat -tanpee`, `netstat -tanee`, `netstat -tlnp`… (net-tools) output, with or without
 * its two header lines, with the root notice anywhere in the text (netstat writes it to stderr;
 * pass stdout and stderr together). Only tcp and tcp6 lines become sockets; with `protocol: 'udp'`
 * (`netstat -uaneeW`) only udp and udp6 lines, UNCONN where netstat leaves State blank.
 *
 * Differences from ss to know: netstat's Send-Q on LISTEN is always 0 (not the backlog); it
 * prints IPv4-mapped addresses of tcp6 sockets as plain IPv4 (they are given back here as
 * `::ffff:a.b.c.d`, as ss and /proc show them); it cannot tell a dual-stack `:::port` from a
 * v6only one; with -p it names one process per socket even when several hold it, taken from
 * argv[0] (not comm).
 */
export function parseNetstat(text: string, options: { protocol?: 'udp' } = {}): NetstatTable {
  const notices: string[] = [];
  const parsed: { socket: TcpSocket; program?: string }[] = [];
  let columns: { userInode?: boolean; program?: boolean } = {};
  let notice: string | undefined;

  for (const raw of text.split('\n')) {
    const line = raw.trim();
    // A notice runs over lines until its closing parenthesis.
    if (notice !== undefined) {
      notice += ' ' + line;
      if (line.endsWith(')')) {
        notices.push(notice);
        notice = undefined;
      }
      continue;
    }
    if (line.startsWith('(')) {
      if (line.endsWith(')')) notices.push(line);
      else notice = line;
      continue;
    }
    if (line.startsWith('Proto ')) {
      columns = { userInode: /\bUser\s+Inode\b/.test(line), program: line.includes('PID/Program name') };
      continue;
    }
    const row = parseRow(line, columns, options.protocol === 'udp');
    if (row) parsed.push(row);
  }
  if (notice !== undefined) notices.push(notice);

  const ownersHidden = notices.some((n) => HIDDEN_NOTICE.test(n));
  const sockets = parsed.map(({ socket, program }) => {
    if (program === undefined) return socket;
    const owner = /^(\d+)\/(.*)$/.exec(program);
    if (owner) {
      const found: SocketOwner = { pid: Number(owner[1]), program: owner[2]! };
      return { ...socket, owners: [found] };
    }
    // `-`: no process holds it, unless netstat could not look (not root), or the socket has an
    // inode, i.e. some file holds it, only not one of the processes netstat can see.
    if (ownersHidden || (socket.inode !== undefined && socket.inode > 0)) return socket;
    return { ...socket, owners: [] };
  });
  return { sockets, notices, ownersHidden };
}

function parseRow(line: string, columns: { userInode?: boolean; program?: boolean }, udp: boolean): { socket: TcpSocket; program?: string } | undefined {
  let words = line.split(/\s+/);
  const [proto, recv, send, localText, peerText] = words;
  if (udp ? proto !== 'udp' && proto !== 'udp6' : proto !== 'tcp' && proto !== 'tcp6') return undefined;
  const family: Family = proto === 'tcp6' || proto === 'udp6' ? 'inet6' : 'inet';
  if (!recv || !send || !/^\d+$/.test(recv) || !/^\d+$/.test(send)) return undefined;
  const local = parseNetstatEndpoint(localText, family);
  const peer = parseNetstatEndpoint(peerText, family);
  // net-tools prints a UDP socket's state only when connected (ESTABLISHED); an unconnected one
  // has a blank there, so the column is put back for the words after it to line up.
  if (udp && words[5] !== 'ESTABLISHED' && words[5] !== 'UNKNOWN') words = [...words.slice(0, 5), 'UNCONN', ...words.slice(5)];
  const stateText = words[5];
  if (!local || !peer || stateText === undefined) return undefined;
  const state = udp ? (stateText as 'UNCONN' | 'ESTABLISHED' | 'UNKNOWN') : (normalizeTcpState(stateText) ?? 'UNKNOWN');
  const socket: TcpSocket = { family, state, ...(udp ? { protocol: 'udp' as const } : {}), recvQ: Number(recv), sendQ: Number(send), local, peer };

  // After State: [User Inode] [PID/Program name]. Without a header, tell them apart by shape: the
  // program column is `-` or `pid/name`, never a bare word followed by a number.
  let taken = 6;
  const userInode =
    columns.userInode ?? (words[6] !== undefined && !/^(\d+\/|-$)/.test(words[6]) && /^\d+$/.test(words[7] ?? ''));
  if (userInode) {
    const [user, inode] = [words[6], words[7]];
    if (user !== undefined && /^\d+$/.test(user)) socket.uid = Number(user);
    if (inode !== undefined && /^\d+$/.test(inode)) socket.inode = Number(inode);
    taken = 8;
  }
  // The program name may hold blanks (`1234/nginx: master`): it is the verbatim rest of the line
  // (less the state column netstat left blank on an unconnected UDP socket).
  const program = restAfterWords(line, state === 'UNCONN' ? taken - 1 : taken);
  if (program === '' && columns.program !== true) return { socket };
  return { socket, program };
}

function restAfterWords(line: string, count: number): string {
  const m = new RegExp(`^(?:\\S+\\s+){${count}}(.*)$`).exec(line);
  return m ? m[1]!.trim() : '';
}

/** `0.0.0.0:7071`, `:::7071`, `::1:7075`, `0.0.0.0:*`, `:::*`; the last colon separates the port. */
function parseNetstatEndpoint(word: string | undefined, family: Family): Endpoint | undefined {
  const split = splitEndpoint(word);
  if (!split) return undefined;
  const { port } = split;
  let address = split.host;
  // netstat prints the IPv4-mapped addresses of tcp6 sockets without their ::ffff: prefix.
  if (family === 'inet6' && /^\d+\.\d+\.\d+\.\d+$/.test(address)) address = `::ffff:${address}`;
  return { address, port };
}
