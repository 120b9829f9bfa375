import { normalizeAddress } from '../net/address.js';
import { nginxNameRank } from './nginx-server-name.js';
import { NGINX } from '../knowledge/service-settings.js';
import type { NginxConfReading, NginxDirective } from '../system/nginx-conf.js';
import type { SettingVerdict, SourceLine } from './service-setting.js';

/** One `listen` of a server block: where, and its flags. */
export interface NginxListen {
  address: string | undefined;
  port: number;
  ssl: boolean;
  defaultServer: boolean;
  source: SourceLine;
}

/** A server block as it matters for a connection: its listens, names, certificates (its own, else the http block's). */
export interface NginxServer {
  source: SourceLine;
  listens: NginxListen[];
  names: string[];
  certificates: { file: string; source: SourceLine }[];
}

/** `listen` arguments: `443 ssl`, `[::]:443`, `10.0.0.1:8443 ssl default_server`, `10.0.0.1` (port 80), `unix:…` (none). */
export function parseListen(d: NginxDirective): NginxListen | undefined {
  const [where, ...flags] = d.args;
  if (where === undefined || where.startsWith('unix:')) return undefined;
  let address: string | undefined;
  let port: number = NGINX.defaultPorts.http;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(where);
  if (v6) [address, port] = [v6[1]!, v6[2] ? Number(v6[2]) : port];
  else if (/^\d+$/.test(where)) port = Number(where);
  else {
    const m = /^(.+?)(?::(\d+))?$/.exec(where)!;
    [address, port] = [m[1] === '*' ? undefined : m[1], m[2] ? Number(m[2]) : port];
  }
  if (address === '0.0.0.0' || address === '::') address = undefined;
  return { address, port, ssl: flags.includes('ssl'), defaultServer: flags.includes('default_server') || flags.includes('default'), source: d.source };
}

/** The server blocks of every http block (pure), with the certificates they inherit. */
export function nginxServers(directives: readonly NginxDirective[]): NginxServer[] {
  const out: NginxServer[] = [];
  for (const http of directives.filter((d) => d.name === 'http' && d.block)) {
    const inherited = http.block!.filter((d) => d.name === 'ssl_certificate').map((d) => ({ file: d.args[0] ?? '', source: d.source }));
    for (const s of http.block!.filter((d) => d.name === 'server' && d.block)) {
      const own = s.block!.filter((d) => d.name === 'ssl_certificate').map((d) => ({ file: d.args[0] ?? '', source: d.source }));
      const listens = s.block!.filter((d) => d.name === 'listen').map(parseListen).filter((l): l is NginxListen => l !== undefined);
      out.push({
        source: s.source,
        listens: listens.length > 0 ? listens : [{ address: undefined, port: NGINX.defaultPorts.http, ssl: false, defaultServer: false, source: s.source }],
        names: s.block!.filter((d) => d.name === 'server_name').flatMap((d) => d.args.map((a) => a.toLowerCase())),
        certificates: own.length > 0 ? own : inherited,
      });
    }
  }
  return out;
}

/**
 * The server block nginx picks for a connection to `address:port` asking for `name` (pure): the
 * listens on that address, else the wildcard ones; then the best server_name match, else the
 * default_server of that listen, else the first server listening there. Undefined when nothing
 * listens on the port.
 */
export function serverFor(servers: readonly NginxServer[], port: number, name: string | undefined, address?: string): { server: NginxServer; listen: NginxListen } | undefined {
  const addr = address ? normalizeAddress(address) : undefined;
  const on = (s: NginxServer, exact: boolean) => s.listens.find((l) => l.port === port && (exact ? l.address !== undefined && addr !== undefined && normalizeAddress(l.address) === addr : l.address === undefined));
  let candidates = servers.flatMap((s) => (on(s, true) ? [{ server: s, listen: on(s, true)! }] : []));
  if (candidates.length === 0) candidates = servers.flatMap((s) => (on(s, false) ? [{ server: s, listen: on(s, false)! }] : []));
  if (candidates.length === 0) return undefined;
  if (name) {
    const host = name.toLowerCase();
    let best: (typeof candidates)[number] | undefined;
    let bestRank = 0;
    for (const c of candidates) {
      const rank = Math.max(0, ...c.server.names.map((n) => nginxNameRank(n, host)));
      if (rank > bestRank) [best, bestRank] = [c, rank];
    }
    if (best) return best;
  }
  return candidates.find((c) => c.listen.defaultServer) ?? candidates[0];
}

