import { isIP } from 'node:net';
import { isLoopback, isWildcard, normalizeAddress } from '../net/address.js';
import { MYSQL } from '../knowledge/service-settings.js';
import { SQL_LIKE, wildcardMatches } from '../text/wildcard.js';
import type { MysqlAccount, MysqlOption } from '../system/mysql.js';
import type { SettingVerdict } from './service-setting.js';

/** The placeholder a fix writes where a password goes: the user fills it in; whyport never prints one. */
export const SQL_PASSWORD_PLACEHOLDER = '<password>';

/** Whether a pattern with MySQL's wildcards (`%` any run, `_` one character, `\` escapes) matches a text, case-insensitively. */
export function wildMatches(pattern: string, text: string): boolean {
  return wildcardMatches(pattern, text, SQL_LIKE);
}

const ipv4Number = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** The client as the server sees it: its address, its name by reverse lookup when known, and whether the server resolves names at all. */
export interface MysqlClient {
  address: string;
  /** The names the server would find for the address (undefined: not looked up). */
  names?: readonly string[];
  /** `skip-name-resolve`: the server matches addresses only. */
  skipNameResolve?: boolean;
}

/** Whether an account's Host admits the client (MariaDB's compare_hostname): true, false, or what it depends on. */
export function hostPatternAdmits(pattern: string, client: MysqlClient): true | false | string {
  const address = normalizeAddress(client.address);
  if (pattern === '%') return true;
  const masked = /^(\d+\.\d+\.\d+\.\d+)\/(\d+\.\d+\.\d+\.\d+)$/.exec(pattern);
  if (masked) {
    if (isIP(address) !== 4 || isIP(masked[1]!) !== 4 || isIP(masked[2]!) !== 4) return false;
    const mask = ipv4Number(masked[2]!);
    // Bitwise on 32 bits, unsigned.
    return ((ipv4Number(address) & mask) >>> 0) === ((ipv4Number(masked[1]!) & mask) >>> 0);
  }
  // Only the server's own socket, and loopback when the server resolves 127.0.0.1 to its name.
  if (pattern.toLowerCase() === 'localhost') return isLoopback(address) && !client.skipNameResolve;
  if (wildMatches(pattern, address)) return true;
  if (client.skipNameResolve) return false;
  if (client.names) return client.names.some((n) => wildMatches(pattern, n));
  // Digits, dots and wildcards, or an IPv6 form: an address pattern that did not match.
  if (/^[\d.%_]+$/.test(pattern) || pattern.includes(':')) return false;
  return `the host name the server finds for ${address} (account host '${pattern}')`;
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Decides whether the server lets the client's host connect at all (error 1130 is decided by the
 * Host of every account, before the user): some account's Host admits it, none does (the fix
 * creates an account for this address, with a password placeholder), or it depends on a name
 * whyport cannot look up. MariaDB's roles (empty Host) are not accounts. `user` is the user name
 * the client uses, when known (`--as-user`).
 */
export function decideMysqlHosts(accounts: readonly MysqlAccount[], client: MysqlClient, opts: { user?: string; database?: string } = {}): SettingVerdict {
  const address = normalizeAddress(client.address);
  const real = accounts.filter((a) => a.host !== '');
  const evidence = [`accounts (mysql.user): ${real.map((a) => `${quote(a.user)}@${quote(a.host)}`).join(', ') || 'none'}`];
  if (client.skipNameResolve) evidence.push('skip-name-resolve: the server matches addresses only');
  const admitting = real.filter((a) => hostPatternAdmits(a.host, client) === true);
  if (admitting.length > 0) {
    const own = opts.user ? admitting.filter((a) => a.user === opts.user) : admitting;
    const note = opts.user && own.length === 0 ? `; but none of them is user ${opts.user}: it would be refused as "Access denied" (1045) instead` : '';
    return { outcome: 'admits', explanation: `${admitting.map((a) => `${quote(a.user)}@${quote(a.host)}`).join(', ')} admit${admitting.length === 1 ? 's' : ''} connections from ${address}${note}`, evidence };
  }
  const unsure = real.map((a) => [a, hostPatternAdmits(a.host, client)] as const).filter((x): x is readonly [MysqlAccount, string] => typeof x[1] === 'string');
  if (unsure.length > 0) return { outcome: 'undecided', explanation: `whether ${address} may connect depends on ${unsure[0]![1]}`, evidence };

  const user = opts.user ?? '<user>';
  const database = opts.database ?? '<database>';
  const account = `${quote(user)}@${quote(address)}`;
  const elsewhere = opts.user ? real.filter((a) => a.user === opts.user) : [];
  return {
    outcome: 'refuses',
    explanation: `no account of the server has a Host that admits ${address} (error 1130, "Host '${address}' is not allowed to connect"): the server checks every account's Host before it even greets the client`,
    fix: {
      summary:
        `Create an account for this client's address (as root on the server, in the client: mariadb), with a password of your own in place of ${SQL_PASSWORD_PLACEHOLDER} and only the privileges it needs` +
        (elsewhere.length > 0 ? `; ${user} exists only for ${elsewhere.map((a) => quote(a.host)).join(', ')}` : ''),
      commands: [[MYSQL.clients[0], '-e', `CREATE USER ${account} IDENTIFIED BY '${SQL_PASSWORD_PLACEHOLDER}'; GRANT ALL PRIVILEGES ON \`${database}\`.* TO ${account};`]],
    },
    evidence,
  };
}

