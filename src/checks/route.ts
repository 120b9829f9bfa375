import { text, z } from './params.js';
import { defineCheck, type CheckContext } from './check.js';
import type { Resolution } from '../system/facts.js';
import { e, fields } from './evidence.js';
import { neighbourOfAddress, routeOfAddress, type NeighbourResult, type RouteResult } from '../system/route.js';
import { neighbourAnswered, neighbourSilent } from '../analysis/life.js';
import { asciiHostName } from '../net/host-name.js';

/** What was read of one address: its route, and for one on this machine's own link, its neighbour entry. */
export interface RouteReading {
  address: string;
  route: RouteResult;
  neighbour?: NeighbourResult;
}

/** What the route step reads: the resolution of the host, and the route to each of its addresses. */
export interface RouteReadings {
  resolution: Resolution;
  routes: RouteReading[];
}

interface AddressRoute extends RouteReading {
  /** One line: "10.0.0.5 is on this machine's own network (eth0): nobody answers ARP for it". */
  text: string;
}

function describeRoute(route: RouteResult, neighbour: NeighbourResult | undefined): string {
  const a = route.address;
  switch (route.kind) {
    case 'no-route':
      return `no route to ${a}: ${route.error} (no route covers it, and there is no default gateway)`;
    case 'unreachable':
    case 'prohibit':
    case 'blackhole':
      return `the routing table refuses ${a}: a route of type ${route.kind} covers it (${route.error})`;
    case 'local':
      return `${a} is this machine's own address`;
    case 'unicast': {
      const src = route.src ? `, source address ${route.src}` : '';
      if (route.via) return `${a} is reached through the gateway ${route.via} (interface ${route.dev}${src})`;
      const what = a.includes(':') ? 'neighbour discovery' : 'ARP';
      const arp = neighbourSilent(neighbour)
        ? `: nobody answers ${what} for it (ip neigh: ${neighbour!.entry!.state}) — the host is down, unplugged, or the address is not in use`
        : neighbourAnswered(neighbour)
          ? `: it answers ${what} (${neighbour!.entry!.lladdr}), so it is up`
          : '';
      return `${a} is on this machine's own network (interface ${route.dev}${src}), no gateway in between${arp}`;
    }
    default:
      return route.missing ? `the route to ${a} is not known: ${route.error}` : `ip route get ${a}: ${route.error ?? 'an unusual route'}`;
  }
}

/**
 * How this machine routes to the host (`ip route get`), and for an address on its own network
 * whether anything answers ARP there: tells "no route" from "the host is down". The answers are
 * shared with the probe step, which started them.
 */
export const route = defineCheck({
  description: "Look up this machine's route to each address of the host (ip route get), and the neighbour table for addresses on its own network",
  outcomes: ['no-route', 'on-link', 'gateway', 'local', 'unknown', 'unresolved'],
  params: z.object({ host: text() }),
  evidence: fields({ error: e.str(), address: e.str(), gateway: e.str(), dev: e.str(), src: e.str(), neighbour: e.str(), routes: e.list(e.any()) }),
  describe: (p) => `ip route get ${p.host}`,
  async read(p, ctx): Promise<RouteReadings> {
    const resolution = await ctx.facts.resolve(p.host);
    return { resolution, routes: resolution.ok ? await Promise.all(resolution.addresses.map((a) => readRoute(a.address, ctx))) : [] };
  },
  decide: decideRoute,
});

/** The route to one address; the neighbour table too when no gateway stands between. */
async function readRoute(address: string, ctx: CheckContext): Promise<RouteReading> {
  const r = await ctx.facts.read(routeOfAddress, address);
  const neighbour = r.kind === 'unicast' && r.via === undefined ? await ctx.facts.read(neighbourOfAddress, address) : undefined;
  return { address, route: r, ...(neighbour ? { neighbour } : {}) };
}

/** The pure decision of the route step: the first address with a usable route decides. */
export function decideRoute(readings: RouteReadings, p: { host: string }) {
  const res = readings.resolution;
  if (!res.ok) return { outcome: 'unresolved' as const, status: 'fail' as const, summary: res.error, command: `getent ahosts ${asciiHostName(p.host)}`, evidence: { error: res.error } };
  const routes: AddressRoute[] = readings.routes.map((x) => ({ ...x, text: describeRoute(x.route, x.neighbour) }));
  const refused = (r: RouteResult) => r.kind === 'no-route' || r.kind === 'unreachable' || r.kind === 'prohibit' || r.kind === 'blackhole';
  // The first address with a usable route decides; "no route" only when none has one.
  const usable = routes.find((x) => !refused(x.route));
  const decisive = usable ?? routes[0]!;
  const r = decisive.route;
  const outcome =
    refused(r) ? ('no-route' as const) :
    r.kind === 'local' ? ('local' as const) :
    r.kind === 'unicast' && r.via ? ('gateway' as const) :
    r.kind === 'unicast' ? ('on-link' as const) :
    ('unknown' as const);
  const summary = routes.map((x) => x.text).join('; ');
  const command = [r.command, ...(decisive.neighbour ? [decisive.neighbour.command] : [])].join('; ');
  return {
    outcome,
    status: outcome === 'no-route' ? ('fail' as const) : ('info' as const),
    summary,
    command,
    evidence: { address: decisive.address, gateway: r.via ?? '', dev: r.dev ?? '', src: r.src ?? '', neighbour: decisive.neighbour?.entry?.state ?? '', routes },
  };
}
