import { isIP } from 'node:net';
import { posix } from 'node:path';
import type { Host } from '../host/host.js';
import { POSTGRES } from '../knowledge/service-settings.js';
import { maskPrefix } from '../net/mask.js';
import { readConfigTree, type ConfigSnapshot, type FlatConfig, type IncludeRule, type SourceLine } from './config-tree.js';

export type HbaType = 'local' | 'host' | 'hostssl' | 'hostnossl' | 'hostgssenc' | 'hostnogssenc';
const HBA_TYPES: readonly HbaType[] = ['local', 'host', 'hostssl', 'hostnossl', 'hostgssenc', 'hostnogssenc'];

/** One word of a pg_hba.conf field list: quoted words are never keywords (`"all"` is a database named all). */
export interface HbaToken {
  value: string;
  quoted: boolean;
}

/** The address field of a host record. */
export type HbaAddress =
  | { kind: 'all' | 'samehost' | 'samenet' }
  /** An address with its prefix length (`10.0.0.0/24`), also from the address and mask form. */
  | { kind: 'net'; address: string; prefix: number }
  /** A host name, or a suffix when it starts with a dot (`.example.com`). */
  | { kind: 'name'; name: string };

/** One record of pg_hba.conf. */
export interface HbaRecord {
  source: SourceLine;
  type: HbaType;
  databases: HbaToken[];
  users: HbaToken[];
  /** Absent for `local`. */
  address?: HbaAddress;
  method: string;
  options: string[];
}

export interface HbaParse {
  records: HbaRecord[];
  /** Lines PostgreSQL would refuse to load (it keeps the old file then), with why. */
  errors: { source: SourceLine; message: string }[];
}

/**
 * The fields of one pg_hba.conf line as PostgreSQL's tokenizer splits them: blanks separate
 * fields, commas separate the words of a field, double quotes keep both (and make a word
 * literal), `#` outside quotes ends the line.
 */
export function hbaFields(text: string): HbaToken[][] {
  const fields: HbaToken[][] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n || text[i] === '#') break;
    const field: HbaToken[] = [];
    for (;;) {
      let value = '';
      let quoted = false;
      while (i < n && !/[\s,#]/.test(text[i]!)) {
        if (text[i] === '"') {
          quoted = true;
          i++;
          while (i < n && text[i] !== '"') value += text[i++];
          // PostgreSQL writes a quote inside quotes as "" — the loop reads it as closing and opening.
          i++;
        } else value += text[i++];
      }
      field.push({ value, quoted });
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    fields.push(field);
  }
  return fields;
}

const dotted = (s: string) => /^\d+\.\d+\.\d+\.\d+$/.test(s);

/** Joins lines that end in a backslash with the next line of the same file (PostgreSQL 16 reads them as one). */
function joinContinued(lines: readonly SourceLine[]): SourceLine[] {
  const out: SourceLine[] = [];
  let pending: SourceLine | undefined;
  for (const l of lines) {
    if (pending && pending.file === l.file) {
      pending = { ...pending, text: pending.text.slice(0, -1) + ' ' + l.text };
    } else {
      if (pending) out.push({ ...pending, text: pending.text.slice(0, -1) });
      pending = undefined;
      pending = { ...l };
    }
    if (!pending.text.endsWith('\\')) {
      out.push(pending);
      pending = undefined;
    }
  }
  if (pending) out.push({ ...pending, text: pending.text.slice(0, -1) });
  return out;
}

