import type { SourceLine } from '../system/config-tree.js';

/*
 * The line on the server that refused: each reader (src/system/, Host seam only, never throws)
 * with the pure decision (src/analysis/) that turns its reading into a SettingVerdict.
 *
 *   PostgreSQL "no pg_hba.conf entry" / "rejects"  readPgHba(host, port, argv)       → decidePgHba(parse.records, client, { file, cluster, serverAddresses })
 *   Redis -DENIED (protected mode)                readRedisConf(host, argv, { unit })  → decideRedisProtected(reading, clientAddress)
 *   MariaDB/MySQL 1130                            readMysqlAccounts(host)             → decideMysqlHosts(accounts, { address, skipNameResolve }, { user })
 *   MariaDB/MySQL not listening there             readMysqlConf(host)                 → decideMysqlBind(options, target), skipsNameResolve(options)
 *   TCP wrappers (closed without a word)          usesTcpWrappers(host, pid), readWrapperTables(host) → decideTcpWrappers(tables, { daemon, address }, files)
 *   sshd "Exceeded MaxStartups"                   readSshdConfig(host), readSshdEffective(host) → decideMaxStartups(config, effective)
 *   nginx bad certificate / plain HTTP on TLS     readNginxConf(host)                 → decideNginxCertificate(reading, port, name, findings | 'plain-http', address)
 *   the program's log line of the refusal         (readLogTail, system/program-log.ts)  → refusalLogLines(refusal, lines, clientAddress)
 */

export type { SourceLine } from '../system/config-tree.js';

/** What the server's own settings say about one client: the shape every settings analysis returns. */
export interface SettingVerdict {
  /**
   * `refuses`: a setting turns this client away (it is `setting`, or no line admits it);
   * `admits`: the settings let this client in; `undecided`: a line depends on what whyport
   * cannot see (a host name's reverse lookup, a group's members) — `undecided` says which.
   */
  outcome: 'refuses' | 'admits' | 'undecided';
  /** The line that decides, as `diagnosis.setting` (CONTRACT): absent when the refusal is that no line admits the client. */
  setting?: SourceLine;
  /** One sentence: why, in the server's own terms. */
  explanation: string;
  /** What to change, in the server's own words; never a password (placeholders the user fills in). */
  fix?: SettingFix;
  /** Lines that might decide but whyport cannot tell (with why), in reading order. */
  undecided?: { line: SourceLine; why: string }[];
  /** The facts read, one line each (which file, which account, which value). */
  evidence: string[];
}

/** A change of one configuration line, and the commands that make the server read it. */
export interface SettingFix {
  summary: string;
  /** The line to write, and where: before or after a line, in place of one, at the end of a file, or a line to delete. */
  edit?: { file: string; at: 'before' | 'after' | 'replace' | 'append' | 'delete'; line?: number; text: string };
  /** Statements or commands, as argv (a statement for a client is one word after `-e`). */
  commands: string[][];
}
