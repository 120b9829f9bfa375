import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideNginxCertificate } from '../../src/analysis/nginx-tls.js';
import { localHost } from '../../src/host/local.js';
import { readNginxConf } from '../../src/system/nginx-conf.js';
import { createNamespace, netnsSkipReason, type Namespace } from '../helpers/netns.js';

/**
 * The ssl_certificate whyport names against the real nginx: a private configuration (http-level
 * certificate, sites included by a glob, a server on the address and servers on the wildcard) in
 * a namespace of the test's own; for each address and name asked, the certificate nginx really
 * presents (openssl s_client) must be the file of the line whyport names. And plain HTTP on a
 * port clients expect TLS on is its listen line.
 */

const NGINX_BIN = '/usr/sbin/nginx';
const ADDRESS = '10.213.9.2';

function stop(pid: number | undefined, signal: NodeJS.Signals): void {
  try {
    if (pid) process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function skipReason(): string | undefined {
  if (!existsSync(NGINX_BIN)) return 'nginx is not installed: apt-get install -y nginx';
  if (spawnSync('openssl', ['version']).status !== 0) return 'openssl is not installed';
  return netnsSkipReason();
}
const skip = skipReason();

describe.skipIf(skip !== undefined)('the certificate nginx serves, named by its line', () => {
  let ns: Namespace;
  let dir: string;
  let nginx: ChildProcess | undefined;
  const conf = () => join(dir, 'nginx.conf');

  /** The SHA-256 fingerprint of a certificate file, or of what a server presents for a name. */
  const fingerprintOf = (pem: string) => spawnSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: pem, encoding: 'utf8' }).stdout.trim();
  const presented = (address: string, name: string) => {
    const r = spawnSync(ns.exec[0]!, [...ns.exec.slice(1), 'openssl', 's_client', '-connect', `${address}:443`, '-servername', name], { input: '', encoding: 'utf8', timeout: 10_000 });
    return fingerprintOf(r.stdout);
  };

  beforeAll(async () => {
    ns = createNamespace({ addresses: [`${ADDRESS}/24`] });
    dir = mkdtempSync(join(tmpdir(), 'wpt-nginx-'));
    for (const name of ['http-level', 'shop', 'fallback']) {
      spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}.test`, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`)], { stdio: 'ignore' });
    }
    mkdirSync(join(dir, 'sites'));
    const cert = (name: string) => `ssl_certificate ${dir}/${name}.pem; ssl_certificate_key ${dir}/${name}.key;`;
    writeFileSync(join(dir, 'sites', 'shop.conf'), `server {\n  listen 443 ssl;\n  server_name shop.test;\n  ${cert('shop')}\n  return 200;\n}\n`);
    writeFileSync(join(dir, 'sites', 'wild.conf'), `server {\n  listen 443 ssl;\n  server_name *.test;\n  return 200;\n}\n`);
    writeFileSync(join(dir, 'sites', 'plain.conf'), `server {\n  listen 8443 default_server;\n  return 200;\n}\n`);
    writeFileSync(
      conf(),
      [
        'daemon off;',
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log;`,
        'events {}',
        'http {',
        '  access_log off;',
        `  ${cert('http-level')}`,
        '  include sites/*.conf;',
        '  server {',
        `    listen ${ADDRESS}:443 ssl default_server;`,
        '    server_name fallback.test;',
        `    ${cert('fallback')}`,
        '    return 200;',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    nginx = spawn(ns.exec[0]!, [...ns.exec.slice(1), NGINX_BIN, '-p', dir, '-c', conf()], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (spawnSync(ns.exec[0]!, [...ns.exec.slice(1), 'ss', '-Htln', 'sport = :443'], { encoding: 'utf8' }).stdout.trim() !== '') break;
    }
  }, 60_000);
  afterAll(async () => {
    // SIGTERM: nginx's master ends its workers (a SIGKILLed master leaves them running); then kill.
    if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
      const ended = new Promise((r) => nginx!.once('exit', r));
      stop(nginx.pid, 'SIGTERM');
      await Promise.race([ended, new Promise((r) => setTimeout(r, 3_000))]);
      stop(nginx.pid, 'SIGKILL');
    }
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases: { address: string; name: string; file: string }[] = [
    { address: '127.0.0.1', name: 'shop.test', file: 'shop' },
    { address: '127.0.0.1', name: 'blog.test', file: 'http-level' },
    { address: '127.0.0.1', name: 'elsewhere.org', file: 'shop' },
    // A server listening on the address itself takes every name asked of that address.
    { address: ADDRESS, name: 'shop.test', file: 'fallback' },
  ];
  for (const c of cases) {
    it(`${c.name} at ${c.address}: the certificate nginx presents is the file of the line whyport names (${c.file})`, async () => {
      const reading = await readNginxConf(localHost, conf());
      expect(reading.problems).toEqual([]);
      const v = decideNginxCertificate(reading, 443, c.name, { problems: ['self-signed'] }, c.address);
      expect(v.outcome).toBe('refuses');
      expect(v.setting?.text).toContain(`${dir}/${c.file}.pem`);
      expect(presented(c.address, c.name)).toBe(fingerprintOf(readFileSync(join(dir, `${c.file}.pem`), 'utf8')));
      expect(presented(c.address, c.name)).not.toBe('');
    });
  }

  it('plain HTTP where TLS is expected: nginx answers HTTP, and whyport names the listen line without ssl', async () => {
    const r = spawnSync(ns.exec[0]!, [...ns.exec.slice(1), 'bash', '-c', `exec 3<>/dev/tcp/${ADDRESS}/8443; printf 'HEAD / HTTP/1.0\\r\\n\\r\\n' >&3; head -c 12 <&3`], { encoding: 'utf8', timeout: 10_000 });
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200/);
    const v = decideNginxCertificate(await readNginxConf(localHost, conf()), 8443, 'x.test', 'plain-http', ADDRESS);
    expect(v.setting).toEqual({ file: join(dir, 'sites', 'plain.conf'), line: 2, text: 'listen 8443 default_server;' });
  });
});
