import { normalizeAddress } from '../../net/address.js';
import type { SourceLine } from '../../system/config-tree.js';
import { compileConfigRegex } from '../../text/safe-regex.js';
import type { ProxyRoute, ProxyRoutes, RouteQuery, UpstreamAddress, UpstreamServer } from './route.js';

// haproxy's way from a port to its servers (configuration.txt, sections 2–4): the frontend or
// listen section whose `bind` holds the port, its use_backend rules then default_backend, and
// the `server` lines of that backend. `mode` comes from the section, else its defaults section.

const SECTIONS = new Set(['global', 'defaults', 'frontend', 'backend', 'listen', 'userlist', 'peers', 'resolvers', 'mailers', 'program', 'http-errors', 'ring', 'cache']);

interface Section {
  kind: string;
  name: string;
  source: SourceLine;
  /** The defaults section it takes its settings from (`from NAME`, else the last one before it). */
  defaults?: Section;
  lines: { words: string[]; source: SourceLine }[];
}

const at = (s: SourceLine) => `${s.file}:${s.line}`;

/** A line's words as haproxy splits them: blanks separate, "double" and 'single' quotes group, a backslash escapes, `#` starts a comment. */
export function haproxyWords(text: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length || text[i] === '#') break;
    let word = '';
    while (i < text.length && !/\s/.test(text[i]!) && text[i] !== '#') {
      const c = text[i]!;
      if (c === '\\' && i + 1 < text.length) {
        word += text[i + 1];
        i += 2;
      } else if (c === '"' || c === "'") {
        const end = text.indexOf(c, i + 1);
        word += text.slice(i + 1, end < 0 ? undefined : end);
        i = end < 0 ? text.length : end + 1;
      } else {
        word += c;
        i++;
      }
    }
    words.push(word);
  }
  return words;
}

/** The sections of a configuration in order (the lines of several -f files laid one after the other). */
function sections(lines: readonly SourceLine[]): Section[] {
  const out: Section[] = [];
  let current: Section | undefined;
  let lastDefaults: Section | undefined;
  for (const source of lines) {
    const words = haproxyWords(source.text);
    if (words.length === 0) continue;
    const kw = words[0]!.toLowerCase();
    if (SECTIONS.has(kw)) {
      const fromAt = words.indexOf('from');
      const name = words[1] !== undefined && words[1] !== 'from' ? words[1] : '';
      const from = fromAt > 0 ? out.find((s) => s.kind === 'defaults' && s.name === words[fromAt + 1]) : undefined;
      current = { kind: kw, name, source, defaults: from ?? (kw === 'defaults' ? undefined : lastDefaults), lines: [] };
      out.push(current);
      if (kw === 'defaults') lastDefaults = current;
      continue;
    }
    current?.lines.push({ words, source });
  }
  return out;
}

/** The last value of a keyword in a section, else in its defaults. */
function setting(s: Section, kw: string): string | undefined {
  for (let x: Section | undefined = s; x; x = x.defaults) {
    const line = x.lines.findLast((l) => l.words[0] === kw);
    if (line) return line.words[1];
  }
  return undefined;
}

