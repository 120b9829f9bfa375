import { isIP } from 'node:net';
import { port, text, z } from './params.js';
import { defineCheck, type CheckContext, type DecideContext } from './check.js';
import { e, fields } from './evidence.js';
import { endpointText } from '../net/endpoint.js';
import { isLoopback, normalizeAddress } from '../net/address.js';
import { chooseRoute, upstreamText, type ProxyProgram, type ProxyRoute, type ProxyRoutes, type RouteQuery, type UpstreamServer } from '../analysis/upstream/route.js';
import { nginxRoutes } from '../analysis/upstream/nginx.js';
import { haproxyRoutes } from '../analysis/upstream/haproxy.js';
import { apacheRoutes } from '../analysis/upstream/apache.js';
import { proxyLogLines } from '../analysis/upstream/log.js';
import { proxyProgramOf } from '../knowledge/proxies.js';
import { proxyConfigOf, type ProxyConfigReading } from '../system/proxy-config.js';
import { argvOfPid } from '../system/processes.js';
import { protocolProbeOf } from '../system/protocol-probe.js';
import { tcpConnectOf } from '../system/tcp-connect.js';
import { unixListenersOf } from '../system/unix-sockets.js';
import { programLogOf } from '../system/program-log.js';
import { unitStatusOf } from '../system/systemd/status.js';
import { otherNamespaceAddresses } from '../system/namespaces.js';
import { showCommand } from '../system/runner.js';
import { nameToSend } from '../net/host-name.js';

/** At most this many servers of one route are probed (a balancer of hundreds is rare; they go in parallel). */
const MAX_SERVERS = 8;
/** What a probe of one upstream found. */
export type ServerState = 'answers' | 'refused' | 'timeout' | 'unreachable' | 'unresolved' | 'no-socket' | 'unknown';

/** One upstream server, probed from this host (the proxy's vantage). */
export interface ServerProbe {
  server: UpstreamServer;
  state: ServerState;
  /** The literal address probed (a name resolved as the proxy would). */
  address?: string;
  /** Where that address lives: this host, another network namespace of it, or another machine. */
  where?: 'here' | 'namespace' | 'elsewhere';
  /** The program listening there, when it is on this host and can be seen. */
  holder?: string;
  /** The probe's own words (`connection refused`, `no answer in 3000 ms`). */
  detail: string;
}

/** What the upstream step read. */
export type UpstreamReadings =
  | { kind: 'not-proxy'; program?: string; pid?: number }
  | {
      kind: 'proxy';
      program: ProxyProgram;
      pid: number;
      /** The configuration as read (the dump or the files). */
      config: Omit<ProxyConfigReading, 'lines' | 'directives'>;
      /** The routes of the port in it; undefined when nothing could be read. */
      routes?: ProxyRoutes;
      probes: ServerProbe[];
      /** The answer to HEAD / through the port, for an HTTP route. */
      http?: { status: number; said?: string } | { error: string };
      /** The proxy's own log: the last lines, or why it could not be read. */
      log?: { path: string; lines: string[] } | { path: string; error: string };
    };

const UPSTREAM_OUTCOMES = ['none', 'unreadable', 'answers', 'partly', 'down', 'socket-down'] as const;

/**
 * When a reverse proxy (nginx, haproxy, apache2) holds the port: where does it send the requests
 * (its configuration, read as it reads it), do those upstreams answer (probed from here, the
 * proxy's vantage), and what does the proxy itself say (HEAD / through the port, its error log)?
 * `down` names the upstream to diagnose next with the same chain (the playbook's follow step).
 */
