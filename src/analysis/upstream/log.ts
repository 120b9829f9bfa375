import type { ProxyProgram, ProxyRoute, UpstreamServer } from './route.js';
import { upstreamText } from './route.js';

/** A log line in a report is cut here: an error page or a long request line says nothing more past it. */
const MAX_LINE = 300;

/**
 * The lines of a proxy's own log about the route's upstreams (pure), newest last, at most `max`:
 * nginx's `connect() failed (111: Connection refused) while connecting to upstream, … upstream:
 * "http://127.0.0.1:7071/"`, apache2's `AH00957: http: attempt to connect to 127.0.0.1:7071 …
 * failed`, haproxy's `Server app/app1 is DOWN, reason: Layer4 connection problem` and `backend app
 * has no server available!`. A line counts when it names an upstream's address (or socket path),
 * or for haproxy the backend or one of its servers by name.
 */
export function proxyLogLines(lines: readonly string[], program: ProxyProgram, route: Pick<ProxyRoute, 'group'>, servers: readonly UpstreamServer[], max = 2): string[] {
  const needles = new Set<string>();
  for (const s of servers) {
    needles.add(upstreamText(s.address));
    if (s.address.kind === 'unix') needles.add(s.address.path);
    if (program === 'haproxy' && route.group && s.name) needles.add(`${route.group}/${s.name}`);
  }
  if (program === 'haproxy' && route.group) {
    needles.add(`backend ${route.group} `);
    needles.add(`backend '${route.group}' `);
  }
  const hits = lines.filter((l) => [...needles].some((n) => l.includes(n)));
  return hits.slice(-max).map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE - 1)}…` : l));
}
