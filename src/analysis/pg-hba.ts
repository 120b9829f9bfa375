import { isIP } from 'node:net';
import { normalizeAddress } from '../net/address.js';
import { POSTGRES } from '../knowledge/service-settings.js';
import type { HbaRecord, HbaToken, PgCluster } from '../system/pg-hba.js';
import { compileConfigRegex } from '../text/safe-regex.js';
import { addressIn } from './firewall/address.js';
import type { SettingVerdict, SourceLine } from './service-setting.js';

/** The client a pg_hba.conf is asked about: a TCP connection (never `local`). */
export interface PgClient {
  address: string;
  user: string;
  database: string;
  /** Whether the connection is encrypted with TLS; undefined when either try may happen (libpq's sslmode=prefer tries TLS, then plain). */
  ssl: boolean | undefined;
  /** A replication connection (walreceiver, pg_basebackup): only `replication` databases match it. */
  replication?: boolean;
}

/** Whether one condition holds: true, false, or a reason whyport cannot tell. */
type Tri = true | false | string;

const and = (a: Tri, b: Tri): Tri => (a === false || b === false ? false : a === true ? b : a);

function tokenMatches(tokens: readonly HbaToken[], test: (t: HbaToken) => Tri): Tri {
  let unsure: Tri = false;
  for (const t of tokens) {
    const r = test(t);
    if (r === true) return true;
    if (r !== false && unsure === false) unsure = r;
  }
  return unsure;
}

function regexToken(t: HbaToken, value: string): Tri | undefined {
  if (t.quoted || !t.value.startsWith('/')) return undefined;
  const re = compileConfigRegex(t.value.slice(1));
  return re ? re.test(value) : `the regular expression ${t.value}, which whyport does not evaluate (nested quantifiers or back-references)`;
}

function databaseMatches(r: HbaRecord, c: PgClient): Tri {
  return tokenMatches(r.databases, (t) => {
    if (!t.quoted) {
      if (t.value === 'replication') return c.replication === true;
      if (c.replication) return false;
      if (t.value === 'all') return true;
      if (t.value === 'sameuser') return c.database === c.user;
      if (t.value === 'samerole' || t.value === 'samegroup') return `whether ${c.user} is a member of role ${c.database}`;
      if (t.value.startsWith('@')) return `the database names in file ${t.value.slice(1)}`;
    }
    if (c.replication) return false;
    return regexToken(t, c.database) ?? t.value === c.database;
  });
}

function userMatches(r: HbaRecord, c: PgClient): Tri {
  return tokenMatches(r.users, (t) => {
    if (!t.quoted) {
      if (t.value === 'all') return true;
      if (t.value.startsWith('+')) return t.value.slice(1) === c.user ? true : `whether ${c.user} is a member of role ${t.value.slice(1)}`;
      if (t.value.startsWith('@')) return `the user names in file ${t.value.slice(1)}`;
    }
    return regexToken(t, c.user) ?? t.value === c.user;
  });
}

function addressMatches(r: HbaRecord, c: PgClient, serverAddresses: readonly string[]): Tri {
  const a = r.address;
  const client = normalizeAddress(c.address);
  if (!a) return false;
  switch (a.kind) {
    case 'all':
      return true;
    case 'samehost':
      return serverAddresses.map(normalizeAddress).includes(client);
    case 'samenet':
      return serverAddresses.map(normalizeAddress).includes(client) ? true : "the server's subnets (samenet)";
    case 'net':
      return addressIn(client, `${normalizeAddress(a.address)}/${a.prefix}`) === true;
    case 'name':
      return `the reverse lookup of ${client} (host name ${a.name})`;
  }
}

function typeMatches(r: HbaRecord, c: PgClient): Tri {
  switch (r.type) {
    case 'local':
      return false;
    case 'host':
    case 'hostnogssenc':
      return true;
    case 'hostgssenc':
      return false;
    case 'hostssl':
      return c.ssl === undefined ? 'whether the client uses TLS' : c.ssl;
    case 'hostnossl':
      return c.ssl === undefined ? 'whether the client uses TLS' : !c.ssl;
  }
}

/** Whether one record matches the client (PostgreSQL's check_hba: type, database, user, address). */
export function hbaRecordMatches(r: HbaRecord, c: PgClient, serverAddresses: readonly string[] = []): Tri {
  return and(and(typeMatches(r, c), addressMatches(r, c, serverAddresses)), and(databaseMatches(r, c), userMatches(r, c)));
}

