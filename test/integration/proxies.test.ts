import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnosis, Report } from '../../src/report/model.js';
import { CLI, saveOutput, step, trace, waitFor, whyportIn, whyportJsonIn, type JsonRun } from '../helpers/cli-in-bed.js';
import { addServerAddress, realServicesAvailable, startSystemdTestbed, type SystemdTestbed } from '../helpers/nspawn.js';
import { createNamespace, type Namespace } from '../helpers/netns.js';
import { enableSshInBed, runInNetns, sshdAvailable, startClientFor, type BedSsh, type TwoHosts } from '../helpers/ssh.js';

/**
 * Issue 22: a reverse proxy followed to its upstream, on the real Debian packages (nginx, haproxy,
 * apache2) under a real systemd (systemd-nspawn with a private copy of /etc and /var/lib, see
 * /work/shared/TESTBED.md "Real Debian services" and "Beyond the handshake, proxies and paths").
 * myapp.service is a small Python HTTP app on 127.0.0.1:7071 that dies at start while
 * /etc/myapp/myapp.conf is missing. The real CLI runs inside, next to systemd, as
 * `whyport 10.0.0.5 PORT --json --yes`, and once from a client namespace with `--ssh`.
 *
 * Port 80 is shared, so the proxies take turns: nginx (crashed myapp, from the server and over
 * ssh, with the remote upstream on 8080 at the same time; then --fix; then myapp running), haproxy,
 * apache2. What the proxies themselves say here is captured in test/fixtures/proxy/real/.
 */

const PACKAGES = ['nginx', 'apache2', 'haproxy', 'python3'];
/** Real text reports the README quotes (committed; rewritten only when they change in substance). */
const OUTPUT_DIR = join(import.meta.dirname, '__output__');
const SERVER = '10.0.0.5';
/** The upstream "on another machine": a namespace of its own, wired to the bed's by a veth. */
const REMOTE_UPSTREAM = '10.77.0.2';
const BED_SIDE = '10.77.0.1';

/**
 * A Python HTTP application answering every GET and HEAD with `status` and `body`, listening on
 * `bind` (a Python address tuple); `before` runs first (myapp's check of its configuration file).
 */
const pythonHttpApp = (status: number, body: string, bind: string, before = '') => `import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
${before}

class App(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'${body}\\n'
        self.send_response(${status})
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    do_HEAD = do_GET


HTTPServer(${bind}, App).serve_forever()
`;

const MYAPP_PY = pythonHttpApp(
  200,
  'hello from myapp',
  "('127.0.0.1', int(sys.argv[sys.argv.index('--port') + 1]))",
  `
CONF = '/etc/myapp/myapp.conf'
try:
    open(CONF).close()
except OSError as e:
    print(f'myapp: cannot open {CONF}: {e.strerror}', file=sys.stderr)
    sys.exit(1)
`,
);

/** An upstream that accepts and closes at once, as a crashing worker does (nginx: 502, "Connection reset by peer"). */
const CLOSER_PY = `import socketserver


class Closer(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.close()


socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(('127.0.0.1', 7075), Closer).serve_forever()
`;

/** An application that answers every request with 503 itself (a maintenance switch, a health gate). */
const MAINT_PY = pythonHttpApp(503, 'down for maintenance', "('0.0.0.0', 7076)");

