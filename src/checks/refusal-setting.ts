import { isIP } from 'node:net';
import { port, z } from './params.js';
import { defineCheck, type CheckContext } from './check.js';
import { e, fields } from './evidence.js';
import type { SettingVerdict } from '../analysis/service-setting.js';
import { decidePgHba } from '../analysis/pg-hba.js';
import { decideRedisProtected } from '../analysis/redis-protected.js';
import { decideMysqlHosts, skipsNameResolve } from '../analysis/mysql-hosts.js';
import { decideTcpWrappers } from '../analysis/tcp-wrappers.js';
import { decideMaxStartups } from '../analysis/sshd-maxstartups.js';
import { decideNginxCertificate } from '../analysis/nginx-tls.js';
import { TCP_WRAPPERS } from '../knowledge/service-settings.js';
import { argvOfPid } from '../system/processes.js';
import { mysqlSettingsOf, nginxConfOf, pgHbaOf, redisConfOf, sshdSettingsOf, wrapperTablesOf } from '../system/refusal-settings.js';
import type { PgHbaReading } from '../system/pg-hba.js';
import type { RedisConfReading } from '../system/redis-conf.js';
import type { AccountsReading, MysqlConfReading } from '../system/mysql.js';
import type { WrapperTables } from '../system/tcp-wrappers.js';
import type { SshdConfigReading, SshdTReading } from '../system/sshd-config.js';
import type { NginxConfReading } from '../system/nginx-conf.js';
import { showCommand } from '../system/runner.js';

/** The parameters: what the protocol step found (as text, after templating), and who the client was. */
export interface RefusalParams {
  port: number;
  /** The protocol step's outcome (refuses-client, overloaded, tls-failure, wrong-protocol, closed-after-accept). */
  outcome: string;
  /** What answered (service.protocol), and its words. */
  protocol?: string | undefined;
  said?: string | undefined;
  /** The refusal in a word (evidence.reason of the protocol step). */
  reason?: string | undefined;
  /** The client's address as the server sees it; default: whyport's ssh connection's, or the address connected to. */
  client?: string | undefined;
  /** The user name the probe sent. */
  user?: string | undefined;
  /** The name asked for (nginx's server_name). */
  host?: string | undefined;
  /** TLS problems, comma-separated. */
  problems?: string | undefined;
}

type Setting =
  | { kind: 'pg_hba'; reading: PgHbaReading; serverAddresses: string[] }
  | { kind: 'redis'; reading: RedisConfReading }
  | { kind: 'mysql'; accounts: AccountsReading; conf: MysqlConfReading }
  | { kind: 'tcp-wrappers'; tables: WrapperTables; daemon: string }
  | { kind: 'max-startups'; config: SshdConfigReading; effective: SshdTReading }
  | { kind: 'nginx'; reading: NginxConfReading; address: string };

/** What the refusal-setting step read: the settings the refusal points at, and the client's address. */
export type RefusalReadings = { client: string; program?: string } & (Setting | { kind: 'none'; why: string });

/** Which setting a refusal points at, from the protocol step's words and the program on the port. Pure. */
export function settingKindOf(p: Pick<RefusalParams, 'outcome' | 'protocol' | 'reason'>, program: string | undefined): Setting['kind'] | undefined {
  const r = p.reason ?? '';
  // libwrap's refusal: a close after 5 s (tcp-wrappers), or, within a shorter wait, silence; a
  // daemon that checks the tables before it forks closes at once.
  if (r === 'tcp-wrappers' || p.outcome === 'silent' || p.outcome === 'closed-after-accept') return 'tcp-wrappers';
  if (r === 'max-startups') return 'max-startups';
  if (p.outcome === 'tls-failure' || (p.outcome === 'wrong-protocol' && program === 'nginx')) return program === 'nginx' ? 'nginx' : undefined;
  if (p.outcome !== 'refuses-client') return undefined;
  if (r === 'pg_hba' || p.protocol === 'postgresql') return 'pg_hba';
  if (r === 'protected-mode' || p.protocol === 'redis') return 'redis';
  if (r === 'host-not-allowed' || p.protocol === 'mysql') return 'mysql';
  return undefined;
}

/**
 * The daemon name libwrap matches hosts.allow/deny against (the program's own name). sshd rewrites
 * its command line once it listens ("sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"), so
 * only the first word counts, without its colon and its folder; else the program ss names. Pure.
 */
export function wrapperDaemonOf(argv0: string | undefined, program: string | undefined): string {
  const first = (argv0 ?? '').trim().split(/\s+/)[0]!.replace(/:$/, '');
  return first.split('/').pop() || program || 'sshd';
}

