import { describe, expect, it } from 'vitest';
import { decideUpstream, type ServerProbe, type UpstreamReadings } from '../../src/checks/upstream.js';
import type { ProxyRoute, UpstreamServer } from '../../src/analysis/upstream/route.js';

/** The evidence, whichever member of the union the decision is. */
const ev = (d: { evidence: object }) => d.evidence as Record<string, unknown>;
const at = { target: { host: '10.0.0.5', port: 80, protocol: 'tcp' as const }, timeoutMs: 3000 };
const p = { port: 80, host: '10.0.0.5' };
const site = '/etc/nginx/sites-enabled/default';

function server(host: string, port: number, line: number, extra: Partial<UpstreamServer> = {}): UpstreamServer {
  return { address: { kind: 'tcp', host, port }, source: { file: site, line, text: `proxy_pass http://${host}:${port};` }, ...extra };
}
function route(servers: UpstreamServer[], extra: Partial<ProxyRoute> = {}): ProxyRoute {
  return { program: 'nginx', listen: { file: site, line: 2, text: 'listen 80 default_server;' }, via: { file: site, line: 4, text: 'proxy_pass http://127.0.0.1:7071;' }, directive: 'proxy_pass', scheme: 'http', location: '/', isDefault: true, servers, ...extra };
}
const config = { program: 'nginx' as const, source: 'dump' as const, command: ['nginx', '-T'], files: ['/etc/nginx/nginx.conf', site], problems: [] };
function routes(list: ProxyRoute[], servesPort = true) {
  return { program: 'nginx' as const, routes: list.map((r, i) => (i === 0 ? { ...r, taken: true } : r)), servesPort, problems: [] };
}
function reading(probes: ServerProbe[], extra: Partial<Extract<UpstreamReadings, { kind: 'proxy' }>> = {}): UpstreamReadings {
  return { kind: 'proxy', program: 'nginx', pid: 68, config, routes: routes([route(probes.map((s) => s.server))]), probes, ...extra };
}
const refused = (s: UpstreamServer): ServerProbe => ({ server: s, state: 'refused', address: '127.0.0.1', where: 'here', detail: '127.0.0.1:7071 refuses connections: nothing listens there' });
const answers = (s: UpstreamServer, holder?: string): ServerProbe => ({ server: s, state: 'answers', address: '127.0.0.1', where: 'here', ...(holder ? { holder } : {}), detail: `127.0.0.1:7071 accepts connections` });

// The lines nginx wrote in front of a crashed myapp (test/fixtures/proxy/real/nginx-502.error.log).
const NGINX_502 = '2026/12/06 20:27:59 [error] 69#69: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.5, server: _, request: "HEAD / HTTP/1.1", upstream: "http://127.0.0.1:7071/", host: "10.0.0.5"';

