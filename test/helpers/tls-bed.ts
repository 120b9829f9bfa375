import { execa } from 'execa';
import { build } from 'esbuild';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Certificates of every kind a TLS client rejects, made with the real `openssl` (TESTBED.md:
 * `openssl ca -startdate … -enddate …` with a minimal config for dates in the past or future),
 * and a private nginx serving them (`nginx -c CONF -g 'daemon off;'`, pid, logs and temp files in
 * the test's directory) inside a network namespace.
 */

/** The name every certificate is judged against (the one a client asks for). */
export const SITE = 'site.test';

export type CertCase =
  | 'healthy'
  | 'expired'
  | 'other-name'
  | 'not-yet-valid'
  | 'self-signed'
  | 'untrusted'
  | 'expired-untrusted'
  | 'several'
  | 'ip';

export interface CertFiles {
  crt: string;
  key: string;
}

export interface TestCertificates {
  /** The test CA (PEM): trusted by the tests that pass it, unknown to the system. */
  caPem: string;
  caFile: string;
  /** A second CA that nobody is told to trust. */
  strangerCaFile: string;
  files: Record<CertCase, CertFiles>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const r = await execa('openssl', args, { cwd: dir, reject: false, timeout: 20_000 });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(' ')} failed (exit ${r.exitCode}): ${String(r.stderr).trim()}`);
}

/** A CA directory for `openssl ca` (TESTBED.md's minimal config: database, serial, new_certs_dir, policy). */
async function caConfig(dir: string, name: string): Promise<string> {
  const d = join(dir, name);
  await mkdir(join(d, 'newcerts'), { recursive: true });
  await writeFile(join(d, 'index.txt'), '');
  await writeFile(join(d, 'serial'), '01\n');
  const conf = join(d, 'ca.cnf');
  await writeFile(
    conf,
    [
      '[ ca ]',
      'default_ca = d',
      '[ d ]',
      `database = ${d}/index.txt`,
      `serial = ${d}/serial`,
      `new_certs_dir = ${d}/newcerts`,
      'default_md = sha256',
      'policy = p',
      'copy_extensions = copy',
      'unique_subject = no',
      '[ p ]',
      'commonName = supplied',
      '[ v3_ca ]',
      'basicConstraints = critical,CA:true',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  return conf;
}

/** A key and a request for CN=`cn` with these subjectAltNames. */
async function request(dir: string, name: string, cn: string, san: string): Promise<{ key: string; csr: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  await openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`, '-out', csr]);
  return { key, csr };
}

/** A certificate signed by `ca` (or by itself with `selfsign`), valid from `start` to `end` (YYYYMMDDHHMMSSZ). */
async function sign(dir: string, conf: string, name: string, req: { key: string; csr: string }, dates: { start: string; end: string }, ca?: { crt: string; key: string }): Promise<CertFiles> {
  const crt = join(dir, `${name}.crt`);
  const signer = ca ? ['-cert', ca.crt, '-keyfile', ca.key] : ['-selfsign', '-keyfile', req.key];
  await openssl(dir, ['ca', '-batch', '-notext', '-config', conf, ...signer, '-startdate', dates.start, '-enddate', dates.end, '-in', req.csr, '-out', crt]);
  return { crt, key: req.key };
}

function stamp(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;
}