/** One address of a bind: its host (undefined: every address) and ports, or a socket. */
function bindAddresses(text: string): { host?: string; ports: [number, number] }[] {
  const out: { host?: string; ports: [number, number] }[] = [];
  for (let part of text.split(',')) {
    part = part.replace(/^(ipv4|ipv6|tcp|tcp4|tcp6|udp|udp4|udp6|quic4|quic6)@/, '');
    if (/^(unix|abns|fd|sockpair)@|^\//.test(part)) continue;
    const m = /^(?:\[([^\]]*)\]|(.*)):(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    const host = m[1] ?? m[2] ?? '';
    const lo = Number(m[3]);
    out.push({ host: host === '' || host === '*' || host === '0.0.0.0' || host === '::' ? undefined : host, ports: [lo, m[4] ? Number(m[4]) : lo] });
  }
  return out;
}

/** A server's address (`127.0.0.1:7071`, `[::1]:7071`, `::1:7071`, `unix@/p`, `/p`, `ipv4@host:port`); no port: the connection's own. */
function serverAddress(text: string, port: number): { address?: UpstreamAddress; note?: string } {
  if (text.startsWith('unix@')) return { address: { kind: 'unix', path: text.slice(5) } };
  if (text.startsWith('/')) return { address: { kind: 'unix', path: text } };
  if (/^(abns|fd|sockpair)@/.test(text)) return { note: `server address ${text} is not a network address` };
  const plain = text.replace(/^(ipv4|ipv6|tcp|tcp4|tcp6)@/, '');
  const m = /^\[([^\]]+)\](?::([+-]?\d+))?$/.exec(plain) ?? /^(.*?)(?::([+-]?\d*))?$/.exec(plain);
  let host = m?.[1] ?? plain;
  let portText = m?.[2];
  // `::1` alone: an IPv6 address without a port (haproxy takes the last colon only after a port number).
  if (host.includes(':') && !plain.startsWith('[') && portText === undefined) host = plain;
  if (host === '') return { note: `server address ${text} has no host` };
  if (portText === undefined || portText === '') return { address: { kind: 'tcp', host, port }, note: `${text} names no port: haproxy connects to the port the client came to (${port})` };
  if (/^[+-]/.test(portText)) {
    const p = port + Number(portText);
    return { address: { kind: 'tcp', host, port: p }, note: `${text}: the client's port ${portText.startsWith('+') ? 'plus' : 'minus'} ${portText.slice(1)}` };
  }
  portText = String(Number(portText));
  return { address: { kind: 'tcp', host, port: Number(portText) } };
}

/** The `server` lines of a backend or listen section; server-template lines as notes. */
function serversOf(s: Section, port: number): { servers: UpstreamServer[]; notes: string[] } {
  const servers: UpstreamServer[] = [];
  const notes: string[] = [];
  for (const l of s.lines) {
    if (l.words[0] === 'server-template') {
      notes.push(`server-template at ${at(l.source)}: ${l.words[2] ?? '?'} servers of ${l.words[3] ?? '?'}, resolved while haproxy runs`);
      continue;
    }
    if (l.words[0] !== 'server' || l.words.length < 3) continue;
    const { address, note } = serverAddress(l.words[2]!, port);
    if (note) notes.push(note);
    if (!address) continue;
    const params = l.words.slice(3);
    servers.push({ address, name: l.words[1]!, ...(params.includes('backup') ? { backup: true } : {}), ...(params.includes('disabled') ? { disabled: true } : {}), source: l.source });
  }
  return { servers, notes };
}

/** What a request for `path` with Host `host` makes of one ACL criterion: true, false, or undefined (cannot tell here). */
function criterion(words: readonly string[], host: string | undefined, path: string): boolean | undefined {
  const [fetch, ...rest] = words;
  if (!fetch) return undefined;
  const caseless = rest.includes('-i');
  let method: string | undefined;
  const values: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '-m') method = rest[++i];
    else if (rest[i] === '--') continue;
    else if (!rest[i]!.startsWith('-')) values.push(rest[i]!);
  }
  const m = /^(?:req\.)?(hdr|path|base|url)(?:_(beg|end|dom|reg|sub|dir|len|str))?(?:\((host|Host)\))?$/.exec(fetch);
  if (!m) return undefined;
  const [, what, suffix] = m;
  let subject: string | undefined;
  if (what === 'hdr') subject = m[3] ? host : undefined;
  else if (what === 'path') subject = path;
  if (subject === undefined) return undefined;
  method ??= suffix ?? 'str';
  const norm = (s: string) => (caseless ? s.toLowerCase() : s);
  const sub = norm(what === 'hdr' ? subject.replace(/:\d+$/, '') : subject);
  return values.some((raw) => {
    const v = norm(raw);
    switch (method) {
      case 'str':
        return sub === v;
      case 'beg':
        return sub.startsWith(v);
      case 'end':
        return sub.endsWith(v);
      case 'sub':
        return sub.includes(v);
      case 'dom':
        return new RegExp(`(^|[./])${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[./])`).test(sub);
      case 'dir':
        return sub.split('/').includes(v.replace(/^\/|\/$/g, ''));
      case 'reg':
        return compileConfigRegex(raw, caseless ? 'i' : '')?.test(subject) ?? false;
      default:
        return false;
    }
  })
    ? true
    : method === 'len'
      ? undefined
      : false;
}