describe('decideUpstream', () => {
  it('a program that is not a proxy: none, nothing claimed', () => {
    const d = decideUpstream({ kind: 'not-proxy', program: 'python3', pid: 9 }, p, at);
    expect(d.outcome).toBe('none');
    expect(d.summary).toContain('python3 (pid 9) holds port 80');
  });

  it('nginx in front of a refused upstream that answers 502: down, follow 127.0.0.1:7071, diagnosis.proxy as the contract has it', () => {
    const s = server('127.0.0.1', 7071, 4);
    const d = decideUpstream(reading([refused(s)], { http: { status: 502, said: 'HTTP/1.1 502 Bad Gateway' }, log: { path: '/var/log/nginx/error.log', lines: ['noise', NGINX_502] } }), p, at);
    expect(d.outcome).toBe('down');
    expect(ev(d).follow).toEqual({ host: '127.0.0.1', port: 7071 });
    expect(ev(d).proxy).toEqual({ program: 'nginx', config: `${site}:4`, upstream: '127.0.0.1:7071', status: 502 });
    expect(ev(d).logLines).toEqual([NGINX_502]);
    expect(d.summary).toMatch(/nginx passes port 80 to 127\.0\.0\.1:7071 \(.*default:4\), and it refuses connections.*502 Bad Gateway/);
  });

  it('an upstream that answers and a 200: answers, with the route shown', () => {
    const s = server('127.0.0.1', 7071, 4);
    const d = decideUpstream(reading([answers(s, 'python3')], { http: { status: 200, said: 'HTTP/1.1 200 OK' } }), p, at);
    expect(d.outcome).toBe('answers');
    expect(ev(d).route).toBe('→ nginx → 127.0.0.1:7071 (python3)');
    expect(ev(d).proxy).toEqual({ program: 'nginx', config: `${site}:4`, upstream: '127.0.0.1:7071', status: 200 });
  });

  it('a balancer with one of two down and a 200: partly, how many answer', () => {
    const a = server('127.0.0.1', 7071, 6);
    const b = server('127.0.0.1', 7072, 7);
    const d = decideUpstream(reading([answers(a), refused(b)], { http: { status: 200 } }), p, at);
    expect(d.outcome).toBe('partly');
    expect(ev(d).answering).toBe(1);
    expect(ev(d).total).toBe(2);
  });

  it('every primary down and only the backup answering: still serves, partly', () => {
    const a = server('127.0.0.1', 7071, 6);
    const b = server('127.0.0.1', 7072, 7, { backup: true });
    expect(decideUpstream(reading([refused(a), answers(b)]), p, at).outcome).toBe('down');
    expect(decideUpstream(reading([answers(a), refused(b)]), p, at).outcome).toBe('partly');
  });

  it('every upstream accepts, yet the proxy answers 502: down on the first, verdict bad-answer', () => {
    const s = server('127.0.0.1', 7071, 4);
    const d = decideUpstream(reading([answers(s)], { http: { status: 502 } }), p, at);
    expect(d.outcome).toBe('down');
    expect(ev(d).verdict).toBe('bad-answer');
  });

  it('a Unix socket with nothing on it: socket-down, never followed as a port', () => {
    const s: UpstreamServer = { address: { kind: 'unix', path: '/run/php/php8.2-fpm.sock' }, source: { file: site, line: 9, text: 'fastcgi_pass unix:/run/php/php8.2-fpm.sock;' } };
    const d = decideUpstream(reading([{ server: s, state: 'no-socket', where: 'here', detail: 'nothing listens on /run/php/php8.2-fpm.sock' }], { http: { status: 502 } }), p, at);
    expect(d.outcome).toBe('socket-down');
    expect(ev(d).follow).toBeUndefined();
    expect(ev(d).upstream).toBe('unix:/run/php/php8.2-fpm.sock');
  });

  it('a Unix socket that listens, and still a 502: not socket-down (something listens there), nothing to follow', () => {
    const s: UpstreamServer = { address: { kind: 'unix', path: '/run/php/php8.2-fpm.sock' }, source: { file: site, line: 9, text: 'fastcgi_pass unix:/run/php/php8.2-fpm.sock;' } };
    const d = decideUpstream(reading([{ server: s, state: 'answers', where: 'here', detail: 'a program listens on /run/php/php8.2-fpm.sock' }], { http: { status: 502 } }), p, at);
    expect(d.outcome).toBe('unreadable');
    expect(ev(d).follow).toBeUndefined();
    expect(d.summary).toMatch(/what listens on unix:\/run\/php\/php8\.2-fpm\.sock answers it with errors/);
  });

  it('nginx serving files itself: none', () => {
    const self = { source: { file: site, line: 48, text: 'location / {' }, note: 'try_files $uri $uri/ =404: nginx serves the files itself' };
    const d = decideUpstream({ kind: 'proxy', program: 'nginx', pid: 68, config, routes: { ...routes([]), servedBySelf: self }, probes: [] }, p, at);
    expect(d.outcome).toBe('none');
    expect(d.summary).toContain('answers / itself');
  });

  it('a configuration that could not be read: unreadable, with why', () => {
    const d = decideUpstream({ kind: 'proxy', program: 'nginx', pid: 68, config: { program: 'nginx', source: 'files', files: [], problems: ['cannot read /etc/nginx/nginx.conf: permission denied'] }, probes: [] }, p, at);
    expect(d.outcome).toBe('unreadable');
    expect(d.summary).toContain('permission denied');
  });

  it('proxy_pass with a variable and a 502: nothing to probe, said so (unreadable, not a guess)', () => {
    const r: UpstreamReadings = { kind: 'proxy', program: 'nginx', pid: 68, config, routes: routes([route([], { note: 'proxy_pass uses $backend: the upstream is chosen per request' })]), probes: [], http: { status: 502 } };
    const d = decideUpstream(r, p, at);
    expect(d.outcome).toBe('unreadable');
    expect(d.summary).toContain('$backend');
  });
});
