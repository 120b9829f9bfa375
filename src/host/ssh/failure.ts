import type { CommandResult } from '../runner.js';
import { socketErrno } from '../../system/strerror.js';

/**
 * One line for a failed ssh connection: what failed, and what to try. ssh's own words are kept
 * where they are precise ("Permission denied (publickey)"); the hint is whyport's.
 */
export function sshFailure(server: string, r: CommandResult, elapsedMs: number, ctx: { sudo?: boolean; preflight?: boolean } = {}): string {
  const e = r.stderr;
  const last = e.split('\n').map((l) => l.trim()).filter((l) => l && !/^@+$|^Warning: Permanently added/.test(l)).pop() ?? '';
  if (ctx.preflight && ctx.sudo && /sudo: (a password is required|a terminal is required|.*password)/i.test(e)) {
    return `sudo on ${server} wants a password: --sudo runs sudo -n, which never asks — allow whyport's reads without a password (NOPASSWD), or drop --sudo`;
  }
  if (ctx.preflight && ctx.sudo && /sudo: (command not found|not found)|env: .sudo.: No such file/.test(e)) return `${server} has no sudo: drop --sudo, or connect as root`;
  const { host, port, login } = parts(server);
  const errno = socketErrno(e);
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(e)) {
    // known_hosts names a host on another port than 22 as [host]:port.
    const entry = port === undefined ? host : `'[${host}]:${port}'`;
    return `the host key of ${server} has changed since it was last seen, so ssh refuses to connect (a reinstalled server, or someone in between) — check the new key, then remove the old one: ssh-keygen -R ${entry}`;
  }
  if (/Host key verification failed|No (ED25519|RSA|ECDSA)? ?host key is known/.test(e)) {
    return `the host key of ${server} is not known here, and whyport does not accept keys on its own — ssh ${server} once to check and accept it, or pass --ssh-option StrictHostKeyChecking=accept-new`;
  }
  const denied = /Permission denied \(([^)]*)\)/.exec(e);
  if (denied) return `ssh to ${server}: authentication failed (the server takes: ${denied[1]}) — is your key loaded (ssh-add -l)? try ssh -i KEY ${port ? `-p ${port} ` : ''}${login}, then --ssh-option IdentityFile=KEY`;
  if (errno === 'ECONNREFUSED') return `ssh to ${server}: connection refused — nothing listens for ssh there: is sshd running, on port ${port ?? 22}? (another port: --ssh ${host.includes(':') ? login.replace(host, `[${host}]`) : login}:PORT)`;
  if (r.timedOut || /timed out/i.test(e)) return `ssh to ${server}: no answer (timed out after ${Math.round(elapsedMs / 100) / 10} s) — a firewall drops ssh, or the address is wrong: try ssh -v ${port ? `-p ${port} ` : ''}${login}`;
  if (/Could not resolve hostname/.test(e)) return `ssh to ${server}: the name does not resolve here — check the spelling, or give its address: --ssh ${login.replace(/[^@]*$/, 'ADDRESS')}`;
  if (errno === 'EHOSTUNREACH' || errno === 'ENETUNREACH') return `ssh to ${server}: ${errno === 'EHOSTUNREACH' ? 'no route to host' : 'network unreachable'} — is the address right? ip route get ${host} shows the way out`;
  if (ctx.preflight) return `ssh to ${server} connected, but the first command failed: ${last || `exit status ${r.exitCode}`}`;
  return `ssh to ${server} failed: ${last || `exit status ${r.exitCode}`}`;
}

/** `[user@]host[:port]` as the report labels a server: the host, the port if not 22's default, and `[user@]host`. */
function parts(server: string): { host: string; port: string | undefined; login: string } {
  // An IPv6 address (several colons, no brackets) has no port after it.
  const m = (server.replace(/^[^@]*@/, '').split(':').length > 2 && !/\]:\d+$/.test(server) ? null : /^(.*?):(\d+)$/.exec(server)) ?? [server, server];
  const login = m[1]!;
  return { login, host: login.replace(/^[^@]*@/, '').replace(/^\[|\]$/g, ''), port: m[2] };
}