/** A use_backend condition (`if|unless` ACL names, `!`, `or`/`||`, `{ inline }`): true, false, or undefined when it cannot be told. */
function condition(words: readonly string[], acls: Map<string, string[][]>, host: string | undefined, path: string): boolean | undefined {
  const kw = words[0];
  if (kw !== 'if' && kw !== 'unless') return undefined;
  const terms: (boolean | undefined)[][] = [[]];
  for (let i = 1; i < words.length; i++) {
    let w = words[i]!;
    if (w === 'or' || w === '||') {
      terms.push([]);
      continue;
    }
    const negate = w.startsWith('!');
    if (negate) w = w.slice(1) || (words[++i] ?? '');
    let value: boolean | undefined;
    if (w === '{') {
      const end = words.indexOf('}', i + 1);
      value = criterion(words.slice(i + 1, end < 0 ? undefined : end), host, path);
      i = end < 0 ? words.length : end;
    } else if (w === 'TRUE') value = true;
    else if (w === 'FALSE') value = false;
    else {
      const defs = acls.get(w);
      // Several `acl NAME` lines are or-ed.
      const each = defs?.map((d) => criterion(d, host, path)) ?? [undefined];
      value = each.includes(true) ? true : each.includes(undefined) ? undefined : false;
    }
    terms.at(-1)!.push(value === undefined ? undefined : negate ? !value : value);
  }
  const ands = terms.map((t) => (t.includes(false) ? false : t.includes(undefined) ? undefined : true));
  const result = ands.includes(true) ? true : ands.includes(undefined) ? undefined : false;
  return result === undefined ? undefined : kw === 'if' ? result : !result;
}

/**
 * The routes haproxy takes for connections to a port (pure), from its configuration's lines
 * (every -f file in order, src/system/config-tree.ts's SourceLine): the frontend or listen
 * section whose `bind` holds the port (on the query's address, else on every address); its
 * `use_backend` rules in order, then `default_backend`, then a listen section's own servers.
 * routes[0] is the one a request for `q.path` with Host `q.hostName` takes: the first rule whose
 * condition holds (hdr(host) and path ACLs are evaluated; any other condition is noted).
 */
