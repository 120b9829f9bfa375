import { normalizeAddress } from '../../net/address.js';
import type { SourceLine } from '../../system/config-tree.js';
import { compileConfigRegex } from '../../text/safe-regex.js';
import type { ProxyRoute, ProxyRoutes, RouteQuery, UpstreamAddress, UpstreamServer } from './route.js';

// apache2's way from a port to its backends (core's vhost matching, mod_proxy, mod_proxy_balancer,
// mod_proxy_fcgi): the Listen line, the <VirtualHost> picked by address then ServerName/ServerAlias,
// its ProxyPass/ProxyPassMatch rules in order (and those of <Location> sections), a balancer's
// BalancerMember lines, SetHandler "proxy:…" and RewriteRule [P]. Directive names are caseless;
// <IfModule> holds when a LoadModule before it (or apache2 -l's built-ins) loaded the module;
// <IfDefine>, <IfVersion> and <If> sections are taken as if their condition held.

/** The port each scheme of a backend URL implies (mod_proxy's default ports). */
const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443, h2c: 80, h2: 443, ajp: 8009, fcgi: 8000, scgi: 4000, uwsgi: 3031, ftp: 21 };

const at = (s: SourceLine) => `${s.file}:${s.line}`;

/** The modules Debian's apache2 has compiled in (`apache2 -l`): an <IfModule> of one of them holds without a LoadModule. */
const BUILT_IN = ['core', 'mod_so', 'mod_watchdog', 'http_core', 'mod_log_config', 'mod_logio', 'mod_version', 'mod_unixd'];

/** A line's words as apache's ap_getword_conf splits them: blanks separate, "double" and 'single' quotes group, backslash escapes a quote. */
export function apacheWords(text: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const q = text[i];
    let word = '';
    if (q === '"' || q === "'") {
      i++;
      while (i < text.length && text[i] !== q) {
        if (text[i] === '\\' && text[i + 1] === q) i++;
        word += text[i++];
      }
      i++;
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) word += text[i++];
    }
    words.push(word);
  }
  return words;
}

interface Directive {
  /** Its place in reading order (a conditional section's directives are put back in it). */
  seq: number;
  name: string;
  args: string[];
  source: SourceLine;
}

interface Block {
  /** `virtualhost`, `location`, `proxy`, … lower-cased; `` for the main server. */
  kind: string;
  /** An <IfModule> whose module is not loaded (by the LoadModule lines before it): apache2 skips it. */
  skipped?: boolean;
  args: string[];
  source: SourceLine;
  directives: Directive[];
  blocks: Block[];
}

/** The lines as directives and sections (a trailing backslash continues a line; `#` lines are comments). */
function parse(lines: readonly SourceLine[], problems: string[]): Block {
  const root: Block = { kind: '', args: [], source: lines[0] ?? { file: '', line: 0, text: '' }, directives: [], blocks: [] };
  const stack: Block[] = [root];
  let pending: { text: string; source: SourceLine } | undefined;
  let seq = 0;
  const loaded = new Set<string>(BUILT_IN.flatMap((m) => [`${m}.c`, `${m.replace(/^mod_/, '')}_module`]));
  for (const l of lines) {
    if (!pending && (l.text === '' || l.text.startsWith('#'))) continue;
    const text = pending ? `${pending.text} ${l.text}` : l.text;
    const source = pending?.source ?? l;
    if (text.endsWith('\\')) {
      pending = { text: text.slice(0, -1), source };
      continue;
    }
    pending = undefined;
    const close = /^<\/([^>\s]+)\s*>/.exec(text);
    if (close) {
      const kind = close[1]!.toLowerCase();
      if (stack.length > 1 && stack.at(-1)!.kind === kind) stack.pop();
      else problems.push(`${at(source)}: </${close[1]}> closes no <${close[1]}>`);
      continue;
    }
    const open = /^<([^\s>/]+)(.*?)>\s*$/.exec(text);
    if (open) {
      const b: Block = { kind: open[1]!.toLowerCase(), args: apacheWords(open[2]!), source, directives: [], blocks: [] };
      if (b.kind === 'ifmodule' && b.args[0]) {
        const name = b.args[0].replace(/^!/, '');
        if (loaded.has(name) === b.args[0].startsWith('!')) b.skipped = true;
      }
      stack.at(-1)!.blocks.push(b);
      stack.push(b);
      continue;
    }
    const words = apacheWords(text);
    // Only a LoadModule apache2 reads counts (not one inside a skipped <IfModule>).
    if (words[0]?.toLowerCase() === 'loadmodule' && words[1] && !stack.some((b) => b.skipped)) {
      loaded.add(words[1]);
      const file = /(mod_[^/]+)\.so$/.exec(words[2] ?? '');
      if (file) loaded.add(`${file[1]}.c`);
    }
    if (words.length > 0) stack.at(-1)!.directives.push({ seq: seq++, name: words[0]!.toLowerCase(), args: words.slice(1), source });
  }
  if (stack.length > 1) problems.push(`${at(stack.at(-1)!.source)}: <${stack.at(-1)!.kind}> is not closed`);
  return root;
}

