import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { apacheRoutes } from '../../src/analysis/upstream/apache.js';
import { haproxyRoutes } from '../../src/analysis/upstream/haproxy.js';
import { nginxRoutes } from '../../src/analysis/upstream/nginx.js';
import { chooseRoute, upstreamText } from '../../src/analysis/upstream/route.js';
import { localHost } from '../../src/host/local.js';
import { proxyConfigPaths } from '../../src/knowledge/proxies.js';
import { parseEnvvars, parseNginxDump, proxyConfigOf, readApacheConfig, readHaproxyConfig, readNginxProxyConfig } from '../../src/system/proxy-config.js';
import { fixtureTree } from '../helpers/fixtures.js';
import { fuzzTexts } from '../helpers/fuzz.js';
import { replayHost } from '../helpers/replay-host.js';

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const fixturePath = (path: string) => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));
const DUMP = fixture('nginx/proxy-nginx-T.txt');
const nginxTree = fixtureTree('nginx/proxy-etc', '/etc/nginx');
const MASTER = ['nginx: master process /usr/sbin/nginx -g daemon on; master_process on;'];

describe('where a proxy reads its configuration, from its argv', () => {
  it('nginx: -c (relative to -p), the rewritten master title; haproxy: every -f; apache2: -d and -f', () => {
    expect(proxyConfigPaths('nginx', MASTER)).toEqual({ files: ['/etc/nginx/nginx.conf'], root: '/etc/nginx' });
    expect(proxyConfigPaths('nginx', ['nginx: master process nginx -c /srv/ngx/main.conf'])).toEqual({ files: ['/srv/ngx/main.conf'], root: '/srv/ngx' });
    expect(proxyConfigPaths('nginx', ['/usr/sbin/nginx', '-p', '/srv/x/', '-c', 'conf/n.conf'])).toEqual({ files: ['/srv/x/conf/n.conf'], root: '/srv/x/conf' });
    expect(proxyConfigPaths('haproxy', ['/usr/sbin/haproxy', '-Ws', '-f', '/etc/haproxy/haproxy.cfg', '-p', '/run/haproxy.pid', '-S', '/run/haproxy-master.sock']).files).toEqual(['/etc/haproxy/haproxy.cfg']);
    expect(proxyConfigPaths('haproxy', ['haproxy', '-f', '/etc/haproxy/haproxy.cfg', '-f', '/etc/haproxy/conf.d']).files).toEqual(['/etc/haproxy/haproxy.cfg', '/etc/haproxy/conf.d']);
    expect(proxyConfigPaths('haproxy', ['haproxy']).files).toEqual(['/etc/haproxy/haproxy.cfg']);
    expect(proxyConfigPaths('apache2', ['/usr/sbin/apache2', '-k', 'start'])).toEqual({ files: ['/etc/apache2/apache2.conf'], root: '/etc/apache2' });
    expect(proxyConfigPaths('apache2', ['/usr/sbin/apache2', '-d', '/etc/apache2-web', '-k', 'start'])).toEqual({ files: ['/etc/apache2-web/apache2.conf'], root: '/etc/apache2-web' });
  });
});

describe('nginx -T', () => {
  it("splits a real dump back into its files: each file's text is the file's own, so line numbers are", () => {
    const { root, files, snapshot } = parseNginxDump(DUMP);
    expect(root).toBe('/etc/nginx/nginx.conf');
    expect(files).toContain('/etc/nginx/sites-enabled/shop');
    for (const f of files) {
      const real = nginxTree.files[f] ?? nginxTree.files[nginxTree.links[f]!];
      expect(snapshot.files[f], f).toBe(real);
    }
  });

  it('the reader prefers the dump (one command, no file read) and says it ran nginx -T', async () => {
    const host = replayHost({ commands: { '/usr/sbin/nginx -T': { stdout: DUMP, stderr: 'nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n' } } });
    const reading = await readNginxProxyConfig(host, MASTER, 2000);
    expect(reading).toMatchObject({ source: 'dump', command: ['/usr/sbin/nginx', '-T'], problems: [] });
    expect(host.calls).toEqual(['/usr/sbin/nginx -T']);
    const t = chooseRoute(nginxRoutes(reading.directives!, { port: 80, hostName: 'shop.example.com' }))!;
    expect(`${t.via.file}:${t.via.line}`).toBe('/etc/nginx/sites-enabled/shop:13');
    expect(t.servers.map((s) => `${s.source.file}:${s.source.line}`)[0]).toBe('/etc/nginx/conf.d/upstreams.conf:3');
  });

  it('passes the process -c and -p on; without root nginx -T fails and the files are read instead, saying so', async () => {
    const argv = ['nginx: master process /usr/sbin/nginx -c /etc/nginx/nginx.conf'];
    const failed = { exitCode: 1, stderr: 'nginx: [alert] could not open error log file: open() "/var/log/nginx/error.log" failed (13: Permission denied)\n2024/01/01 00:00:00 [emerg] 41#41: cannot load certificate key "/etc/ssl/private/ssl-cert-snakeoil.key": BIO_new_file() failed (SSL: error:8000000D:system library::Permission denied)\nnginx: configuration file /etc/nginx/nginx.conf test failed\n' };
    const host = replayHost({ ...nginxTree, commands: { '/usr/sbin/nginx -T -c /etc/nginx/nginx.conf': failed } });
    const reading = await readNginxProxyConfig(host, argv, 2000);
    expect(reading.source).toBe('files');
    expect(reading.problems).toEqual(['/usr/sbin/nginx -T -c /etc/nginx/nginx.conf failed: nginx: [alert] could not open error log file: open() "/var/log/nginx/error.log" failed (13: Permission denied); read /etc/nginx/nginx.conf and its includes instead']);
    expect(chooseRoute(nginxRoutes(reading.directives!, { port: 80, hostName: 'shop.example.com' }))?.group).toBe('app');
  });

  it('the real nginx -T of this machine, through the local host (as root the dump; else the files, saying why)', async () => {
    const reading = await readNginxProxyConfig(localHost, ['/usr/sbin/nginx'], 5000);
    const root = process.getuid?.() === 0;
    expect(reading.source).toBe(root ? 'dump' : 'files');
    if (!root) expect(reading.problems[0]).toMatch(/nginx -T.* failed: .*; read \/etc\/nginx\/nginx\.conf and its includes instead/);
    expect(reading.files[0]).toBe('/etc/nginx/nginx.conf');
    expect(nginxRoutes(reading.directives!, { port: 80 }).servesPort).toBe(true);
  });

  it('never throws on broken dumps', () => {
    for (const t of fuzzTexts(DUMP, 200)) expect(() => parseNginxDump(t)).not.toThrow();
  });
});