export function haproxyRoutes(lines: readonly SourceLine[], q: RouteQuery): ProxyRoutes {
  const problems: string[] = [];
  const path = q.path ?? '/';
  const all = sections(lines);
  const addr = q.address ? normalizeAddress(q.address) : undefined;
  const binds = (test: (host: string | undefined) => boolean) =>
    all.flatMap((s) => {
      if (s.kind !== 'frontend' && s.kind !== 'listen') return [];
      const bind = s.lines.find((l) => l.words[0] === 'bind' && l.words[1] !== undefined && bindAddresses(l.words[1]).some((b) => q.port >= b.ports[0] && q.port <= b.ports[1] && test(b.host)));
      return bind ? [{ s, bind }] : [];
    });
  let found = addr ? binds((h) => h !== undefined && normalizeAddress(h) === addr) : [];
  if (found.length === 0) found = binds((h) => h === undefined);
  if (found.length === 0 && !addr) found = binds(() => true);
  if (found.length === 0) return { program: 'haproxy', routes: [], servesPort: false, problems };

  const { s: front, bind } = found[0]!;
  if (found.length > 1) problems.push(`${found.map((f) => at(f.bind.source)).join(' and ')} bind port ${q.port} both: the first is read`);
  const backends = new Map(all.filter((s) => s.kind === 'backend' || s.kind === 'listen').map((s) => [s.name, s]));
  const schemeOf = (s: Section, servers: readonly UpstreamServer[]) => {
    const mode = setting(s, 'mode') ?? 'tcp';
    if (mode !== 'http') return 'tcp';
    return servers.length > 0 && servers.every((x) => s.lines.find((l) => l.source === x.source)?.words.includes('ssl')) ? 'https' : 'http';
  };
  const base = { program: 'haproxy' as const, listen: bind.source, block: front.source, isDefault: true };
  const toBackend = (name: string, via: SourceLine, directive: string): ProxyRoute => {
    const b = backends.get(name);
    if (!b) return { ...base, via, directive, scheme: 'http', group: name, servers: [], note: `no backend named ${name}` };
    const { servers, notes } = serversOf(b, q.port);
    const scheme = schemeOf(b, servers);
    return { ...base, via, directive, scheme, group: name, servers, ...(notes.length ? { note: notes.join('; ') } : servers.length === 0 ? { note: `backend ${name} at ${at(b.source)} has no server line` } : {}) };
  };

  const acls = new Map<string, string[][]>();
  for (const l of front.lines) if (l.words[0] === 'acl' && l.words[1]) acls.set(l.words[1], [...(acls.get(l.words[1]) ?? []), l.words.slice(2)]);
  const rules: { route: ProxyRoute; cond: boolean | undefined; text: string }[] = [];
  for (const l of front.lines) {
    if (l.words[0] !== 'use_backend' || !l.words[1]) continue;
    const condWords = l.words.slice(2);
    // use_backend's name may hold a log-format expression (%[req.hdr(host)]): chosen per request.
    if (l.words[1].includes('%[')) {
      rules.push({ route: { ...base, via: l.source, directive: 'use_backend', scheme: 'http', servers: [], note: `use_backend ${l.words[1]}: the backend is chosen per request` }, cond: undefined, text: l.source.text });
      continue;
    }
    const cond = condWords.length === 0 ? true : condition(condWords, acls, q.hostName?.toLowerCase(), path);
    rules.push({ route: toBackend(l.words[1], l.source, 'use_backend'), cond, text: l.source.text });
  }
  const defLine = front.lines.findLast((l) => l.words[0] === 'default_backend' && l.words[1]) ?? (front.defaults?.lines.findLast((l) => l.words[0] === 'default_backend' && l.words[1]));
  const fallback: ProxyRoute | undefined = defLine
    ? toBackend(defLine.words[1]!, defLine.source, 'default_backend')
    : front.kind === 'listen'
      ? (() => {
          const { servers, notes } = serversOf(front, q.port);
          return { ...base, via: front.source, directive: 'listen', scheme: schemeOf(front, servers), group: front.name, servers, ...(notes.length ? { note: notes.join('; ') } : {}) };
        })()
      : undefined;

  const routes: ProxyRoute[] = [...rules.map((r) => r.route), ...(fallback ? [fallback] : [])];
  const hit = rules.findIndex((r) => r.cond === true);
  const unknownBefore = rules.slice(0, hit < 0 ? rules.length : hit).filter((r) => r.cond === undefined);
  const chosen = hit >= 0 ? rules[hit]!.route : fallback;
  if (!chosen) {
    return {
      program: 'haproxy',
      routes,
      servesPort: true,
      problems,
      servedBySelf: { source: front.source, note: `${front.kind} ${front.name} at ${at(front.source)} has no default_backend: haproxy answers 503 where no use_backend rule matches` },
    };
  }
  const unless = unknownBefore.map((r) => `unless ${r.text} at ${at(r.route.via)} holds`);
  const taken: ProxyRoute = { ...chosen, taken: true, ...(unless.length ? { note: [chosen.note, ...unless].filter(Boolean).join('; ') } : {}) };
  return { program: 'haproxy', routes: [taken, ...routes.filter((r) => r !== chosen)], servesPort: true, problems };
}
