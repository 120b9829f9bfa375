import { describe, expect, it } from 'vitest';
import { apacheRoutes, apacheWords } from '../../../src/analysis/upstream/apache.js';
import { chooseRoute, upstreamText, type ProxyRoutes, type RouteQuery } from '../../../src/analysis/upstream/route.js';
import { readApacheConfig } from '../../../src/system/proxy-config.js';
import { fixtureTree } from '../../helpers/fixtures.js';
import { fuzzTexts } from '../../helpers/fuzz.js';
import { replayHost } from '../../helpers/replay-host.js';

// test/fixtures/apache2/etc is Debian's /etc/apache2 (less `magic`) with the proxy modules
// enabled and shop.conf added; `apache2 -t` accepts it, and shop-apache2-S.txt is its `-S`.
const tree = fixtureTree('apache2/etc', '/etc/apache2');
const SHOP = '/etc/apache2/sites-enabled/shop.conf';

async function routesOf(q: RouteQuery, sites: Record<string, string> = { '/etc/apache2/sites-enabled/000-default.conf': '/etc/apache2/sites-available/000-default.conf', '/etc/apache2/sites-enabled/shop.conf': '/etc/apache2/sites-available/shop.conf' }): Promise<ProxyRoutes> {
  const links = Object.fromEntries(Object.entries(tree.links).filter(([k]) => !k.startsWith('/etc/apache2/sites-enabled/')));
  const reading = await readApacheConfig(replayHost({ files: tree.files, links: { ...links, ...sites } }), ['/usr/sbin/apache2', '-k', 'start']);
  expect(reading.problems).toEqual([]);
  return apacheRoutes(reading.lines, q);
}
const ups = (r: ProxyRoutes) => chooseRoute(r)?.servers.map((s) => upstreamText(s.address));

