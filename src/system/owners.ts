import type { Host, SocketOwnersFound, SocketOwnersOptions } from '../host/host.js';
import { defineReader } from './reader.js';
import type { SocketOwner } from './socket.js';

export type FindOwnersOptions = SocketOwnersOptions;

export interface OwnersFound {
  /** inode → the processes found holding it. An inode with no entry: no owner was seen. */
  owners: Map<number, SocketOwner[]>;
  /** Some /proc/PID/fd could not be read (not root) and some inode stayed without an owner. */
  hidden: boolean;
}

/**
 * Which processes hold the given socket inodes, from the `socket:[INODE]` links under
 * /proc/PID/fd, in one host call (see Host.socketOwners): candidate pids first, then the rest,
 * stopping as soon as every inode has an owner, since a full scan reads every descriptor on the
 * machine (what makes `ss -p` slow). So a socket shared by several processes (a forked worker)
 * lists the ones met before the stop, unless `exhaustive` is set.
 */
export async function findOwners(host: Host, inodes: Iterable<number>, opts: FindOwnersOptions = {}): Promise<OwnersFound> {
  const wanted = [...inodes].filter((inode) => Number.isInteger(inode) && inode > 0);
  if (wanted.length === 0) return { owners: new Map(), hidden: false };
  const found = await host.socketOwners(wanted, opts);
  return { owners: new Map(found.owners.map((o) => [o.inode, o.holders])), hidden: found.hidden };
}

/** Who holds these socket inodes (Host.socketOwners, in the order asked), once per diagnosis. */
export const socketOwnersOf = defineReader<readonly number[], SocketOwnersFound>({
  name: 'socket owners',
  key: (inodes) => inodes.join(','),
  read: (inodes, s) => s.host.socketOwners(inodes),
});