export const upstream = defineCheck({
  description: 'When a reverse proxy (nginx, haproxy, apache2) holds the port: the upstream its configuration sends the port to, whether it answers, and what the proxy says (HTTP status, error log)',
  outcomes: UPSTREAM_OUTCOMES,
  params: z.object({ port: port(), host: text() }),
  evidence: fields({
    /** diagnosis.proxy: { program, config: "file:line", upstream, status }. */
    proxy: e.object({ program: e.str(), config: e.str(), upstream: e.str(), status: e.optional(e.num()) }),
    program: e.str(),
    pid: e.num(),
    /** The line that names the upstream diagnosed (the pass directive, or the server line of its group). */
    config: e.str(),
    configText: e.str(),
    /** The line that makes the proxy listen on the port. */
    listen: e.str(),
    directive: e.str(),
    /** How the configuration was read: `nginx -T` (the program's own dump) or the files. */
    source: e.str(),
    upstream: e.str(),
    upstreams: e.list(e.str()),
    answering: e.num(),
    total: e.num(),
    status: e.num(),
    said: e.str(),
    /** The proxy's own log lines about the upstream. */
    logLines: e.list(e.str()),
    logFile: e.str(),
    /** Where the port really goes: `→ nginx → 127.0.0.1:7071 (myapp)`. */
    route: e.str(),
    /** The upstream to diagnose next with the same chain (down). */
    follow: e.object({ host: e.str(), port: e.num() }),
    /** The probe's verdict on the upstream diagnosed: refused, timeout, unreachable, unresolved, no-socket. */
    verdict: e.str(),
    where: e.str(),
    note: e.str(),
  }),
  describe: (p) => `looking behind the program on port ${p.port}: is it a reverse proxy, and does its upstream answer?`,
  async read(p, ctx): Promise<UpstreamReadings> {
    if (ctx.target.protocol === 'udp') return { kind: 'not-proxy' };
    const table = await ctx.facts.socketTable(p.port).catch(() => undefined);
    const owner = table?.sockets.find((s) => s.state === 'LISTEN' && s.local.port === p.port && s.owners?.length)?.owners?.[0];
    if (!owner) return { kind: 'not-proxy' };
    const program = proxyProgramOf(owner.program);
    if (!program) return { kind: 'not-proxy', program: owner.program, pid: owner.pid };
    const argv = await ctx.facts.read(argvOfPid, owner.pid).catch(() => [] as string[]);
    const res = await ctx.facts.resolve(p.host);
    const address = res.ok ? res.addresses[0]?.address : undefined;
    const hostName = nameToSend(p.host);
    const read = await ctx.facts.read(proxyConfigOf, { program, argv });
    const { lines, directives, ...config } = read;
    const routes = lines.length ? routesOf(read, { port: p.port, ...(address ? { address } : {}), ...(hostName ? { hostName } : {}) }) : undefined;
    const route = routes ? chooseRoute(routes) : undefined;
    const servers = (route?.servers ?? []).filter((s) => !s.disabled).slice(0, MAX_SERVERS);
    // The probes of the upstreams and the request through the port go together; the log is read after, so it has the request's line.
    const [probes, http] = await Promise.all([
      Promise.all(servers.map((s) => probeServer(s, ctx))),
      route && isHttpScheme(route) && address ? askThrough(address, p.port, hostName, ctx) : Promise.resolve(undefined),
    ]);
    const log = route ? await proxyLog(program, ctx) : undefined;
    return { kind: 'proxy', program, pid: owner.pid, config, ...(routes ? { routes } : {}), probes, ...(http ? { http } : {}), ...(log ? { log } : {}) };
  },
  decide: (r, p, at) => decideUpstream(r, p, at),
});

/** The routes of the port in the configuration, by the program's own rules (pure). */
export function routesOf(c: Pick<ProxyConfigReading, 'program' | 'lines' | 'directives'>, q: RouteQuery): ProxyRoutes {
  switch (c.program) {
    case 'nginx':
      return nginxRoutes(c.directives ?? [], q);
    case 'haproxy':
      return haproxyRoutes(c.lines, q);
    case 'apache2':
      return apacheRoutes(c.lines, q);
  }
}

function isHttpScheme(route: ProxyRoute): boolean {
  return route.scheme !== 'tcp' && !(route.program === 'haproxy' && route.scheme !== 'http');
}