describe('haproxy configuration', () => {
  it('the -f files in order, a folder as its *.cfg sorted; haproxy -c says it is valid', async () => {
    const host = replayHost({
      files: { '/etc/haproxy/haproxy.cfg': fixture('haproxy/haproxy.cfg'), '/etc/haproxy/conf.d/20-app.cfg': fixture('haproxy/conf.d/20-app.cfg'), '/etc/haproxy/conf.d/10-web.cfg': fixture('haproxy/conf.d/10-web.cfg'), '/etc/haproxy/conf.d/README': 'x' },
      commands: { 'haproxy -c -f /etc/haproxy/haproxy.cfg -f /etc/haproxy/conf.d': { stdout: 'Configuration file is valid\n' } },
    });
    const reading = await readHaproxyConfig(host, ['haproxy', '-f', '/etc/haproxy/haproxy.cfg', '-f', '/etc/haproxy/conf.d'], 2000);
    expect(reading.files).toEqual(['/etc/haproxy/haproxy.cfg', '/etc/haproxy/conf.d/10-web.cfg', '/etc/haproxy/conf.d/20-app.cfg']);
    expect(reading.valid).toEqual({ ok: true, output: 'Configuration file is valid' });
    expect(reading.command).toEqual(['haproxy', '-c', '-f', '/etc/haproxy/haproxy.cfg', '-f', '/etc/haproxy/conf.d']);
    expect(chooseRoute(haproxyRoutes(reading.lines, { port: 80 }))?.servers.map((s) => upstreamText(s.address))).toEqual(['127.0.0.1:7071']);
  });

  it('the real haproxy -c on the test bed configuration, through the local host', async () => {
    const reading = await readHaproxyConfig(localHost, ['/usr/sbin/haproxy', '-Ws', '-f', fixturePath('haproxy/testbed.cfg')], 5000);
    expect(reading.valid?.ok).toBe(true);
    expect(reading.problems).toEqual([]);
    expect(chooseRoute(haproxyRoutes(reading.lines, { port: 80 }))?.group).toBe('app');
  });
});

describe('apache2 configuration', () => {
  it("Debian's envvars: ${APACHE_LOG_DIR} and its kin, $SUFFIX of an instance", () => {
    const text = fixture('apache2/etc/envvars');
    expect(parseEnvvars(text, '/etc/apache2')).toMatchObject({ APACHE_LOG_DIR: '/var/log/apache2', APACHE_RUN_USER: 'www-data', APACHE_PID_FILE: '/var/run/apache2/apache2.pid' });
    expect(parseEnvvars(text, '/etc/apache2-web').APACHE_LOG_DIR).toBe('/var/log/apache2-web');
  });

  it('the fixture tree through the local host with -d: the includes in apache2 order, symlinks followed', async () => {
    const root = fixturePath('apache2/etc').replace(/\/$/, '');
    const reading = await readApacheConfig(localHost, ['/usr/sbin/apache2', '-d', root, '-k', 'start']);
    expect(reading.problems).toEqual([]);
    const rel = reading.files.map((f) => f.slice(root.length + 1));
    expect(rel.slice(0, 2)).toEqual(['apache2.conf', 'mods-enabled/access_compat.load']);
    expect(rel.slice(-3)).toEqual(['conf-enabled/serve-cgi-bin.conf', 'sites-enabled/000-default.conf', 'sites-enabled/shop.conf']);
    expect(rel.indexOf('ports.conf')).toBeGreaterThan(rel.indexOf('mods-enabled/status.conf'));
    const shop = chooseRoute(apacheRoutes(reading.lines, { port: 80, hostName: 'shop.example.com' }))!;
    expect(shop.group).toBe('shopcluster');
  });
});

describe('proxyConfigOf', () => {
  it('is one read per program and argv', () => {
    expect(proxyConfigOf.key!({ program: 'nginx', argv: MASTER })).not.toBe(proxyConfigOf.key!({ program: 'nginx', argv: ['nginx'] }));
  });
});
