import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideNginxCertificate, nginxServers, parseListen, serverFor } from '../../src/analysis/nginx-tls.js';
import { parseNginx, readNginxConf } from '../../src/system/nginx-conf.js';
import { fuzzTexts } from '../helpers/fuzz.js';
import { replayHost } from '../helpers/replay-host.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/nginx/${name}`, import.meta.url), 'utf8');
const SITE = '/etc/nginx/sites-enabled/default';

/** Debian's packaged nginx.conf, its default site (edited where asked), the snakeoil snippet, and more sites. */
function bed(site = fixture('sites-default'), more: Record<string, string> = {}) {
  return replayHost({
    files: {
      '/etc/nginx/nginx.conf': fixture('nginx.conf'),
      '/etc/nginx/mime.types': 'types {\n    text/html html;\n}\n',
      '/etc/nginx/modules-enabled/.keep': '',
      '/etc/nginx/conf.d/.keep': '',
      [SITE]: site,
      '/etc/nginx/snippets/snakeoil.conf': fixture('snakeoil.conf'),
      ...more,
    },
  });
}
/** The packaged default site with its commented SSL lines turned on. */
const sslSite = () => fixture('sites-default').replace('# listen 443 ssl default_server;', 'listen 443 ssl default_server;').replace('# include snippets/snakeoil.conf;', 'include snippets/snakeoil.conf;');

describe('nginx configuration', () => {
  it("reads Debian's nginx.conf through its includes: the default site's server block on port 80 and [::]:80, server_name _", async () => {
    const reading = await readNginxConf(bed());
    expect(reading.problems).toEqual([]);
    const servers = nginxServers(reading.directives);
    expect(servers).toHaveLength(1);
    expect(servers[0]!.source).toMatchObject({ file: SITE, line: 21 });
    expect(servers[0]!.listens.map((l) => [l.address, l.port, l.ssl, l.defaultServer])).toEqual([
      [undefined, 80, false, true],
      [undefined, 80, false, true],
    ]);
    expect(servers[0]!.names).toEqual(['_']);
  });

  it('listen forms', () => {
    const l = (text: string) => parseListen(parseNginx([{ file: 'f', line: 1, text }]).directives[0]!);
    expect(l('listen 10.0.0.1:8443 ssl http2;')).toMatchObject({ address: '10.0.0.1', port: 8443, ssl: true });
    expect(l('listen [::1]:443 ssl;')).toMatchObject({ address: '::1', port: 443 });
    expect(l('listen 10.0.0.1;')).toMatchObject({ address: '10.0.0.1', port: 80 });
    expect(l('listen *:8080 default;')).toMatchObject({ address: undefined, port: 8080, defaultServer: true });
    expect(l('listen unix:/run/x.sock;')).toBeUndefined();
  });

  it("the packaged site with its SSL lines on: the certificate is the snakeoil snippet's line 4; the fix renews that file and reloads", async () => {
    const reading = await readNginxConf(bed(sslSite()));
    const v = decideNginxCertificate(reading, 443, 'www.example.com', { problems: ['expired', 'self-signed'], notAfter: '2021-01-01T00:00:00Z' });
    expect(v.outcome).toBe('refuses');
    expect(v.setting).toEqual({ file: '/etc/nginx/snippets/snakeoil.conf', line: 4, text: 'ssl_certificate /etc/ssl/certs/ssl-cert-snakeoil.pem;' });
    expect(v.fix?.summary).toContain('renew /etc/ssl/certs/ssl-cert-snakeoil.pem (it expired 2021-01-01T00:00:00Z)');
    expect(v.fix?.commands).toEqual([
      ['nginx', '-t'],
      ['systemctl', 'reload', 'nginx'],
    ]);
  });

  it('picks the server block as nginx does: exact name, wildcards, default_server, the address before the wildcard; inherits the http certificate', async () => {
    const sites = {
      '/etc/nginx/conf.d/shop.conf': [
        'ssl_certificate /etc/ssl/http-level.pem;',
        'server { listen 443 ssl; server_name shop.example.com; ssl_certificate /etc/ssl/shop.pem; }',
        'server { listen 443 ssl; server_name *.example.com; }',
        'server { listen 443 ssl default_server; server_name fallback; ssl_certificate /etc/ssl/fallback.pem; }',
        'server { listen 10.0.0.9:443 ssl; server_name shop.example.com; ssl_certificate "/etc/ssl/on address.pem"; }',
      ].join('\n'),
    };
    const servers = nginxServers((await readNginxConf(bed(fixture('sites-default'), sites))).directives);
    const cert = (name: string | undefined, address?: string) => serverFor(servers, 443, name, address)?.server.certificates[0]?.file;
    expect(cert('shop.example.com')).toBe('/etc/ssl/shop.pem');
    expect(cert('SHOP.example.com')).toBe('/etc/ssl/shop.pem');
    expect(cert('blog.example.com')).toBe('/etc/ssl/http-level.pem');
    expect(cert('other.org')).toBe('/etc/ssl/fallback.pem');
    expect(cert(undefined)).toBe('/etc/ssl/fallback.pem');
    expect(cert('anything', '10.0.0.9')).toBe('/etc/ssl/on address.pem');
    expect(serverFor(servers, 8443, 'x')).toBeUndefined();
  });

  it('plain HTTP on 443: the listen line without ssl is the setting, the fix adds ssl to it', async () => {
    const site = fixture('sites-default').replace('listen 80 default_server;', 'listen 443 default_server;');
    const v = decideNginxCertificate(await readNginxConf(bed(site)), 443, 'x', 'plain-http');
    expect(v.setting).toEqual({ file: SITE, line: 22, text: 'listen 443 default_server;' });
    expect(v.fix?.edit).toEqual({ file: SITE, at: 'replace', line: 22, text: 'listen 443 default_server ssl;' });
  });

  it('never throws and always ends on random and truncated text', () => {
    for (const text of fuzzTexts(sslSite() + fixture('nginx.conf'), 300, 443)) {
      const lines = text.split('\n').map((t, i) => ({ file: SITE, line: i + 1, text: t.trim() }));
      const parsed = parseNginx(lines);
      const reading = { path: SITE, flat: { lines, files: [SITE], problems: [], wanted: { files: [], dirs: [] } }, directives: parsed.directives, problems: parsed.errors };
      decideNginxCertificate(reading, 443, 'a.example', { problems: ['expired'] });
      decideNginxCertificate(reading, 80, undefined, 'plain-http');
    }
  });
});
