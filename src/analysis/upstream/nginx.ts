import { normalizeAddress } from '../../net/address.js';
import { nginxNameRank } from '../nginx-server-name.js';
import type { NginxDirective } from '../../system/nginx-conf.js';
import type { SourceLine } from '../../system/config-tree.js';
import { compileConfigRegex } from '../../text/safe-regex.js';
import { parseListen, type NginxListen } from '../nginx-tls.js';
import type { ProxyRoute, ProxyRoutes, RouteQuery, UpstreamAddress, UpstreamServer } from './route.js';

// nginx's way from a port to its upstreams (ngx_http_core_module, ngx_http_upstream_module,
// ngx_stream_proxy_module): the server block picked by listen address and server_name, the
// location picked for the path, its *_pass directive, and the `upstream` block it may name.

/** The pass directives of http locations, and the scheme each speaks to its upstream. */
const PASSES: Record<string, string> = { proxy_pass: 'http', fastcgi_pass: 'fastcgi', uwsgi_pass: 'uwsgi', grpc_pass: 'grpc', scgi_pass: 'scgi', memcached_pass: 'memcached' };
/** Schemes a pass directive's URL may start with, and the port each implies when it names none. */
const SCHEMES: Record<string, { scheme: string; port?: number }> = {
  'http://': { scheme: 'http', port: 80 },
  'https://': { scheme: 'https', port: 443 },
  'grpc://': { scheme: 'grpc' },
  'grpcs://': { scheme: 'grpcs' },
  'uwsgi://': { scheme: 'uwsgi' },
  'suwsgi://': { scheme: 'suwsgi' },
};
/** An `upstream` block's `server` without a port is on 80 (ngx_http_upstream_server). */
const UPSTREAM_DEFAULT_PORT = 80;

type Groups = Map<string, { servers: UpstreamServer[]; source: SourceLine }>;

const at = (s: SourceLine) => `${s.file}:${s.line}`;

/** `host:port`, `[v6]:port`, `host` (with `defaultPort`), `unix:/path` as an address; undefined when it has no port and none is implied. */
function parseAddress(text: string, defaultPort: number | undefined): UpstreamAddress | undefined {
  if (text.startsWith('unix:')) return { kind: 'unix', path: text.slice(5) };
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const m = v6 ?? /^([^:/]+)(?::(\d+))?$/.exec(text);
  if (!m || m[1] === '') return undefined;
  const port = m[2] !== undefined ? Number(m[2]) : defaultPort;
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { kind: 'tcp', host: m[1]!, port };
}

/** The `upstream NAME {}` blocks of one context (http or stream), with their servers. */
function upstreamGroups(context: readonly NginxDirective[], problems: string[]): Groups {
  const groups: Groups = new Map();
  for (const u of context) {
    if (u.name !== 'upstream' || !u.block || u.args[0] === undefined) continue;
    const servers: UpstreamServer[] = [];
    for (const s of u.block) {
      if (s.name !== 'server' || s.args[0] === undefined) continue;
      const address = parseAddress(s.args[0], UPSTREAM_DEFAULT_PORT);
      if (!address) {
        problems.push(`${at(s.source)}: cannot read the server address ${s.args[0]}`);
        continue;
      }
      const flags = s.args.slice(1);
      servers.push({ address, ...(flags.includes('backup') ? { backup: true } : {}), ...(flags.includes('down') ? { disabled: true } : {}), source: s.source });
    }
    groups.set(u.args[0], { servers, source: u.source });
  }
  return groups;
}

/** What a pass directive's argument says: a group, servers, or why they are unknown. */
function passTarget(d: NginxDirective, groups: Groups, stream: boolean): Pick<ProxyRoute, 'scheme' | 'group' | 'servers' | 'note'> {
  const arg = d.args[0] ?? '';
  let scheme = stream ? 'tcp' : (PASSES[d.name] ?? 'http');
  let rest = arg;
  let defaultPort: number | undefined;
  for (const [prefix, s] of Object.entries(SCHEMES)) {
    if (arg.toLowerCase().startsWith(prefix)) {
      scheme = s.scheme;
      defaultPort = s.port;
      rest = arg.slice(prefix.length);
      break;
    }
  }
  if (arg.includes('$')) return { scheme, servers: [], note: `${d.name} uses a variable (${arg}): the upstream is chosen per request` };
  // proxy_pass http://unix:/run/app.sock:/uri — the socket path ends at the next colon.
  if (rest.startsWith('unix:')) {
    const path = rest.slice(5).split(':')[0]!;
    return { scheme, servers: [{ address: { kind: 'unix', path }, source: d.source }] };
  }
  const hostPort = rest.split('/')[0]!;
  const group = groups.get(hostPort);
  if (group) return { scheme, group: hostPort, servers: group.servers, ...(group.servers.length === 0 ? { note: `upstream ${hostPort} at ${at(group.source)} lists no server` } : {}) };
  const address = parseAddress(hostPort, defaultPort);
  if (!address) return { scheme, servers: [], note: `${d.name} ${arg}: no upstream block of that name, and no port to connect to` };
  return { scheme, servers: [{ address, source: d.source }] };
}

