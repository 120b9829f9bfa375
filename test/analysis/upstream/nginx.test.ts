import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nginxRoutes } from '../../../src/analysis/upstream/nginx.js';
import { chooseRoute, upstreamText, type ProxyRoutes, type RouteQuery } from '../../../src/analysis/upstream/route.js';
import { parseNginx, readNginxConf } from '../../../src/system/nginx-conf.js';
import { fixtureTree } from '../../helpers/fixtures.js';
import { fuzzTexts } from '../../helpers/fuzz.js';
import { replayHost } from '../../helpers/replay-host.js';

// The tree under test/fixtures/nginx/proxy-etc is Debian's /etc/nginx with three more files;
// `nginx -t` accepts it (see test/fixtures/nginx/SOURCES.md).
const tree = fixtureTree('nginx/proxy-etc', '/etc/nginx');
const SHOP = '/etc/nginx/sites-enabled/shop';
const PHP = '/etc/nginx/sites-enabled/php';

async function routesOf(q: RouteQuery, files: Record<string, string> = tree.files): Promise<ProxyRoutes> {
  const reading = await readNginxConf(replayHost({ files, links: tree.links }));
  expect(reading.problems).toEqual([]);
  return nginxRoutes(reading.directives, q);
}
const ups = (r: ProxyRoutes) => chooseRoute(r)?.servers.map((s) => upstreamText(s.address));
const where = (s: { file: string; line: number }) => `${s.file}:${s.line}`;