/** HEAD / through the port, as the protocol step asks it (the same read: done once). */
async function askThrough(address: string, portNumber: number, hostName: string | undefined, ctx: CheckContext): Promise<{ status: number; said?: string } | { error: string }> {
  const probe = await ctx.facts.read(protocolProbeOf, { address, port: portNumber, protocol: 'http', userName: 'whyport', timeoutMs: ctx.timeoutMs, ...(hostName ? { hostName } : {}) });
  const status = probe.evidence.status;
  if (status === undefined) return { error: probe.evidence.said ? `no HTTP answer: ${probe.evidence.said}` : 'no HTTP answer' };
  return { status, ...(probe.evidence.said ? { said: probe.evidence.said } : {}) };
}

async function probeServer(server: UpstreamServer, ctx: CheckContext): Promise<ServerProbe> {
  const a = server.address;
  if (a.kind === 'unix') {
    const listeners = await ctx.facts.read(unixListenersOf, undefined);
    if ('error' in listeners) return { server, state: 'unknown', where: 'here', detail: listeners.error };
    const found = listeners.some((l) => l.path === a.path);
    return { server, state: found ? 'answers' : 'no-socket', where: 'here', detail: found ? `a program listens on ${a.path}` : `nothing listens on ${a.path}` };
  }
  let address = a.host;
  if (isIP(address) === 0) {
    const r = await ctx.facts.resolve(a.host);
    if (!r.ok || !r.addresses.length) return { server, state: 'unresolved', detail: `${a.host} does not resolve here${r.ok ? '' : ` (${r.error})`}` };
    address = r.addresses[0]!.address;
  }
  address = normalizeAddress(address);
  const where = isLoopback(address) || (await ctx.facts.isLocalAddress(address).catch(() => false)) ? 'here' : (await inOtherNamespace(address, ctx)) ? 'namespace' : 'elsewhere';
  const probe = await ctx.facts.read(tcpConnectOf, { address, port: a.port, timeoutMs: ctx.timeoutMs });
  const at = endpointText(address, a.port);
  const state: ServerState = probe.outcome === 'connected' ? 'answers' : probe.outcome === 'refused' ? 'refused' : probe.outcome === 'timeout' ? 'timeout' : 'unreachable';
  let holder: string | undefined;
  if (where === 'here') {
    const table = await ctx.facts.socketTable(a.port).catch(() => undefined);
    holder = table?.sockets.find((s) => s.state === 'LISTEN' && s.local.port === a.port && s.owners?.length)?.owners?.[0]?.program;
  }
  const detail =
    state === 'answers'
      ? `${at} accepts connections${holder ? ` (${holder})` : ''}`
      : state === 'refused'
        ? `${at} refuses connections: nothing listens there`
        : state === 'timeout'
          ? `${at} does not answer within ${ctx.timeoutMs} ms: its packets are dropped on the way or there`
          : `${at} cannot be reached from here (${probe.errno ?? probe.outcome})`;
  return { server, state, address, where, ...(holder ? { holder } : {}), detail };
}

async function inOtherNamespace(address: string, ctx: CheckContext): Promise<boolean> {
  const lists = await ctx.facts.read(otherNamespaceAddresses, undefined).catch(() => [] as string[][]);
  return lists.some((l) => l.map(normalizeAddress).includes(address));
}

/** The proxy's own error log: its file, else (haproxy logs to syslog) its unit's journal. */
async function proxyLog(program: ProxyProgram, ctx: CheckContext): Promise<{ path: string; lines: string[] } | { path: string; error: string } | undefined> {
  const tail = await ctx.facts.read(programLogOf, { unit: program, program }).catch(() => undefined);
  if (tail && !('error' in tail)) return { path: tail.path, lines: tail.lines };
  if (await ctx.facts.has('systemd').catch(() => false)) {
    const status = await ctx.facts.read(unitStatusOf, { unit: program, journalLines: 50 }).catch(() => undefined);
    if (status && 'journal' in status && status.journal?.length) return { path: `journalctl -u ${program}`, lines: status.journal };
  }
  return tail && 'error' in tail ? { path: tail.path, error: tail.error } : undefined;
}