/** What the TLS probe found wrong with the certificate (CONTRACT's `diagnosis.tls.problems`), and what it carries. */
export interface CertificateFindings {
  problems: readonly string[];
  names?: readonly string[];
  notAfter?: string;
}

/**
 * Names the `ssl_certificate` line behind a bad certificate on a port nginx serves (the server
 * block chosen as nginx chooses it for this name), or the `listen` line without `ssl` when nginx
 * speaks plain HTTP where TLS is expected; the fix in nginx's words, then `nginx -t` and a reload.
 */
export function decideNginxCertificate(reading: NginxConfReading, port: number, name: string | undefined, found: CertificateFindings | 'plain-http', address?: string): SettingVerdict {
  const servers = nginxServers(reading.directives);
  const picked = serverFor(servers, port, name, address);
  const commands = [[...NGINX.test], [...NGINX.reload]];
  const evidence = [`${reading.path}: ${servers.length} server block(s)`];
  if (!picked) return { outcome: 'undecided', explanation: `no server block of ${reading.path} and the files it includes listens on port ${port}`, evidence };
  const { server, listen } = picked;
  const at = (s: SourceLine) => `${s.file}:${s.line}`;
  evidence.push(`server block ${at(server.source)}${server.names.length ? ` (server_name ${server.names.join(' ')})` : ''}, listen ${at(listen.source)}: ${listen.source.text}`);

  if (found === 'plain-http' || !listen.ssl) {
    if (found !== 'plain-http' && listen.ssl === false) evidence.push('its listen has no ssl flag');
    return {
      outcome: 'refuses',
      setting: listen.source,
      explanation: `${at(listen.source)} listens on port ${port} without ssl: nginx answers in plain HTTP where clients speak TLS`,
      fix: {
        summary: `Add ssl to that listen line, and give the server block ssl_certificate and ssl_certificate_key lines (a certificate for ${name ?? 'its name'}); then check the configuration and reload nginx`,
        edit: { file: listen.source.file, at: 'replace', line: listen.source.line, text: listen.source.text.replace(/\s*;/, ' ssl;') },
        commands,
      },
      evidence,
    };
  }
  const cert = server.certificates[0];
  if (found.problems.length === 0) return { outcome: 'admits', ...(cert ? { setting: cert.source } : {}), explanation: `the certificate nginx serves here shows no problem`, evidence };
  if (!cert) {
    return { outcome: 'undecided', explanation: `the server block at ${at(server.source)} has no ssl_certificate line, nor does its http block: nginx would not start with ssl listens so`, evidence };
  }
  const p = new Set(found.problems);
  const what: string[] = [];
  if (p.has('expired')) what.push(`renew ${cert.file} (it expired${found.notAfter ? ` ${found.notAfter}` : ''}): a new certificate from its CA, or certbot renew where certbot made it`);
  if (p.has('not-yet-valid')) what.push(`${cert.file} is not valid yet: check the server's clock, or use a certificate valid now`);
  if (p.has('name-mismatch')) what.push(`serve a certificate that names ${name ?? 'the host name clients use'}${found.names?.length ? ` (${cert.file} names ${found.names.join(', ')})` : ''}, or add the name to it when it is reissued`);
  if (p.has('self-signed') || p.has('untrusted')) what.push(`use a certificate from a CA the clients trust; when it is from one, ${cert.file} must hold the full chain (the certificate, then its intermediates)`);
  if (p.has('handshake')) what.push('the handshake fails: compare ssl_protocols and ssl_ciphers with what the clients offer');
  return {
    outcome: 'refuses',
    setting: cert.source,
    explanation: `${at(cert.source)} is the certificate nginx serves on port ${port}${name ? ` for ${name}` : ''} (${[...p].join(', ')})`,
    fix: { summary: `${what.join('; ')}. Then check the configuration and reload nginx`, commands },
    evidence: [...evidence, `ssl_certificate: ${at(cert.source)}: ${cert.source.text}`],
  };
}