describe('nginx routes', () => {
  it("Debian's packaged site: port 80 is served, `/` by nginx itself (try_files), no route", async () => {
    const r = await routesOf({ port: 80 }, { ...tree.files, [SHOP.replace('enabled', 'available')]: '', [PHP.replace('enabled', 'available')]: '', '/etc/nginx/conf.d/upstreams.conf': '' });
    expect(r.servesPort).toBe(true);
    expect(r.routes).toEqual([]);
    expect(chooseRoute(r)).toBeUndefined();
    expect(r.servedBySelf?.note).toContain('location / at /etc/nginx/sites-enabled/default:');
    expect((await routesOf({ port: 8443 })).servesPort).toBe(false);
  });

  it('server_name picks the block: exact names to the upstream group with its backup and down servers, the first listen line named', async () => {
    const r = await routesOf({ port: 80, hostName: 'shop.example.com' });
    const t = chooseRoute(r)!;
    expect(t).toMatchObject({ directive: 'proxy_pass', scheme: 'http', group: 'app', location: '/', isDefault: false, serverNames: ['shop.example.com', 'www.shop.example.com'] });
    expect(where(t.listen)).toBe(`${SHOP}:3`);
    expect(where(t.via)).toBe(`${SHOP}:13`);
    expect(t.servers.map((s) => [upstreamText(s.address), s.backup ?? false, s.disabled ?? false, s.source.line])).toEqual([
      ['127.0.0.1:7071', false, false, 3],
      ['127.0.0.1:7072', true, false, 4],
      ['unix:/run/myapp/myapp.sock', false, false, 5],
      ['10.0.0.9:80', false, true, 6],
    ]);
    // The block's other locations follow: /api/ to an IPv6 upstream, the regex one to 7074.
    expect(r.routes.slice(1, 3).map((x) => [x.location, x.group, x.servers.map((s) => upstreamText(s.address))])).toEqual([
      ['/api/', 'api_v6', ['[::1]:7080']],
      ['~* \\.(png|jpg)$', undefined, ['127.0.0.1:7074']],
    ]);
    expect(ups(await routesOf({ port: 80, hostName: 'WWW.Shop.Example.com.' }))).toEqual(['127.0.0.1:7071', '127.0.0.1:7072', 'unix:/run/myapp/myapp.sock', '10.0.0.9:80']);
  });

  it('exact location, ^~ and regex locations choose for other paths', async () => {
    const q = { port: 80, hostName: 'shop.example.com' };
    expect(chooseRoute(await routesOf({ ...q, path: '/health' }))).toBeUndefined();
    expect((await routesOf({ ...q, path: '/static/a.png' })).servedBySelf?.note).toContain('location ^~ /static/');
    expect(ups(await routesOf({ ...q, path: '/img/a.png' }))).toEqual(['127.0.0.1:7074']);
    expect(chooseRoute(await routesOf({ ...q, path: '/api/x' }))?.group).toBe('api_v6');
  });

  it('wildcard names, https with its default port 443, regex names with a variable proxy_pass', async () => {
    const w = chooseRoute(await routesOf({ port: 80, hostName: 'blog.example.com' }))!;
    expect(w).toMatchObject({ scheme: 'https', serverNames: ['*.example.com'] });
    expect(ups(await routesOf({ port: 80, hostName: 'blog.example.com' }))).toEqual(['10.0.0.7:443']);
    const v = chooseRoute(await routesOf({ port: 80, hostName: 'acme.tenants.example.org' }))!;
    expect(v.servers).toEqual([]);
    expect(v.note).toContain('uses a variable ($backend)');
  });

  it('an unknown name takes the default_server (the packaged site): nginx answers itself; the other blocks are listed', async () => {
    const r = await routesOf({ port: 80, hostName: 'other.org' });
    expect(chooseRoute(r)).toBeUndefined();
    expect(r.servedBySelf?.source.file).toBe('/etc/nginx/sites-enabled/default');
    expect(r.routes.some((x) => x.group === 'app')).toBe(true);
    expect(r.routes.every((x) => !x.isDefault)).toBe(true);
  });

  it('a listen on an address serves that address only', async () => {
    const a = chooseRoute(await routesOf({ port: 80, address: '10.0.0.5', hostName: 'anything' }))!;
    expect(a).toMatchObject({ isDefault: true, serverNames: ['myapp.example.com'] });
    expect(where(a.listen)).toBe(`${SHOP}:39`);
    expect(ups(await routesOf({ port: 80, address: '10.0.0.5' }))).toEqual(['127.0.0.1:7071']);
    // Not for a connection to another address: that one goes to the wildcard listens.
    expect(chooseRoute(await routesOf({ port: 80, address: '127.0.0.1', hostName: 'myapp.example.net' }))).toBeUndefined();
    expect(chooseRoute(await routesOf({ port: 80, address: '127.0.0.1', hostName: 'myapp.example.com' }))?.serverNames).toEqual(['*.example.com']);
    expect(ups(await routesOf({ port: 8082, address: '127.0.0.1' }))).toEqual(['localhost:7071']);
    expect((await routesOf({ port: 8082, address: '10.0.0.6' })).servesPort).toBe(false);
  });

  it('fastcgi_pass to a unix socket through try_files is noted; fastcgi, uwsgi, grpc and scgi schemes', async () => {
    const php = await routesOf({ port: 8080, path: '/index.php' });
    expect(chooseRoute(php)).toMatchObject({ directive: 'fastcgi_pass', scheme: 'fastcgi', isDefault: true, location: '~ \\.php$' });
    expect(ups(php)).toEqual(['unix:/run/php/php8.2-fpm.sock']);
    expect(chooseRoute(await routesOf({ port: 8080, hostName: 'legacy.example.org' }))).toMatchObject({ directive: 'fastcgi_pass', servers: [{ address: { kind: 'tcp', host: '127.0.0.1', port: 9000 } }] });
    const u = await routesOf({ port: 8081 });
    expect(u.routes.map((x) => [x.directive, x.scheme, x.servers.map((s) => upstreamText(s.address)).join()])).toEqual([
      ['uwsgi_pass', 'uwsgi', '127.0.0.1:3031'],
      ['grpc_pass', 'grpc', '127.0.0.1:50051'],
      ['scgi_pass', 'scgi', 'unix:/run/scgi.sock'],
    ]);
  });

  it('no listen is *:80; try_files to a named location; proxy_pass inside if; stream proxies (tcp, udp)', () => {
    const text = [
      'http {',
      '  upstream u { server 127.0.0.1; }',
      '  server { server_name a; location / { try_files $uri @app; } location @app { proxy_pass http://u; } }',
      '  server { listen 81; location / { if ($http_x_beta) { proxy_pass http://127.0.0.1:9001; } proxy_pass http://unix:/run/app.sock:/sub/; } }',
      '}',
      'stream {',
      '  upstream db { server 10.0.0.21:3306; server 10.0.0.22:3306 backup; }',
      '  server { listen 3306; proxy_pass db; }',
      '  server { listen 53 udp; proxy_pass 10.0.0.53:53; }',
      '}',
    ].join('\n');
    const d = parseNginx(text.split('\n').map((t, i) => ({ file: 'n.conf', line: i + 1, text: t }))).directives;
    const a = chooseRoute(nginxRoutes(d, { port: 80 }))!;
    expect(a).toMatchObject({ group: 'u', location: '@app' });
    expect(a.note).toContain('through try_files at n.conf:3');
    expect(a.servers.map((s) => upstreamText(s.address))).toEqual(['127.0.0.1:80']);
    const b = nginxRoutes(d, { port: 81 });
    expect(chooseRoute(b)!.servers.map((s) => upstreamText(s.address))).toEqual(['unix:/run/app.sock']);
    expect(b.routes[1]!.note).toContain('only when if ($http_x_beta) holds');
    const s = chooseRoute(nginxRoutes(d, { port: 3306 }))!;
    expect(s).toMatchObject({ scheme: 'tcp', group: 'db', directive: 'proxy_pass' });
    expect(s.servers.map((x) => [upstreamText(x.address), x.backup ?? false])).toEqual([
      ['10.0.0.21:3306', false],
      ['10.0.0.22:3306', true],
    ]);
    expect(chooseRoute(nginxRoutes(d, { port: 53 }))).toMatchObject({ scheme: 'udp' });
  });

  it('never throws on broken or random configurations', () => {
    const real = readFileSync(new URL('../../fixtures/nginx/proxy-nginx-T.txt', import.meta.url), 'utf8');
    for (const text of fuzzTexts(real, 300)) {
      const d = parseNginx(text.split('\n').map((t, i) => ({ file: 'f', line: i + 1, text: t }))).directives;
      for (const port of [80, 8080, 3306]) expect(() => nginxRoutes(d, { port, hostName: 'shop.example.com', address: '10.0.0.5' })).not.toThrow();
    }
  });
});