/** The listener of the port on this host: its program and pid. */
async function holder(ctx: CheckContext, portNumber: number): Promise<{ program: string; pid: number } | undefined> {
  const table = await ctx.facts.socketTable(portNumber).catch(() => undefined);
  const owner = table?.sockets.find((s) => s.state === 'LISTEN' && s.local.port === portNumber && s.owners?.length)?.owners?.[0];
  return owner ? { program: owner.program, pid: owner.pid } : undefined;
}

/** The client's address as the server sees it. */
async function clientAddress(p: RefusalParams, ctx: CheckContext): Promise<string | undefined> {
  if (p.client && isIP(p.client)) return p.client;
  const via = (await ctx.facts.identity().catch(() => undefined))?.via?.client;
  if (via && isIP(via)) return via;
  const r = await ctx.facts.resolve(ctx.target.host);
  return r.ok ? r.addresses[0]?.address : undefined;
}

/**
 * On the server: the line of its settings that turned the client away (pg_hba.conf, redis.conf,
 * the MariaDB accounts, hosts.deny, sshd's MaxStartups, nginx's ssl_certificate), and the fix in
 * the server's own words. Reads only the settings the refusal points at.
 */
export const refusalSetting = defineCheck({
  description: "The server's setting that turns the client away (pg_hba.conf, redis.conf, MariaDB accounts, hosts.deny, MaxStartups, nginx ssl_certificate), and the fix in its own words",
  outcomes: ['named', 'no-line', 'admits', 'undecided', 'unknown'],
  params: z.object({
    port: port(),
    outcome: z.string(),
    protocol: z.optional(z.string()),
    said: z.optional(z.string()),
    reason: z.optional(z.string()),
    client: z.optional(z.string()),
    user: z.optional(z.string()),
    host: z.optional(z.string()),
    problems: z.optional(z.string()),
  }),
  evidence: fields({
    setting: fields({ file: e.str(), line: e.num(), text: e.str() }),
    service: fields({ protocol: e.str(), said: e.str() }),
    client: e.str(),
    explanation: e.str(),
    /** The fix, as a sentence, and the line to write with where. */
    fixSummary: e.str(),
    fixEdit: e.str(),
    /** The commands that make the server read it (argv). */
    fixCommand: e.list(e.str()),
    fixCommand2: e.list(e.str()),
    details: e.list(e.str()),
  }),
  describe: (p) => `reading the server's settings behind the ${p.protocol ?? 'service'} refusal`,
  async read(p, ctx): Promise<RefusalReadings> {
    const client = (await clientAddress(p, ctx)) ?? '';
    const on = await holder(ctx, p.port);
    const program = on?.program;
    const kind = settingKindOf(p, program);
    const base = { client, ...(program ? { program } : {}) };
    if (!kind) return { ...base, kind: 'none', why: 'no setting whyport reads decides this' };
    const argv = on ? await ctx.facts.read(argvOfPid, on.pid) : [];
    switch (kind) {
      case 'pg_hba':
        return { ...base, kind, reading: await ctx.facts.read(pgHbaOf, { port: p.port, argv }), serverAddresses: await ctx.facts.localAddresses() };
      case 'redis':
        return { ...base, kind, reading: await ctx.facts.read(redisConfOf, { argv }) };
      case 'mysql':
        return { ...base, kind, ...(await ctx.facts.read(mysqlSettingsOf, undefined)) };
      case 'tcp-wrappers':
        return { ...base, kind, tables: await ctx.facts.read(wrapperTablesOf, undefined), daemon: wrapperDaemonOf(argv[0], program) };
      case 'max-startups':
        return { ...base, kind, ...(await ctx.facts.read(sshdSettingsOf, undefined)) };
      case 'nginx': {
        const r = await ctx.facts.resolve(ctx.target.host);
        return { ...base, kind, reading: await ctx.facts.read(nginxConfOf, undefined), address: r.ok ? (r.addresses[0]?.address ?? '') : '' };
      }
    }
  },
  decide: (r, p) => decideRefusalSetting(r, p),
});