/** The line to add for one client: its own address alone, the password method the file's host lines use. */
export function hbaLineFor(c: PgClient, records: readonly HbaRecord[]): string {
  const client = normalizeAddress(c.address);
  const net = `${client}/${isIP(client) === 6 ? 128 : 32}`;
  const method = records.find((r) => r.type.startsWith('host') && ['scram-sha-256', 'md5', 'password'].includes(r.method))?.method ?? POSTGRES.defaultMethod;
  const pad = (s: string, w: number) => s.padEnd(w);
  return `${pad('host', 8)}${pad(c.replication ? 'replication' : 'all', 16)}${pad('all', 16)}${pad(net, 24)}${method}`;
}

function lineRef(s: SourceLine): string {
  return `${s.file}:${s.line}`;
}

/**
 * Decides what pg_hba.conf says to a TCP client, as PostgreSQL does: the first record whose type,
 * database, user and address match decides; `reject` refuses (that line is the setting), any
 * other method lets the connection on to authentication; no match is "no pg_hba.conf entry".
 * A record whyport cannot decide before the first sure match makes it `undecided`. The fix adds a
 * line for this client's address (before the reject line that matched, or at the end) and
 * reloads the cluster. `serverAddresses` are the server's own (samehost).
 */
export function decidePgHba(records: readonly HbaRecord[], client: PgClient, opts: { file: string; cluster?: PgCluster; serverAddresses?: readonly string[] }): SettingVerdict {
  if (client.ssl !== undefined) return decideOnce(records, client, opts, true);
  // Whether the client uses TLS is not known: when both ways end on the same line, that line
  // decides; when both are admitted (by a hostssl and a hostnossl line), the file admits it.
  const [tls, plain] = [decideOnce(records, { ...client, ssl: true }, opts, false), decideOnce(records, { ...client, ssl: false }, opts, false)];
  const sameLine = tls.setting?.file === plain.setting?.file && tls.setting?.line === plain.setting?.line;
  const same = tls.outcome === plain.outcome && tls.outcome !== 'undecided' && (sameLine || tls.outcome === 'admits');
  return same ? plain : decideOnce(records, client, opts, true);
}

function decideOnce(records: readonly HbaRecord[], client: PgClient, opts: { file: string; cluster?: PgCluster; serverAddresses?: readonly string[] }, sayTls: boolean): SettingVerdict {
  const undecided: { line: SourceLine; why: string }[] = [];
  const who = `${client.user}@${client.database} from ${normalizeAddress(client.address)}${client.ssl === undefined || !sayTls ? '' : client.ssl ? ' over TLS' : ' without TLS'}`;
  const reload = POSTGRES.reload(opts.cluster?.version, opts.cluster?.name);
  const add = hbaLineFor(client, records);
  const evidence = [`${opts.file}: ${records.length} record${records.length === 1 ? '' : 's'} read${opts.cluster ? ` (cluster ${opts.cluster.version}/${opts.cluster.name}, port ${opts.cluster.port})` : ''}`];
  for (const r of records) {
    const m = hbaRecordMatches(r, client, opts.serverAddresses);
    if (m === false) continue;
    if (m !== true) {
      undecided.push({ line: r.source, why: m });
      continue;
    }
    if (undecided.length > 0) break;
    if (r.method === 'reject') {
      return {
        outcome: 'refuses',
        setting: r.source,
        explanation: `${lineRef(r.source)} rejects ${who}: the first pg_hba.conf line that matches it says reject`,
        fix: {
          summary: `Add a line for this client before ${lineRef(r.source)} (or narrow that reject line), then reload the cluster: PostgreSQL takes the first line that matches`,
          edit: { file: r.source.file, at: 'before', line: r.source.line, text: add },
          commands: reload,
        },
        evidence: [...evidence, `first match: ${lineRef(r.source)}: ${r.source.text}`],
      };
    }
    return {
      outcome: 'admits',
      setting: r.source,
      explanation: `${lineRef(r.source)} admits ${who} to authentication (${r.method}); if the server still answers "no pg_hba.conf entry", it has not read the file since it changed: reload it`,
      fix: { summary: 'Reload the cluster so that it reads pg_hba.conf as it is now', commands: reload },
      evidence: [...evidence, `first match: ${lineRef(r.source)}: ${r.source.text}`],
    };
  }
  if (undecided.length > 0) {
    return {
      outcome: 'undecided',
      explanation: `whether ${lineRef(undecided[0]!.line)} matches ${who} depends on ${undecided[0]!.why}`,
      undecided,
      evidence,
    };
  }
  const last = [...records].reverse().find((r) => r.source.file === opts.file)?.source;
  return {
    outcome: 'refuses',
    explanation: `no line of ${opts.file} matches ${who} ("no pg_hba.conf entry"): PostgreSQL refuses a connection no line admits`,
    fix: {
      summary: `Add a line for this client's address to ${opts.file}, then reload the cluster (pg_hba.conf is read on reload)`,
      edit: last ? { file: opts.file, at: 'after', line: last.line, text: add } : { file: opts.file, at: 'append', text: add },
      commands: reload,
    },
    evidence,
  };
}