/** A location's match: `= /x`, `^~ /x`, `~ re`, `~* re`, `/x`, `@name` (the modifier apart or glued, as nginx takes it). */
function locationMatch(args: readonly string[]): { kind: 'exact' | 'prefix' | 'noregex' | 'regex' | 'named'; path: string; caseless?: boolean } {
  if (args.length >= 2) {
    const [mod, path] = [args[0]!, args[1]!];
    if (mod === '=') return { kind: 'exact', path };
    if (mod === '^~') return { kind: 'noregex', path };
    if (mod === '~') return { kind: 'regex', path };
    if (mod === '~*') return { kind: 'regex', path, caseless: true };
    return { kind: 'prefix', path: mod };
  }
  const name = args[0] ?? '';
  if (name.startsWith('=')) return { kind: 'exact', path: name.slice(1) };
  if (name.startsWith('^~')) return { kind: 'noregex', path: name.slice(2) };
  if (name.startsWith('~*')) return { kind: 'regex', path: name.slice(2), caseless: true };
  if (name.startsWith('~')) return { kind: 'regex', path: name.slice(1) };
  if (name.startsWith('@')) return { kind: 'named', path: name };
  return { kind: 'prefix', path: name };
}

interface Location {
  d: NginxDirective;
  match: ReturnType<typeof locationMatch>;
  /** The pass directive of the location itself (not of a nested one or an `if`). */
  pass?: NginxDirective;
}

/** The locations of a server block, nested ones too, in order. */
function locationsOf(block: readonly NginxDirective[]): Location[] {
  const out: Location[] = [];
  for (const d of block) {
    if (d.name !== 'location' || !d.block) continue;
    out.push({ d, match: locationMatch(d.args), pass: d.block.find((x) => x.name in PASSES) });
    out.push(...locationsOf(d.block));
  }
  return out;
}

/**
 * The location nginx picks for a path among the top-level ones (ngx_http_core_find_location): an
 * exact match; else the longest prefix, kept when `^~`; else the first regex that matches; else
 * that prefix. A regex nginx would take that cannot be tested here (a PCRE construct) is skipped.
 */
function findLocation(locations: readonly Location[], top: readonly NginxDirective[], path: string): Location | undefined {
  const own = locations.filter((l) => top.includes(l.d));
  const exact = own.find((l) => l.match.kind === 'exact' && l.match.path === path);
  if (exact) return exact;
  let best: Location | undefined;
  for (const l of own) {
    if ((l.match.kind === 'prefix' || l.match.kind === 'noregex') && path.startsWith(l.match.path) && (!best || l.match.path.length > best.match.path.length)) best = l;
  }
  if (best?.match.kind === 'noregex') return best;
  for (const l of own) {
    if (l.match.kind === 'regex' && compileConfigRegex(l.match.path, l.match.caseless ? 'i' : '')?.test(path)) return l;
  }
  return best;
}

interface Server {
  d: NginxDirective;
  listen: NginxListen;
  names: string[];
}

/**
 * The server blocks of a context that take connections to the query's port and address, as
 * nginx groups them: the listens on that very address, else the wildcard ones (an address not
 * given: the wildcard ones, else every one on the port). The default first, then in order.
 */
function serversOnPort(context: readonly NginxDirective[], q: RouteQuery, stream: boolean): Server[] {
  const all: { d: NginxDirective; listens: NginxListen[]; names: string[] }[] = [];
  for (const s of context) {
    if (s.name !== 'server' || !s.block) continue;
    const listenLines = s.block.filter((d) => d.name === 'listen');
    const listens = listenLines.map(parseListen).filter((l): l is NginxListen => l !== undefined);
    // No listen: *:80 (nginx runs as root) — in http only; a stream server must have one.
    if (listenLines.length === 0 && !stream) listens.push({ address: undefined, port: UPSTREAM_DEFAULT_PORT, ssl: false, defaultServer: false, source: s.source });
    const names = s.block.filter((d) => d.name === 'server_name').flatMap((d) => d.args.map((a) => a.toLowerCase()));
    all.push({ d: s, listens, names });
  }
  const addr = q.address ? normalizeAddress(q.address) : undefined;
  const pick = (test: (l: NginxListen) => boolean): Server[] =>
    all.flatMap((s) => {
      const listen = s.listens.find((l) => l.port === q.port && test(l));
      return listen ? [{ d: s.d, listen, names: s.names }] : [];
    });
  let found = addr ? pick((l) => l.address !== undefined && normalizeAddress(l.address) === addr) : [];
  if (found.length === 0) found = pick((l) => l.address === undefined);
  if (found.length === 0 && !addr) found = pick(() => true);
  const def = found.find((s) => s.listen.defaultServer) ?? found[0];
  return def ? [def, ...found.filter((s) => s !== def)] : [];
}