/** The settings' verdict of one reading. Pure. */
function verdictOf(r: RefusalReadings, p: RefusalParams): SettingVerdict | { why: string } {
  switch (r.kind) {
    case 'none':
      return { why: r.why };
    case 'pg_hba':
      if (!r.reading.parse || !r.reading.file) return { why: r.reading.problems[0] ?? 'pg_hba.conf could not be read' };
      return decidePgHba(r.reading.parse.records, { address: r.client, user: p.user || 'postgres', database: p.user || 'postgres', ssl: undefined }, { file: r.reading.file, ...(r.reading.cluster ? { cluster: r.reading.cluster } : {}), serverAddresses: r.serverAddresses });
    case 'redis':
      return decideRedisProtected(r.reading, r.client);
    case 'mysql':
      if ('error' in r.accounts) return { why: `the accounts could not be read (${showCommand(r.accounts.command)}): ${r.accounts.error}` };
      return decideMysqlHosts(r.accounts.accounts, { address: r.client, skipNameResolve: skipsNameResolve(r.conf.options) }, p.user ? { user: p.user } : {});
    case 'tcp-wrappers':
      return decideTcpWrappers(r.tables, { daemon: r.daemon, address: r.client }, TCP_WRAPPERS);
    case 'max-startups':
      return decideMaxStartups(r.config, 'effective' in r.effective ? r.effective.effective : undefined, { port: p.port });
    case 'nginx': {
      const problems = (p.problems ?? '').split(',').map((x) => x.trim()).filter(Boolean);
      return decideNginxCertificate(r.reading, p.port, p.host, p.outcome === 'wrong-protocol' ? 'plain-http' : { problems }, r.address || undefined);
    }
  }
}

/** What a person would type on the server to read the same settings. */
function commandOf(r: RefusalReadings): string {
  switch (r.kind) {
    case 'none':
      return '';
    case 'pg_hba':
      return showCommand(['grep', '-nv', '^#', r.reading.file ?? '/etc/postgresql/*/main/pg_hba.conf']);
    case 'redis':
      return showCommand(['grep', '-nE', '^(bind|protected-mode|requirepass|user) ', r.reading.path]);
    case 'mysql':
      return showCommand(r.accounts.command);
    case 'tcp-wrappers':
      return showCommand(['grep', '-v', '^#', TCP_WRAPPERS.allow, TCP_WRAPPERS.deny]);
    case 'max-startups':
      return showCommand(r.effective.command);
    case 'nginx':
      return showCommand(['nginx', '-T']);
  }
}

/** Text ending as a sentence does, for the diagnosis's prose. */
function sentence(text: string): string {
  return /[.!?:]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`;
}

/** The pure decision of the refusal-setting step. */
export function decideRefusalSetting(r: RefusalReadings, p: RefusalParams) {
  const service = { ...(p.protocol ? { protocol: p.protocol } : {}), ...(p.said ? { said: p.said } : {}) };
  const command = commandOf(r);
  const v = verdictOf(r, p);
  const base = { service, client: r.client };
  if ('why' in v) return { outcome: 'unknown' as const, status: 'info' as const, summary: `no setting named: ${v.why}`, command, evidence: base };
  const fix = v.fix;
  const edit = fix?.edit;
  const where = edit ? (edit.at === 'append' ? `at the end of ${edit.file}` : edit.at === 'delete' ? `delete line ${edit.line} of ${edit.file}` : `${edit.at} line ${edit.line} of ${edit.file}`) : '';
  const evidence = {
    ...base,
    ...(v.setting ? { setting: { file: v.setting.file, line: v.setting.line, text: v.setting.text } } : {}),
    explanation: sentence(v.explanation),
    ...(fix ? { fixSummary: fix.summary } : {}),
    ...(edit ? { fixEdit: edit.at === 'delete' ? `The change: ${where}.` : `The change: ${edit.at === 'replace' ? 'write' : 'add'} “${edit.text}” ${where}.` } : {}),
    ...(fix?.commands[0] ? { fixCommand: [...fix.commands[0]] } : {}),
    ...(fix?.commands[1] ? { fixCommand2: [...fix.commands[1]] } : {}),
    details: [...v.evidence],
  };
  const at = v.setting ? `${v.setting.file}:${v.setting.line}: ${v.setting.text}` : '';
  switch (v.outcome) {
    case 'refuses':
      return v.setting
        ? { outcome: 'named' as const, status: 'fail' as const, summary: `the setting that decides: ${at}`, command, evidence }
        : { outcome: 'no-line' as const, status: 'fail' as const, summary: v.explanation, command, evidence };
    case 'admits':
      return { outcome: 'admits' as const, status: 'info' as const, summary: `the settings admit ${r.client}: ${v.explanation}`, command, evidence };
    default:
      return { outcome: 'undecided' as const, status: 'info' as const, summary: `the settings do not tell: ${v.explanation}`, command, evidence };
  }
}