/** The server's value of an option: the last line of it in any of the groups mariadbd reads (pure). Accepts `loose-` and `enable-`/`skip-` prefixes as the server does. */
export function serverOption(options: readonly MysqlOption[], name: string, groups: readonly string[] = MYSQL.serverGroups): MysqlOption | undefined {
  const want = name.replace(/-/g, '_').toLowerCase();
  const bare = (n: string) => n.replace(/^loose_/, '');
  return options.filter((o) => groups.includes(o.group) && [want, `skip_${want}`, `enable_${want}`].includes(bare(o.name))).at(-1);
}

/** Whether the server matches account hosts by address only (`skip-name-resolve` in a server group, not turned off again). */
export function skipsNameResolve(options: readonly MysqlOption[]): boolean {
  const o = serverOption(options, 'name_resolve');
  if (!o) return false;
  const off = ['0', 'off', 'false'].includes((o.value ?? '').toLowerCase());
  return o.name.replace(/^loose_/, '').startsWith('skip_') ? !off : false;
}

/** Whether `bind-address` lets the server listen where the client connects: the line that decides, and the line that would. */
export function decideMysqlBind(options: readonly MysqlOption[], target: string): SettingVerdict {
  const skip = serverOption(options, 'networking');
  const evidence: string[] = [];
  if (skip && skip.name.replace(/^loose_/, '').startsWith('skip_')) {
    return {
      outcome: 'refuses',
      setting: skip.source,
      explanation: `${skip.source.file}:${skip.source.line} (${skip.source.text}) turns TCP off: the server listens on its unix socket only`,
      fix: { summary: 'Delete that line and set bind-address to the address clients connect to, then restart the server', edit: { file: skip.source.file, at: 'delete', line: skip.source.line, text: skip.source.text }, commands: [[...MYSQL.restart]] },
      evidence,
    };
  }
  const bind = serverOption(options, 'bind_address');
  const addr = normalizeAddress(target);
  if (!bind || bind.value === undefined) return { outcome: 'admits', explanation: 'no bind-address line: the server listens on every address', evidence };
  evidence.push(`bind-address: ${bind.source.file}:${bind.source.line}: ${bind.source.text}`);
  const words = bind.value.split(',').map((w) => w.trim().toLowerCase());
  const covers = words.some((w) => w === '*' || isWildcard(w) || normalizeAddress(w) === addr || (w === 'localhost' && isLoopback(addr)));
  if (covers) return { outcome: 'admits', setting: bind.source, explanation: `${bind.source.file}:${bind.source.line} listens on ${addr}`, evidence };
  const text = `bind-address            = ${isIP(addr) === 6 ? '::' : '0.0.0.0'}`;
  return {
    outcome: 'refuses',
    setting: bind.source,
    explanation: `${bind.source.file}:${bind.source.line} (${bind.source.text}) keeps the server off ${addr}`,
    fix: { summary: `Listen on ${addr} too (or on every address, with accounts and a firewall deciding who gets in), then restart the server`, edit: { file: bind.source.file, at: 'replace', line: bind.source.line, text }, commands: [[...MYSQL.restart]] },
    evidence,
  };
}