/** Parses the lines of pg_hba.conf (with its includes laid out in place, see hbaIncludeRule). Pure; never throws. */
export function parsePgHba(lines: readonly SourceLine[]): HbaParse {
  const out: HbaParse = { records: [], errors: [] };
  for (const source of joinContinued(lines)) {
    const fields = hbaFields(source.text);
    if (fields.length === 0) continue;
    const first = fields[0]!;
    const keyword = first.length === 1 && !first[0]!.quoted ? first[0]!.value : '';
    if (/^include(_if_exists|_dir)?$/.test(keyword)) continue;
    const type = HBA_TYPES.find((t) => t === keyword);
    if (!type) {
      out.errors.push({ source, message: `invalid connection type "${first.map((t) => t.value).join(',')}"` });
      continue;
    }
    const local = type === 'local';
    if (fields.length < (local ? 4 : 5)) {
      out.errors.push({ source, message: 'end-of-line before authentication method' });
      continue;
    }
    const databases = fields[1]!;
    const users = fields[2]!;
    let rest = fields.slice(3);
    let address: HbaAddress | undefined;
    if (!local) {
      const word = rest[0]!;
      rest = rest.slice(1);
      if (word.length !== 1) {
        out.errors.push({ source, message: 'multiple values specified for host address' });
        continue;
      }
      const { value, quoted } = word[0]!;
      const slash = value.indexOf('/');
      const bare = slash < 0 ? value : value.slice(0, slash);
      if (!quoted && (value === 'all' || value === 'samehost' || value === 'samenet')) address = { kind: value };
      else if (isIP(bare)) {
        let prefix: number | undefined;
        if (slash >= 0) {
          const len = value.slice(slash + 1);
          prefix = /^\d+$/.test(len) && Number(len) <= (isIP(bare) === 4 ? 32 : 128) ? Number(len) : undefined;
        } else if (rest.length >= 2 && rest[0]!.length === 1 && (dotted(rest[0]![0]!.value) || isIP(rest[0]![0]!.value) === 6)) {
          prefix = maskPrefix(rest[0]![0]!.value);
          rest = rest.slice(1);
        } else {
          out.errors.push({ source, message: 'specifies neither IP address mask nor a CIDR length' });
          continue;
        }
        if (prefix === undefined) {
          out.errors.push({ source, message: `invalid IP mask in "${value}"` });
          continue;
        }
        address = { kind: 'net', address: bare, prefix };
      } else if (slash >= 0 || value === '') {
        out.errors.push({ source, message: `invalid IP address "${value}"` });
        continue;
      } else address = { kind: 'name', name: value.toLowerCase() };
    }
    if (rest.length === 0 || rest[0]!.length !== 1) {
      out.errors.push({ source, message: rest.length === 0 ? 'end-of-line before authentication method' : 'multiple values specified for authentication type' });
      continue;
    }
    const method = rest[0]![0]!.value;
    const options = rest.slice(1).map((f) => f.map((t) => t.value).join(','));
    out.records.push({ source, type, databases, users, ...(address ? { address } : {}), method, options });
  }
  return out;
}

/** pg_hba.conf's include, include_if_exists and include_dir (PostgreSQL 16), relative to the including file. */
export const hbaIncludeRule: IncludeRule = (text, file) => {
  const fields = hbaFields(text);
  if (fields.length !== 2 || fields[0]!.length !== 1 || fields[0]![0]!.quoted || fields[1]!.length !== 1) return undefined;
  const keyword = fields[0]![0]!.value;
  const target = posix.resolve(posix.dirname(file), fields[1]![0]!.value);
  if (keyword === 'include') return { kind: 'file', path: target };
  if (keyword === 'include_if_exists') return { kind: 'file', path: target, optional: true };
  if (keyword === 'include_dir') return { kind: 'dir', dir: target, keep: (n) => n.endsWith(POSTGRES.hbaIncludeSuffix) && !n.startsWith('.') };
  return undefined;
};

/** A `name = value` line of postgresql.conf: the name lower-cased, the value unquoted (`''` is a quote inside quotes). */
export function pgConfSetting(text: string): { name: string; value: string } | undefined {
  const m = /^([A-Za-z_][\w.-]*)\s*(?:=\s*|\s+)(.*)$/.exec(text);
  if (!m) return undefined;
  const raw = m[2]!;
  let value: string;
  if (raw.startsWith("'")) {
    value = '';
    let i = 1;
    for (; i < raw.length; i++) {
      if (raw[i] === "'" && raw[i + 1] === "'") {
        value += "'";
        i++;
      } else if (raw[i] === '\\' && i + 1 < raw.length) value += raw[++i];
      else if (raw[i] === "'") break;
      else value += raw[i];
    }
    if (i >= raw.length) return undefined;
  } else {
    const hash = raw.indexOf('#');
    value = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (value === '' || /\s/.test(value)) return undefined;
  }
  return { name: m[1]!.toLowerCase(), value };
}

/** postgresql.conf's include, include_if_exists and include_dir (files ending in .conf), relative to the including file. */
export const pgConfIncludeRule: IncludeRule = (text, file) => {
  const s = pgConfSetting(text);
  if (!s) return undefined;
  const target = posix.resolve(posix.dirname(file), s.value);
  if (s.name === 'include') return { kind: 'file', path: target };
  if (s.name === 'include_if_exists') return { kind: 'file', path: target, optional: true };
  if (s.name === 'include_dir') return { kind: 'dir', dir: target, keep: (n) => n.endsWith('.conf') && !n.startsWith('.'), optional: false };
  return undefined;
};

/** The settings of a laid-out postgresql.conf: the last line of each name wins, with where it is. */
export function pgConfSettings(lines: readonly SourceLine[]): Map<string, { value: string; source: SourceLine }> {
  const out = new Map<string, { value: string; source: SourceLine }>();
  for (const source of lines) {
    const s = pgConfSetting(source.text);
    if (s && !s.name.startsWith('include')) out.set(s.name, { value: s.value, source });
  }
  return out;
}