/** The directives of a block, those of conditional sections (<IfModule>, <IfDefine>, <IfVersion>, <If…>) inlined. */
function flatDirectives(b: Block): { directives: Directive[]; blocks: Block[] } {
  const directives: Directive[] = [...b.directives];
  const blocks: Block[] = [];
  for (const c of b.blocks) {
    if (c.skipped) continue;
    if (c.kind.startsWith('if') || c.kind === 'else' || c.kind === 'elseif') {
      const inner = flatDirectives(c);
      directives.push(...inner.directives);
      blocks.push(...inner.blocks);
    } else blocks.push(c);
  }
  directives.sort((x, y) => x.seq - y.seq);
  return { directives, blocks };
}

/** Every block of the configuration, conditional ones looked through, depth first. */
function allBlocks(b: Block): Block[] {
  return flatDirectives(b).blocks.flatMap((c) => [c, ...allBlocks(c)]);
}

/** `Listen [addr:]port [protocol]`: its address (undefined: every one) and port. */
function listenOf(arg: string): { host?: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]:|([^:]+):)?(\d+)$/.exec(arg);
  if (!m) return undefined;
  const host = m[1] ?? m[2];
  return { host: host === undefined || host === '0.0.0.0' || host === '::' || host === '*' ? undefined : host, port: Number(m[3]) };
}

/** A <VirtualHost> address (`*:80`, `10.0.0.5:80`, `_default_:80`, `[::1]:80`, `*`): host (undefined: any) and port (undefined: any). */
function vhostAddress(arg: string): { host?: string; port?: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+|\*))?$/.exec(arg);
  if (!m) return {};
  const host = m[1] ?? m[2];
  return { host: host === '*' || host === '_default_' ? undefined : host, port: m[3] && m[3] !== '*' ? Number(m[3]) : undefined };
}

/** A backend URL (`http://127.0.0.1:7071/`, `fcgi://[::1]:9000/x`, `unix:/run/x.sock|fcgi://localhost`, `balancer://name/`). */
function backendUrl(url: string): { scheme: string; address?: UpstreamAddress; balancer?: string; note?: string } {
  const unix = /^unix:([^|]+)\|([a-z0-9+]+):\/\//i.exec(url);
  if (unix) return { scheme: unix[2]!.toLowerCase(), address: { kind: 'unix', path: unix[1]! } };
  const m = /^([a-z0-9+]+):\/\/(\[[^\]]+\]|[^/:]*)(?::(\d+))?/i.exec(url);
  if (!m) return { scheme: 'http', note: `cannot read the backend URL ${url}` };
  const scheme = m[1]!.toLowerCase();
  const host = m[2]!.replace(/^\[|\]$/g, '');
  if (scheme === 'balancer') return { scheme, balancer: host.toLowerCase() };
  if (m[0].includes('$')) return { scheme, note: `${url} takes parts of the request ($1…): the backend is chosen per request` };
  const port = m[3] ? Number(m[3]) : DEFAULT_PORTS[scheme];
  if (!host || port === undefined) return { scheme, note: `${url} names no host or port` };
  return { scheme, address: { kind: 'tcp', host, port } };
}

/** Does a ProxyPass path cover the request path (mod_proxy's alias match: a prefix, `/` for everything)? */
function pathCovers(prefix: string, path: string): boolean {
  if (prefix === '/' || prefix === path) return true;
  return prefix.endsWith('/') ? path.startsWith(prefix) || `${path}/` === prefix : path.startsWith(`${prefix}/`);
}

/** The balancers' members (`<Proxy balancer://NAME>` BalancerMember lines, or `BalancerMember balancer://NAME URL` outside one). */
function balancers(root: Block): Map<string, { servers: UpstreamServer[]; scheme?: string; source: SourceLine }> {
  const out = new Map<string, { servers: UpstreamServer[]; scheme?: string; source: SourceLine }>();
  const add = (name: string, url: string, params: readonly string[], source: SourceLine) => {
    const entry = out.get(name) ?? { servers: [], source };
    out.set(name, entry);
    const u = backendUrl(url);
    entry.scheme ??= u.scheme;
    if (!u.address) return;
    const status = params.find((p) => /^status=/i.test(p))?.slice(7) ?? '';
    const route = params.find((p) => /^route=/i.test(p))?.slice(6);
    entry.servers.push({ address: u.address, ...(route ? { name: route } : {}), ...(/\+H/i.test(status) ? { backup: true } : {}), ...(/\+[DS]/i.test(status) ? { disabled: true } : {}), source });
  };
  const visit = (b: Block, proxy: string | undefined) => {
    const { directives, blocks } = flatDirectives(b);
    for (const d of directives) {
      if (d.name !== 'balancermember') continue;
      if (d.args[0]?.toLowerCase().startsWith('balancer://') && d.args[1]) add(d.args[0].slice(11).replace(/\/.*$/, '').toLowerCase(), d.args[1], d.args.slice(2), d.source);
      else if (proxy && d.args[0]) add(proxy, d.args[0], d.args.slice(1), d.source);
    }
    for (const c of blocks) {
      const m = c.kind === 'proxy' ? /^balancer:\/\/([^/]+)/i.exec(c.args[0] ?? '') : null;
      visit(c, m ? m[1]!.toLowerCase() : proxy);
    }
  };
  visit(root, undefined);
  return out;
}