/** Every certificate the tests serve, in `dir`. `ipAddress` goes into the `ip` case's subjectAltName. */
export async function makeCertificates(dir: string, ipAddress: string): Promise<TestCertificates> {
  const conf = await caConfig(dir, 'ca');
  const strangerConf = await caConfig(dir, 'stranger');
  const day = 86_400_000;
  const now = Date.now();
  const valid = { start: stamp(new Date(now - day)), end: stamp(new Date(now + 30 * day)) };
  const past = { start: '20200101000000Z', end: '20210101000000Z' };
  const future = { start: '20990101000000Z', end: '20991231000000Z' };

  const makeCa = async (name: string, c: string) => {
    const key = join(dir, `${name}.key`);
    const crt = join(dir, `${name}.crt`);
    await openssl(dir, ['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', `/CN=${name} test CA`, '-days', '30', '-config', c, '-extensions', 'v3_ca', '-out', crt]);
    return { crt, key };
  };
  const ca = await makeCa('whyport-ca', conf);
  const stranger = await makeCa('stranger-ca', strangerConf);
  const site = `DNS:${SITE}`;

  const files = {
    healthy: await sign(dir, conf, 'healthy', await request(dir, 'healthy', SITE, site), valid, ca),
    expired: await sign(dir, conf, 'expired', await request(dir, 'expired', SITE, site), past, ca),
    'other-name': await sign(dir, conf, 'other-name', await request(dir, 'other-name', 'other.test', 'DNS:other.test,DNS:*.other.test'), valid, ca),
    'not-yet-valid': await sign(dir, conf, 'not-yet-valid', await request(dir, 'not-yet-valid', SITE, site), future, ca),
    'self-signed': await sign(dir, conf, 'self-signed', await request(dir, 'self-signed', SITE, site), valid),
    untrusted: await sign(dir, strangerConf, 'untrusted', await request(dir, 'untrusted', SITE, site), valid, stranger),
    'expired-untrusted': await sign(dir, strangerConf, 'expired-untrusted', await request(dir, 'expired-untrusted', SITE, site), past, stranger),
    // TESTBED.md's recipe exactly: openssl ca -selfsign with past dates, for another name.
    several: await sign(dir, conf, 'several', await request(dir, 'several', 'other.test', 'DNS:other.test'), past),
    ip: await sign(dir, conf, 'ip', await request(dir, 'ip', ipAddress, `IP:${ipAddress}`), valid, ca),
  } satisfies Record<CertCase, CertFiles>;
  // nginx sends the chain in the certificate file: the leaf, then its CA.
  for (const [name, f] of Object.entries(files)) {
    const issuer = name === 'untrusted' || name === 'expired-untrusted' ? stranger.crt : name === 'self-signed' || name === 'several' ? undefined : ca.crt;
    if (issuer) await writeFile(f.crt, (await readFile(f.crt, 'utf8')) + (await readFile(issuer, 'utf8')));
  }
  return { caPem: await readFile(ca.crt, 'utf8'), caFile: ca.crt, strangerCaFile: stranger.crt, files };
}

/** One nginx `server` block: TLS with a certificate, or plain HTTP; `extra` lines inside it. */
export interface NginxServer {
  listen: string;
  cert?: CertFiles;
  extra?: string[];
}

export interface RunningNginx {
  pid: number;
  stop(): Promise<void>;
}

/** nginx in the foreground (`daemon off`) with a private config, pid, logs and temp paths in `dir`, inside `netns`. */
export async function startNginx(dir: string, netns: string, servers: readonly NginxServer[]): Promise<RunningNginx> {
  await mkdir(join(dir, 'nginx'), { recursive: true });
  const d = join(dir, 'nginx');
  const conf = join(d, 'nginx.conf');
  const blocks = servers.map((s) =>
    [
      '  server {',
      `    listen ${s.listen}${s.cert ? ' ssl' : ''};`,
      ...(s.cert ? [`    ssl_certificate ${s.cert.crt};`, `    ssl_certificate_key ${s.cert.key};`] : []),
      ...(s.extra ?? []).map((l) => `    ${l}`),
      '    return 200 "ok\\n";',
      '  }',
    ].join('\n'),
  );
  await writeFile(
    conf,
    [
      `pid ${d}/nginx.pid;`,
      `error_log ${d}/error.log;`,
      'worker_processes 1;',
      'events {}',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${d};`),
      ...blocks,
      '}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('ip', ['netns', 'exec', netns, 'nginx', '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Ready once it wrote its pid file (after binding every port), or failed.
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx did not start: ${stderr.trim()}`);
    if (await readFile(join(d, 'nginx.pid'), 'utf8').catch(() => undefined)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid!;
  return {
    pid,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGQUIT');
      const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(t);
    },
  };
}

// Runs inspectTls inside a namespace: reads {via, options} on stdin, prints the finding (or with via 'probe' the raw handshake) as JSON.
const AGENT = (repo: string) => `import { localHost } from ${JSON.stringify(join(repo, 'src/host/local.ts'))};
import { inspectTls } from ${JSON.stringify(join(repo, 'test/helpers/inspect-tls.ts'))};
import { probeTls } from ${JSON.stringify(join(repo, 'src/host/tls-probe.ts'))};
let input = '';
for await (const chunk of process.stdin) input += chunk;
const { via, options } = JSON.parse(input);
if (options.now) options.now = new Date(options.now);
// 'probe': the raw handshake node's probe saw. A host without node's TLS probe (any but this
// machine) goes through openssl s_client and the host's runner.
const { probeTls: _nodeTls, ...elsewhere } = localHost;
const host = via === 'node' ? localHost : elsewhere;
const answer = via === 'probe' ? await probeTls(options.address, options.port, options) : await inspectTls(host, options);
process.stdout.write(JSON.stringify(answer));
`;

/** Bundles the agent (whyport's own inspectTls and local host) into `dir`; returns its path. */
export async function buildTlsAgent(dir: string, repo: string): Promise<string> {
  const outfile = join(dir, 'tls-agent.mjs');
  await build({
    stdin: { contents: AGENT(repo), resolveDir: repo, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'silent',
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  });
  return outfile;
}