/** One cluster of postgresql-common's layout. */
export interface PgCluster {
  version: string;
  name: string;
  /** Its postgresql.conf. */
  conf: string;
  port: number;
  /** The hba_file it names (default: beside postgresql.conf), and the line that names it. */
  hbaFile: string;
  hbaSetting?: SourceLine;
  /** Also what its settings say about the network. */
  listenAddresses?: { value: string; source: SourceLine };
  ssl?: boolean;
}

/** The cluster's settings from its laid-out postgresql.conf (pure). */
export function pgClusterOf(version: string, name: string, conf: string, lines: readonly SourceLine[]): PgCluster {
  const settings = pgConfSettings(lines);
  const port = Number(settings.get('port')?.value ?? POSTGRES.defaultPort);
  const hba = settings.get('hba_file');
  const confDir = posix.dirname(conf);
  const listen = settings.get('listen_addresses');
  const ssl = settings.get('ssl')?.value.toLowerCase();
  return {
    version,
    name,
    conf,
    port: Number.isInteger(port) && port > 0 && port < 65536 ? port : POSTGRES.defaultPort,
    hbaFile: hba ? posix.resolve(confDir, hba.value) : posix.join(confDir, 'pg_hba.conf'),
    ...(hba ? { hbaSetting: hba.source } : {}),
    ...(listen ? { listenAddresses: listen } : {}),
    ...(ssl ? { ssl: ['on', 'true', 'yes', '1'].includes(ssl) } : {}),
  };
}

/**
 * The clusters of this host as pg_lsclusters finds them: every /etc/postgresql/VERSION/CLUSTER
 * with a postgresql.conf, each conf read with its includes (port, hba_file, listen_addresses).
 */
export async function readPgClusters(host: Host): Promise<{ clusters: PgCluster[]; problems: string[] }> {
  const problems: string[] = [];
  const root = POSTGRES.confRoot;
  const versions = await host.listDir(root).catch(() => [] as string[]);
  const pairs = (
    await Promise.all(
      versions.filter((v) => /^\d+(\.\d+)?$/.test(v)).map(async (v) => (await host.listDir(`${root}/${v}`).catch(() => [] as string[])).filter((c) => !c.startsWith('.')).map((c) => [v, c] as const)),
    )
  ).flat();
  const confs = pairs.map(([v, c]) => `${root}/${v}/${c}/${POSTGRES.confName}`);
  // Every cluster's files at once (readConfigTree stats each before reading it): over ssh, a round
  // trip per level of includes, not per cluster. A folder without postgresql.conf is no cluster.
  const read = await Promise.all(pairs.map(async ([version, name], i) => ({ version, name, flat: await readConfigTree(host, confs[i]!, pgConfIncludeRule) })));
  const clusters: PgCluster[] = [];
  for (const [i, r] of read.entries()) {
    if (r.flat.files.length === 0) {
      problems.push(...r.flat.problems.filter((p) => !p.endsWith('no such file')));
      continue;
    }
    problems.push(...r.flat.problems);
    clusters.push(pgClusterOf(r.version, r.name, confs[i]!, r.flat.lines));
  }
  clusters.sort((a, b) => Number(b.version) - Number(a.version) || a.name.localeCompare(b.name));
  return { clusters, problems };
}

/** The cluster that serves a port (or whose postgresql.conf the running postgres names on its command line: `-c config_file=…`). */
export function clusterFor(clusters: readonly PgCluster[], port: number, argv: readonly string[] = []): PgCluster | undefined {
  const named = argv.map((w) => /config_file=(\S+)$/.exec(w)?.[1]).find((p) => p !== undefined);
  if (named) {
    const c = clusters.find((x) => x.conf === named);
    if (c) return c;
  }
  return clusters.find((c) => c.port === port);
}

/** A cluster's pg_hba.conf, laid out with its includes and parsed. */
export interface PgHbaReading {
  cluster?: PgCluster;
  file?: string;
  flat?: FlatConfig;
  parse?: HbaParse;
  problems: string[];
}

/**
 * Reads the pg_hba.conf of the cluster that serves `port` (Debian's layout; the running
 * postgres's argv picks the cluster when given) through the Host seam, and parses it.
 */
export async function readPgHba(host: Host, port: number, argv: readonly string[] = [], snapshot?: ConfigSnapshot): Promise<PgHbaReading> {
  const { clusters, problems } = await readPgClusters(host);
  const cluster = clusterFor(clusters, port, argv);
  if (!cluster) {
    const seen = clusters.map((c) => `${c.version}/${c.name} on ${c.port}`).join(', ');
    return { problems: [...problems, `no PostgreSQL cluster under ${POSTGRES.confRoot} serves port ${port}${seen ? ` (${seen})` : ''}`] };
  }
  const flat = await readConfigTree(host, cluster.hbaFile, hbaIncludeRule, snapshot);
  return { cluster, file: cluster.hbaFile, flat, parse: parsePgHba(flat.lines), problems: [...problems, ...flat.problems] };
}