/** Matches a ServerName/ServerAlias (`*` and `?` wildcards, caseless; a ServerName's `:port` and scheme dropped). */
function nameMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/:\d+$/, '');
  if (!/[*?]/.test(p)) return p === host;
  const re = compileConfigRegex(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re?.test(host) ?? false;
}

interface Candidate {
  routes: ProxyRoute[];
  taken?: ProxyRoute;
  excluded?: Directive;
}

/**
 * The routes apache2 takes for connections to a port (pure), from its configuration's lines
 * (apache2.conf with its Include/IncludeOptional files laid out in place): the <VirtualHost>
 * sections on the port (those on the query's address, else the `*` ones), the one the Host names
 * (ServerName, ServerAlias) else the first; its ProxyPass / ProxyPassMatch rules in order (a
 * `!` one excludes its path), ProxyPass inside <Location>, balancer:// members, SetHandler
 * "proxy:…" (php-fpm) and RewriteRule [P]; then the main server's rules, which every vhost
 * inherits. routes[0] is the one a request for `q.path` (`/`) takes, when one does.
 */
export function apacheRoutes(lines: readonly SourceLine[], q: RouteQuery): ProxyRoutes {
  const problems: string[] = [];
  const path = q.path ?? '/';
  const root = parse(lines, problems);
  const top = flatDirectives(root);
  const addr = q.address ? normalizeAddress(q.address) : undefined;

  const listenLines = [...top.directives, ...allBlocks(root).flatMap((b) => (b.kind === 'virtualhost' ? [] : flatDirectives(b).directives))]
    .filter((d) => d.name === 'listen' && d.args[0])
    .flatMap((d) => {
      const l = listenOf(d.args[0]!);
      return l && l.port === q.port ? [{ d, l }] : [];
    });
  const listen = listenLines.find((x) => x.l.host !== undefined && addr !== undefined && normalizeAddress(x.l.host) === addr) ?? listenLines.find((x) => x.l.host === undefined) ?? (addr ? undefined : listenLines[0]);
  if (!listen) return { program: 'apache2', routes: [], servesPort: false, problems };

  const vhosts = top.blocks.filter((b) => b.kind === 'virtualhost');
  const onPort = (test: (a: { host?: string; port?: number }) => boolean) => vhosts.filter((v) => v.args.some((a) => { const x = vhostAddress(a); return (x.port === undefined || x.port === q.port) && test(x); }));
  let set = addr ? onPort((x) => x.host !== undefined && normalizeAddress(x.host) === addr) : [];
  if (set.length === 0) set = onPort((x) => x.host === undefined);
  if (set.length === 0 && !addr) set = onPort(() => true);
  const namesOf = (v: Block) => flatDirectives(v).directives.filter((d) => d.name === 'servername' || d.name === 'serveralias').flatMap((d) => d.args.map((a) => a.toLowerCase()));
  const host = q.hostName?.toLowerCase().replace(/\.$/, '');
  const chosen = (host ? set.find((v) => namesOf(v).some((n) => nameMatches(n, host))) : undefined) ?? set[0];
  const groups = balancers(root);

  const routesOf = (scope: Block | undefined, isDefault: boolean): Candidate => {
    const { directives, blocks } = scope ? flatDirectives(scope) : top;
    const names = scope ? namesOf(scope) : [];
    const base = { program: 'apache2' as const, listen: listen.d.source, ...(scope ? { block: scope.source } : {}), isDefault, ...(names.length ? { serverNames: names } : {}) };
    const out: Candidate = { routes: [] };
    const route = (d: Directive, url: string, location: string | undefined, note?: string): ProxyRoute => {
      const u = backendUrl(url);
      const directive = d.name === 'proxypass' ? 'ProxyPass' : d.name === 'proxypassmatch' ? 'ProxyPassMatch' : d.name === 'sethandler' ? 'SetHandler' : d.name === 'rewriterule' ? 'RewriteRule [P]' : d.name;
      if (u.balancer !== undefined) {
        const g = groups.get(u.balancer);
        return { ...base, via: d.source, directive, scheme: g?.scheme ?? 'http', ...(location !== undefined ? { location } : {}), group: u.balancer, servers: g?.servers ?? [], ...(g ? (note ? { note } : {}) : { note: [note, `no <Proxy balancer://${u.balancer}> with BalancerMember lines`].filter(Boolean).join('; ') }) };
      }
      const notes = [note, u.note].filter(Boolean).join('; ');
      return { ...base, via: d.source, directive, scheme: u.scheme, ...(location !== undefined ? { location } : {}), servers: u.address ? [{ address: u.address, source: d.source }] : [], ...(notes ? { note: notes } : {}) };
    };
    // ProxyPass / ProxyPassMatch of the block itself, in order: the first that covers the path wins.
    for (const d of directives) {
      if (d.name === 'proxypass' && d.args.length >= 2) {
        const [p, url] = [d.args[0]!, d.args[1]!];
        if (url === '!') {
          if (!out.taken && !out.excluded && pathCovers(p, path)) out.excluded = d;
          continue;
        }
        const r = route(d, url, p);
        out.routes.push(r);
        if (!out.taken && !out.excluded && pathCovers(p, path)) out.taken = r;
      } else if (d.name === 'proxypassmatch' && d.args.length >= 2) {
        const [re, url] = [d.args[0]!, d.args[1]!];
        const matches = compileConfigRegex(re)?.test(path);
        if (url === '!') {
          if (!out.taken && !out.excluded && matches) out.excluded = d;
          continue;
        }
        const r = route(d, url, re);
        out.routes.push(r);
        if (!out.taken && !out.excluded && matches) out.taken = r;
      } else if (d.name === 'rewriterule' && d.args.length >= 3 && /^\[(.*,)?(P|proxy)(,.*)?\]$/i.test(d.args[2]!)) {
        out.routes.push(route(d, d.args[1]!, d.args[0], `proxied when the rule matches (${d.args[0]})`));
      } else if (d.name === 'sethandler' && /^proxy:/i.test(d.args[0] ?? '')) {
        const r = route(d, d.args[0]!.slice(6), undefined);
        out.routes.push(r);
        if (!out.taken && !out.excluded) out.taken = r;
      }
    }
    // <Location PATH> ProxyPass URL, <FilesMatch …> SetHandler "proxy:…": the longest location covering the path.
    let bestLocation: { len: number; r: ProxyRoute } | undefined;
    for (const b of blocks) {
      const inner = flatDirectives(b).directives;
      for (const d of inner) {
        const isPass = d.name === 'proxypass' && d.args.length === 1;
        const isHandler = d.name === 'sethandler' && /^proxy:/i.test(d.args[0] ?? '');
        if (!isPass && !isHandler) continue;
        const where = b.args[0] ?? '';
        const url = isPass ? d.args[0]! : d.args[0]!.slice(6);
        if (url === '!') continue;
        if (b.kind === 'location' || b.kind === 'locationmatch') {
          const r = route(d, url, where);
          out.routes.push(r);
          const covers = b.kind === 'location' ? pathCovers(where, path) : (compileConfigRegex(where)?.test(path) ?? false);
          if (covers && (!bestLocation || where.length >= bestLocation.len)) bestLocation = { len: where.length, r };
        } else {
          out.routes.push(route(d, url, undefined, `for the requests <${b.kind} ${b.args.join(' ')}> at ${at(b.source)} takes`));
        }
      }
    }
    if (!out.taken && !out.excluded && bestLocation) out.taken = bestLocation.r;
    return out;
  };

  const own = chosen ? routesOf(chosen, chosen === set[0]) : { routes: [] };
  const main = routesOf(undefined, !chosen);
  const others = set.filter((v) => v !== chosen).map((v) => routesOf(v, false));
  const taken = own.taken ?? (own.excluded ? undefined : main.taken);
  const routes = [...own.routes, ...main.routes, ...others.flatMap((o) => o.routes)];
  if (!taken) {
    const excluded = own.excluded ?? main.excluded;
    const where = chosen?.source ?? listen.d.source;
    return {
      program: 'apache2',
      routes,
      servesPort: true,
      problems,
      servedBySelf: {
        source: excluded?.source ?? where,
        note: excluded ? `${excluded.source.text} at ${at(excluded.source)} keeps ${path} from the backends: apache2 answers it itself` : `${chosen ? `the virtual host at ${at(chosen.source)}` : 'the main server'} passes no request for ${path} on: apache2 answers it itself`,
      },
    };
  }
  return { program: 'apache2', routes: [{ ...taken, taken: true }, ...routes.filter((r) => r !== taken)], servesPort: true, problems };
}
