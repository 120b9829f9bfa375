/**
 * The ssh case's server: a private sshd in a namespace of the bench's own, with its own keys, at
 * LogLevel DEBUG1 (one `ctype session` line per command it runs), and what it needs on the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateSshdConfig } from '../test/helpers/sshd-config.js';
import { sleep } from './shared/common.js';
import { must, onPath, res } from './shared/resources.js';

const SSHD = '/usr/sbin/sshd';
/** Client .1, server .2; a /24 of the private 10.213.0.0/16 the tests also use, on links only our namespaces see. */
export const SSH_SUBNET = '10.213.250';
export const SSHD_PORT = 22;

/** Null when the ssh case can run here; otherwise why not (the case is then skipped, saying so). */
export function sshUnavailable(): string | null {
  try {
    accessSync(SSHD, fsConstants.X_OK);
  } catch {
    return `${SSHD} is not installed (apt-get install -y openssh-server)`;
  }
  for (const [tool, pkg] of [['ssh', 'openssh-client'], ['ssh-keygen', 'openssh-client'], ['unshare', 'util-linux'], ['ss', 'iproute2']] as const) {
    if (!onPath(tool)) return `${tool} is not installed (apt-get install -y ${pkg})`;
  }
  return null;
}

export function tailOf(file: string, lines = 20): string {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // not written yet
  }
  const t = text.trimEnd().split('\n').slice(-lines).join('\n');
  return t ? `${file}, last lines:\n${t}` : `${file} is empty`;
}

/** An ed25519 key pair `dir/name`, `dir/name.pub` without a passphrase; returns the public key line. */
function makeKey(dir: string, name: string): string {
  const path = join(dir, name);
  must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `whyport-bench-${name}`, '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

/**
 * A private sshd in the server namespace: its own host key, root's key and authorized_keys in
 * `dir`, DEBUG1 to `dir/sshd.log`; in a private mount namespace with a tmpfs /run, so /run/sshd
 * exists without touching the machine's. `ip netns exec`, unshare and sh all exec: the child's pid
 * is sshd's. Resolves once sshd says it listens.
 */
export async function startSshd(srv: string, dir: string, address: string): Promise<{ pid: number; hostKey: string; keyPath: string; logPath: string }> {
  const hostKey = makeKey(dir, 'ssh_host_ed25519_key');
  const clientKey = makeKey(dir, 'id_ed25519');
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, `${clientKey}\n`, { mode: 0o600 });
  const configPath = join(dir, 'sshd_config');
  const config = privateSshdConfig({ port: SSHD_PORT, listenAddress: address, hostKeyPath: join(dir, 'ssh_host_ed25519_key'), authorizedKeysPath: authorizedKeys });
  writeFileSync(configPath, [...config, ''].join('\n'));
  const logPath = join(dir, 'sshd.log');
  const fd = openSync(logPath, 'a');
  let sshd: ChildProcess;
  try {
    const script = `mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd && exec ${SSHD} -D -e -f "$1"`;
    sshd = spawn('ip', ['netns', 'exec', srv, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', configPath], { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  res.children.push(sshd);
  let spawnError: string | undefined;
  sshd.on('error', (e) => (spawnError = e.message));
  const deadline = performance.now() + 10_000;
  const listening = `Server listening on ${address} port ${SSHD_PORT}.`;
  for (;;) {
    if (spawnError) throw new Error(`could not start sshd: ${spawnError}`);
    if (sshd.exitCode !== null || sshd.signalCode !== null) throw new Error(`sshd exited (${sshd.signalCode ?? `exit ${sshd.exitCode}`}) before it listened; ${tailOf(logPath)}`);
    if (readFileSync(logPath, 'utf8').includes(listening)) break;
    if (performance.now() > deadline) throw new Error(`sshd did not listen on ${address}:${SSHD_PORT} within 10 s; ${tailOf(logPath)}`);
    await sleep(50);
  }
  return { pid: sshd.pid!, hostKey, keyPath: join(dir, 'id_ed25519'), logPath };
}