/** The pure decision of the upstream step. */
export function decideUpstream(r: UpstreamReadings, p: { port: number; host: string }, _at: DecideContext) {
  const command = showCommand(['ss', '-Htlnp', `sport = :${p.port}`]);
  if (r.kind === 'not-proxy') {
    const who = r.program ? `${r.program}${r.pid ? ` (pid ${r.pid})` : ''} holds port ${p.port}: not a reverse proxy whyport reads (nginx, haproxy, apache2)` : `no program seen on port ${p.port} to look behind`;
    return { outcome: 'none' as const, status: 'info' as const, summary: who, command, evidence: r.program ? { program: r.program, ...(r.pid ? { pid: r.pid } : {}) } : {} };
  }
  const { program, config } = r;
  const base = { program, pid: r.pid, source: config.source === 'dump' && config.command ? showCommand(config.command) : `the files (${config.files.slice(0, 3).join(', ')}${config.files.length > 3 ? ', …' : ''})` };
  const cmd = config.command ? showCommand(config.command) : command;
  if (!r.routes) {
    return { outcome: 'unreadable' as const, status: 'info' as const, summary: `${program} holds port ${p.port}, and its configuration could not be read: ${config.problems[0] ?? 'no file'}`, command: cmd, evidence: { ...base, note: config.problems.join('; ') } };
  }
  const route = chooseRoute(r.routes);
  if (!r.routes.servesPort || !route) {
    const self = r.routes.servedBySelf;
    const why = !r.routes.servesPort ? `its configuration has no listener for port ${p.port} (read from ${base.source})` : self ? `it answers / itself (${self.source.file}:${self.source.line}: ${self.note})` : `it serves port ${p.port} itself (no proxy_pass, backend or ProxyPass for /)`;
    return { outcome: 'none' as const, status: 'info' as const, summary: `${program} holds port ${p.port}: ${why}`, command: cmd, evidence: base };
  }
  const via = `${route.via.file}:${route.via.line}`;
  const listen = `${route.listen.file}:${route.listen.line}`;
  const http = r.http && 'status' in r.http ? r.http : undefined;
  const gateway = http !== undefined && [502, 503, 504].includes(http.status);
  const statusText = http ? `; through the port ${program} answers ${http.said ?? http.status}` : '';
  if (!r.probes.length) {
    const note = route.note ?? `${route.directive} names no server whyport can probe`;
    return { outcome: gateway ? ('unreadable' as const) : ('none' as const), status: 'info' as const, summary: `${program} passes port ${p.port} on with \`${route.via.text}\` (${via}): ${note}${statusText}`, command: cmd, evidence: { ...base, config: via, configText: route.via.text, listen, directive: route.directive, note, ...(http ? { status: http.status } : {}) } };
  }
  const texts = r.probes.map((s) => upstreamText(s.server.address));
  const primary = r.probes.filter((s) => !s.server.backup);
  const answering = r.probes.filter((s) => s.state === 'answers');
  const failing = r.probes.filter((s) => s.state !== 'answers' && s.state !== 'unknown');
  const logLines = r.log && 'lines' in r.log ? proxyLogLines(r.log.lines, program, route, r.probes.map((s) => s.server)) : [];
  const logEvidence = { ...(logLines.length ? { logLines } : {}), ...(r.log ? { logFile: r.log.path } : {}) };
  const shown = (s: ServerProbe) => `${upstreamText(s.server.address)}${s.holder ? ` (${s.holder})` : ''}`;
  const common = { ...base, listen, directive: route.directive, upstreams: texts, answering: answering.length, total: r.probes.length, ...(http ? { status: http.status, ...(http.said ? { said: http.said } : {}) } : {}), ...logEvidence, ...(route.note ? { note: route.note } : {}) };
  const proxyOf = (s: ServerProbe) => ({ program, config: `${s.server.source.file}:${s.server.source.line}`, upstream: upstreamText(s.server.address), ...(http ? { status: http.status } : {}) });
  const allDown = (primary.length ? primary : r.probes).every((s) => s.state !== 'answers');
  if (failing.length && (allDown || gateway)) {
    const s = failing[0]!;
    const lead = `${program} passes port ${p.port} to ${upstreamText(s.server.address)} (${s.server.source.file}:${s.server.source.line}), and ${s.detail.replace(/^\S+ /, 'it ')}`;
    const others = r.probes.length > 1 ? `; ${answering.length} of ${r.probes.length} upstreams answer` : '';
    const evidence = { ...common, config: `${s.server.source.file}:${s.server.source.line}`, configText: s.server.source.text, upstream: upstreamText(s.server.address), proxy: proxyOf(s), verdict: s.state, ...(s.where ? { where: s.where } : {}), route: `→ ${program} → ${upstreamText(s.server.address)} (${s.state === 'no-socket' ? 'no socket' : s.state})` };
    if (s.server.address.kind === 'unix') {
      return { outcome: 'socket-down' as const, status: 'fail' as const, summary: `${lead}${others}${statusText}`, command: cmd, evidence };
    }
    return { outcome: 'down' as const, status: 'fail' as const, summary: `${lead}${others}${statusText}`, command: cmd, evidence: { ...evidence, follow: { host: s.server.address.host, port: s.server.address.port } } };
  }
  if (gateway) {
    // Every upstream accepts, and the proxy still answers for none: what answers there is the question.
    const s = r.probes[0]!;
    const lead = `${program} passes port ${p.port} to ${texts.join(', ')} (${s.server.source.file}:${s.server.source.line}); ${answering.length === r.probes.length ? 'every upstream accepts connections' : `${answering.length} of ${r.probes.length} accept connections`}, yet ${program} answers ${http!.said ?? http!.status}`;
    // Something listens on the socket: not "nothing listens there"; a socket has no port chain to follow.
    if (s.server.address.kind === 'unix') return { outcome: 'unreadable' as const, status: 'info' as const, summary: `${lead}; what listens on ${upstreamText(s.server.address)} answers it with errors, and a Unix socket cannot be followed with the port chain`, command: cmd, evidence: { ...common, config: `${s.server.source.file}:${s.server.source.line}`, configText: s.server.source.text, upstream: texts[0]!, proxy: proxyOf(s), verdict: 'bad-answer' } };
    return { outcome: 'down' as const, status: 'fail' as const, summary: lead, command: cmd, evidence: { ...common, config: `${s.server.source.file}:${s.server.source.line}`, configText: s.server.source.text, upstream: texts[0]!, proxy: proxyOf(s), verdict: 'bad-answer', ...(s.where ? { where: s.where } : {}), follow: { host: (s.server.address as { host: string }).host, port: (s.server.address as { port: number }).port }, route: `→ ${program} → ${texts[0]} (${http!.status})` } };
  }
  const first = answering[0]!;
  const route_ = `→ ${program} → ${answering.map(shown).join(', ')}`;
  const evidence = { ...common, config: `${first.server.source.file}:${first.server.source.line}`, configText: first.server.source.text, upstream: upstreamText(first.server.address), proxy: proxyOf(first), route: route_ };
  if (failing.length) {
    return { outcome: 'partly' as const, status: 'info' as const, summary: `${program} passes port ${p.port} to ${texts.join(', ')}: ${answering.length} of ${r.probes.length} answer (${failing.map((s) => s.detail).join('; ')})${statusText}`, command: cmd, evidence };
  }
  return { outcome: 'answers' as const, status: 'pass' as const, summary: `${program} passes port ${p.port} to ${answering.map(shown).join(', ')} (${first.server.source.file}:${first.server.source.line}), and ${r.probes.length > 1 ? `all ${r.probes.length} answer` : 'it answers'}${statusText}`, command: cmd, evidence };
}
