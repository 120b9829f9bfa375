import { execa } from 'execa';
import { afterAll, beforeAll, describe } from 'vitest';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, type Namespace } from './netns.js';
import type { ExecOptions, ExecResult, SystemdTestbed } from './nspawn.js';
import { freePort } from './servers.js';
import { privateSshdConfig } from './sshd-config.js';
import { execaRunner } from '../../src/host/runner.js';
import { SshSession } from '../../src/host/ssh/session.js';
import { parseSshTarget } from '../../src/host/ssh-target.js';

/**
 * Real ssh servers for `--ssh` tests (TESTBED.md, "sshd on loopback" and "ssh into that server"):
 * a private sshd on 127.0.0.1, the Debian ssh.service of a realServices nspawn bed, and the
 * networks a client reaches them over (a client namespace on a veth, or client ↔ router ↔ server
 * with a firewall on the way). Every server counts the commands run on it (`sessionCount`), so a
 * test can assert how many round trips a diagnosis cost.
 */

/** An ed25519 key pair without a passphrase. */
export interface SshKey {
  /** The private key: `ssh -i` / IdentityFile. */
  readonly keyPath: string;
  readonly publicKeyPath: string;
  /** The public key line, `ssh-ed25519 AAAA… comment`, for authorized_keys. */
  readonly publicKey: string;
}

/** What a client needs to reach one ssh server with strict host key checking. */
export interface SshServer {
  /** Where the client connects: an IP address. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The client's private key, authorized on the server. */
  readonly keyPath: string;
  /** A known_hosts file holding the server's host key, so `StrictHostKeyChecking=yes` passes. */
  readonly knownHostsPath: string;
  /**
   * An ssh_config with one `Host` entry (`alias`) carrying all of the above plus BatchMode and
   * IdentitiesOnly: `ssh -F clientConfigPath ALIAS cmd` needs nothing else.
   */
  readonly clientConfigPath: string;
  readonly alias: string;
  /** How many sessions (one per command run, `server_input_channel_open: ctype session`) the server has logged so far. */
  sessionCount(): Promise<number>;
}

export interface LoopbackSshd extends SshServer {
  /** Host PID of the sshd listener (`stop()` signals it). */
  readonly pid: number;
  /** sshd's own DEBUG1 log (its stderr). */
  readonly logPath: string;
  /** The temp dir holding keys, config and log; removed by `stop()`. */
  readonly dir: string;
  /** Stops sshd by pid (SIGTERM, then SIGKILL) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface LoopbackSshdOptions {
  /**
   * Extra sshd_config lines, e.g. ['MaxSessions 2']; they come first, so they win over the defaults
   * (except Port and ListenAddress, which add up rather than replace).
   */
  config?: readonly string[];
  /** How long to wait for sshd to answer; default 10 s. */
  startTimeoutMs?: number;
  /**
   * Run sshd in this network namespace (/run/netns/NAME, entered with nsenter, so /sys is not
   * remounted as `ip netns exec` does), listening on `listenAddress` port 22.
   */
  netns?: { name: string; listenAddress: string };
  /** Mount tracefs at /sys/kernel/tracing in sshd's private mount namespace (kfree_skb tests); its sessions see it. */
  tracefs?: boolean;
}

export interface BedSsh extends SshServer {
  /** The bed's address the client uses (same as `host`). */
  readonly address: string;
}

export interface EnableSshOptions {
  /** The bed's address the client will use; default the bed's first global IPv4 address (e.g. one startClientFor gave it). */
  address?: string;
  /** How long to wait for ssh.service to answer on port 22; default 15 s. */
  timeoutMs?: number;
}

