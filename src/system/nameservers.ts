import type { NameserverReply } from '../host/host.js';
import { asciiHostName } from '../net/host-name.js';
import { defineReader } from './reader.js';

/** How long a nameserver gets when asked directly: the resolver already said something is wrong. */
const DIRECT_QUERY_MS = 400;

/** The nameservers of the host's /etc/resolv.conf, as its resolver would ask them. */
export const nameserversOf = defineReader<void, string[]>({ name: 'nameservers', read: (_, s) => s.host.nameservers() });

/** What each nameserver answers when asked directly for A and AAAA records of the name (one host call, a short timeout). */
export const nameserverRepliesOf = defineReader<{ servers: readonly string[]; name: string }, NameserverReply[]>({
  name: 'nameserver replies',
  key: (k) => `${k.servers.join(',')} ${k.name}`,
  read: (k, s) => s.host.queryNameservers(k.servers, asciiHostName(k.name), { timeoutMs: DIRECT_QUERY_MS }),
});