describe('apache2 routes', () => {
  it("Debian's packaged 000-default on port 80: served, by apache2 itself", async () => {
    const r = await routesOf({ port: 80 }, { '/etc/apache2/sites-enabled/000-default.conf': '/etc/apache2/sites-available/000-default.conf' });
    expect(r.servesPort).toBe(true);
    expect(r.routes).toEqual([]);
    expect(r.servedBySelf?.note).toContain('the virtual host at /etc/apache2/sites-enabled/000-default.conf:1 passes no request for /');
    expect((await routesOf({ port: 443 })).servesPort).toBe(false);
  });

  it('the test bed recipe: ProxyPass / http://127.0.0.1:7071/ in the default site; Listen of ports.conf named', async () => {
    const r = await routesOf({ port: 80, hostName: 'www.example.com' }, { '/etc/apache2/sites-enabled/000-default.conf': '/etc/apache2/sites-available/myapp.conf' });
    const t = chooseRoute(r)!;
    expect(t).toMatchObject({ directive: 'ProxyPass', scheme: 'http', location: '/', isDefault: true });
    expect(t.listen).toEqual({ file: '/etc/apache2/ports.conf', line: 5, text: 'Listen 80' });
    expect(t.via).toEqual({ file: '/etc/apache2/sites-enabled/000-default.conf', line: 15, text: 'ProxyPass / http://127.0.0.1:7071/' });
    expect(t.block?.line).toBe(1);
    expect(ups(r)).toEqual(['127.0.0.1:7071']);
  });

  it('name-based vhosts: ServerName, ServerAlias with a wildcard, a balancer with a hot standby; `!` excludes', async () => {
    const r = await routesOf({ port: 80, hostName: 'www.shop.example.com' });
    const t = chooseRoute(r)!;
    expect(t).toMatchObject({ directive: 'ProxyPass', group: 'shopcluster', isDefault: false, serverNames: ['shop.example.com', 'www.shop.example.com', '*.shop.example.net'] });
    expect(t.via.line).toBe(9);
    expect(t.servers.map((s) => [upstreamText(s.address), s.name, s.backup ?? false])).toEqual([
      ['127.0.0.1:7071', 'a', false],
      ['127.0.0.1:7072', 'b', false],
      ['[::1]:7075', undefined, true],
    ]);
    expect(chooseRoute(await routesOf({ port: 80, hostName: 'x.shop.example.net' }))?.group).toBe('shopcluster');
    expect(ups(await routesOf({ port: 80, hostName: 'shop.example.com', path: '/api/orders' }))).toEqual(['127.0.0.1:7073']);
    const s = await routesOf({ port: 80, hostName: 'shop.example.com', path: '/static/a.css' });
    expect(chooseRoute(s)).toBeUndefined();
    expect(s.servedBySelf).toMatchObject({ source: { file: SHOP, line: 7 } });
  });

  it('an unknown name takes the first vhost of the port (000-default): apache2 answers itself', async () => {
    const r = await routesOf({ port: 80, hostName: 'other.org' });
    expect(chooseRoute(r)).toBeUndefined();
    expect(r.routes.length).toBeGreaterThan(3);
  });

  it('<Location> ProxyPass, RewriteRule [P] and a php-fpm SetHandler are routes; / of that vhost is apache2 itself', async () => {
    const r = await routesOf({ port: 80, hostName: 'app.example.com' });
    expect(chooseRoute(r)).toBeUndefined();
    const mine = r.routes.filter((x) => x.serverNames?.includes('app.example.com'));
    expect(mine.map((x) => [x.directive, x.scheme, x.servers.map((s) => upstreamText(s.address)).join(), x.note ?? ''])).toEqual([
      ['RewriteRule [P]', 'http', '127.0.0.1:7076', 'proxied when the rule matches (^/legacy/(.*)$)'],
      ['ProxyPass', 'http', '127.0.0.1:7074', ''],
      ['SetHandler', 'fcgi', 'unix:/run/php/php8.2-fpm.sock', expect.stringContaining('<filesmatch \\.php$>')],
    ]);
    expect(ups(await routesOf({ port: 80, hostName: 'app.example.com', path: '/app/x' }))).toEqual(['127.0.0.1:7074']);
  });

  it('port 8080 (Listen inside <IfModule>): by address, as `apache2 -S` lists it', async () => {
    const local = chooseRoute(await routesOf({ port: 8080, address: '127.0.0.1' }))!;
    expect(local).toMatchObject({ directive: 'SetHandler', scheme: 'fcgi', serverNames: ['localhost'] });
    expect(local.listen).toMatchObject({ file: SHOP, text: 'Listen 8080' });
    expect(local.servers.map((s) => upstreamText(s.address))).toEqual(['127.0.0.1:9000']);
    // Elsewhere *:8080 (`_default_:8080`) is php.example.org: ProxyPassMatch for .php only.
    const php = await routesOf({ port: 8080, address: '192.0.2.7', path: '/index.php' });
    expect(chooseRoute(php)).toMatchObject({ directive: 'ProxyPassMatch', scheme: 'fcgi', serverNames: ['php.example.org'] });
    expect(ups(php)).toEqual(['127.0.0.1:9000']);
    expect(chooseRoute(await routesOf({ port: 8080, address: '10.0.0.5' }))).toBeUndefined();
  });

  it('directive names are caseless; a line continues after a backslash; words quote like apache', () => {
    const l = ['listen 81', '<virtualhost *:81>', 'proxypass / \\', '  "http://[::1]:7071/"', '</VIRTUALHOST>'].map((text, i) => ({ file: 'a.conf', line: i + 1, text }));
    const t = chooseRoute(apacheRoutes(l, { port: 81 }))!;
    expect(t.via.line).toBe(3);
    expect(t.servers.map((s) => upstreamText(s.address))).toEqual(['[::1]:7071']);
    expect(apacheWords(`SetHandler "proxy:fcgi://x" 'a b' c\\"d`)).toEqual(['SetHandler', 'proxy:fcgi://x', 'a b', 'c\\"d']);
  });

  it('never throws on broken or random configurations', () => {
    const real = tree.files['/etc/apache2/sites-available/shop.conf']! + tree.files['/etc/apache2/ports.conf']!;
    for (const text of fuzzTexts(real, 300)) {
      const l = text.split('\n').map((t, i) => ({ file: 'f', line: i + 1, text: t.trim() }));
      for (const port of [80, 8080]) expect(() => apacheRoutes(l, { port, hostName: 'shop.example.com', address: '10.0.0.5' })).not.toThrow();
    }
  });
});
