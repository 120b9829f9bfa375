import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { haproxyRoutes, haproxyWords } from '../../../src/analysis/upstream/haproxy.js';
import { chooseRoute, upstreamText, type RouteQuery } from '../../../src/analysis/upstream/route.js';
import type { SourceLine } from '../../../src/system/config-tree.js';
import { fuzzTexts } from '../../helpers/fuzz.js';

// Each fixture is accepted by `haproxy -c -f` (haproxy 2.6, see test/fixtures/haproxy/SOURCES.md).
const text = (name: string) => readFileSync(new URL(`../../fixtures/haproxy/${name}`, import.meta.url), 'utf8');
const lines = (t: string, file = '/etc/haproxy/haproxy.cfg'): SourceLine[] => t.split('\n').map((l, i) => ({ file, line: i + 1, text: l.trim() }));
const routes = (name: string, q: RouteQuery) => haproxyRoutes(lines(text(name)), q);
const ups = (r: ReturnType<typeof haproxyRoutes>) => chooseRoute(r)?.servers.map((s) => upstreamText(s.address));

describe('haproxy routes', () => {
  it("Debian's packaged haproxy.cfg has no frontend: no port is served", () => {
    expect(routes('haproxy.cfg', { port: 80 })).toEqual({ program: 'haproxy', routes: [], servesPort: false, problems: [] });
  });

  it('the test bed recipe: frontend web, bind *:80, default_backend app, server app1 127.0.0.1:7071 check', () => {
    const r = routes('testbed.cfg', { port: 80, hostName: 'www.example.com' });
    const t = chooseRoute(r)!;
    expect(t).toMatchObject({ directive: 'default_backend', scheme: 'http', group: 'app', isDefault: true, taken: true });
    expect(t.listen).toEqual({ file: '/etc/haproxy/haproxy.cfg', line: 37, text: 'bind *:80' });
    expect(t.via.line).toBe(38);
    expect(t.block?.text).toBe('frontend web');
    expect(t.servers).toEqual([{ address: { kind: 'tcp', host: '127.0.0.1', port: 7071 }, name: 'app1', source: { file: '/etc/haproxy/haproxy.cfg', line: 41, text: 'server app1 127.0.0.1:7071 check' } }]);
    expect(routes('testbed.cfg', { port: 80, address: '192.0.2.1' }).servesPort).toBe(true);
    expect(routes('testbed.cfg', { port: 81 }).servesPort).toBe(false);
  });

  it('use_backend rules in order, evaluated for the Host and path; default_backend last', () => {
    const q = { port: 80 };
    const d = routes('frontends.cfg', { ...q, hostName: 'example.org' });
    expect(d.routes.map((x) => [x.directive, x.group])).toEqual([
      ['default_backend', 'app'],
      ['use_backend', 'api'],
      ['use_backend', 'shop'],
      ['use_backend', 'beta'],
      ['use_backend', 'maint'],
    ]);
    // nbsrv(app) cannot be told from the configuration: said, not guessed.
    expect(chooseRoute(d)!.note).toContain('unless use_backend maint if { nbsrv(app) lt 1 }');
    expect(chooseRoute(d)!.servers.map((s) => [upstreamText(s.address), s.name, s.backup ?? false, s.disabled ?? false])).toEqual([
      ['127.0.0.1:7071', 'app1', false, false],
      ['[::1]:7072', 'app2', false, false],
      ['127.0.0.1:7073', 'app3', true, false],
      ['10.0.0.9:7074', 'app4', false, true],
    ]);
    expect(chooseRoute(routes('frontends.cfg', { ...q, path: '/api/v1' }))).toMatchObject({ group: 'api', directive: 'use_backend' });
    expect(ups(routes('frontends.cfg', { ...q, path: '/api/v1' }))).toEqual(['unix:/run/api/api.sock', 'unix:/run/api/api2.sock']);
    const shop = chooseRoute(routes('frontends.cfg', { port: 8080, hostName: 'WWW.shop.example.com' }))!;
    expect(shop).toMatchObject({ group: 'shop', scheme: 'https' });
    expect(shop.servers.map((s) => upstreamText(s.address))).toEqual(['127.0.0.1:8081']);
    const beta = chooseRoute(routes('frontends.cfg', { ...q, hostName: 'beta.example.org' }))!;
    expect(beta.group).toBe('beta');
    expect(beta.note).toContain('server-template at /etc/haproxy/haproxy.cfg:');
  });

  it('bind forms: a list, ipv6@:::PORT with ssl crt, a listen section on two addresses in tcp mode', () => {
    expect(chooseRoute(routes('frontends.cfg', { port: 8443 }))?.listen.text).toBe('bind ipv6@:::8443 ssl crt /etc/haproxy/site.pem');
    const db = chooseRoute(routes('frontends.cfg', { port: 3306, address: '127.0.0.1' }))!;
    expect(db).toMatchObject({ directive: 'listen', scheme: 'tcp', group: 'mysql' });
    expect(db.listen.text).toBe('bind 127.0.0.1:3306');
    // db2 names no port: haproxy uses the client's.
    expect(db.servers.map((s) => [upstreamText(s.address), s.backup ?? false])).toEqual([
      ['10.0.0.21:3306', false],
      ['10.0.0.22:3306', true],
    ]);
    expect(db.note).toContain('names no port');
    expect(chooseRoute(routes('frontends.cfg', { port: 3306, address: '10.0.0.5' }))!.listen.text).toBe('bind 10.0.0.5:3306');
    expect(routes('frontends.cfg', { port: 3306, address: '10.0.0.6' }).servesPort).toBe(false);
  });

  it('a frontend without default_backend answers itself', () => {
    const r = routes('frontends.cfg', { port: 8404 });
    expect(r.servesPort).toBe(true);
    expect(chooseRoute(r)).toBeUndefined();
    expect(r.servedBySelf?.note).toContain('has no default_backend');
  });

  it('several -f files laid one after the other (a conf.d folder); words with quotes and escapes', () => {
    const all = [...lines(text('conf.d/10-web.cfg'), '/etc/haproxy/conf.d/10-web.cfg'), ...lines(text('conf.d/20-app.cfg'), '/etc/haproxy/conf.d/20-app.cfg')];
    const t = chooseRoute(haproxyRoutes(all, { port: 80 }))!;
    expect(t.listen.file).toBe('/etc/haproxy/conf.d/10-web.cfg');
    expect(t.servers[0]!.source.file).toBe('/etc/haproxy/conf.d/20-app.cfg');
    expect(haproxyWords(`acl a hdr(host) -i "x y" 'z' a\\ b # c`)).toEqual(['acl', 'a', 'hdr(host)', '-i', 'x y', 'z', 'a b']);
  });

  it('defaults sections: mode inherited, `from NAME`', () => {
    const cfg = ['defaults tcpish', 'mode tcp', 'defaults', 'mode http', 'frontend f', 'bind :25', 'default_backend b', 'backend b from tcpish', 'server s 127.0.0.1:2525'];
    expect(chooseRoute(haproxyRoutes(lines(cfg.join('\n')), { port: 25 }))!.scheme).toBe('tcp');
    expect(chooseRoute(haproxyRoutes(lines(cfg.join('\n').replace(' from tcpish', '')), { port: 25 }))!.scheme).toBe('http');
    const tcp = ['defaults', 'mode tcp', 'frontend f', 'bind :25', 'default_backend b', 'backend b', 'server s 127.0.0.1:2525'];
    expect(chooseRoute(haproxyRoutes(lines(tcp.join('\n')), { port: 25 }))!.scheme).toBe('tcp');
  });

  it('never throws on broken or random configurations', () => {
    for (const t of fuzzTexts(text('frontends.cfg'), 300)) {
      for (const port of [80, 8443, 3306]) expect(() => haproxyRoutes(lines(t), { port, hostName: 'shop.example.com', address: '10.0.0.5', path: '/api/x' })).not.toThrow();
    }
  });
});