/** A network namespace with an address, and a way to run commands in it. */
export interface NetnsHost {
  /** Its name under /run/netns (for `ip netns exec`, servers.ts's `netns` option). */
  readonly netns: string;
  /** Its address on the link towards the other side. */
  readonly address: string;
  /** Runs argv inside it (`ip netns exec`); a non-zero exit is data, a timeout comes back as `timedOut`. */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

export interface TwoHosts {
  /** A fresh namespace whose only way out is the veth to the server. */
  readonly client: NetnsHost;
  /** The server side: a fresh namespace, or the one given (a bed's). */
  readonly server: NetnsHost;
  /** Same as `client.exec`. */
  runInClient(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Deletes the veth and the namespaces this call created (never one it was given). Idempotent. */
  remove(): Promise<void>;
}

export interface RoutedNetwork extends TwoHosts {
  /** The namespace in between, forwarding (`net.ipv4.ip_forward=1`); `address` is its client-side one. */
  readonly router: NetnsHost & { readonly serverSideAddress: string };
}

export interface NetworkOptions {
  /**
   * An existing namespace to use as the server, e.g. a bed's (`bed.name`, /run/netns/<name>, the
   * one nspawn runs in). It is given an address and a route but is never deleted.
   */
  serverNetns?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const SSHD = '/usr/sbin/sshd';

/** A whyport ssh session to a loopback sshd as root, with its known_hosts and key (batch mode, no sudo). */
export function loopbackSession(sshd: LoopbackSshd): SshSession {
  return new SshSession(
    {
      target: parseSshTarget(`root@127.0.0.1:${sshd.port}`),
      options: [`UserKnownHostsFile=${sshd.knownHostsPath}`, `IdentityFile=${sshd.keyPath}`, 'IdentitiesOnly=yes'],
      sudo: false,
      batchMode: true,
      connectTimeoutMs: 10_000,
    },
    execaRunner,
  );
}

/** A loopback sshd and an open session to it, for the tests of one describe block. */
export interface LoopbackSuite {
  readonly sshd: LoopbackSshd;
  readonly session: SshSession;
}

/**
 * A describe block whose tests get a loopback sshd and a session to it (loopbackSuite); skipped,
 * with a warning that says why, where `unavailable` (sshdAvailable()) is a reason.
 */
export function describeWithLoopbackSshd(name: string, unavailable: string | null, tests: (ssh: LoopbackSuite) => void): void {
  if (unavailable) console.warn(`skipping ${name}: ${unavailable}`);
  describe.skipIf(unavailable !== null)(name, () => tests(loopbackSuite()));
}

/**
 * For a describe block: a loopback sshd and an open whyport session to it, started before its tests
 * and stopped after them. Read `sshd` and `session` inside the tests (not before they run).
 */
export function loopbackSuite(): LoopbackSuite {
  let sshd: LoopbackSshd | undefined;
  let session: SshSession | undefined;
  beforeAll(async () => {
    sshd = await startLoopbackSshd();
    session = loopbackSession(sshd);
    await session.open();
  }, 30_000);
  afterAll(async () => {
    await session?.close();
    await sshd?.stop();
  });
  return {
    get sshd() {
      return sshd!;
    },
    get session() {
      return session!;
    },
  };
}

/**
 * Null when a loopback sshd can be started here; otherwise the reason, for `describe.skipIf`
 * (print it with console.warn so a skip is never silent).
 */
export async function sshdAvailable(): Promise<string | null> {
  if (process.platform !== 'linux') return `a private sshd needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'a private sshd needs root (a private mount namespace for /run/sshd, login as root); run the tests as root or in CI';
  if (!(await executable(SSHD))) return `${SSHD} is not installed (apt-get install -y openssh-server)`;
  for (const tool of ['ssh', 'ssh-keygen', 'unshare']) {
    if (!(await onPath(tool))) return `${tool} is not installed (apt-get install -y ${tool === 'unshare' ? 'util-linux' : 'openssh-client'})`;
  }
  return null;
}

/** Makes an ed25519 key pair `dir/name` and `dir/name.pub` (no passphrase). */
export async function makeSshKey(dir: string, name = 'id_ed25519'): Promise<SshKey> {
  const keyPath = join(dir, name);
  await rm(keyPath, { force: true });
  await rm(`${keyPath}.pub`, { force: true });
  await mustRun(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `whyport-test-${name}`, '-f', keyPath]);
  const publicKey = (await readFile(`${keyPath}.pub`, 'utf8')).trim();
  return { keyPath, publicKeyPath: `${keyPath}.pub`, publicKey };
}

/**
 * The ssh client's argv for `server`, strict about the host key and never prompting; the remote
 * command, if any, is one string, as the remote shell will see it.
 */
export function sshArgv(server: SshServer, command?: string): string[] {
  return ['ssh', '-F', server.clientConfigPath, server.alias, ...(command === undefined ? [] : ['--', command])];
}

/**
 * A private sshd on 127.0.0.1 at a free port, logging at DEBUG1 to `logPath`: its own host key,
 * a fresh client key for root, password and PAM off. It runs in a private mount namespace with a
 * tmpfs on /run (so /run/sshd exists without touching the machine's /run); what its sessions run
 * therefore sees an empty /run. Resolves once it answers with its SSH banner.
 */
export async function startLoopbackSshd(opts: LoopbackSshdOptions = {}): Promise<LoopbackSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'wpt-sshd-'));
  try {
    const hostKey = await makeSshKey(dir, 'ssh_host_ed25519_key');
    const client = await makeSshKey(dir, 'id_ed25519');
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(authorizedKeys, `${client.publicKey}\n`, { mode: 0o600 });
    const deadline = performance.now() + (opts.startTimeoutMs ?? DEFAULT_TIMEOUT_MS);
    // The port is free when asked, not when sshd binds it: try another if someone took it meanwhile.
    for (let attempt = 1; ; attempt++) {
      const port = opts.netns ? 22 : await freePort('127.0.0.1');
      const started = await spawnSshd(dir, port, hostKey, authorizedKeys, opts.config ?? [], deadline, opts);
      if (started === 'port taken' && attempt < 3 && !opts.netns) continue;
      if (started === 'port taken') throw new Error(`sshd could not bind a free port three times; see ${join(dir, 'sshd.log')}`);
      const { pid, stop: stopSshd } = started;
      const host = opts.netns?.listenAddress ?? '127.0.0.1';
      const knownHostsPath = join(dir, 'known_hosts');
      const alias = `wpt-loopback-${port}`;
      const clientConfigPath = join(dir, 'ssh_config');
      try {
        await writeFile(knownHostsPath, knownHostsLine(host, port, hostKey.publicKey));
        await writeFile(clientConfigPath, clientConfig({ alias, host, port, user: 'root', keyPath: client.keyPath, knownHostsPath }));
      } catch (err) {
        await stopSshd();
        throw err;
      }
      const logPath = join(dir, 'sshd.log');
      let stopped = false;
      return {
        host,
        port,
        user: 'root',
        keyPath: client.keyPath,
        knownHostsPath,
        clientConfigPath,
        alias,
        pid,
        logPath,
        dir,
        async sessionCount() {
          return countSessions(await readFile(logPath, 'utf8'));
        },
        async stop() {
          if (stopped) return;
          stopped = true;
          await stopSshd();
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function spawnSshd(
  dir: string,
  port: number,
  hostKey: SshKey,
  authorizedKeys: string,
  extra: readonly string[],
  deadline: number,
  opts: LoopbackSshdOptions = {},
): Promise<'port taken' | { pid: number; stop: () => Promise<void> }> {
  const listenAddress = opts.netns?.listenAddress ?? '127.0.0.1';
  const configPath = join(dir, 'sshd_config');
  const logPath = join(dir, 'sshd.log');
  // sshd takes the first value it reads for a keyword, so the test's own lines go first.
  const config = [
    ...extra,
    ...privateSshdConfig({ port, listenAddress, hostKeyPath: hostKey.keyPath, authorizedKeysPath: authorizedKeys }),
    'Subsystem sftp /usr/lib/openssh/sftp-server',
  ];
  await writeFile(configPath, `${config.join('\n')}\n`);
  await writeFile(logPath, '');
  // sshd insists on /run/sshd (its privilege-separation dir); a tmpfs /run in a private mount
  // namespace gives it one without touching this machine's /run. unshare and sh both exec, so
  // the pid is sshd's own.
  const tracefs = opts.tracefs ? 'mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; ' : '';
  const script = `${tracefs}mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd && exec ${SSHD} -D -e -f "$1"`;
  const unshare = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', configPath];
  // nsenter execs too: the pid stays sshd's own.
  const [file, ...args] = opts.netns ? ['nsenter', `--net=/run/netns/${opts.netns.name}`, ...unshare] : unshare;
  const child = execa(file!, args, {
    reject: false,
    stdin: 'ignore',
    stdout: { file: logPath, append: true },
    stderr: { file: logPath, append: true },
    cleanup: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`unshare … sshd did not start; see ${logPath}`);
  let exited = false;
  const exitedPromise = child.then(() => {
    exited = true;
  });
  const stop = async () => {
    if (exited) return;
    signal(pid, 'SIGTERM');
    await Promise.race([exitedPromise, sleep(3_000)]);
    if (exited) return;
    signal(pid, 'SIGKILL');
    await Promise.race([exitedPromise, sleep(3_000)]);
  };
  for (;;) {
    if (exited) {
      const log = await readFile(logPath, 'utf8').catch(() => '');
      if (/Bind to port \d+ .* failed|Cannot bind any address/.test(log)) return 'port taken';
      throw new Error(`sshd exited before it answered on ${listenAddress}:${port}.\n${tail(log, 'sshd log', logPath)}`);
    }
    const banner = opts.netns ? await sshBannerIn(opts.netns.name, listenAddress, port) : await sshBanner('127.0.0.1', port, 1_000);
    if (banner !== undefined) return { pid, stop };
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`sshd did not answer on ${listenAddress}:${port} in time.\n${tail(await readFile(logPath, 'utf8').catch(() => ''), 'sshd log', logPath)}`);
    }
    await sleep(50);
  }
}

/**
 * Lets a client ssh into a bed from startSystemdTestbed({ realServices: true }) as root: a fresh key
 * in the container's /root/.ssh/authorized_keys, `LogLevel DEBUG1` for the Debian sshd (a drop-in
 * in the copied /etc/ssh/sshd_config.d, read before anything in sshd_config), and ssh.service
 * started inside; resolves once port 22 answers on `address` in the bed's namespace. The key and
 * known_hosts live in bed.tmpDir and go with `bed.stop()`.
 */
export async function enableSshInBed(bed: SystemdTestbed, opts: EnableSshOptions = {}): Promise<BedSsh> {
  const root = bed.root;
  if (root === undefined) throw new Error('enableSshInBed needs a bed started with startSystemdTestbed({ realServices: true }) (its own copy of /etc/ssh)');
  const address = opts.address ?? (await firstGlobalAddress(bed.name));
  if (address === undefined) {
    throw new Error(`bed ${bed.name} has no address a client could use: call startClientFor(bed) first, or pass { address }`);
  }
  const dir = join(bed.tmpDir, 'ssh-client');
  await mkdir(dir, { recursive: true });
  const client = await makeSshKey(dir);

  const etcSsh = join(root, 'etc', 'ssh');
  const hostKeyPub = join(etcSsh, 'ssh_host_ed25519_key.pub');
  // cp -a /etc brings this machine's host keys; a machine without them gets fresh ones in the copy only.
  if (!(await exists(hostKeyPub))) await mustRun(['ssh-keygen', '-A', '-f', root]);
  // Debian's sshd_config starts with `Include /etc/ssh/sshd_config.d/*.conf` and the first value
  // read wins, so a drop-in beats any LogLevel further down.
  await mkdir(join(etcSsh, 'sshd_config.d'), { recursive: true });
  await writeFile(join(etcSsh, 'sshd_config.d', '00-whyport-test.conf'), 'LogLevel DEBUG1\nPasswordAuthentication no\n');

  // The bed's root is a tmpfs (--volatile=yes): /root/.ssh is made fresh, mode 700 for StrictModes.
  const auth = await bed.exec(['sh', '-c', 'mkdir -p -m 700 /root/.ssh && cat >/root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys'], {
    input: `${client.publicKey}\n`,
  });
  if (auth.exitCode !== 0) throw new Error(`could not write /root/.ssh/authorized_keys in ${bed.name}: ${auth.stderr.trim()}`);

  const start = await bed.exec(['systemctl', 'start', 'ssh.service'], { timeoutMs: 20_000 });
  if (start.exitCode !== 0) {
    const status = await bed.exec(['systemctl', 'status', '--full', '--no-pager', 'ssh.service']);
    throw new Error(`systemctl start ssh.service failed in ${bed.name} (exit ${start.exitCode}): ${start.stderr.trim()}\n${status.stdout}`);
  }
  const deadline = performance.now() + (opts.timeoutMs ?? 15_000);
  while ((await sshBannerIn(bed.name, address, 22)) === undefined) {
    if (performance.now() > deadline) {
      const status = await bed.exec(['systemctl', 'status', '--full', '--no-pager', 'ssh.service']);
      throw new Error(`ssh.service in ${bed.name} is started but nothing answers on ${address}:22.\n${status.stdout}`);
    }
    await sleep(50);
  }

  const knownHostsPath = join(dir, 'known_hosts');
  await writeFile(knownHostsPath, knownHostsLine(address, 22, (await readFile(hostKeyPub, 'utf8')).trim()));
  const alias = `wpt-bed-${bed.name}`;
  const clientConfigPath = join(dir, 'ssh_config');
  await writeFile(clientConfigPath, clientConfig({ alias, host: address, port: 22, user: 'root', keyPath: client.keyPath, knownHostsPath }));
  return {
    address,
    host: address,
    port: 22,
    user: 'root',
    keyPath: client.keyPath,
    knownHostsPath,
    clientConfigPath,
    alias,
    async sessionCount() {
      // Both choices are guards, not fixes for anything seen: over 20 back-to-back `ssh … true`
      // here, `-u ssh` and `-t sshd` each counted every session at once, even without --sync.
      // --sync: journald has stored everything logged before it returns, so a session that just
      // ended is counted on a loaded machine too. By SYSLOG_IDENTIFIER rather than -u ssh: that
      // is in the message itself, while the unit depends on journald reading the cgroup of a
      // session process that may already have exited (OpenSSH ≥ 9.8 logs as sshd-session).
      const r = await bed.exec(['sh', '-c', 'journalctl --sync; journalctl --no-pager -o cat -t sshd -t sshd-session'], { timeoutMs: 15_000 });
      if (r.exitCode !== 0) throw new Error(`journalctl in ${bed.name} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
      return countSessions(r.stdout);
    },
  };
}

/**
 * A client namespace wired to the bed's namespace by a veth (10.213.N.1 ↔ 10.213.N.2/24), so
 * whyport and ssh can run "from another machine"; `server.address` is the bed's new address.
 */
export async function startClientFor(bed: SystemdTestbed): Promise<TwoHosts> {
  return twoHostNetwork({ serverNetns: bed.name });
}

/**
 * Two hosts on one veth: a fresh client namespace and a server namespace (fresh, or `serverNetns`),
 * 10.213.N.1 and 10.213.N.2 on a /24 of their own.
 */
export async function twoHostNetwork(opts: NetworkOptions = {}): Promise<TwoHosts> {
  const parts = new Teardown();
  try {
    const subnet = nextSubnet();
    const client = parts.namespace(createNamespace());
    const serverNetns = opts.serverNetns ?? parts.namespace(createNamespace()).name;
    await veth(parts, client.name, `${subnet}.1`, serverNetns, `${subnet}.2`);
    await sysctl(serverNetns, 'net.ipv4.icmp_ratelimit', '0');
    const clientHost = netnsHost(client.name, `${subnet}.1`);
    return {
      client: clientHost,
      server: netnsHost(serverNetns, `${subnet}.2`),
      runInClient: clientHost.exec,
      remove: () => parts.run(),
    };
  } catch (err) {
    await parts.run();
    throw err;
  }
}

/**
 * client ↔ router ↔ server on two /24s (10.213.A.2 — .1 router .1 — 10.213.B.2), default routes via
 * the router, which forwards: an `iptables -A FORWARD … -j DROP` in `router.exec` is a firewall on
 * the way that neither end can see. The server is fresh or `serverNetns` (a bed's).
 */
export async function routedNetwork(opts: NetworkOptions = {}): Promise<RoutedNetwork> {
  const parts = new Teardown();
  try {
    const a = nextSubnet();
    const b = nextSubnet();
    const client = parts.namespace(createNamespace());
    const router = parts.namespace(createNamespace());
    const serverNetns = opts.serverNetns ?? parts.namespace(createNamespace()).name;
    await veth(parts, client.name, `${a}.2`, router.name, `${a}.1`);
    await veth(parts, router.name, `${b}.1`, serverNetns, `${b}.2`);
    await sysctl(router.name, 'net.ipv4.ip_forward', '1');
    for (const ns of [router.name, serverNetns]) await sysctl(ns, 'net.ipv4.icmp_ratelimit', '0');
    await mustRun(['ip', '-n', client.name, 'route', 'add', 'default', 'via', `${a}.1`]);
    await mustRun(['ip', '-n', serverNetns, 'route', 'add', 'default', 'via', `${b}.1`]);
    const clientHost = netnsHost(client.name, `${a}.2`);
    return {
      client: clientHost,
      router: { ...netnsHost(router.name, `${a}.1`), serverSideAddress: `${b}.1` },
      server: netnsHost(serverNetns, `${b}.2`),
      runInClient: clientHost.exec,
      remove: () => parts.run(),
    };
  } catch (err) {
    await parts.run();
    throw err;
  }
}

/** Runs argv in a network namespace (`ip netns exec` keeps the pid, so the timeout kills the program itself). */
export async function runInNetns(netns: string, argv: readonly string[], o: ExecOptions = {}): Promise<ExecResult> {
  const r = await execa('ip', ['netns', 'exec', netns, ...argv], {
    reject: false,
    timeout: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    forceKillAfterDelay: 2_000,
    input: o.input,
    stdin: o.input === undefined ? 'ignore' : 'pipe',
    env: { LC_ALL: 'C', ...o.env },
    stripFinalNewline: false,
  });
  const timedOut = Boolean(r.timedOut);
  return {
    exitCode: timedOut || typeof r.exitCode !== 'number' ? null : r.exitCode,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    timedOut,
  };
}

function netnsHost(netns: string, address: string): NetnsHost {
  return { netns, address, exec: (argv, o) => runInNetns(netns, argv, o) };
}

/** What remove() undoes, last made first; links before namespaces, since a namespace dies asynchronously and its veth's peer lingers a moment. */
class Teardown {
  private readonly steps: Array<() => Promise<void> | void> = [];
  add(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }
  namespace(ns: Namespace): Namespace {
    this.add(() => ns.remove());
    return ns;
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // Best effort: the rest still goes.
      }
    }
  }
}

let linkCounter = 0;

/** A veth pair with one end in each namespace, addressed on a /24 and up. */
async function veth(parts: Teardown, nsA: string, addrA: string, nsB: string, addrB: string): Promise<void> {
  // Names are per namespace, but a bed's namespace may get several links: number them per process.
  const n = linkCounter++;
  const nameA = `wps${n}a`;
  const nameB = `wps${n}b`;
  await mustRun(['ip', '-n', nsA, 'link', 'add', nameA, 'type', 'veth', 'peer', 'name', nameB, 'netns', nsB]);
  parts.add(async () => {
    await execa('ip', ['-n', nsA, 'link', 'del', nameA], { reject: false, timeout: 5_000 });
  });
  await mustRun(['ip', '-n', nsA, 'addr', 'add', `${addrA}/24`, 'dev', nameA]);
  await mustRun(['ip', '-n', nsB, 'addr', 'add', `${addrB}/24`, 'dev', nameB]);
  await mustRun(['ip', '-n', nsA, 'link', 'set', nameA, 'up']);
  await mustRun(['ip', '-n', nsB, 'link', 'set', nameB, 'up']);
}

let subnetCounter = 0;

/** A 10.213.N prefix: distinct for each call in this process, and offset by the pid so two processes rarely share one. */
function nextSubnet(): string {
  return `10.213.${((process.pid + subnetCounter++) % 250) + 1}`;
}

async function sysctl(netns: string, key: string, value: string): Promise<void> {
  await mustRun(['ip', 'netns', 'exec', netns, 'sysctl', '-qw', `${key}=${value}`]);
}

async function firstGlobalAddress(netns: string): Promise<string | undefined> {
  const r = await execa('ip', ['-n', netns, '-4', '-o', 'addr', 'show', 'scope', 'global'], { reject: false, timeout: 5_000 });
  return /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(String(r.stdout))?.[1];
}

/** The first bytes a server sends on host:port, when it starts with `SSH-`; undefined when nothing answers so. */
function sshBanner(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let got = '';
    const done = (value: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\n')) done(got.startsWith('SSH-') ? got.trim() : undefined);
    });
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(undefined));
  });
}