/** diagnosis.proxy (CONTRACT, "A reverse proxy followed to its upstream"). */
interface ProxyFacts {
  program: string;
  config: string;
  upstream: string;
  status?: number;
}
const proxyOf = (r: JsonRun): ProxyFacts | undefined => (r.report.diagnosis as Diagnosis & { proxy?: ProxyFacts }).proxy;
/** Everything a person reads of a diagnosis, in one string. */
const words = (r: JsonRun): string => {
  const d = r.report.diagnosis;
  return [d.title, d.explanation, ...(d.evidence ?? []), ...(d.fix?.commands ?? []), d.fix?.summary ?? ''].join('\n');
};
/** The 1-based number of the only line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  const hits = text.split('\n').flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`expected exactly one line with ${JSON.stringify(needle)}, found ${hits.length}`);
  return hits[0]!;
}

const unavailable = (await realServicesAvailable(PACKAGES)) ?? (await sshdAvailable());
if (unavailable) console.warn(`skipping the reverse-proxy tests: ${unavailable}`);

describe.skipIf(unavailable !== null)('reverse proxies followed to their upstream (real nginx, haproxy, apache2 under systemd)', () => {
  let bed: SystemdTestbed;
  let host = SERVER;
  let net: TwoHosts;
  let ssh: BedSsh;
  let upstreamNs: Namespace;
  const etc = (path: string) => join(bed.root!, 'etc', path);
  const sh = async (...argv: string[]) => (await bed.exec(argv, { timeoutMs: 20_000 })).stdout.trim();
  const isActive = (unit: string) => sh('systemctl', 'is-active', unit);
  const whyport = (args: string[], timeoutMs?: number) => whyportJsonIn(bed, [host, ...args], timeoutMs);
  const text = async (args: string[]) => (await whyportIn(bed, [host, ...args, '--yes', '--no-color'])).stdout;
  /** The status line of a real request through the port, as curl in the bed sees it. */
  const httpStatus = async (url: string) => sh('curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', url);
  /** systemctl start, and a clear failure with its status when the unit does not come up as expected. */
  async function start(unit: string, expected: 'active' | 'failed'): Promise<void> {
    await bed.exec(['systemctl', 'start', unit], { timeoutMs: 20_000 });
    await waitFor(async () => (await isActive(unit)) === expected, `${unit} to be ${expected}`).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${(await bed.exec(['systemctl', 'status', '--no-pager', '--full', unit])).stdout}`);
    });
  }
  /** SIGTERM through systemd (nginx's master leaves a worker behind on SIGKILL). */
  const stop = (...units: string[]) => bed.exec(['systemctl', 'stop', ...units], { timeoutMs: 20_000 });

  /** Lines of the configuration the scenarios are written against. */
  let nginxProxyPassLine: number;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    bed = await startSystemdTestbed({ realServices: true });
    console.info(`Debian server container ${bed.name} booted in ${bed.bootMs} ms`);
    const noAddress = await addServerAddress(bed.name, SERVER);
    if (noAddress) {
      host = '127.0.0.1';
      console.warn(`cannot give the container ${SERVER} (${noAddress}); diagnosing 127.0.0.1 instead`);
    }

    // myapp: crashes at start while its configuration file is missing.
    await writeFile(join(bed.root!, 'srv', 'myapp.py'), MYAPP_PY);
    await bed.writeUnit('myapp.service', '[Unit]\nDescription=My application\n\n[Service]\nExecStart=/usr/bin/python3 -u /srv/myapp.py --port 7071\n');
    await writeFile(join(bed.root!, 'srv', 'closer.py'), CLOSER_PY);
    await bed.writeUnit('closer.service', '[Unit]\nDescription=An upstream that closes every connection\n\n[Service]\nExecStart=/usr/bin/python3 -u /srv/closer.py\n');
    await writeFile(join(bed.root!, 'srv', 'maint.py'), MAINT_PY);
    await bed.writeUnit('maint.service', '[Unit]\nDescription=An application in maintenance mode\n\n[Service]\nExecStart=/usr/bin/python3 -u /srv/maint.py\n');
    await bed.daemonReload();

    // nginx: Debian's default site with `location / { proxy_pass http://127.0.0.1:7071; }`.
    // sites-enabled/default is an absolute symlink: edit its target in the copy, never through it.
    const site = etc('nginx/sites-available/default');
    const packaged = await readFile(site, 'utf8');
    const proxied = packaged.replace('\t\ttry_files $uri $uri/ =404;', '\t\tproxy_pass http://127.0.0.1:7071;');
    if (proxied === packaged) throw new Error(`${site} has no "try_files $uri $uri/ =404;" line to replace`);
    await writeFile(site, proxied);
    nginxProxyPassLine = lineOf(proxied, 'proxy_pass http://127.0.0.1:7071;');
    // A second server block on 8080 for an upstream on another machine that drops the port; an
    // admin's short connect timeout keeps nginx's own 504 within the probe's time.
    await writeFile(
      etc('nginx/sites-enabled/remote-app'),
      `server {\n\tlisten 8080;\n\tlocation / {\n\t\tproxy_pass http://${REMOTE_UPSTREAM}:7071;\n\t\tproxy_connect_timeout 1s;\n\t}\n}\n`,
    );
    // A third on 8081 for PHP through php-fpm's socket, which nothing makes (php-fpm not running).
    // A fourth on 8082 in front of an upstream that accepts and closes (nginx's 502 is its own).
    await writeFile(etc('nginx/sites-enabled/closer-app'), 'server {\n\tlisten 8082;\n\tlocation / {\n\t\tproxy_pass http://127.0.0.1:7075;\n\t}\n}\n');
    await writeFile(etc('nginx/sites-enabled/php-app'), 'server {\n\tlisten 8081;\n\tlocation / {\n\t\tinclude fastcgi_params;\n\t\tfastcgi_pass unix:/run/php/php8.2-fpm.sock;\n\t}\n}\n');

    // The other machine: a namespace on a veth from the bed's, dropping TCP 7071.
    upstreamNs = createNamespace();
    for (const argv of [
      ['-n', upstreamNs.name, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'wpt-up', 'netns', bed.name],
      ['-n', upstreamNs.name, 'addr', 'add', `${REMOTE_UPSTREAM}/24`, 'dev', 'up0'],
      ['-n', bed.name, 'addr', 'add', `${BED_SIDE}/24`, 'dev', 'wpt-up'],
      ['-n', upstreamNs.name, 'link', 'set', 'up0', 'up'],
      ['-n', bed.name, 'link', 'set', 'wpt-up', 'up'],
    ]) {
      const r = await execa('ip', argv, { reject: false, timeout: 5_000 });
      if (r.exitCode !== 0) throw new Error(`ip ${argv.join(' ')}: ${String(r.stderr).trim()}`);
    }
    const drop = await runInNetns(upstreamNs.name, ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '7071', '-j', 'DROP']);
    if (drop.exitCode !== 0) throw new Error(`iptables in ${upstreamNs.name}: ${drop.stderr.trim()}`);

    // The client side for --ssh: another namespace on a veth, and the bed's own ssh.service.
    net = await startClientFor(bed);
    ssh = await enableSshInBed(bed, { address: net.server.address });
  }, 90_000);

  afterAll(async () => {
    if (bed) await stop('nginx.service', 'haproxy.service', 'apache2.service', 'myapp.service', 'closer.service', 'maint.service', 'ssh.service');
    await net?.remove();
    upstreamNs?.remove();
    await bed?.stop();
  });

  describe('nginx in front of myapp', () => {
    let crashed: JsonRun;
    let crashedText: string;
    let overSsh: JsonRun;
    let remote: JsonRun;
    let fromClientAlone: JsonRun;
    let php: JsonRun;
    let closer: JsonRun;
    let maint: JsonRun;
    let sshCommand: string[];

    beforeAll(async () => {
      await start('myapp.service', 'failed');
      await Promise.all([start('closer.service', 'active'), start('maint.service', 'active')]);
      await start('nginx.service', 'active');
      // The bed as the issue describes it, checked before whyport is asked: users see 502 on 80,
      // and nginx gives up on the remote upstream with its own 504 on 8080.
      expect(await httpStatus(`http://${host}/`)).toBe('502');
      expect(await httpStatus(`http://${host}:8080/`)).toBe('504');
      await waitFor(async () => (await httpStatus(`http://${host}:8082/`)) === '502', "nginx's 502 in front of the closer");
      await waitFor(async () => (await httpStatus(`http://${host}:7076/`)) === '503', 'the maintenance app to answer 503');
      expect(await readFile(join(bed.root!, 'var', 'log', 'nginx', 'error.log'), 'utf8')).toContain(
        'connect() failed (111: Connection refused) while connecting to upstream',
      );

      const server = net.server.address;
      sshCommand = [server, '80', '--ssh', `root@${server}`, '--ssh-option', `UserKnownHostsFile=${ssh.knownHostsPath}`, '--ssh-option', `IdentityFile=${ssh.keyPath}`, '--ssh-option', 'IdentitiesOnly=yes', '--yes', '--json'];
      const fromClient = async (): Promise<JsonRun> => {
        const r = await net.runInClient([process.execPath, CLI, ...sshCommand], { timeoutMs: 40_000, env: { NO_COLOR: '1', NODE_EXTRA_CA_CERTS: '' } });
        if (r.timedOut) throw new Error(`whyport ${sshCommand.join(' ')} timed out\nstderr: ${r.stderr}`);
        try {
          return { status: r.exitCode, stdout: r.stdout, stderr: r.stderr, argv: sshCommand, report: JSON.parse(r.stdout) as Report };
        } catch {
          throw new Error(`whyport ${sshCommand.join(' ')} printed no JSON (exit ${r.exitCode}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
        }
      };
      // The client alone (no --ssh): it sees nginx's 502 and cannot see behind it.
      const clientOnly = async (): Promise<JsonRun> => {
        const argv = [server, '80', '--yes', '--json'];
        const r = await net.runInClient([process.execPath, CLI, ...argv], { timeoutMs: 30_000, env: { NO_COLOR: '1' } });
        return { status: r.exitCode, stdout: r.stdout, stderr: r.stderr, argv, report: JSON.parse(r.stdout) as Report };
      };
      [crashed, crashedText, overSsh, remote, fromClientAlone, php, closer, maint] = await Promise.all([
        whyport(['80']),
        text(['80']),
        fromClient(),
        whyport(['8080', '--timeout', '2000'], 30_000),
        clientOnly(),
        whyport(['8081']),
        whyport(['8082']),
        whyport(['7076']),
      ]);
    }, 120_000);

    it('a. crashed myapp behind nginx: SERVICE_FAILED of myapp, exit 1, with diagnosis.proxy naming the proxy_pass line', () => {
      expect(crashed.report.diagnosis.code, trace(crashed)).toBe('SERVICE_FAILED');
      expect(crashed.status).toBe(1);
      expect(proxyOf(crashed), trace(crashed)).toEqual({
        program: 'nginx',
        config: `/etc/nginx/sites-enabled/default:${nginxProxyPassLine}`,
        upstream: '127.0.0.1:7071',
        status: 502,
      });
    });

    it("a. the title says both: port 80 answers (nginx), its upstream does not, myapp has failed; with myapp's journal line and nginx's error line", () => {
      expect(crashed.report.diagnosis.title, trace(crashed)).toMatch(/^Port 80 answers \(nginx\), but its upstream 127\.0\.0\.1:7071 does not: myapp\.service has failed/);
      expect(crashed.report.diagnosis.title).toContain('myapp');
      expect(words(crashed), trace(crashed)).toContain('myapp: cannot open /etc/myapp/myapp.conf: No such file or directory');
      expect(words(crashed), trace(crashed)).toContain('Connection refused) while connecting to upstream');
      expect(crashed.report.diagnosis.fix?.commands, trace(crashed)).toContain('systemctl start myapp');
    });

    it('a. the text report says the same, and is saved for the README', async () => {
      expect(crashedText).toMatch(/Port 80 answers \(nginx\), but its upstream 127\.0\.0\.1:7071 does not/);
      expect(crashedText).toContain('cannot open /etc/myapp/myapp.conf');
      await saveOutput(OUTPUT_DIR, 'proxy-nginx-upstream-failed.txt', crashedText, bed.name);
    });

    it('b. the same from a client with --ssh: SERVICE_FAILED of myapp, with the same diagnosis.proxy', () => {
      const t = `${overSsh.report.diagnosis.code} "${overSsh.report.diagnosis.title}" (exit ${overSsh.status})\n${overSsh.report.steps.map((s) => `  [${s.where}] ${s.id} → ${s.outcome}: ${s.summary}`).join('\n')}\nvantages: ${JSON.stringify(overSsh.report.vantages)}\nstderr: ${overSsh.stderr}`;
      expect(overSsh.report.vantages?.server.error ?? null, t).toBeNull();
      expect(overSsh.report.diagnosis.code, t).toBe('SERVICE_FAILED');
      expect(overSsh.status).toBe(1);
      expect(proxyOf(overSsh), t).toEqual({
        program: 'nginx',
        config: `/etc/nginx/sites-enabled/default:${nginxProxyPassLine}`,
        upstream: '127.0.0.1:7071',
        status: 502,
      });
      expect(words(overSsh), t).toContain('myapp: cannot open /etc/myapp/myapp.conf');
    });

    it('the client alone sees only the 502: INCONCLUSIVE (exit 3) "answers, but only to say 502", never REACHABLE, and --ssh is offered', () => {
      const d = fromClientAlone.report.diagnosis;
      expect(d.code, trace(fromClientAlone)).toBe('INCONCLUSIVE');
      expect(fromClientAlone.status).toBe(3);
      expect(d.title).toMatch(/port 80 answers, but only to say 502: it cannot serve requests now$/);
      expect(step(fromClientAlone, 'protocol-remote').outcome).toBe('unavailable');
      expect(d.fix?.summary).toContain('--ssh');
    });

    it("a php-fpm socket nothing listens on: NOT_LISTENING of the socket, with nginx's fastcgi_pass line", () => {
      expect(php.report.diagnosis.code, trace(php)).toBe('NOT_LISTENING');
      expect(php.status).toBe(1);
      expect(php.report.diagnosis.title).toBe('Port 8081 answers (nginx), but nothing listens on its upstream unix:/run/php/php8.2-fpm.sock');
      expect(proxyOf(php), trace(php)).toMatchObject({ program: 'nginx', config: '/etc/nginx/sites-enabled/php-app:5', upstream: 'unix:/run/php/php8.2-fpm.sock', status: 502 });
    });

    it("an upstream that accepts and closes at once: UPSTREAM_ANSWERS_DIRECTLY (INCONCLUSIVE, exit 3), with nginx's own error line, never REACHABLE", () => {
      const d = closer.report.diagnosis;
      expect(d.code, trace(closer)).toBe('INCONCLUSIVE');
      expect(closer.status).toBe(3);
      expect(d.title, trace(closer)).toBe('Port 8082 answers (nginx) with errors, yet its upstream 127.0.0.1:7075 answers when asked directly');
      expect(proxyOf(closer), trace(closer)).toMatchObject({ program: 'nginx', config: '/etc/nginx/sites-enabled/closer-app:4', upstream: '127.0.0.1:7075', status: 502 });
      expect(step(closer, 'upstream-chain').outcome, trace(closer)).toBe('reachable');
      expect(words(closer), trace(closer)).toMatch(/\(104: Connection reset by peer\) while reading response header from upstream|upstream prematurely closed connection while reading response header from upstream/);
    });

    it('an application that answers 503 itself (no proxy whyport reads): INCONCLUSIVE (exit 3), naming the program and the status, never REACHABLE', () => {
      const d = maint.report.diagnosis;
      expect(d.code, trace(maint)).toBe('INCONCLUSIVE');
      expect(maint.status).toBe(3);
      expect(step(maint, 'protocol-local').outcome, trace(maint)).toBe('unavailable');
      expect(d.title, trace(maint)).toMatch(/^Port 7076 answers, but only to say 503: python3 \(pid \d+\) in maint\.service cannot serve requests now$/);
      expect(maint.report.diagnosis.service, trace(maint)).toMatchObject({ protocol: 'http' });
    });

    it(`f. an upstream on another machine that drops the port: UPSTREAM_UNREACHABLE with the probe's verdict, and where to look next`, () => {
      expect(remote.report.diagnosis.code, trace(remote)).toBe('UPSTREAM_UNREACHABLE');
      expect(remote.status).toBe(1);
      expect(proxyOf(remote), trace(remote)).toMatchObject({ program: 'nginx', config: '/etc/nginx/sites-enabled/remote-app:4', upstream: `${REMOTE_UPSTREAM}:7071` });
      const d = remote.report.diagnosis;
      expect(`${d.title}\n${d.explanation}`, trace(remote)).toMatch(/filtered|timed out|time(?:s)? out|no answer/i);
      expect(words(remote), trace(remote)).toContain(`whyport ${REMOTE_UPSTREAM} 7071`);
    });

    describe('then myapp repaired', () => {
      let fixed: JsonRun;
      let running: JsonRun;
      let runningText: string;
      let myappAfterFix: string;

      beforeAll(async () => {
        // What the admin repairs first: the file myapp could not open. --fix then starts it.
        await mkdir(etc('myapp'), { recursive: true });
        await writeFile(etc('myapp/myapp.conf'), '# myapp\n');
        fixed = await whyport(['80', '--fix'], 40_000);
        myappAfterFix = await isActive('myapp.service');
        // e. stands on its own: myapp runs behind nginx whether or not --fix started it.
        if (myappAfterFix !== 'active') await start('myapp.service', 'active');
        await waitFor(async () => (await httpStatus(`http://${host}/`)) === '200', 'nginx to answer 200 through myapp');
        [running, runningText] = await Promise.all([whyport(['80']), text(['80'])]);
      }, 90_000);

      it('a. --fix --yes runs systemctl start myapp, and the re-check ends REACHABLE', () => {
        expect(fixed.report.diagnosis.code, trace(fixed)).toBe('SERVICE_FAILED');
        expect(fixed.report.diagnosis.applied, trace(fixed)).toMatchObject({ command: 'systemctl start myapp', exitCode: 0, verified: true, after: 'REACHABLE' });
        expect(myappAfterFix, 'myapp.service right after --fix').toBe('active');
      });

      it('e. nginx in front of a running myapp: REACHABLE, exit 0, the upstream named', () => {
        expect(running.report.diagnosis.code, trace(running)).toBe('REACHABLE');
        expect(running.status).toBe(0);
        expect(proxyOf(running)?.upstream, trace(running)).toBe('127.0.0.1:7071');
      });

      it('e. the text report says where the port really goes: → nginx → 127.0.0.1:7071', async () => {
        expect(runningText).toContain('→ nginx → 127.0.0.1:7071');
        await saveOutput(OUTPUT_DIR, 'proxy-nginx-reachable.txt', runningText, bed.name);
      });

      describe('g. a balancer of two, one of them down', () => {
        let balanced: JsonRun;
        let serverLine: number;

        beforeAll(async () => {
          const site = etc('nginx/sites-available/default');
          const written = `upstream app {\n\tserver 127.0.0.1:7071;\n\tserver 127.0.0.1:7073;\n}\n\n${(await readFile(site, 'utf8')).replace('proxy_pass http://127.0.0.1:7071;', 'proxy_pass http://app;')}`;
          await writeFile(site, written);
          serverLine = lineOf(written, 'server 127.0.0.1:7071;');
          await bed.exec(['systemctl', 'reload', 'nginx.service'], { timeoutMs: 20_000 });
          await waitFor(async () => (await httpStatus(`http://${host}/`)) === '200', 'nginx to answer 200 through the balancer');
          balanced = await whyport(['80']);
        }, 60_000);

        it('REACHABLE (nginx passes on to the one that answers), and the report says 1 of 2 upstreams answer', () => {
          expect(balanced.report.diagnosis.code, trace(balanced)).toBe('REACHABLE');
          expect(balanced.status).toBe(0);
          expect(proxyOf(balanced), trace(balanced)).toMatchObject({ program: 'nginx', upstream: '127.0.0.1:7071', config: `/etc/nginx/sites-enabled/default:${serverLine}` });
          const upstream = step(balanced, 'upstream');
          expect(upstream.outcome).toBe('partly');
          expect(upstream.summary).toMatch(/127\.0\.0\.1:7071, 127\.0\.0\.1:7073: 1 of 2 answer \(127\.0\.0\.1:7073 refuses connections/);
        });
      });
    });
  });

  describe('c. haproxy in front of nothing (127.0.0.1:7072, no unit)', () => {
    let r: JsonRun;
    let report: string;
    let serverLine: number;
    let defaultBackendLine: number;

    beforeAll(async () => {
      await stop('nginx.service');
      const cfg = etc('haproxy/haproxy.cfg');
      await appendFile(cfg, '\nfrontend web\n\tbind *:80\n\tdefault_backend app\n\nbackend app\n\tserver app1 127.0.0.1:7072 check\n');
      const written = await readFile(cfg, 'utf8');
      serverLine = lineOf(written, 'server app1 127.0.0.1:7072 check');
      defaultBackendLine = lineOf(written, 'default_backend app');
      await start('haproxy.service', 'active');
      expect(await httpStatus(`http://${host}/`)).toBe('503');
      [r, report] = await Promise.all([whyport(['80']), text(['80'])]);
    }, 60_000);

    it('NOT_LISTENING of the upstream port, exit 1, with diagnosis.proxy: haproxy, 503, the haproxy.cfg line', () => {
      expect(r.report.diagnosis.code, trace(r)).toBe('NOT_LISTENING');
      expect(r.status).toBe(1);
      const proxy = proxyOf(r);
      expect(proxy, trace(r)).toMatchObject({ program: 'haproxy', upstream: '127.0.0.1:7072', status: 503 });
      // The lead decides which line `via` is: the backend's `server` line or `default_backend`.
      expect(proxy?.config, trace(r)).toMatch(/^\/etc\/haproxy\/haproxy\.cfg:\d+$/);
      expect([serverLine, defaultBackendLine]).toContain(Number(proxy!.config.split(':').at(-1)));
    });

    it('the text report names haproxy and its upstream, and is saved for the README', async () => {
      expect(report).toContain('haproxy');
      expect(report).toContain('127.0.0.1:7072');
      await saveOutput(OUTPUT_DIR, 'proxy-haproxy-nothing-listening.txt', report, bed.name);
    });
  });

  describe('d. apache2 ProxyPass in front of a crashed myapp', () => {
    let r: JsonRun;
    let proxyPassLine: number;

    beforeAll(async () => {
      await stop('haproxy.service');
      // myapp crashed again: its file gone, restarted.
      await rm(etc('myapp'), { recursive: true, force: true });
      await bed.exec(['systemctl', 'restart', 'myapp.service'], { timeoutMs: 20_000 });
      await waitFor(async () => (await isActive('myapp.service')) === 'failed', 'myapp.service to fail again');
      const enable = await bed.exec(['a2enmod', 'proxy', 'proxy_http'], { timeoutMs: 20_000 });
      if (enable.exitCode !== 0) throw new Error(`a2enmod proxy proxy_http: ${enable.stderr}`);
      const site = etc('apache2/sites-available/000-default.conf');
      const packaged = await readFile(site, 'utf8');
      const proxied = packaged.replace('\tDocumentRoot /var/www/html\n', '\tDocumentRoot /var/www/html\n\tProxyPass / http://127.0.0.1:7071/\n');
      if (proxied === packaged) throw new Error(`${site} has no "DocumentRoot /var/www/html" line to follow`);
      await writeFile(site, proxied);
      proxyPassLine = lineOf(proxied, 'ProxyPass / http://127.0.0.1:7071/');
      await start('apache2.service', 'active');
      expect(await httpStatus(`http://${host}/`)).toBe('503');
      expect(await readFile(join(bed.root!, 'var', 'log', 'apache2', 'error.log'), 'utf8')).toContain('AH00957: http: attempt to connect to 127.0.0.1:7071 (127.0.0.1:7071) failed');
      r = await whyport(['80']);
    }, 60_000);

    it('SERVICE_FAILED of myapp, exit 1, with diagnosis.proxy: apache2, 503, the ProxyPass line', () => {
      expect(r.report.diagnosis.code, trace(r)).toBe('SERVICE_FAILED');
      expect(r.status).toBe(1);
      expect(proxyOf(r), trace(r)).toEqual({
        program: 'apache2',
        config: `/etc/apache2/sites-enabled/000-default.conf:${proxyPassLine}`,
        upstream: '127.0.0.1:7071',
        status: 503,
      });
      expect(words(r), trace(r)).toContain('myapp: cannot open /etc/myapp/myapp.conf');
    });
  });
});
