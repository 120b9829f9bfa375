import type { SourceLine } from '../../system/config-tree.js';

// What a reverse proxy does with the connections of one port, read from its configuration: the
// block that serves the port (nginx `server` + `location`, haproxy `frontend`/`listen`, apache2
// `VirtualHost`) and the upstreams it passes requests to. Pure data: the parsers of each program
// (./nginx.ts, ./haproxy.ts, ./apache.ts) make it, the upstream step probes it.

/** The reverse proxies whyport reads the configuration of. */
export const PROXY_PROGRAMS = ['nginx', 'haproxy', 'apache2'] as const;
export type ProxyProgram = (typeof PROXY_PROGRAMS)[number];

/** Where an upstream is: an address (a name or an IP literal, not resolved here) and a port, or a Unix socket. */
export type UpstreamAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** One server an upstream group (or a single proxy_pass) sends requests to. */
export interface UpstreamServer {
  address: UpstreamAddress;
  /** haproxy's server name, apache2's route=, nginx: none. */
  name?: string;
  /** A backup server (nginx `backup`, haproxy `backup`): used only when the others are down. */
  backup?: boolean;
  /** Taken out by the configuration (nginx `down`, haproxy `disabled`): never used. */
  disabled?: boolean;
  /** The line that names it (the `server` line of an upstream/backend, or the pass directive itself). */
  source: SourceLine;
}

/** One way the proxy forwards requests that arrive on the port. */
export interface ProxyRoute {
  program: ProxyProgram;
  /** The line that makes the program listen on the port (nginx `listen`, haproxy `bind`, apache2 `Listen`/`<VirtualHost>`). */
  listen: SourceLine;
  /** The block that serves the port: nginx `server {`, haproxy `frontend`/`listen`, apache2 `<VirtualHost>`. */
  block?: SourceLine;
  /** The directive that passes requests on (`proxy_pass …`, `use_backend`/`default_backend`, `ProxyPass …`): diagnosis.proxy.config names it. */
  via: SourceLine;
  /** That directive's name: proxy_pass, fastcgi_pass, uwsgi_pass, grpc_pass, scgi_pass, default_backend, use_backend, ProxyPass, ProxyPassMatch, RewriteRule [P]… */
  directive: string;
  /** The scheme the upstream is spoken to in (http, https, fastcgi, uwsgi, grpc, scgi, tcp, ajp, ws…). */
  scheme: string;
  /** The path the route serves (nginx location, apache2 ProxyPass path); undefined: every path (haproxy). */
  location?: string;
  /** The names the serving block answers to (nginx server_name, apache2 ServerName/ServerAlias). */
  serverNames?: string[];
  /** This block is the port's default for a request whose Host names no block (nginx default_server or first; apache2 first vhost). */
  isDefault: boolean;
  /** The upstream group's name (nginx `upstream NAME`, haproxy backend name, apache2 balancer://NAME). */
  group?: string;
  /** Every server the route may send a request to; empty when the configuration does not say (a variable). */
  servers: UpstreamServer[];
  /** Why servers is empty or partial, in words for a report ("proxy_pass uses $backend: the upstream is chosen per request"). */
  note?: string;
  /** A request for the query's path (`/`) with its Host takes this route: only routes[0] may have it. */
  taken?: boolean;
}

/** What the parser of one program found for one port. */
export interface ProxyRoutes {
  program: ProxyProgram;
  /** The routes of the port, the one a request to `/` for the given Host takes first. */
  routes: ProxyRoute[];
  /** Does the configuration serve the port at all (a listen/bind for it)? false: the port is not this program's by its configuration. */
  servesPort: boolean;
  /** What could not be understood, each one sentence with file:line. */
  problems: string[];
  /**
   * When no route is taken for the query's path: the block that answers it itself (nginx's
   * location without a pass directive, apache2's vhost without ProxyPass) and why, in words.
   */
  servedBySelf?: { source: SourceLine; note: string };
}

/** What the parsers take: the port, the address asked for, and the Host a client sends (server_name choice). */
export interface RouteQuery {
  port: number;
  /** The address the connection arrives at (a listen on 10.0.0.5:80 serves it, one on 127.0.0.1:80 does not). */
  address?: string;
  /** The name a client asks for (HTTP Host): picks the server block / vhost. */
  hostName?: string;
  /** The path asked for; `/` when undefined. */
  path?: string;
}

/** The route a request for the query's path takes (routes[0] when it is taken), or undefined when the proxy answers it itself. */
export function chooseRoute(routes: ProxyRoutes): ProxyRoute | undefined {
  return routes.routes[0]?.taken ? routes.routes[0] : undefined;
}

/** The text a report uses for an upstream: `127.0.0.1:7071`, `[::1]:8080`, `unix:/run/php/php8.2-fpm.sock`. */
export function upstreamText(a: UpstreamAddress): string {
  if (a.kind === 'unix') return `unix:${a.path}`;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