/** The same, from inside a namespace (this process cannot reach its addresses). */
async function sshBannerIn(netns: string, host: string, port: number): Promise<string | undefined> {
  const r = await runInNetns(netns, ['bash', '-c', 'exec 3<>"/dev/tcp/$1/$2" && head -n 1 <&3', 'bash', host, String(port)], { timeoutMs: 2_000 });
  return r.stdout.startsWith('SSH-') ? r.stdout.trim() : undefined;
}

function countSessions(log: string): number {
  return log.split('\n').filter((l) => l.includes('server_input_channel_open: ctype session')).length;
}

/** known_hosts writes a non-default port as `[host]:port`. */
function knownHostsLine(host: string, port: number, publicKey: string): string {
  const [type, key] = publicKey.split(/\s+/);
  return `${port === 22 ? host : `[${host}]:${port}`} ${type} ${key}\n`;
}

function clientConfig(c: { alias: string; host: string; port: number; user: string; keyPath: string; knownHostsPath: string }): string {
  return [
    `Host ${c.alias}`,
    `  HostName ${c.host}`,
    `  Port ${c.port}`,
    `  User ${c.user}`,
    `  IdentityFile ${c.keyPath}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${c.knownHostsPath}`,
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    '  ConnectTimeout 5',
    '',
  ].join('\n');
}

async function mustRun(argv: readonly string[]): Promise<void> {
  const [file, ...args] = argv;
  const r = await execa(file!, args, { reject: false, timeout: 10_000, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.exitCode ?? 'none'}${r.timedOut ? ', timed out' : ''}): ${String(r.stderr).trim()}`);
}

function tail(text: string, what: string, file: string, lines = 30): string {
  const t = text.trimEnd().split('\n').slice(-lines).join('\n');
  return t ? `${what} (${file}, last ${lines} lines):\n${t}` : `${what} ${file} is empty`;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function executable(path: string): Promise<boolean> {
  return access(path, fsConstants.X_OK).then(
    () => true,
    () => false,
  );
}

async function onPath(tool: string): Promise<boolean> {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'].filter(Boolean);
  for (const dir of dirs) if (await executable(join(dir, tool))) return true;
  return false;
}