/** The server block a Host picks among those on the port (server_name, else the default: servers[0]). */
function byName(servers: readonly Server[], hostName: string | undefined): Server | undefined {
  if (!hostName) return servers[0];
  const host = hostName.toLowerCase().replace(/\.$/, '');
  let best: Server | undefined;
  let bestRank = 0;
  for (const s of servers) {
    const rank = Math.max(0, ...s.names.map((n) => nginxNameRank(n, host)));
    if (rank > bestRank) [best, bestRank] = [s, rank];
  }
  return best ?? servers[0];
}

/**
 * The routes nginx takes for connections to a port (pure), from its parsed configuration (the
 * directives of src/system/nginx-conf.ts's parseNginx, includes laid out in place): every
 * location with a pass directive (proxy_pass, fastcgi_pass, uwsgi_pass, grpc_pass, scgi_pass) of
 * every http server block on the port, and every stream server's proxy_pass; `upstream` blocks
 * give their servers. routes[0] is the one a request for `q.path` (`/`) with Host `q.hostName`
 * takes (`taken`), when one does; else `servedBySelf` says which location answers it.
 */
export function nginxRoutes(directives: readonly NginxDirective[], q: RouteQuery): ProxyRoutes {
  const problems: string[] = [];
  const path = q.path ?? '/';
  const routes: ProxyRoute[] = [];
  let taken: ProxyRoute | undefined;
  let servedBySelf: ProxyRoutes['servedBySelf'];
  let servesPort = false;

  for (const http of directives.filter((d) => d.name === 'http' && d.block)) {
    const groups = upstreamGroups(http.block!, problems);
    const servers = serversOnPort(http.block!, q, false);
    if (servers.length === 0) continue;
    servesPort = true;
    const chosen = byName(servers, q.hostName);
    for (const s of [chosen!, ...servers.filter((x) => x !== chosen)]) {
      const locations = locationsOf(s.d.block!);
      const base = { program: 'nginx' as const, listen: s.listen.source, block: s.d.source, isDefault: s === servers[0], ...(s.names.length ? { serverNames: s.names } : {}) };
      const routeOf = (l: Location, pass: NginxDirective): ProxyRoute => ({
        ...base,
        via: pass.source,
        directive: pass.name,
        location: l.d.args.join(' '),
        ...passTarget(pass, groups, false),
      });
      const own = locations.flatMap((l) => (l.pass ? [{ l, route: routeOf(l, l.pass) }] : []));
      // A pass inside `if` within a location: taken only when its condition holds.
      for (const l of locations) {
        for (const i of l.d.block!.filter((x) => x.name === 'if' && x.block)) {
          const pass = i.block!.find((x) => x.name in PASSES);
          if (pass) own.push({ l, route: { ...routeOf(l, pass), note: `only when if ${i.args.join(' ')} holds` } });
        }
      }
      if (s === chosen) {
        const l = findLocation(locations, s.d.block!, path);
        let hit = l && own.find((o) => o.l === l && o.route.via === l.pass?.source);
        // try_files … @name: the named location's pass answers when no file does.
        const fallback = l?.d.block!.find((x) => x.name === 'try_files')?.args.at(-1);
        if (l && !hit && fallback?.startsWith('@')) {
          const named = own.find((o) => o.l.match.kind === 'named' && o.l.match.path === fallback);
          if (named) hit = { l: named.l, route: { ...named.route, note: [named.route.note, `through try_files at ${at(l.d.source)} when no file matches`].filter(Boolean).join('; ') } };
          if (named) own.splice(own.indexOf(named), 1);
        }
        if (hit) {
          taken = { ...hit.route, taken: true };
          if (own.includes(hit)) own.splice(own.indexOf(hit), 1);
        } else {
          servedBySelf = l
            ? { source: l.d.source, note: `location ${l.d.args.join(' ')} at ${at(l.d.source)} has no pass directive: nginx answers ${path} itself` }
            : { source: s.d.source, note: `no location of the server block at ${at(s.d.source)} matches ${path}: nginx answers it itself` };
        }
      }
      routes.push(...own.map((o) => o.route));
    }
  }

  for (const stream of directives.filter((d) => d.name === 'stream' && d.block)) {
    const groups = upstreamGroups(stream.block!, problems);
    const servers = serversOnPort(stream.block!, q, true);
    if (servers.length === 0) continue;
    servesPort = true;
    for (const s of servers) {
      const pass = s.d.block!.find((x) => x.name === 'proxy_pass');
      if (!pass) continue;
      const route: ProxyRoute = { program: 'nginx', listen: s.listen.source, block: s.d.source, via: pass.source, directive: 'proxy_pass', isDefault: s === servers[0], ...passTarget(pass, groups, true) };
      if (route.scheme === 'tcp' && /\budp\b/.test(s.listen.source.text)) route.scheme = 'udp';
      if (!taken) taken = { ...route, taken: true };
      else routes.push(route);
    }
  }

  if (taken) servedBySelf = undefined;
  return { program: 'nginx', routes: taken ? [taken, ...routes] : routes, servesPort, problems, ...(servedBySelf ? { servedBySelf } : {}) };
}
