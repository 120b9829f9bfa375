import { showCommand, type Runner } from './runner.js';
import { defineReader } from './reader.js';

/**
 * How this machine would send a packet to an address (`ip route get`), and what its neighbour
 * table says of an address on the same link (`ip neigh show`): the difference between "there is
 * no route" and "the route is fine, the host does not answer".
 */

/** What `ip route get ADDRESS` says. */
export type RouteKind =
  /** A route out through an interface, on the link itself or through a gateway. */
  | 'unicast'
  /** The address is this machine's own. */
  | 'local'
  /** No route covers it (ENETUNREACH: no default gateway). */
  | 'no-route'
  /** A route of type unreachable (EHOSTUNREACH), prohibit (EACCES) or blackhole (EINVAL): the kernel refuses. */
  | 'unreachable'
  | 'prohibit'
  | 'blackhole'
  /** broadcast, multicast, anycast, or what the parser does not know. */
  | 'other';

/** What `ip route get` printed, parsed. */
export interface RouteParse {
  kind: RouteKind;
  /** The gateway, for a route through one. */
  via?: string;
  /** The interface the packet leaves by. */
  dev?: string;
  /** The source address this machine would use. */
  src?: string;
  /** For the refusals: what ip said ("Network is unreachable"). */
  error?: string;
}

/** One `ip route get`, as run. */
export interface RouteResult extends RouteParse {
  address: string;
  command: string;
  /** `ip` is not installed: nothing is known of the route. */
  missing?: boolean;
  durationMs: number;
}

const REFUSAL: [RegExp, RouteKind][] = [
  [/network is unreachable/i, 'no-route'],
  [/no route to host/i, 'unreachable'],
  [/permission denied/i, 'prohibit'],
  [/invalid argument/i, 'blackhole'],
];

/**
 * Reads `ip route get ADDRESS`: "10.0.0.5 via 10.0.0.1 dev eth0 src 10.0.0.9 uid 0",
 * "local 10.0.0.9 dev lo …", or on stderr "RTNETLINK answers: Network is unreachable". Pure.
 */
export function parseRouteGet(stdout: string, stderr: string, exitCode: number | null): RouteParse {
  const line = stdout.split('\n').find((l) => l.trim() !== '')?.trim();
  if (exitCode !== 0 || !line) {
    const said = (stderr.trim().split('\n')[0] ?? '').replace(/^RTNETLINK answers:\s*/, '').trim();
    const kind = REFUSAL.find(([re]) => re.test(stderr))?.[1] ?? 'other';
    return { kind, error: said || `exit status ${exitCode}` };
  }
  const words = line.split(/\s+/);
  // The line starts with the route type when it is not unicast ("local 127.0.0.1 dev lo").
  const types: Record<string, RouteKind> = { local: 'local', broadcast: 'other', multicast: 'other', anycast: 'other', unreachable: 'unreachable', prohibit: 'prohibit', blackhole: 'blackhole' };
  const kind = types[words[0]!] ?? 'unicast';
  const out: RouteParse = { kind };
  const field = (name: string) => {
    const i = words.indexOf(name);
    return i >= 0 && i + 1 < words.length ? words[i + 1] : undefined;
  };
  const via = field('via');
  const dev = field('dev');
  const src = field('src');
  // `via inet6 fe80::1` names the family before the address when it differs.
  if (via) out.via = via === 'inet' || via === 'inet6' ? words[words.indexOf('via') + 2]! : via;
  if (dev) out.dev = dev;
  if (src) out.src = src;
  return out;
}

/** The route this machine would take to a literal address. */
export async function routeTo(runner: Runner, address: string, opts: { timeoutMs: number }): Promise<RouteResult> {
  const argv = ['ip', 'route', 'get', address];
  const r = await runner.run(argv, { timeoutMs: opts.timeoutMs });
  const command = showCommand(argv);
  if (r.missing) return { address, command, kind: 'other', missing: true, error: "the 'ip' command (iproute2) is not installed", durationMs: r.durationMs };
  return { address, command, ...parseRouteGet(r.stdout, r.stderr, r.exitCode), durationMs: r.durationMs };
}

/** One line of `ip neigh show`: an address on a link and how sure the kernel is of its owner. */
export interface Neighbour {
  address: string;
  dev?: string;
  /** The link-layer (MAC) address that answered; absent while asking and after failing. */
  lladdr?: string;
  /** REACHABLE, STALE, DELAY, PROBE, INCOMPLETE, FAILED, PERMANENT, NOARP, NONE. */
  state: string;
  router: boolean;
}

/** Reads `ip neigh show [ADDRESS]`: "10.0.0.5 dev eth0 lladdr 52:54:00:12:34:56 REACHABLE". Pure. */
export function parseNeighbours(stdout: string): Neighbour[] {
  const out: Neighbour[] = [];
  for (const raw of stdout.split('\n')) {
    const words = raw.trim().split(/\s+/).filter(Boolean);
    if (words.length < 2) continue;
    const n: Neighbour = { address: words[0]!, state: 'NONE', router: words.includes('router') };
    const at = (k: string) => (words.indexOf(k) >= 0 ? words[words.indexOf(k) + 1] : undefined);
    const dev = at('dev');
    const lladdr = at('lladdr');
    if (dev) n.dev = dev;
    if (lladdr) n.lladdr = lladdr;
    // The state is the last upper-case word (a line may end in flags such as "proxy" or "extern_learn").
    const state = [...words].reverse().find((w) => /^[A-Z_]+$/.test(w));
    if (state) n.state = state;
    out.push(n);
  }
  return out;
}

/** One `ip neigh show ADDRESS`, as run. */
export interface NeighbourResult {
  address: string;
  command: string;
  /** The entry for the address, if the kernel has one. */
  entry?: Neighbour;
  missing?: boolean;
  durationMs: number;
}

/** What the neighbour table says of an address (after traffic to it made the kernel ask). */
export async function neighbourOf(runner: Runner, address: string, opts: { timeoutMs: number }): Promise<NeighbourResult> {
  const argv = ['ip', 'neigh', 'show', address];
  const r = await runner.run(argv, { timeoutMs: opts.timeoutMs });
  const command = showCommand(argv);
  if (r.missing) return { address, command, missing: true, durationMs: r.durationMs };
  const entry = r.exitCode === 0 ? parseNeighbours(r.stdout).find((n) => n.address.toLowerCase() === address.toLowerCase()) : undefined;
  return { address, command, ...(entry ? { entry } : {}), durationMs: r.durationMs };
}

/** `ip route get` once per address per diagnosis: the probe starts it, a later route step reuses it. */
export const routeOfAddress = defineReader<string, RouteResult>({ name: 'route', key: (a) => a, read: (address, s) => routeTo(s.host, address, { timeoutMs: s.timeoutMs }) });

/**
 * `ip neigh show` once per address per diagnosis. Ask only after traffic to the address has had its
 * chance to make the kernel resolve it (after the TCP probe), or the table says nothing yet.
 */
export const neighbourOfAddress = defineReader<string, NeighbourResult>({ name: 'neighbour', key: (a) => a, read: (address, s) => neighbourOf(s.host, address, { timeoutMs: s.timeoutMs }) });
