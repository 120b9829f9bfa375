import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

/** Where `--ssh` goes: `[USER@]SERVER[:SSHPORT]`, checked so that ssh sees a destination and nothing else. */
export interface SshTarget {
  user?: string;
  server: string;
  port?: number;
  /** As ssh takes it: `user@server` or `server`. */
  destination: string;
}

// A host name (or an ssh_config Host alias) and a user name of the portable kinds: no option
// letters in front, no shell syntax, no spaces, nothing ssh would read as its own syntax (%, !).
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Parses and checks an `--ssh` value; throws UsageError (exit 2) for anything that is not a plain destination. */
export function parseSshTarget(value: string): SshTarget {
  const bad = (why: string, hint = 'give [USER@]SERVER[:SSHPORT], e.g. --ssh admin@10.0.0.5 or --ssh db1:2222'): never => {
    throw new UsageError(`--ssh '${value}' ${why}`, hint);
  };
  if (value === '') bad('is empty');
  if (value.startsWith('-')) bad("starts with '-': ssh would read it as an option", 'a destination never starts with a dash; pass ssh options with --ssh-option KEY=VALUE');
  if (/[\s;&|`$<>(){}\\!*?"'#~%]/.test(value)) bad('contains characters that are not part of a destination (shell syntax or spaces)');
  let rest = value;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!USER.test(user)) bad(`has a user name '${user}' whyport does not accept`);
  }
  let port: number | undefined;
  let server = rest;
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(rest);
  if (bracketed) {
    server = bracketed[1]!;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (isIP(rest) === 6) {
    server = rest;
  } else {
    const m = /^([^:]+):(\d+)$/.exec(rest);
    if (m) {
      server = m[1]!;
      port = Number(m[2]);
    } else if (rest.includes(':')) bad('has a port that is not a number');
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) bad(`has port ${port}, not 1–65535`);
  if (isIP(server) === 0 && !NAME.test(server)) bad(`has a server name '${server}' that is not a host name`);
  const destination = user ? `${user}@${server}` : server;
  return { ...(user ? { user } : {}), server, ...(port !== undefined ? { port } : {}), destination };
}

// ssh_config keywords are letters only; values may hold what a user passes on purpose (a
// ProxyJump, a path), but never a newline, which would be a second option line.
const OPTION = /^([A-Za-z]+)=([^\n\r\0]*)$/;

/** Checks an `--ssh-option KEY=VALUE` and returns it as ssh's `-o` takes it. */
export function parseSshOption(value: string): string {
  const m = OPTION.exec(value);
  if (!m) throw new UsageError(`--ssh-option '${value}' is not KEY=VALUE`, 'e.g. --ssh-option StrictHostKeyChecking=accept-new (passed to ssh as -o KEY=VALUE)');
  if (/^(ControlPath|ControlMaster|ControlPersist)$/i.test(m[1]!)) {
    throw new UsageError(`--ssh-option ${m[1]} is whyport's own`, 'whyport runs one multiplexed connection per diagnosis in a private directory; leave the Control* options to it');
  }
  return `${m[1]}=${m[2]}`;
}
